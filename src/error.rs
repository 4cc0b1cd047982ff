//! The one error type of boucle. Each variant says which gRPC status it becomes; the mapping
//! itself lives in `pb::status` (the only place that knows tonic) and is an exhaustive match,
//! so a new variant forces a decision there. It knows neither tonic nor sea_orm: the store
//! turns the database's errors into it (`store::error`).

use crate::domain::validation::Violation;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// INVALID_ARGUMENT, with one google.rpc.BadRequest violation per bad field.
    #[error("invalid argument: {}", .0.iter().map(|v| format!("{}: {}", v.field, v.description)).collect::<Vec<_>>().join("; "))]
    InvalidArgument(Vec<Violation>),
    /// UNAUTHENTICATED: no key, an unknown key or a revoked key.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// PERMISSION_DENIED: the key is valid but its role may not call this.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// NOT_FOUND: absent, or outside the caller's scope (which must look the same).
    #[error("{0} not found")]
    NotFound(String),
    /// ALREADY_EXISTS: a unique rule (code, request_id with another payload, …).
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// FAILED_PRECONDITION: the request is valid but the state of the system refuses it.
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),
    /// ABORTED: a read raced a write (a published file replaced while it was streamed);
    /// reading again succeeds.
    #[error("aborted: {0}")]
    Aborted(String),
    /// RESOURCE_EXHAUSTED: rate or size limits.
    #[error("resource exhausted: {0}")]
    ResourceExhausted(String),
    /// UNIMPLEMENTED: an RPC of the API whose behaviour is not built yet.
    #[error("not implemented yet: {0}")]
    Unimplemented(&'static str),
    /// UNAVAILABLE: something transient (the database busy or unreachable, a file being
    /// rewritten); clients may retry. The cause is logged, not sent.
    #[error("temporarily unavailable: {0}")]
    Unavailable(String),
    /// DATA_LOSS: stored data no longer matches what was recorded of it (a published file
    /// whose SHA-256 changed). An integrity failure for the operator, not an outage: the
    /// cause is logged at error and not sent (it names files); retrying does not help.
    #[error("data loss: {0}")]
    DataLoss(String),
    /// INTERNAL: a database error or broken invariant; logged with its cause (the text
    /// kept here), never echoed. Built from the driver's error in `store` (`From<DbErr>`),
    /// so that this type, and the domain that uses it, know nothing of the database crate.
    #[error("database error")]
    Database(String),
    /// INTERNAL: anything else that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Error::InvalidArgument(vec![Violation::new(field, description)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound(what.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
