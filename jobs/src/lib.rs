//! boucle-jobs: the monthly batch. Every step is a public async function over a `Store`, so
//! tests (and the daemon) call them step by step; the binary only parses its command line.

pub mod aggregate;
pub mod daemon;
pub mod deliver;
pub mod export;
pub mod lease;
pub mod metrics;
pub mod open_data;
pub mod pipeline;
pub mod report;
pub mod retry;
pub mod schedule;

/// Exit code when another worker holds the period, or took it over during the run
/// (EX_TEMPFAIL: retry later).
pub const EXIT_BUSY: u8 = 75;

/// Why a job did not complete.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("another worker is processing period {0}")]
    Busy(String),
    #[error("{0}")]
    Store(#[from] boucle::Error),
    /// The database could not be opened: where and why.
    #[error("{0}")]
    Database(#[from] boucle::store::ConnectError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// The period's lease was taken over while this worker ran (see [`lease::Lease::lost`]):
    /// the work stopped where it stood, as after a crash, and the other worker carries on.
    #[error("lost the lease on period {0} to another worker; stopped")]
    LeaseLost(String),
}
