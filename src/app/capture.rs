//! The capture of an experience: the hot path. It reads the location from the store's
//! short-lived cache, asks the domain whether the location takes work and what the public
//! texts are, and hands the row to the group commit (one transaction for the submissions
//! that wait together), idempotent by request_id.

use crate::Error;
use crate::domain::feedback::{LocationRef, NewFeedback};
use crate::domain::location::check_active;
use crate::domain::{Caller, ModerationStatus};
use crate::metrics::metrics;
use crate::store::feedback::{Capture, FeedbackView};
use crate::store::locations::LocationKey;
use crate::store::{Store, now_ms};

/// Records a validated experience at a location of the caller's scope, or returns the
/// original one for a retry of the same request_id (`replayed = true`); the same
/// request_id with another payload is ALREADY_EXISTS.
pub async fn submit(
    store: &Store,
    caller: &Caller,
    feedback: &NewFeedback,
    request_id: Option<&str>,
) -> Result<(FeedbackView, bool), Error> {
    let key = match &feedback.location {
        LocationRef::Id(id) => LocationKey::Id(*id),
        LocationRef::Code(code) => LocationKey::Code(code.clone()),
    };
    let location = store.capture_location(caller.scope, &key).await?;
    check_active(location.active, &location.code)?;
    let (redacted, pseudonym) = feedback.redact();
    let (view, replayed) = store
        .record_feedback(
            caller,
            Capture {
                feedback,
                redacted: &redacted,
                redacted_pseudonym: &pseudonym,
                location_id: location.id,
                request_id,
                submitted_at: feedback.submitted_at.unwrap_or_else(now_ms),
                id: None,
                status: ModerationStatus::Pending,
                reject_reason: None,
            },
            &location.code,
        )
        .await?;
    if !replayed {
        metrics().redacted(&redacted.kinds);
    }
    Ok((view, replayed))
}
