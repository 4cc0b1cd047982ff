//! Locations and their hierarchy. The hierarchy is kept as a closure table
//! (`location_closure`), maintained here and only here: subtree filters everywhere else are
//! one indexed sub-select.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, StreamTrait,
};
use uuid::Uuid;

use super::entities::{location, location_closure, location_term};
use super::{Reach, Store, is_unique_violation, sql};
use crate::Error;
use crate::domain::audiences::{DEFAULT_MIN_SAMPLE_AGENTS, effective_min_sample_agents};
use crate::domain::location::{DEFAULT_MIN_SAMPLE, DEFAULT_RESPONSE_TARGET_DAYS, inherited};
use crate::domain::search;

/// A location as stored (its own settings; `None` inherits the parent's).
#[derive(Clone, Debug, PartialEq)]
pub struct Location {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    pub typology: String,
    pub parent_id: Option<Uuid>,
    pub postal_code: String,
    pub city: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub response_target_days: Option<u32>,
    pub min_sample: Option<u32>,
    pub min_sample_agents: Option<u32>,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl From<location::Model> for Location {
    fn from(m: location::Model) -> Self {
        // The columns are written from u32 values; a negative one cannot be stored by boucle.
        let setting = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok());
        Self {
            id: m.id,
            code: m.code,
            name: m.name,
            typology: m.typology,
            parent_id: m.parent_id,
            postal_code: m.postal_code,
            city: m.city,
            latitude: m.latitude,
            longitude: m.longitude,
            response_target_days: setting(m.response_target_days),
            min_sample: setting(m.min_sample),
            min_sample_agents: setting(m.min_sample_agents),
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

impl From<&Location> for location::ActiveModel {
    fn from(l: &Location) -> Self {
        location::ActiveModel {
            id: Set(l.id),
            code: Set(l.code.clone()),
            name: Set(l.name.clone()),
            typology: Set(l.typology.clone()),
            parent_id: Set(l.parent_id),
            postal_code: Set(l.postal_code.clone()),
            city: Set(l.city.clone()),
            latitude: Set(l.latitude),
            longitude: Set(l.longitude),
            response_target_days: Set(l.response_target_days.map(to_i32)),
            min_sample: Set(l.min_sample.map(to_i32)),
            min_sample_agents: Set(l.min_sample_agents.map(to_i32)),
            active: Set(l.active),
            created_at: Set(l.created_at),
            updated_at: Set(l.updated_at),
            search_key: Set(Some(search::search_key(
                &l.name,
                &l.typology,
                &l.city,
                &l.code,
            ))),
            name_key: Set(Some(search::name_key(&l.name))),
            departement: Set(search::departement(&l.postal_code)),
        }
    }
}

/// Fills what search compares on the locations written before it was stored (see the
/// migration `m20261202_000001_location_search`). Idempotent; a no-op once done.
pub async fn backfill_search(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    let missing = location::Entity::find()
        .filter(location::Column::SearchKey.is_null())
        .all(db)
        .await?;
    let n = missing.len() as u64;
    for l in missing.into_iter().map(Location::from) {
        let key = search::search_key(&l.name, &l.typology, &l.city, &l.code);
        location::Entity::update_many()
            .col_expr(location::Column::SearchKey, Expr::value(key))
            .col_expr(
                location::Column::NameKey,
                Expr::value(search::name_key(&l.name)),
            )
            .col_expr(
                location::Column::Departement,
                Expr::value(search::departement(&l.postal_code)),
            )
            .filter(location::Column::Id.eq(l.id))
            .exec(db)
            .await?;
    }
    Ok(n)
}

/// The rows of the term index for `l`.
fn term_rows(l: &Location) -> impl Iterator<Item = location_term::ActiveModel> {
    let id = l.id;
    search::location_terms(&l.name, &l.typology, &l.city, &l.code)
        .into_iter()
        .map(move |term| location_term::ActiveModel {
            term: Set(term),
            location_id: Set(id),
        })
}

/// Replaces the terms a search finds `l` by with those of its current name, typology, city
/// and code.
async fn write_terms(db: &impl ConnectionTrait, l: &Location) -> Result<(), sea_orm::DbErr> {
    location_term::Entity::delete_many()
        .filter(location_term::Column::LocationId.eq(l.id))
        .exec(db)
        .await?;
    // Every location has a term: its code is never empty.
    location_term::Entity::insert_many(term_rows(l).collect::<Vec<_>>())
        .exec(db)
        .await?;
    Ok(())
}

/// Writes the term index of the locations written before it was stored (see the migration
/// `m20261207_000001_location_terms`): those without a term. Idempotent; a no-op once done.
pub async fn backfill_terms(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    let backend = db.get_database_backend();
    let ids: Vec<Uuid> = db
        .query_all_raw(sql(
            backend,
            "SELECT l.id FROM location l \
             WHERE NOT EXISTS (SELECT 1 FROM location_term t WHERE t.location_id = l.id)",
            Vec::new(),
        ))
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "id"))
        .collect::<Result<_, _>>()?;
    for chunk in ids.chunks(500) {
        let rows: Vec<location_term::ActiveModel> = location::Entity::find()
            .filter(location::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
            .into_iter()
            .map(Location::from)
            .flat_map(|l| term_rows(&l).collect::<Vec<_>>())
            .collect();
        for rows in rows.chunks(5_000) {
            location_term::Entity::insert_many(rows.to_vec())
                .exec(db)
                .await?;
        }
    }
    Ok(ids.len() as u64)
}

impl Location {
    /// Whether two versions hold the same settings (the update instant aside).
    pub fn same_content(&self, other: &Location) -> bool {
        Location {
            updated_at: 0,
            ..self.clone()
        } == Location {
            updated_at: 0,
            ..other.clone()
        }
    }
}

/// A location with what is derived from its ancestors.
#[derive(Clone, Debug, PartialEq)]
pub struct LocationView {
    pub location: Location,
    pub parent_code: Option<String>,
    pub depth: u32,
    pub effective_response_target_days: u32,
    pub effective_min_sample: u32,
    /// The agents' threshold after inheritance, never below `effective_min_sample`.
    pub effective_min_sample_agents: u32,
}

/// How long capture trusts what it read of a location (see [`Store::capture_location`]).
pub const CAPTURE_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// What capture needs to know of a location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureLocation {
    pub id: Uuid,
    pub code: String,
    pub active: bool,
    /// The location itself and every ancestor.
    pub ancestors: Vec<Uuid>,
}

/// How a client names a location.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LocationKey {
    Id(Uuid),
    Code(String),
}

#[derive(Clone, Debug, Default)]
pub struct LocationFilter {
    pub subtree_of: Option<Uuid>,
    pub parent_id: Option<Uuid>,
    pub roots_only: bool,
    pub show_inactive: bool,
}

/// What an upsert did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    Unchanged,
}

/// A sub-select of the ids in the subtree of `root` (itself included).
pub fn subtree_ids(root: Uuid) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(location_closure::Column::DescendantId)
        .from(location_closure::Entity)
        .and_where(location_closure::Column::AncestorId.eq(root))
        .to_owned()
}

/// The location named by `key`, or NOT_FOUND when absent or outside `scope`.
pub async fn find(
    db: &impl ConnectionTrait,
    scope: Option<Uuid>,
    key: &LocationKey,
) -> Result<LocationView, Error> {
    let location = location_in_scope(db, scope, key).await?;
    let mut views = views(db, vec![location]).await?;
    views.pop().ok_or_else(|| Error::not_found("location"))
}

/// The location named by `key`, or NOT_FOUND when absent or outside `scope`: one query,
/// without the inherited settings (for hot paths such as capture).
pub async fn location_in_scope(
    db: &impl ConnectionTrait,
    scope: Option<Uuid>,
    key: &LocationKey,
) -> Result<Location, Error> {
    let mut query = by_key(key);
    if let Some(root) = scope {
        query = query.filter(location::Column::Id.in_subquery(subtree_ids(root)));
    }
    Ok(query
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("location"))?
        .into())
}

/// The location named by `key`, wherever it lies.
pub async fn find_any(
    db: &impl ConnectionTrait,
    key: &LocationKey,
) -> Result<Option<Location>, Error> {
    Ok(by_key(key).one(db).await?.map(Location::from))
}

fn by_key(key: &LocationKey) -> sea_orm::Select<location::Entity> {
    match key {
        LocationKey::Id(id) => location::Entity::find_by_id(*id),
        LocationKey::Code(code) => {
            location::Entity::find().filter(location::Column::Code.eq(code.as_str()))
        }
    }
}

impl Store {
    /// The location an experience is captured for, from a cache kept for
    /// [`CAPTURE_CACHE_TTL`]: capture is the hot path and locations change rarely. Writes
    /// through this store empty the cache at once; another replica's change (deactivation,
    /// move) is seen within the delay. NOT_FOUND when absent or outside `scope`.
    pub async fn capture_location(
        &self,
        scope: Option<Uuid>,
        key: &LocationKey,
    ) -> Result<std::sync::Arc<CaptureLocation>, Error> {
        let cached = match self.capture_cache.get(key) {
            Some(hit) => hit,
            None => {
                let location = location_in_scope(&self.db, None, key).await?;
                let ancestors = location_closure::Entity::find()
                    .filter(location_closure::Column::DescendantId.eq(location.id))
                    .all(&self.db)
                    .await?
                    .into_iter()
                    .map(|c| c.ancestor_id)
                    .collect();
                let entry = std::sync::Arc::new(CaptureLocation {
                    id: location.id,
                    code: location.code,
                    active: location.active,
                    ancestors,
                });
                self.capture_cache.insert(key.clone(), entry.clone());
                entry
            }
        };
        match scope {
            Some(root) if !cached.ancestors.contains(&root) => Err(Error::not_found("location")),
            _ => Ok(cached),
        }
    }
}

/// Inserts a new location with its closure rows; ALREADY_EXISTS when its code is taken.
pub async fn insert(db: &impl ConnectionTrait, location: &Location) -> Result<(), Error> {
    match location::ActiveModel::from(location).insert(db).await {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(Error::AlreadyExists(format!(
                "location code {} is already taken",
                location.code
            )));
        }
        Err(e) => return Err(e.into()),
    }
    write_terms(db, location).await?;
    attach_to_parent(db, location.id, location.parent_id).await
}

/// Writes `next` over the stored version of the location, moving its subtree first when
/// its parent changed (`current` is the version read in the same transaction).
pub async fn save(
    db: &impl ConnectionTrait,
    current: &Location,
    next: &Location,
) -> Result<(), Error> {
    if next.parent_id != current.parent_id {
        move_subtree(db, next.id, next.parent_id).await?;
    }
    // Mark every column as changed; the row is small and this keeps the update obvious.
    let mut active = location::ActiveModel::from(next).reset_all();
    active.id = sea_orm::ActiveValue::Unchanged(next.id);
    active.update(db).await?;
    write_terms(db, next).await?;
    Ok(())
}

/// Locations within `reach` matching `filter`, ordered by code, after the code `after`
/// (`filter.subtree_of` is already in `reach`).
pub async fn list(
    db: &impl ConnectionTrait,
    reach: &Reach,
    filter: &LocationFilter,
    limit: u64,
    after: Option<&str>,
) -> Result<Vec<LocationView>, Error> {
    let mut cond = Condition::all();
    for root in reach.roots() {
        cond = cond.add(location::Column::Id.in_subquery(subtree_ids(root)));
    }
    if let Some(parent) = filter.parent_id {
        cond = cond.add(location::Column::ParentId.eq(parent));
    }
    if filter.roots_only {
        // Roots of what the caller sees: true roots, or its scope root.
        cond = match reach.scope() {
            None => cond.add(location::Column::ParentId.is_null()),
            Some(root) => cond.add(location::Column::Id.eq(root)),
        };
    }
    if !filter.show_inactive {
        cond = cond.add(location::Column::Active.eq(true));
    }
    if let Some(code) = after {
        cond = cond.add(location::Column::Code.gt(code));
    }
    let models = location::Entity::find()
        .filter(cond)
        .order_by_asc(location::Column::Code)
        .limit(limit)
        .all(db)
        .await?;
    views(db, models.into_iter().map(Location::from).collect()).await
}

/// The active children of `parent`, by code.
pub async fn active_children(
    db: &impl ConnectionTrait,
    parent: Uuid,
) -> Result<Vec<LocationView>, Error> {
    let models = location::Entity::find()
        .filter(location::Column::ParentId.eq(parent))
        .filter(location::Column::Active.eq(true))
        .order_by_asc(location::Column::Code)
        .all(db)
        .await?;
    views(db, models.into_iter().map(Location::from).collect()).await
}

fn to_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// Every location's code, in no particular order (load generators).
pub async fn all_codes(db: &impl ConnectionTrait) -> Result<Vec<String>, Error> {
    Ok(location::Entity::find()
        .select_only()
        .column(location::Column::Code)
        .into_tuple()
        .all(db)
        .await?)
}

/// The codes of the given locations (for display beside ids).
pub(crate) async fn codes(
    db: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, String>, Error> {
    Ok(location::Entity::find()
        .filter(location::Column::Id.is_in(super::in_list(ids)))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.id, l.code))
        .collect())
}

/// Whether `location_id` lies in the subtree `scope`, on any connection or transaction.
pub async fn in_scope(
    db: &impl ConnectionTrait,
    scope: Option<Uuid>,
    location_id: Uuid,
) -> Result<bool, Error> {
    let Some(root) = scope else {
        return Ok(true);
    };
    let row = location_closure::Entity::find_by_id((root, location_id))
        .one(db)
        .await?;
    Ok(row.is_some())
}

/// Adds the closure rows of a new leaf `id` under `parent`.
async fn attach_to_parent(
    db: &impl ConnectionTrait,
    id: Uuid,
    parent: Option<Uuid>,
) -> Result<(), Error> {
    let backend = db.get_database_backend();
    db.execute_raw(sql(
        backend,
        "INSERT INTO location_closure (ancestor_id, descendant_id, depth) VALUES ($1, $1, 0)",
        vec![id.into()],
    ))
    .await?;
    if let Some(parent) = parent {
        db.execute_raw(sql(
            backend,
            "INSERT INTO location_closure (ancestor_id, descendant_id, depth) \
             SELECT ancestor_id, $1, depth + 1 FROM location_closure WHERE descendant_id = $2",
            vec![id.into(), parent.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Moves the subtree rooted at `id` under `new_parent`, keeping the closure table exact.
async fn move_subtree(
    db: &impl ConnectionTrait,
    id: Uuid,
    new_parent: Option<Uuid>,
) -> Result<(), Error> {
    let backend = db.get_database_backend();
    if let Some(parent) = new_parent
        && in_scope(db, Some(id), parent).await?
    {
        return Err(Error::FailedPrecondition(
            "a location cannot be moved under itself or one of its descendants".into(),
        ));
    }
    // Detach: forget every link from an ancestor outside the subtree to a node inside it.
    db.execute_raw(sql(
        backend,
        "DELETE FROM location_closure \
         WHERE descendant_id IN (SELECT descendant_id FROM location_closure WHERE ancestor_id = $1) \
           AND ancestor_id NOT IN (SELECT descendant_id FROM location_closure WHERE ancestor_id = $1)",
        vec![id.into()],
    ))
    .await?;
    // Attach: every ancestor of the new parent becomes an ancestor of every node inside.
    if let Some(parent) = new_parent {
        db.execute_raw(sql(
            backend,
            "INSERT INTO location_closure (ancestor_id, descendant_id, depth) \
             SELECT a.ancestor_id, d.descendant_id, a.depth + d.depth + 1 \
             FROM location_closure a CROSS JOIN location_closure d \
             WHERE a.descendant_id = $1 AND d.ancestor_id = $2",
            vec![parent.into(), id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Adds the derived fields: parent code, depth, and the inherited settings.
pub async fn views(
    db: &impl ConnectionTrait,
    models: Vec<Location>,
) -> Result<Vec<LocationView>, Error> {
    if models.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let chains = few_chains(
        db,
        &format!("c.descendant_id IN ({})", placeholders.join(", ")),
        ids.iter().map(|id| (*id).into()).collect(),
    )
    .await?;
    Ok(assemble(models, chains))
}

/// [`views`] of every location of the subtree of `root` (of all without one), ordered by
/// code, in two queries whatever their number. Both are read as streams: collected first,
/// the rows of 20,000 locations and their 80,000 ancestors took 100 MB at once (the
/// open-data export's peak), for views that hold a tenth of it.
pub(crate) async fn subtree_views<C>(db: &C, root: Option<Uuid>) -> Result<Vec<LocationView>, Error>
where
    C: ConnectionTrait + StreamTrait + Send,
{
    use futures::TryStreamExt;

    let mut query = location::Entity::find().order_by_asc(location::Column::Code);
    if let Some(root) = root {
        query = query.filter(location::Column::Id.in_subquery(subtree_ids(root)));
    }
    let models: Vec<Location> = query
        .stream(db)
        .await?
        .map_ok(Location::from)
        .try_collect()
        .await?;
    let chains = match root {
        None => chains(db, "1 = 1", Vec::new()).await?,
        Some(root) => {
            chains(
                db,
                "c.descendant_id IN (SELECT descendant_id FROM location_closure WHERE ancestor_id = $1)",
                vec![root.into()],
            )
            .await?
        }
    };
    Ok(assemble(models, chains))
}

/// A location's ancestors, itself first: (depth, code, response target, minimum sample,
/// agents' minimum sample).
type Chain = Vec<(i32, String, Option<i32>, Option<i32>, Option<i32>)>;

/// The ancestor chains of the locations `filter` selects (a condition on `c.descendant_id`),
/// read as a stream (see [`subtree_views`]); [`few_chains`] reads a handful on any
/// connection.
async fn chains<C>(
    db: &C,
    filter: &str,
    values: Vec<sea_orm::Value>,
) -> Result<HashMap<Uuid, Chain>, Error>
where
    C: ConnectionTrait + StreamTrait + Send,
{
    use futures::TryStreamExt;

    let statement = chains_statement(ConnectionTrait::get_database_backend(db), filter, values);
    let mut rows = std::pin::pin!(db.stream_raw(statement).await?);
    let mut chains: HashMap<Uuid, Chain> = HashMap::new();
    while let Some(row) = rows.try_next().await? {
        add_to_chain(&mut chains, &row)?;
    }
    Ok(chains)
}

/// [`chains`] of a few locations, on any connection.
async fn few_chains(
    db: &impl ConnectionTrait,
    filter: &str,
    values: Vec<sea_orm::Value>,
) -> Result<HashMap<Uuid, Chain>, Error> {
    let statement = chains_statement(db.get_database_backend(), filter, values);
    let mut chains: HashMap<Uuid, Chain> = HashMap::new();
    for row in db.query_all_raw(statement).await? {
        add_to_chain(&mut chains, &row)?;
    }
    Ok(chains)
}

fn chains_statement(
    backend: sea_orm::DbBackend,
    filter: &str,
    values: Vec<sea_orm::Value>,
) -> sea_orm::Statement {
    let text = format!(
        "SELECT c.descendant_id, c.depth, a.code, a.response_target_days, a.min_sample, a.min_sample_agents \
         FROM location_closure c JOIN location a ON a.id = c.ancestor_id \
         WHERE {filter} ORDER BY c.descendant_id, c.depth"
    );
    sql(backend, &text, values)
}

fn add_to_chain(
    chains: &mut HashMap<Uuid, Chain>,
    row: &sea_orm::QueryResult,
) -> Result<(), sea_orm::DbErr> {
    let descendant: Uuid = row.try_get("", "descendant_id")?;
    chains.entry(descendant).or_default().push((
        row.try_get("", "depth")?,
        row.try_get("", "code")?,
        row.try_get("", "response_target_days")?,
        row.try_get("", "min_sample")?,
        row.try_get("", "min_sample_agents")?,
    ));
    Ok(())
}

fn assemble(models: Vec<Location>, mut chains: HashMap<Uuid, Chain>) -> Vec<LocationView> {
    let to_u32 = |v: Option<i32>| v.and_then(|v| u32::try_from(v).ok());
    models
        .into_iter()
        .map(|location| {
            let chain = chains.remove(&location.id).unwrap_or_default();
            let depth = chain.iter().map(|c| c.0).max().unwrap_or(0);
            let parent_code = chain.iter().find(|c| c.0 == 1).map(|c| c.1.clone());
            let effective_min_sample =
                inherited(chain.iter().map(|c| to_u32(c.3)), DEFAULT_MIN_SAMPLE);
            LocationView {
                effective_min_sample_agents: effective_min_sample_agents(
                    inherited(chain.iter().map(|c| to_u32(c.4)), DEFAULT_MIN_SAMPLE_AGENTS),
                    effective_min_sample,
                ),
                effective_response_target_days: inherited(
                    chain.iter().map(|c| to_u32(c.2)),
                    DEFAULT_RESPONSE_TARGET_DAYS,
                ),
                effective_min_sample,
                depth: u32::try_from(depth).unwrap_or(0),
                parent_code,
                location,
            }
        })
        .collect()
}

impl Store {
    /// Inserts many locations with their closure rows in one transaction, in chunks under
    /// the bind-parameter limits. For trusted bulk loads (benchmarks): `rows` must list every
    /// parent before its children; codes are not checked beyond the unique index.
    pub async fn bulk_insert_locations(&self, rows: &[Location]) -> Result<(), Error> {
        const CHUNK: usize = 1_000;
        let mut ancestors: HashMap<Uuid, Vec<Uuid>> = HashMap::with_capacity(rows.len());
        let mut closure = Vec::new();
        for row in rows {
            let mut chain = match row.parent_id {
                Some(parent) => ancestors.get(&parent).cloned().ok_or_else(|| {
                    Error::FailedPrecondition(format!("parent of {} listed after it", row.code))
                })?,
                None => Vec::new(),
            };
            chain.insert(0, row.id);
            for (depth, ancestor) in chain.iter().enumerate() {
                closure.push(location_closure::ActiveModel {
                    ancestor_id: Set(*ancestor),
                    descendant_id: Set(row.id),
                    depth: Set(depth as i32),
                });
            }
            ancestors.insert(row.id, chain);
        }
        let txn = self.write_txn().await?;
        for chunk in rows.chunks(CHUNK) {
            let models: Vec<location::ActiveModel> = chunk.iter().map(Into::into).collect();
            location::Entity::insert_many(models).exec(&txn).await?;
        }
        for chunk in closure.chunks(CHUNK * 4) {
            location_closure::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        let terms: Vec<location_term::ActiveModel> = rows.iter().flat_map(term_rows).collect();
        for chunk in terms.chunks(CHUNK * 4) {
            location_term::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        txn.commit().await?;
        self.locations_changed();
        Ok(())
    }
}
