//! Use cases of experiences: reading them within the caller's scope.

use crate::Error;
use crate::domain::Caller;
use crate::store::feedback::{FeedbackCursor, FeedbackFilter, FeedbackView};
use crate::store::{Reach, Store};

/// Experiences of the caller's scope (narrowed to the filter's location), newest first.
pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: &FeedbackFilter,
    limit: u64,
    after: Option<FeedbackCursor>,
) -> Result<Vec<FeedbackView>, Error> {
    let reach = Reach::of(store.connection(), caller, filter.location).await?;
    store.list_feedback(&reach, filter, limit, after).await
}
