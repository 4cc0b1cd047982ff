//! A lease on a period, held while a job runs and renewed in the background. Two workers
//! never hold the same lease: the database decides (see `Store::acquire_lease`). If a worker
//! dies, its lease expires after the TTL and the next worker takes over.

use std::time::Duration;

use boucle::store::Store;
use tokio::task::JoinHandle;

use crate::JobError;

/// How long a lease lasts without renewal, by default. After a crash the period stays
/// taken this long; it is renewed every third of it while the worker lives.
pub const TTL: Duration = Duration::from_secs(300);

pub struct Lease {
    store: Store,
    name: String,
    holder: String,
    heartbeat: JoinHandle<()>,
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
        if !store.acquire_lease(&name, holder, ttl_ms).await? {
            return Err(JobError::Busy(period.to_owned()));
        }
        let (s, n, h) = (store.clone(), name.clone(), holder.to_owned());
        let heartbeat = tokio::spawn(async move {
            let mut tick = tokio::time::interval(ttl / 3);
            tick.tick().await;
            loop {
                tick.tick().await;
                match s.renew_lease(&n, &h, ttl_ms).await {
                    Ok(true) => {}
                    Ok(false) => tracing::error!(lease = %n, "lease lost to another worker"),
                    Err(e) => tracing::warn!(lease = %n, error = %e, "lease renewal failed"),
                }
            }
        });
        Ok(Self {
            store: store.clone(),
            name,
            holder: holder.to_owned(),
            heartbeat,
        })
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
