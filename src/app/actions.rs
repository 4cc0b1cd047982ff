//! Use cases of improvement actions: reading them within the caller's scope.

use uuid::Uuid;

use crate::Error;
use crate::domain::Caller;
use crate::store::actions::{ActionFilter, ActionView};
use crate::store::{Reach, Store};

/// Actions of the caller's scope (narrowed to the filter's location), newest first.
pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: &ActionFilter,
    limit: u64,
    after: Option<Uuid>,
) -> Result<Vec<ActionView>, Error> {
    let reach = Reach::of(store.connection(), caller, filter.location).await?;
    store.list_actions(&reach, filter, limit, after).await
}
