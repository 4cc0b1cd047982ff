//! Retrying what fails for a while: an SMTP relay restarting, a database failing over, a disk
//! briefly full. Exponential backoff with jitter, bounded, and only for failures that can pass
//! ([`JobError::is_transient`]): a period held by another worker, a lost lease, an invalid
//! request are never retried.
//!
//! Two levels use it: within a run, the delivery step is retried a few times a short while
//! apart ([`Retry::within_run`]), which is safe because delivery records every report version
//! it sends and never sends one twice; and the daemon retries a failed period minutes, then
//! hours, later rather than at the next monthly run (`daemon`).

use std::time::Duration;

use rand::Rng;

use crate::JobError;

/// How long to wait before each retry: `first`, doubling, at most `max`; each wait is drawn
/// in [½, 1] of that ("equal jitter"), so that workers failing together do not retry
/// together, yet none retries much sooner than planned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The planned wait before retry number `retry` (1 for the first), before jitter.
    pub fn planned(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.saturating_sub(1).min(31));
        self.first.saturating_mul(factor).min(self.max)
    }

    /// The wait before retry number `retry`, jittered.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let planned = self.planned(retry);
        planned / 2 + planned.mul_f64(rng.random_range(0.0..=0.5))
    }
}

/// A number of attempts and the waits between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all (1: no retry).
    pub attempts: u32,
    pub backoff: Backoff,
}

impl Retry {
    /// Within a run: `attempts` in all, `first` then doubling, each wait at most eight
    /// times the first (with the defaults, 5 attempts from 30 s: about 7 minutes in all).
    pub fn within_run(first: Duration, attempts: u32) -> Self {
        Self {
            attempts: attempts.max(1),
            backoff: Backoff {
                first,
                max: first.saturating_mul(8),
            },
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or has been tried `attempts` times;
    /// each retry is logged with the cause and the wait.
    pub async fn run<T>(
        &self,
        what: &str,
        mut attempt: impl AsyncFnMut() -> Result<T, JobError>,
    ) -> Result<T, JobError> {
        let mut tried = 0;
        loop {
            tried += 1;
            match attempt().await {
                Err(e) if e.is_transient() && tried < self.attempts => {
                    let wait = self.backoff.delay(tried, &mut rand::rng());
                    tracing::warn!(
                        step = what,
                        attempt = tried,
                        of = self.attempts,
                        retry_in_seconds = wait.as_secs_f64(),
                        error = %e,
                        "failed; retrying"
                    );
                    crate::metrics::metrics().retried(what);
                    tokio::time::sleep(wait).await;
                }
                result => return result,
            }
        }
    }
}

impl JobError {
    /// Whether trying again later may succeed: the database or a file system unavailable,
    /// the mail relay unreachable or refusing for now. Not: another worker's lease, a lost
    /// lease, an interruption, data that is wrong.
    pub fn is_transient(&self) -> bool {
        match self {
            JobError::Database(_) | JobError::Io(_) => true,
            JobError::Store(e) => matches!(
                e,
                boucle::Error::Unavailable(_) | boucle::Error::Database(_)
            ),
            JobError::Busy(_) | JobError::Interrupted(_) | JobError::LeaseLost(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn waits_double_up_to_the_bound_and_jitter_stays_within_half() {
        let backoff = Backoff {
            first: Duration::from_secs(300),
            max: Duration::from_secs(6 * 3600),
        };
        let planned: Vec<u64> = (1..=10).map(|n| backoff.planned(n).as_secs()).collect();
        assert_eq!(
            planned,
            [300, 600, 1200, 2400, 4800, 9600, 19200, 21600, 21600, 21600]
        );
        assert_eq!(backoff.planned(u32::MAX), Duration::from_secs(21600));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for retry in 1..=12 {
            let planned = backoff.planned(retry);
            for _ in 0..100 {
                let delay = backoff.delay(retry, &mut rng);
                assert!(
                    delay >= planned / 2 && delay <= planned,
                    "{delay:?} for {planned:?}"
                );
            }
        }
    }

    #[test]
    fn only_what_can_pass_is_retried() {
        assert!(JobError::Io(std::io::Error::other("mail: connection refused")).is_transient());
        assert!(JobError::Store(boucle::Error::Unavailable("busy".into())).is_transient());
        assert!(!JobError::Busy("2026-10".into()).is_transient());
        assert!(!JobError::LeaseLost("2026-10".into()).is_transient());
        assert!(!JobError::Store(boucle::Error::NotFound("location".into())).is_transient());
    }

    #[tokio::test(start_paused = true)]
    async fn a_transient_failure_is_retried_until_it_passes_and_no_more() {
        let retry = Retry::within_run(Duration::from_secs(1), 5);
        let mut calls = 0;
        let result = retry
            .run("deliver", async || {
                calls += 1;
                if calls < 3 {
                    Err(JobError::Io(std::io::Error::other("mail: down")))
                } else {
                    Ok(calls)
                }
            })
            .await;
        assert_eq!(result.ok(), Some(3));

        let mut calls = 0;
        let result: Result<(), JobError> = retry
            .run("deliver", async || {
                calls += 1;
                Err(JobError::Io(std::io::Error::other("mail: down")))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 5, "five attempts in all");

        let mut calls = 0;
        let result: Result<(), JobError> = retry
            .run("deliver", async || {
                calls += 1;
                Err(JobError::Busy("2026-10".into()))
            })
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 1, "a busy period is not retried");
    }
}
