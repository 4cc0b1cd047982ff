//! Use cases of locations: reading them within the caller's scope.

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::Caller;
use crate::store::locations::{LocationFilter, LocationView};
use crate::store::{Reach, Store};

/// Locations of the caller's scope (narrowed to `subtree_of`), by code. A `parent_id`
/// outside the scope is NOT_FOUND, as a location outside it does not exist for the caller.
pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: &LocationFilter,
    page: &Page<String>,
) -> Result<Listed<LocationView>, Error> {
    let db = store.connection();
    let reach = Reach::of(db, caller, filter.subtree_of).await?;
    if filter.parent_id.is_some() {
        Reach::of(db, caller, filter.parent_id).await?;
    }
    let rows = store
        .list_locations(&reach, filter, page.fetch_limit(), page.after.as_deref())
        .await?;
    Ok(page.listed(rows, |v| v.model.code.clone()))
}
