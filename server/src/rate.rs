//! Per-key submission rate limits (GCRA, from `governor`): a burst, then a sustained rate.

use std::num::NonZeroU32;

use boucle::Error;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

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
            Some(limiter) if limiter.check_key(&key_id).is_err() => Err(Error::ResourceExhausted(
                "submission rate of this API key exceeded; retry later with the same request_id"
                    .into(),
            )),
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
