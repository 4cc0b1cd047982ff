//! Encoded public results kept in memory between calls.
//!
//! Published results change when the monthly jobs aggregate, when a location or an indicator
//! title changes: a few times a month, while public portals read them all day. Each
//! GetLocationResults answer is built once per (location, period, audience, store epoch) and shared by
//! the calls that follow. The epoch ([`boucle::store::Store::published_epoch`]) changes after
//! every such write made through this process, so its own writes are seen at once; writes by
//! another process (the jobs binary, another replica) are seen when the entry expires, at most
//! [`PUBLIC_CACHE_TTL`] later. Errors are never cached.

use std::sync::Arc;
use std::time::Duration;

use boucle::Error;
use boucle::metrics::{ResultLabel, metrics};
use boucle::pb;
use prost::Message;

/// How stale a public answer may be after a write by another process.
pub const PUBLIC_CACHE_TTL: Duration = Duration::from_secs(5);

/// Memory given to cached answers (an answer with 12 months of figures is ~10 KB).
const PUBLIC_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// (location code as asked, period as asked, audience as asked, store epoch).
type Key = (String, String, i32, u64);

#[derive(Clone)]
pub struct PublicCache {
    location_results: moka::future::Cache<Key, Arc<pb::GetLocationResultsResponse>>,
}

impl Default for PublicCache {
    fn default() -> Self {
        Self {
            location_results: moka::future::Cache::builder()
                .max_capacity(PUBLIC_CACHE_BYTES)
                .weigher(|_, answer: &Arc<pb::GetLocationResultsResponse>| {
                    u32::try_from(answer.encoded_len()).unwrap_or(u32::MAX)
                })
                .time_to_live(PUBLIC_CACHE_TTL)
                .build(),
        }
    }
}

impl PublicCache {
    /// The cached answer for `key`, or the one `build` makes (once, however many callers
    /// wait for it). Counted as a hit or a miss (`boucle_public_cache_requests_total`);
    /// an error, never cached, is a miss.
    pub async fn location_results<F>(
        &self,
        key: Key,
        build: F,
    ) -> Result<Arc<pb::GetLocationResultsResponse>, Arc<Error>>
    where
        F: Future<Output = Result<pb::GetLocationResultsResponse, Error>>,
    {
        let entry = self
            .location_results
            .entry(key)
            .or_try_insert_with(async move { build.await.map(Arc::new) })
            .await;
        // An error is built each time (never cached): a miss.
        let result = match &entry {
            Ok(entry) if !entry.is_fresh() => "hit",
            _ => "miss",
        };
        metrics()
            .public_cache
            .get_or_create(&ResultLabel { result })
            .inc();
        entry.map(moka::Entry::into_value)
    }
}
