//! A TCP relay that can be cut and restored, to stand between a process and a real server
//! (PostgreSQL, an SMTP relay) and make that server unreachable for a while: while cut,
//! open connections are closed and new ones are accepted then closed at once, as a peer
//! that went away would.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct Outage {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    /// Bumped at every cut: the relayed connections of before end.
    cuts: watch::Sender<u64>,
    relay: JoinHandle<()>,
}

impl Outage {
    /// Relays 127.0.0.1:<port> to `upstream`, up.
    pub async fn relay(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicBool::new(true));
        let (cuts, _) = watch::channel(0);
        let relay = tokio::spawn({
            let up = up.clone();
            let cuts = cuts.clone();
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let mut cut = cuts.subscribe();
                    tokio::spawn(async move {
                        let Ok(mut server) = TcpStream::connect(upstream).await else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = cut.changed() => {}
                        }
                    });
                }
            }
        });
        Ok(Self {
            addr,
            up,
            cuts,
            relay,
        })
    }

    /// Where to connect instead of the upstream.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The upstream is unreachable from now on.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    /// The upstream is reachable again.
    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.relay.abort();
        self.cuts.send_modify(|n| *n += 1);
    }
}
