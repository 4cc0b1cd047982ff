//! Authentication by API key (`authorization: Bearer <secret>`) and authorization by role,
//! for the access layer (`access.rs`), which calls it before any handler.
//!
//! Keys are looked up by the SHA-256 of the secret. A verified key is cached for a short
//! TTL (default 5 s) so that hot paths do not read the database on every call; revoking a
//! key evicts it at once on this replica, and other replicas notice within the TTL.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use boucle::Error;
use boucle::domain::Caller;
use boucle::domain::api_key::{hash, looks_like_secret};
use boucle::store::Store;
use uuid::Uuid;

pub struct Authenticator {
    store: Store,
    ttl: Duration,
    cache: RwLock<HashMap<String, (Caller, Instant)>>,
}

impl Authenticator {
    pub fn new(store: Store, ttl: Duration) -> Self {
        Self {
            store,
            ttl,
            cache: RwLock::new(HashMap::new()),
        }
    }

    /// The caller of a request, by its key: UNAUTHENTICATED without a valid one. The key
    /// is recorded on the call's span (every later line of the call names it), also when
    /// the permission is then refused.
    pub async fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, Error> {
        let caller = self.key_caller(headers).await?;
        tracing::Span::current().record("key", tracing::field::display(caller.key_id));
        Ok(caller)
    }

    async fn key_caller(&self, headers: &http::HeaderMap) -> Result<Caller, Error> {
        let header = headers
            .get(http::header::AUTHORIZATION)
            .ok_or(Error::Unauthenticated(
                "missing authorization: Bearer <API key>",
            ))?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or(Error::Unauthenticated(
                "authorization must be Bearer <API key>",
            ))?;
        if !looks_like_secret(secret) {
            return Err(Error::Unauthenticated("invalid API key"));
        }
        let digest = hash(secret);
        if let Some(caller) = self.cached(&digest) {
            return Ok(caller);
        }
        let key = boucle::app::keys::find_active(&self.store, &digest)
            .await?
            .ok_or(Error::Unauthenticated("invalid or revoked API key"))?;
        let caller = Caller {
            key_id: key.id,
            name: key.name,
            role: key.role,
            scope: key.scope_location_id,
        };
        if let Ok(mut cache) = self.cache.write() {
            cache.insert(digest, (caller.clone(), Instant::now()));
        }
        Ok(caller)
    }

    fn cached(&self, digest: &str) -> Option<Caller> {
        let cache = self.cache.read().ok()?;
        let (caller, at) = cache.get(digest)?;
        (at.elapsed() < self.ttl).then(|| caller.clone())
    }

    /// Forgets a key at once (after revocation).
    pub fn evict(&self, key_id: Uuid) {
        if let Ok(mut cache) = self.cache.write() {
            cache.retain(|_, (caller, _)| caller.key_id != key_id);
        }
    }
}
