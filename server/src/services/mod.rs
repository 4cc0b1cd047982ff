//! The gRPC services. Handlers are thin and read like a sentence: take the caller the access
//! layer authenticated (`access.rs`), parse the request into domain types, call one use
//! case, convert the result back.

pub mod action;
pub mod admin;
pub mod feedback;
pub mod indicator;
pub mod location;
pub mod results;

use std::sync::Arc;

use boucle::Error;
use boucle::domain::vote::VotePolicy;
use boucle::store::Store;
use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::auth::Authenticator;
use crate::public_cache::PublicCache;
use crate::rate::{SubmitLimiter, VoteLimiter};

/// What every handler shares.
pub struct AppState {
    pub store: Store,
    pub auth: Arc<Authenticator>,
    pub limiter: SubmitLimiter,
    pub votes: VoteLimiter,
    pub vote_policy: VotePolicy,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub timezone: Tz,
    pub max_import_items: usize,
    pub public_cache: PublicCache,
}

pub type State = Arc<AppState>;

impl AppState {
    /// RESOURCE_EXHAUSTED for the items of an import call beyond the configured limit (they
    /// fail one by one, so the items before them keep their outcomes).
    pub fn within_import_limit(&self, index: u32) -> Result<(), Error> {
        if (index as usize) < self.max_import_items {
            Ok(())
        } else {
            Err(Error::ResourceExhausted(format!(
                "at most {} items per import call",
                self.max_import_items
            )))
        }
    }

    /// Today's date in the reporting time zone.
    pub fn today(&self) -> NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.timezone)
            .date_naive()
    }
}

pub use boucle::app::page::Page;

/// The required sub-message of a request.
pub fn required<T>(value: Option<T>, field: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::invalid(field, "is required"))
}
