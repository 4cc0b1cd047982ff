//! The repository of API keys: lookup by hash, listing, creation and revocation.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::api_key;
use super::{Reach, stored_code};
use crate::Error;
use crate::domain::Role;

/// An API key as stored, its role typed (its secret's hash stays in the store).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub scope_location_id: Option<Uuid>,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl TryFrom<api_key::Model> for ApiKey {
    type Error = Error;

    fn try_from(m: api_key::Model) -> Result<Self, Error> {
        Ok(Self {
            role: stored_code(
                Role::from_code,
                format_args!("key {}", m.id),
                "role",
                &m.role,
            )?,
            id: m.id,
            name: m.name,
            scope_location_id: m.scope_location_id,
            prefix: m.prefix,
            created_at: m.created_at,
            revoked_at: m.revoked_at,
        })
    }
}

/// A key with its scope's code, for display.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyView {
    pub key: ApiKey,
    pub scope_code: Option<String>,
}

/// The key `id`, if any.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<ApiKey>, Error> {
    api_key::Entity::find_by_id(id)
        .one(db)
        .await?
        .map(ApiKey::try_from)
        .transpose()
}

/// Stores a new key with its secret's hash.
pub async fn insert(
    db: &impl ConnectionTrait,
    key: &ApiKey,
    secret_hash: &str,
    created_by: Option<Uuid>,
) -> Result<(), Error> {
    api_key::ActiveModel {
        id: Set(key.id),
        name: Set(key.name.clone()),
        role: Set(key.role.code().to_owned()),
        scope_location_id: Set(key.scope_location_id),
        secret_hash: Set(secret_hash.to_owned()),
        prefix: Set(key.prefix.clone()),
        created_by: Set(created_by),
        created_at: Set(key.created_at),
        revoked_at: Set(key.revoked_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Marks a key revoked at `at`.
pub async fn revoke(db: &impl ConnectionTrait, id: Uuid, at: i64) -> Result<(), Error> {
    api_key::Entity::update(api_key::ActiveModel {
        id: Set(id),
        revoked_at: Set(Some(at)),
        ..Default::default()
    })
    .exec(db)
    .await?;
    Ok(())
}

/// The live (not revoked) key whose secret hashes to `hash`.
pub async fn find_active(db: &impl ConnectionTrait, hash: &str) -> Result<Option<ApiKey>, Error> {
    api_key::Entity::find()
        .filter(api_key::Column::SecretHash.eq(hash))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .map(ApiKey::try_from)
        .transpose()
}

/// Keys whose scope lies within `reach` (an unscoped key only for a platform-wide reach),
/// oldest first, after id `after`.
pub async fn list(
    db: &impl ConnectionTrait,
    reach: &Reach,
    show_revoked: bool,
    limit: u64,
    after: Option<Uuid>,
) -> Result<Vec<KeyView>, Error> {
    let mut cond = Condition::all();
    for root in reach.roots() {
        cond = cond
            .add(api_key::Column::ScopeLocationId.in_subquery(super::locations::subtree_ids(root)));
    }
    if !show_revoked {
        cond = cond.add(api_key::Column::RevokedAt.is_null());
    }
    if let Some(after) = after {
        cond = cond.add(api_key::Column::Id.gt(after));
    }
    let keys = api_key::Entity::find()
        .filter(cond)
        .order_by_asc(api_key::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(ApiKey::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    views(db, keys).await
}

/// The keys with their scopes' codes.
pub async fn views(db: &impl ConnectionTrait, keys: Vec<ApiKey>) -> Result<Vec<KeyView>, Error> {
    let scopes = keys.iter().filter_map(|k| k.scope_location_id).collect();
    let codes = super::locations::codes(db, scopes).await?;
    Ok(keys
        .into_iter()
        .map(|key| KeyView {
            scope_code: key.scope_location_id.and_then(|s| codes.get(&s).cloned()),
            key,
        })
        .collect())
}
