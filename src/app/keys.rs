//! Use cases of API keys: a key hands out keys within its own scope, and revokes them.

use uuid::Uuid;

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::api_key::{NewSecret, check_grant, generate};
use crate::domain::{Caller, Role};
use crate::store::api_keys::{self as repo, ApiKey, KeyView};
use crate::store::locations::in_scope;
use crate::store::{Reach, Store, audit, now_ms};

/// Creates a key, its secret shown once. `caller` is `None` for keys made from the command
/// line (the first ADMIN key). The scope must lie within the caller's own scope.
pub async fn create(
    store: &Store,
    caller: Option<&Caller>,
    name: &str,
    role: Role,
    scope: Option<Uuid>,
) -> Result<(KeyView, NewSecret), Error> {
    let caller_scope = caller.and_then(|c| c.scope);
    check_grant(caller_scope, scope)?;
    let txn = store.write_txn().await?;
    if let Some(target) = scope
        && !in_scope(&txn, caller_scope, target).await?
    {
        return Err(Error::not_found("scope location"));
    }
    let secret = generate();
    let key = ApiKey {
        id: Uuid::now_v7(),
        name: name.to_owned(),
        role,
        scope_location_id: scope,
        prefix: secret.prefix.clone(),
        created_at: now_ms(),
        revoked_at: None,
    };
    repo::insert(&txn, &key, &secret.hash, caller.map(|c| c.key_id)).await?;
    audit::record(
        &txn,
        caller,
        "api_key.create",
        "api_key",
        &key.id.to_string(),
        serde_json::json!({ "name": name, "role": role.code(), "scope": scope }),
    )
    .await?;
    let view = one_view(&txn, key).await?;
    txn.commit().await?;
    Ok((view, secret))
}

/// The live key whose secret hashes to `hash` (authentication).
pub async fn find_active(store: &Store, hash: &str) -> Result<Option<ApiKey>, Error> {
    repo::find_active(store.connection(), hash).await
}

/// Keys whose scope lies within the caller's, oldest first.
pub async fn list(
    store: &Store,
    caller: &Caller,
    show_revoked: bool,
    page: &Page<Uuid>,
) -> Result<Listed<KeyView>, Error> {
    let db = store.connection();
    let reach = Reach::of(db, caller, None).await?;
    let rows = repo::list(db, &reach, show_revoked, page.fetch_limit(), page.after).await?;
    Ok(page.listed(rows, |k| k.key.id))
}

/// Revokes a key of the caller's scope (idempotent: revoking twice keeps the first time,
/// and audits once). A key outside the scope, unscoped keys included, is NOT_FOUND.
pub async fn revoke(store: &Store, caller: &Caller, id: Uuid) -> Result<KeyView, Error> {
    let txn = store.write_txn().await?;
    let not_found = || Error::not_found("API key");
    let mut key = repo::find(&txn, id).await?.ok_or_else(not_found)?;
    let visible = match (caller.scope, key.scope_location_id) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(_), Some(target)) => in_scope(&txn, caller.scope, target).await?,
    };
    if !visible {
        return Err(not_found());
    }
    if key.revoked_at.is_none() {
        let now = now_ms();
        repo::revoke(&txn, id, now).await?;
        key.revoked_at = Some(now);
        audit::record(
            &txn,
            Some(caller),
            "api_key.revoke",
            "api_key",
            &id.to_string(),
            serde_json::json!({ "name": key.name }),
        )
        .await?;
    }
    let view = one_view(&txn, key).await?;
    txn.commit().await?;
    Ok(view)
}

async fn one_view(db: &impl sea_orm::ConnectionTrait, key: ApiKey) -> Result<KeyView, Error> {
    repo::views(db, vec![key])
        .await?
        .pop()
        .ok_or_else(|| Error::Internal("a key vanished while read".into()))
}
