//! Encoded public answers kept in memory between calls.
//!
//! Published results change when the monthly jobs aggregate, when a location or an indicator
//! title changes: a few times a month, while public portals read them all day. Each
//! GetLocationResults answer is built once per (location, period, audience, store epoch), and
//! each SearchLocations page once per (request, store epoch), and shared by the calls that
//! follow. The epoch ([`boucle::store::Store::published_epoch`]) changes after every such
//! write made through this process, so its own writes are seen at once; writes by another
//! process (the jobs binary, another replica) are seen when the entry expires, at most
//! [`PUBLIC_CACHE_TTL`] later. Errors are never cached.

use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

use boucle::Error;
use boucle::metrics::{CacheLabel, metrics};
use boucle::pb;
use prost::Message;

/// How stale a public answer may be after a write by another process.
pub const PUBLIC_CACHE_TTL: Duration = boucle::store::PUBLISHED_TTL;

/// Memory given to cached results (an answer with 12 months of figures is ~10 KB).
const RESULTS_CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Memory given to cached search pages (a page of 20 hits with figures is ~4 KB).
const SEARCH_CACHE_BYTES: u64 = 16 * 1024 * 1024;

/// (location code as asked, period as asked, audience as asked, store epoch).
type ResultsKey = (String, String, i32, u64);

/// (the request as encoded, store epoch): two requests that differ only in spelling are two
/// entries, which costs memory, never a wrong answer.
type SearchKey = (Vec<u8>, u64);

#[derive(Clone)]
pub struct PublicCache {
    location_results: moka::future::Cache<ResultsKey, Arc<pb::GetLocationResultsResponse>>,
    search: moka::future::Cache<SearchKey, Arc<pb::SearchLocationsResponse>>,
}

/// What an entry costs beside its answer: its key (a search request is at most a few
/// hundred bytes) and the cache's own bookkeeping. Without it a search that finds nothing
/// (an empty page, 0 bytes encoded) weighed nothing, and a client sending random words
/// could fill the cache with entries the byte budget never counted.
const ENTRY_OVERHEAD_BYTES: usize = 512;

/// A cache of encoded answers weighed by their size.
fn cache<K, V>(bytes: u64) -> moka::future::Cache<K, Arc<V>>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Message + Send + Sync + 'static,
{
    moka::future::Cache::builder()
        .max_capacity(bytes)
        .weigher(|_, answer: &Arc<V>| {
            u32::try_from(answer.encoded_len() + ENTRY_OVERHEAD_BYTES).unwrap_or(u32::MAX)
        })
        .time_to_live(PUBLIC_CACHE_TTL)
        .build()
}

impl Default for PublicCache {
    fn default() -> Self {
        Self {
            location_results: cache(RESULTS_CACHE_BYTES),
            search: cache(SEARCH_CACHE_BYTES),
        }
    }
}

/// The cached answer for `key`, or the one `build` makes (once, however many callers wait
/// for it). Counted as a hit or a miss (`boucle_public_cache_requests_total`); an error,
/// never cached, is a miss.
async fn get_or_build<K, V, F>(
    cache: &moka::future::Cache<K, Arc<V>>,
    answer: &'static str,
    key: K,
    build: F,
) -> Result<Arc<V>, Arc<Error>>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Send + Sync + 'static,
    F: Future<Output = Result<V, Error>>,
{
    let entry = cache
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
        .get_or_create(&CacheLabel { answer, result })
        .inc();
    entry.map(moka::Entry::into_value)
}

impl PublicCache {
    /// A GetLocationResults answer (see [`get_or_build`]).
    pub async fn location_results<F>(
        &self,
        key: ResultsKey,
        build: F,
    ) -> Result<Arc<pb::GetLocationResultsResponse>, Arc<Error>>
    where
        F: Future<Output = Result<pb::GetLocationResultsResponse, Error>>,
    {
        get_or_build(&self.location_results, "location_results", key, build).await
    }

    /// A SearchLocations page (see [`get_or_build`]).
    pub async fn search<F>(
        &self,
        key: SearchKey,
        build: F,
    ) -> Result<Arc<pb::SearchLocationsResponse>, Arc<Error>>
    where
        F: Future<Output = Result<pb::SearchLocationsResponse, Error>>,
    {
        get_or_build(&self.search, "search", key, build).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn empty_answers_still_count_against_the_budget() {
        let cache = cache::<u32, pb::SearchLocationsResponse>(4 * ENTRY_OVERHEAD_BYTES as u64);
        for key in 0..100 {
            let answer = get_or_build(&cache, "search", key, async {
                Ok(pb::SearchLocationsResponse::default())
            })
            .await
            .map_err(|e| e.to_string());
            assert_eq!(answer.map(|a| a.hits.len()), Ok(0));
        }
        cache.run_pending_tasks().await;
        assert!(cache.entry_count() <= 4, "{} entries", cache.entry_count());
    }
}
