//! From [`crate::Error`] to gRPC statuses: one exhaustive match, so a new error variant does
//! not compile until it has a status. Internal errors are logged with their cause here and
//! reach clients as a bare « internal error »: never SQL, never a stack.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

use crate::Error;
use crate::domain::validation::Violation;

/// Most field violations one answer lists; past it, one more says how many were left out, so
/// an answer stays small whatever the request.
pub const MAX_VIOLATIONS: usize = 20;

/// The violations an answer lists: the first [`MAX_VIOLATIONS`], and a count of the rest.
fn listed(violations: &[Violation]) -> Vec<Violation> {
    let mut shown: Vec<Violation> = violations.iter().take(MAX_VIOLATIONS).cloned().collect();
    if violations.len() > MAX_VIOLATIONS {
        shown.push(Violation::new(
            "",
            format!(
                "{} more violations not listed",
                violations.len() - MAX_VIOLATIONS
            ),
        ));
    }
    shown
}

/// The code, client-facing message and field violations of an error.
pub fn describe(err: &Error) -> (Code, String, Vec<Violation>) {
    match err {
        Error::InvalidArgument(violations) => {
            let shown = listed(violations);
            let message = Error::InvalidArgument(shown.clone()).to_string();
            (Code::InvalidArgument, message, shown)
        }
        Error::Unauthenticated(_) => (Code::Unauthenticated, err.to_string(), Vec::new()),
        Error::PermissionDenied(_) => (Code::PermissionDenied, err.to_string(), Vec::new()),
        Error::NotFound(_) => (Code::NotFound, err.to_string(), Vec::new()),
        Error::AlreadyExists(_) => (Code::AlreadyExists, err.to_string(), Vec::new()),
        Error::FailedPrecondition(_) => (Code::FailedPrecondition, err.to_string(), Vec::new()),
        Error::Aborted(_) => (Code::Aborted, err.to_string(), Vec::new()),
        Error::ResourceExhausted(_) => (Code::ResourceExhausted, err.to_string(), Vec::new()),
        Error::Unimplemented(_) => (Code::Unimplemented, err.to_string(), Vec::new()),
        Error::Unavailable(cause) => {
            tracing::warn!(error = %cause, "database unavailable");
            (
                Code::Unavailable,
                "temporarily unavailable, retry with the same request_id".into(),
                Vec::new(),
            )
        }
        Error::DataLoss(what) => {
            tracing::error!(integrity = %what, "integrity failure: stored data changed");
            (
                Code::DataLoss,
                "the stored copy does not match its record; retrying will not help".into(),
                Vec::new(),
            )
        }
        Error::Database(cause) => {
            tracing::error!(error = %cause, "database error");
            (Code::Internal, "internal error".into(), Vec::new())
        }
        Error::Internal(cause) => {
            tracing::error!(error = %cause, "internal error");
            (Code::Internal, "internal error".into(), Vec::new())
        }
    }
}

impl From<Error> for Status {
    fn from(err: Error) -> Self {
        Status::from(&err)
    }
}

/// By reference too: a cached computation shares its error between the callers waiting on it.
impl From<&Error> for Status {
    fn from(err: &Error) -> Self {
        let (code, message, violations) = describe(err);
        if violations.is_empty() {
            return Status::new(code, message);
        }
        let mut details = ErrorDetails::new();
        for v in violations {
            details.add_bad_request_violation(v.field, v.description);
        }
        Status::with_error_details(code, message, details)
    }
}

/// Per-item error of a client-stream import (the item's would-be status, in the answer).
pub fn item_error(err: &Error) -> (i32, String, Vec<super::FieldViolation>) {
    let (code, message, violations) = describe(err);
    (
        code as i32,
        message,
        violations
            .into_iter()
            .map(|v| super::FieldViolation {
                field: v.field,
                description: v.description,
            })
            .collect(),
    )
}
