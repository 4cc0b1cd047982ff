//! Use cases of improvement actions: reading them within the caller's scope.

use uuid::Uuid;

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::Caller;
use crate::store::actions::{ActionFilter, ActionView};
use crate::store::{Reach, Store};

/// Actions of the caller's scope (narrowed to the filter's location), newest first.
pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: &ActionFilter,
    page: &Page<Uuid>,
) -> Result<Listed<ActionView>, Error> {
    let reach = Reach::of(store.connection(), caller, filter.location).await?;
    let rows = store
        .list_actions(&reach, filter, page.fetch_limit(), page.after)
        .await?;
    Ok(page.listed(rows, |a| a.action.id))
}
