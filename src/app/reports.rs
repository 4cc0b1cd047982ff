//! Use cases of report recipients: who receives the monthly PDFs of a location subtree,
//! within the caller's scope.

use uuid::Uuid;

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::Caller;
use crate::store::locations::{LocationKey, in_scope, location_in_scope};
use crate::store::reports::{self as repo, Recipient};
use crate::store::{Reach, Store, audit, now_ms};

/// Subscribes `email` to the reports of the subtree of `location_id` (in the caller's
/// scope). ALREADY_EXISTS when already subscribed.
pub async fn subscribe(
    store: &Store,
    caller: &Caller,
    email: &str,
    name: &str,
    location_id: Uuid,
) -> Result<Recipient, Error> {
    let txn = store.write_txn().await?;
    let location = location_in_scope(&txn, caller.scope, &LocationKey::Id(location_id)).await?;
    let recipient = Recipient {
        id: Uuid::now_v7(),
        email: email.to_owned(),
        name: name.to_owned(),
        location_id,
        location_code: location.code,
        created_at: now_ms(),
    };
    repo::insert_recipient(&txn, &recipient).await?;
    audit::record(
        &txn,
        Some(caller),
        "recipient.create",
        "recipient",
        &recipient.id.to_string(),
        serde_json::json!({ "location": recipient.location_code }),
    )
    .await?;
    txn.commit().await?;
    Ok(recipient)
}

/// Recipients whose location lies in the caller's scope, oldest first.
pub async fn list(
    store: &Store,
    caller: &Caller,
    page: &Page<Uuid>,
) -> Result<Listed<Recipient>, Error> {
    let db = store.connection();
    let reach = Reach::of(db, caller, None).await?;
    let rows = repo::recipients(db, &reach, page.fetch_limit(), page.after).await?;
    Ok(page.listed(rows, |r| r.id))
}

/// Unsubscribes a recipient of the caller's scope, forgetting what was sent to it.
pub async fn unsubscribe(store: &Store, caller: &Caller, id: Uuid) -> Result<(), Error> {
    let not_found = || Error::not_found("recipient");
    let txn = store.write_txn().await?;
    let recipient = repo::find_recipient(&txn, id)
        .await?
        .ok_or_else(not_found)?;
    if !in_scope(&txn, caller.scope, recipient.location_id).await? {
        return Err(not_found());
    }
    repo::delete_recipient(&txn, id).await?;
    audit::record(
        &txn,
        Some(caller),
        "recipient.delete",
        "recipient",
        &id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
