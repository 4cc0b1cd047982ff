//! API keys: creation (secret shown once), lookup by hash, listing, revocation.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use super::entities::{api_key, location};
use super::{Store, audit, now_ms, stored_code};
use crate::Error;
use crate::domain::api_key::{NewSecret, generate};
use crate::domain::{Caller, Role};

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

impl Store {
    /// Creates a key. `caller` is `None` for keys made from the command line (the first
    /// ADMIN key). The scope must lie within the caller's own scope.
    pub async fn create_api_key(
        &self,
        caller: Option<&Caller>,
        name: &str,
        role: Role,
        scope: Option<Uuid>,
    ) -> Result<(KeyView, NewSecret), Error> {
        let caller_scope = caller.and_then(|c| c.scope);
        match (caller_scope, scope) {
            (Some(_), None) => {
                return Err(Error::PermissionDenied(
                    "a scoped key cannot create an unscoped key".into(),
                ));
            }
            (_, Some(target)) if !self.in_scope(caller_scope, target).await? => {
                return Err(Error::not_found("scope location"));
            }
            _ => {}
        }
        let secret = generate();
        let txn = self.write_txn().await?;
        let model = api_key::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(name.to_owned()),
            role: Set(role.code().to_owned()),
            scope_location_id: Set(scope),
            secret_hash: Set(secret.hash.clone()),
            prefix: Set(secret.prefix.clone()),
            created_by: Set(caller.map(|c| c.key_id)),
            created_at: Set(now_ms()),
            revoked_at: Set(None),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            caller,
            "api_key.create",
            "api_key",
            &model.id.to_string(),
            serde_json::json!({ "name": name, "role": role.code(), "scope": scope }),
        )
        .await?;
        txn.commit().await?;
        let view = self.key_view(model).await?;
        Ok((view, secret))
    }

    /// The live (not revoked) key whose secret hashes to `hash`.
    pub async fn find_active_key(&self, hash: &str) -> Result<Option<ApiKey>, Error> {
        api_key::Entity::find()
            .filter(api_key::Column::SecretHash.eq(hash))
            .filter(api_key::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?
            .map(ApiKey::try_from)
            .transpose()
    }

    /// Keys whose scope lies within the caller's scope, oldest first, after id `after`.
    pub async fn list_api_keys(
        &self,
        caller: &Caller,
        show_revoked: bool,
        limit: u64,
        after: Option<Uuid>,
    ) -> Result<Vec<KeyView>, Error> {
        let mut cond = Condition::all();
        if let Some(root) = caller.scope {
            cond = cond.add(
                api_key::Column::ScopeLocationId.in_subquery(super::locations::subtree_ids(root)),
            );
        }
        if !show_revoked {
            cond = cond.add(api_key::Column::RevokedAt.is_null());
        }
        if let Some(after) = after {
            cond = cond.add(api_key::Column::Id.gt(after));
        }
        let models = api_key::Entity::find()
            .filter(cond)
            .order_by_asc(api_key::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let scopes = models.iter().filter_map(|m| m.scope_location_id).collect();
        let codes = super::locations::codes(&self.db, scopes).await?;
        models
            .into_iter()
            .map(|model| {
                Ok(KeyView {
                    scope_code: model.scope_location_id.and_then(|s| codes.get(&s).cloned()),
                    key: ApiKey::try_from(model)?,
                })
            })
            .collect()
    }

    /// Revokes a key of the caller's scope (idempotent: revoking twice keeps the first time).
    pub async fn revoke_api_key(&self, caller: &Caller, id: Uuid) -> Result<KeyView, Error> {
        let txn = self.write_txn().await?;
        let Some(model) = api_key::Entity::find_by_id(id).one(&txn).await? else {
            return Err(Error::not_found("API key"));
        };
        let visible = match (caller.scope, model.scope_location_id) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(target)) => self.in_scope(caller.scope, target).await?,
        };
        if !visible {
            return Err(Error::not_found("API key"));
        }
        let model = if model.revoked_at.is_none() {
            let mut active: api_key::ActiveModel = model.into();
            active.revoked_at = Set(Some(now_ms()));
            let updated = active.update(&txn).await?;
            audit::record(
                &txn,
                Some(caller),
                "api_key.revoke",
                "api_key",
                &id.to_string(),
                serde_json::json!({ "name": updated.name }),
            )
            .await?;
            updated
        } else {
            model
        };
        txn.commit().await?;
        self.key_view(model).await
    }

    async fn key_view(&self, model: api_key::Model) -> Result<KeyView, Error> {
        let scope_code = match model.scope_location_id {
            Some(id) => location::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .map(|l| l.code),
            None => None,
        };
        Ok(KeyView {
            key: ApiKey::try_from(model)?,
            scope_code,
        })
    }
}
