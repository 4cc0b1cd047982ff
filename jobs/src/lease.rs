//! A lease on a period, held while a job runs and renewed in the background. Two workers
//! never hold the same lease: the database decides (see `Store::acquire_lease`). If a worker
//! dies, its lease expires after the TTL and the next worker takes over.
//!
//! A worker that stalls (a paused VM, a database it cannot reach for longer than the TTL)
//! can come back to find its lease taken. It must then stop, or two workers would write the
//! same period at once: [`Lease::lost`] resolves when a renewal finds another holder, or
//! when no renewal has succeeded for a whole TTL (the lease may have been taken meanwhile),
//! and the pipeline stops the work at that point (see `pipeline::with_lease`).

use std::time::Duration;

use boucle::store::Store;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::JobError;

/// How long a lease lasts without renewal, by default. After a crash the period stays
/// taken this long; it is renewed every third of it while the worker lives.
pub const TTL: Duration = Duration::from_secs(300);

pub struct Lease {
    store: Store,
    name: String,
    holder: String,
    heartbeat: JoinHandle<()>,
    /// Becomes `true` once the lease can no longer be assumed ours.
    lost: watch::Receiver<bool>,
}

/// A name for this worker, unique across processes and hosts.
pub fn worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    format!(
        "{host}:{}:{}",
        std::process::id(),
        uuid::Uuid::now_v7().simple()
    )
}

impl Lease {
    /// Takes the lease of `period`, or fails with `JobError::Busy`.
    pub async fn acquire(
        store: &Store,
        period: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<Self, JobError> {
        let name = format!("period:{period}");
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let asked = Instant::now();
        if !store.acquire_lease(&name, holder, ttl_ms).await? {
            return Err(JobError::Busy(period.to_owned()));
        }
        let (s, n, h) = (store.clone(), name.clone(), holder.to_owned());
        let (lost_tx, lost) = watch::channel(false);
        let heartbeat = tokio::spawn(async move {
            // Held until this instant for sure: each expiry is set from a clock read after
            // `asked`, the moment before the call that set it.
            let mut held_until = asked + ttl;
            let mut tick = tokio::time::interval(ttl / 3);
            tick.tick().await;
            loop {
                tick.tick().await;
                let asked = Instant::now();
                match s.renew_lease(&n, &h, ttl_ms).await {
                    Ok(true) => held_until = asked + ttl,
                    Ok(false) => {
                        tracing::error!(lease = %n, "lease lost to another worker: stopping");
                        let _ = lost_tx.send(true);
                        return;
                    }
                    Err(e) if Instant::now() >= held_until => {
                        tracing::error!(lease = %n, error = %e, "lease not renewed for a whole TTL: stopping");
                        let _ = lost_tx.send(true);
                        return;
                    }
                    Err(e) => tracing::warn!(lease = %n, error = %e, "lease renewal failed"),
                }
            }
        });
        Ok(Self {
            store: store.clone(),
            name,
            holder: holder.to_owned(),
            heartbeat,
            lost,
        })
    }

    /// Resolves once the lease is lost (see the module documentation); never while it is
    /// held.
    pub async fn lost(&self) {
        let mut lost = self.lost.clone();
        if lost.wait_for(|lost| *lost).await.is_err() {
            // The heartbeat was stopped (release or drop) without losing the lease.
            std::future::pending::<()>().await;
        }
    }

    pub async fn release(self) -> Result<(), JobError> {
        self.heartbeat.abort();
        self.store.release_lease(&self.name, &self.holder).await?;
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // An abandoned lease (error path) stops renewing and expires after the TTL.
        self.heartbeat.abort();
    }
}
