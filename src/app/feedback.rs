//! Use cases of experiences: reading them within the caller's scope.

use uuid::Uuid;

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::Caller;
use crate::store::feedback::{self as repo, FeedbackCursor, FeedbackFilter, FeedbackView};
use crate::store::{Reach, Store};

/// One experience of the caller's scope, or NOT_FOUND.
pub async fn get(store: &Store, caller: &Caller, id: Uuid) -> Result<FeedbackView, Error> {
    repo::get(store.connection(), caller.scope, id).await
}

/// Experiences of the caller's scope (narrowed to the filter's location), newest first.
pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: &FeedbackFilter,
    page: &Page<FeedbackCursor>,
) -> Result<Listed<FeedbackView>, Error> {
    let reach = Reach::of(store.connection(), caller, filter.location).await?;
    let db = store.connection();
    let rows = repo::list(db, &reach, filter, page.fetch_limit(), page.after).await?;
    Ok(page.listed(rows, |v| (v.feedback.submitted_at, v.feedback.id)))
}
