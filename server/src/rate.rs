//! Rate limits (GCRA, from `governor`): a burst, then a sustained rate. Submissions per API
//! key; public votes per voter address and per answer.

use std::net::IpAddr;
use std::num::NonZeroU32;

use boucle::Error;
use boucle::metrics::{KindLabel, metrics};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

/// Counts a call refused by the limit `kind`.
fn limited(kind: &'static str) {
    metrics()
        .rate_limited
        .get_or_create(&KindLabel { kind })
        .inc();
}

pub struct SubmitLimiter {
    limiter: Option<DefaultKeyedRateLimiter<Uuid>>,
}

impl SubmitLimiter {
    /// `per_second = 0` disables the limit.
    pub fn new(per_second: u32, burst: u32) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(burst.max(per_second)).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        Self { limiter }
    }

    pub fn check(&self, key_id: Uuid) -> Result<(), Error> {
        match &self.limiter {
            Some(limiter) if limiter.check_key(&key_id).is_err() => {
                limited("submit");
                Err(Error::ResourceExhausted(
                    "submission rate of this API key exceeded; retry later with the same request_id"
                        .into(),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Drops the state of keys that are back to a full burst (called periodically).
    pub fn shrink(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Votes per voter address and per answer. In memory, per replica: a flood from one address
/// is cut at once; the cap that holds across replicas is counted in the database
/// (`domain::vote`).
pub struct VoteLimiter {
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_answer: Option<DefaultKeyedRateLimiter<Uuid>>,
}

/// `per_minute` votes a minute, bursting to the same number (0 = no limit).
fn per_minute<K: std::hash::Hash + Eq + Clone>(
    per_minute: u32,
) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n)))
}

impl VoteLimiter {
    pub fn new(per_address_per_minute: u32, per_answer_per_minute: u32) -> Self {
        Self {
            per_address: per_minute(per_address_per_minute),
            per_answer: per_minute(per_answer_per_minute),
        }
    }

    pub fn check(&self, address: IpAddr, answer: Uuid) -> Result<(), Error> {
        if let Some(limiter) = &self.per_address
            && limiter.check_key(&address).is_err()
        {
            limited("vote_per_address");
            return Err(Error::ResourceExhausted(
                "too many votes from this address; retry later".into(),
            ));
        }
        if let Some(limiter) = &self.per_answer
            && limiter.check_key(&answer).is_err()
        {
            limited("vote_per_answer");
            return Err(Error::ResourceExhausted(
                "too many votes on this answer; retry later".into(),
            ));
        }
        Ok(())
    }

    /// Drops the state of addresses and answers back to a full burst.
    pub fn shrink(&self) {
        if let Some(limiter) = &self.per_address {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.per_answer {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}
