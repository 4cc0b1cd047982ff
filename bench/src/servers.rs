//! Servers under test, each in a runtime of its own on its own thread (two workers, like the
//! load generator's runtime), so that the client's tasks never run on the server's workers.

use std::future::Future;
use std::net::SocketAddr;
use std::thread::JoinHandle;

use boucle::store::{DatabaseSettings, Store};
use boucle_server::{Application, ServeArgs};
use tokio::sync::oneshot;

/// A server running on its thread; stopped (gracefully) when dropped.
pub struct Running {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(crate::load::SERVER_THREADS)
        .enable_all()
        .build()
}

/// Runs `serve` on a runtime of its own, on a thread of its own; `serve` reports its
/// address (or why it could not start) on `ready`, then serves until `stop` resolves.
fn on_own_thread<F, Fut>(serve: F) -> anyhow::Result<Running>
where
    F: FnOnce(Ready, oneshot::Receiver<()>) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (ready, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let thread = std::thread::spawn(move || match runtime() {
        Ok(rt) => rt.block_on(serve(ready, stop_rx)),
        Err(e) => {
            let _ = ready.send(Err(e.into()));
        }
    });
    let addr = ready_rx.recv()??;
    Ok(Running {
        addr,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

type Ready = std::sync::mpsc::Sender<anyhow::Result<SocketAddr>>;

/// boucle-server over `database` (already migrated and loaded), rate limits off.
pub fn boucle(database: DatabaseSettings) -> anyhow::Result<Running> {
    boucle_observed(database, true)
}

/// [`boucle`], with or without its access log and metrics (`ServeArgs::observe_calls`).
pub fn boucle_observed(database: DatabaseSettings, observe: bool) -> anyhow::Result<Running> {
    on_own_thread(async move |ready: Ready, stop: oneshot::Receiver<()>| {
        let args = ServeArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            submit_rate_per_second: 0,
            observe_calls: observe,
            ..ServeArgs::default()
        };
        let app = match Store::connect(&database).await {
            Ok(store) => Application::with_store(store, args).await,
            Err(e) => Err(e.into()),
        };
        let app = match app.and_then(|a| Ok((a.local_addr()?, a))) {
            Ok((addr, app)) => {
                let _ = ready.send(Ok(addr));
                app
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let _ = app
            .run_until_stopped(async move {
                let _ = stop.await;
            })
            .await;
    })
}

/// The bare baseline (see `bare.rs`).
pub fn bare(results: crate::bare::BareResults) -> anyhow::Result<Running> {
    on_own_thread(async move |ready: Ready, stop: oneshot::Receiver<()>| {
        let _ = ready.send(crate::bare::spawn(results).await);
        let _ = stop.await;
    })
}
