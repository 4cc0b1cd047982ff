//! Use cases of locations: the hierarchy within the caller's scope. Every write is one
//! transaction with its audit entry, and tells the store that locations changed (capture's
//! cache and the public answers' epoch).

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::Caller;
use crate::domain::location::{LocationPatch, LocationSpec, ParentRef, check_may_be_root};
use crate::store::locations::{
    self as repo, Location, LocationFilter, LocationKey, LocationView, Upserted, in_scope,
};
use crate::store::{Reach, Store, audit, now_ms};

/// The location named by `key` in the caller's scope, or NOT_FOUND.
pub async fn get(store: &Store, caller: &Caller, key: &LocationKey) -> Result<LocationView, Error> {
    repo::find(store.connection(), caller.scope, key).await
}

/// The location named by `key`, wherever it lies (the jobs and the public act for the
/// platform, not for a key), or NOT_FOUND.
pub async fn find(store: &Store, key: &LocationKey) -> Result<LocationView, Error> {
    repo::find(store.connection(), None, key).await
}

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
    let rows = repo::list(
        db,
        &reach,
        filter,
        page.fetch_limit(),
        page.after.as_deref(),
    )
    .await?;
    Ok(page.listed(rows, |v| v.location.code.clone()))
}

/// Creates a location under a parent of the caller's scope (a network: unscoped keys only).
pub async fn create(
    store: &Store,
    caller: &Caller,
    spec: &LocationSpec,
) -> Result<LocationView, Error> {
    let txn = store.write_txn().await?;
    let parent_id = parent(&txn, caller, spec.parent.as_ref()).await?;
    let now = now_ms();
    let location = Location {
        id: Uuid::now_v7(),
        code: spec.code.clone(),
        name: spec.name.clone(),
        typology: spec.typology.clone(),
        parent_id,
        postal_code: spec.postal_code.clone(),
        city: spec.city.clone(),
        latitude: spec.coordinates.map(|c| c.0),
        longitude: spec.coordinates.map(|c| c.1),
        response_target_days: spec.response_target_days,
        min_sample: spec.min_sample,
        min_sample_agents: spec.min_sample_agents,
        active: spec.active,
        created_at: now,
        updated_at: now,
    };
    repo::insert(&txn, &location).await?;
    audit::record(
        &txn,
        Some(caller),
        "location.create",
        "location",
        &location.id.to_string(),
        serde_json::json!({ "code": spec.code }),
    )
    .await?;
    let view = repo::views(&txn, vec![location]).await?.pop();
    txn.commit().await?;
    store.locations_changed();
    view.ok_or_else(|| Error::Internal("created location vanished".into()))
}

/// Applies `patch` to a location of the caller's scope.
pub async fn update(
    store: &Store,
    caller: &Caller,
    key: &LocationKey,
    patch: &LocationPatch,
) -> Result<LocationView, Error> {
    let txn = store.write_txn().await?;
    let current = match repo::find_any(&txn, key).await? {
        Some(l) if in_scope(&txn, caller.scope, l.id).await? => l,
        _ => return Err(Error::not_found("location")),
    };
    let updated = apply(&txn, caller, current, patch).await?;
    let view = repo::views(&txn, vec![updated]).await?.pop();
    txn.commit().await?;
    store.locations_changed();
    view.ok_or_else(|| Error::Internal("updated location vanished".into()))
}

/// Creates the location of `spec.code`, or brings the existing one to `spec` (an import).
/// A code taken outside the caller's scope is ALREADY_EXISTS, as for a creation.
pub async fn upsert(
    store: &Store,
    caller: &Caller,
    spec: &LocationSpec,
) -> Result<(LocationView, Upserted), Error> {
    let db = store.connection();
    let Some(current) = repo::find_any(db, &LocationKey::Code(spec.code.clone())).await? else {
        return match create(store, caller, spec).await {
            Ok(view) => Ok((view, Upserted::Created)),
            // Lost a race with a concurrent import of the same code: update instead.
            Err(Error::AlreadyExists(_)) => Box::pin(upsert(store, caller, spec)).await,
            Err(e) => Err(e),
        };
    };
    if !in_scope(db, caller.scope, current.id).await? {
        return Err(Error::AlreadyExists(format!(
            "location code {} is already taken",
            spec.code
        )));
    }
    let txn = store.write_txn().await?;
    let before = current.clone();
    let updated = apply(&txn, caller, current, &LocationPatch::from_spec(spec)).await?;
    let outcome = if before.same_content(&updated) {
        Upserted::Unchanged
    } else {
        Upserted::Updated
    };
    let view = repo::views(&txn, vec![updated]).await?.pop();
    txn.commit().await?;
    store.locations_changed();
    view.map(|v| (v, outcome))
        .ok_or_else(|| Error::Internal("upserted location vanished".into()))
}

/// The parent id for a new or moved location: it must exist in the caller's scope.
async fn parent(
    db: &impl ConnectionTrait,
    caller: &Caller,
    parent: Option<&ParentRef>,
) -> Result<Option<Uuid>, Error> {
    let Some(parent) = parent else {
        check_may_be_root(caller.scope)?;
        return Ok(None);
    };
    let key = match parent {
        ParentRef::Id(id) => LocationKey::Id(*id),
        ParentRef::Code(code) => LocationKey::Code(code.clone()),
    };
    match repo::find_any(db, &key).await? {
        Some(l) if in_scope(db, caller.scope, l.id).await? => Ok(Some(l.id)),
        _ => Err(Error::not_found("parent location")),
    }
}

/// Writes `patch` over `current` and audits it; nothing when it changes nothing.
async fn apply(
    db: &impl ConnectionTrait,
    caller: &Caller,
    current: Location,
    patch: &LocationPatch,
) -> Result<Location, Error> {
    let mut next = current.clone();
    if let Some(p) = &patch.parent {
        next.parent_id = parent(db, caller, p.as_ref()).await?;
    }
    if let Some(v) = &patch.name {
        next.name = v.clone();
    }
    if let Some(v) = &patch.typology {
        next.typology = v.clone();
    }
    if let Some(v) = &patch.postal_code {
        next.postal_code = v.clone();
    }
    if let Some(v) = &patch.city {
        next.city = v.clone();
    }
    if let Some(v) = patch.coordinates {
        next.latitude = v.map(|c| c.0);
        next.longitude = v.map(|c| c.1);
    }
    if let Some(v) = patch.response_target_days {
        next.response_target_days = v;
    }
    if let Some(v) = patch.min_sample {
        next.min_sample = v;
    }
    if let Some(v) = patch.min_sample_agents {
        next.min_sample_agents = v;
    }
    if let Some(v) = patch.active {
        next.active = v;
    }
    if current.same_content(&next) {
        return Ok(current);
    }
    next.updated_at = now_ms();
    repo::save(db, &current, &next).await?;
    audit::record(
        db,
        Some(caller),
        "location.update",
        "location",
        &next.id.to_string(),
        serde_json::json!({ "code": next.code }),
    )
    .await?;
    Ok(next)
}
