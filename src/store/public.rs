//! What the public may read: published experiences of the publics served (never the
//! agents', `Audience::is_public`) and published answers only. Every query here filters on
//! both itself; callers cannot forget it.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
};
use uuid::Uuid;

use super::entities::{feedback, location, response, response_vote};
use super::feedback::{FeedbackCursor, FeedbackView, newest_first, newest_first_query};
use super::locations::{Location, subtree_ids};
use super::sql;
use crate::Error;
use crate::domain::ModerationStatus;
use crate::domain::codes::{Audience, ResponseStatus};
use crate::domain::search::{self, Search};

/// Which published experiences a public listing or export reads.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PublishedFilter {
    /// The subtree of this location; all locations without one.
    pub root: Option<Uuid>,
    /// Submitted within `[start, end)`, epoch milliseconds.
    pub submitted: Option<(i64, i64)>,
    /// Whose public content changed at or after this instant: the experience itself
    /// (publication, redaction, erasure of its contact) or one of its published answers.
    pub updated_since: Option<i64>,
}

/// Published experiences matching `filter`, newest first; their answers are reduced to the
/// published ones.
pub async fn published_feedback(
    db: &impl ConnectionTrait,
    filter: PublishedFilter,
    limit: u64,
    after: Option<FeedbackCursor>,
) -> Result<Vec<FeedbackView>, Error> {
    let mut views = newest_first(db, published(filter), filter.submitted, limit, after).await?;
    for view in &mut views {
        view.responses
            .retain(|r| r.status == ResponseStatus::Published);
    }
    Ok(views)
}

/// The statement that reads a page of [`published_feedback`] (its plan is tested: a page
/// must be a range of an index, whatever the cursor).
pub fn published_page_statement(
    backend: sea_orm::DbBackend,
    filter: PublishedFilter,
    limit: u64,
    after: Option<FeedbackCursor>,
) -> sea_orm::Statement {
    sea_orm::QueryTrait::build(
        &newest_first_query(published(filter), filter.submitted, limit, after),
        backend,
    )
}

/// The published experiences of public audiences that `filter` selects, apart from its
/// submission range, which [`newest_first_query`] applies beside the cursor.
fn published(filter: PublishedFilter) -> Condition {
    let mut cond = Condition::all()
        .add(feedback::Column::Status.eq(ModerationStatus::Published.code()))
        .add(feedback::Column::Audience.is_in(Audience::public_codes()));
    if let Some(root) = filter.root {
        cond = cond.add(feedback::Column::LocationId.in_subquery(subtree_ids(root)));
    }
    if let Some(since) = filter.updated_since {
        let answered = sea_orm::sea_query::Query::select()
            .column(response::Column::FeedbackId)
            .from(response::Entity)
            .and_where(response::Column::Status.eq(ResponseStatus::Published.code()))
            .and_where(response::Column::PublishedAt.gte(since))
            .to_owned();
        cond = cond.add(
            Condition::any()
                .add(feedback::Column::UpdatedAt.gte(since))
                .add(feedback::Column::Id.in_subquery(answered)),
        );
    }
    cond
}

/// Whether `response_id` is a published answer of a published experience.
pub async fn is_published_answer(
    db: &impl ConnectionTrait,
    response_id: Uuid,
) -> Result<bool, Error> {
    Ok(response::Entity::find_by_id(response_id)
        .filter(response::Column::Status.eq(ResponseStatus::Published.code()))
        .filter(
            response::Column::FeedbackId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(feedback::Column::Id)
                    .from(feedback::Entity)
                    .and_where(feedback::Column::Status.eq(ModerationStatus::Published.code()))
                    .and_where(feedback::Column::Audience.is_in(Audience::public_codes()))
                    .to_owned(),
            ),
        )
        .one(db)
        .await?
        .is_some())
}

/// Whether this voter already voted on the answer.
pub async fn has_voted(
    db: &impl ConnectionTrait,
    response_id: Uuid,
    voter_hash: &str,
) -> Result<bool, Error> {
    Ok(
        response_vote::Entity::find_by_id((response_id, voter_hash.to_owned()))
            .one(db)
            .await?
            .is_some(),
    )
}

/// New votes cast on the answer from an address since `since_ms`.
pub async fn votes_from(
    db: &impl ConnectionTrait,
    response_id: Uuid,
    address_hash: &str,
    since_ms: i64,
) -> Result<u64, Error> {
    Ok(response_vote::Entity::find()
        .filter(response_vote::Column::ResponseId.eq(response_id))
        .filter(response_vote::Column::AddressHash.eq(address_hash))
        .filter(response_vote::Column::CreatedAt.gte(since_ms))
        .count(db)
        .await?)
}

/// Records a vote, or replaces the voter's earlier one.
pub async fn save_vote(
    db: &impl ConnectionTrait,
    response_id: Uuid,
    voter_hash: &str,
    useful: bool,
    address_hash: &str,
    now: i64,
) -> Result<(), Error> {
    response_vote::Entity::insert(response_vote::ActiveModel {
        response_id: Set(response_id),
        voter_hash: Set(voter_hash.to_owned()),
        useful: Set(useful),
        created_at: Set(now),
        address_hash: Set(Some(address_hash.to_owned())),
    })
    .on_conflict(
        OnConflict::columns([
            response_vote::Column::ResponseId,
            response_vote::Column::VoterHash,
        ])
        .update_columns([response_vote::Column::Useful])
        .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// The answer's (useful, not useful) vote counts.
pub async fn vote_counts(
    db: &impl ConnectionTrait,
    response_id: Uuid,
) -> Result<(u64, u64), Error> {
    let count = |useful: bool| {
        response_vote::Entity::find()
            .filter(response_vote::Column::ResponseId.eq(response_id))
            .filter(response_vote::Column::Useful.eq(useful))
            .count(db)
    };
    Ok((count(true).await?, count(false).await?))
}

/// How many terms each word begins, counted up to a bound (what is above it is common enough
/// to check per candidate), one query for all: the words, rarest first.
async fn rarest_first(db: &impl ConnectionTrait, terms: &[String]) -> Result<Vec<String>, Error> {
    const BOUND: i64 = 1_000;
    if terms.len() < 2 {
        return Ok(terms.to_vec());
    }
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut counts = Vec::new();
    for (i, term) in terms.iter().enumerate() {
        let (lo, hi) = search::begins_range(term);
        values.extend([lo.into(), hi.into()]);
        let (lo, hi) = (values.len() - 1, values.len());
        counts.push(format!(
            "SELECT CAST({i} AS BIGINT) AS word, COUNT(*) AS n FROM (SELECT 1 AS one FROM location_term \
             WHERE term >= ${lo} AND term < ${hi} LIMIT {BOUND}) c{i}"
        ));
    }
    let backend = db.get_database_backend();
    let mut counted: Vec<(usize, i64)> = db
        .query_all_raw(sql(backend, &counts.join(" UNION ALL "), values))
        .await?
        .iter()
        .map(|row| -> Result<(usize, i64), sea_orm::DbErr> {
            let word: i64 = row.try_get("", "word")?;
            Ok((
                usize::try_from(word).unwrap_or(usize::MAX),
                row.try_get("", "n")?,
            ))
        })
        .collect::<Result<_, _>>()?;
    counted.sort_by_key(|&(word, n)| (n, word));
    Ok(counted
        .into_iter()
        .filter_map(|(word, _)| terms.get(word).cloned())
        .collect())
}

/// Active locations matching `search` (its network already resolved to `network`), in the
/// order [`crate::domain::search`] gives, `limit` of them after the first `offset`. Around a
/// point, candidates are those of the point's box within the radius measured on the local
/// plane (plus 2 %, the plane's largest error within 100 km), nearest first on that plane;
/// the use case keeps those within the great-circle radius.
pub async fn search_locations(
    db: &impl ConnectionTrait,
    search: &Search,
    network: Option<Uuid>,
    limit: u64,
    offset: u64,
) -> Result<Vec<Location>, Error> {
    // PostgreSQL plans this statement for its bound values (the word ranges keep it on
    // custom plans) from the term index's statistics, and drives it from the rarest word by
    // itself; counting the words first cost it a statement more. SQLite, never analysed
    // and planning once whatever is bound, is told which word to start from.
    let backend = db.get_database_backend();
    let terms = match backend {
        sea_orm::DbBackend::Postgres => search.terms.clone(),
        _ => rarest_first(db, &search.terms).await?,
    };
    let statement = search_statement(backend, search, &terms, network, limit, offset);
    Ok(location::Entity::find()
        .from_raw_sql(statement)
        .all(db)
        .await?
        .into_iter()
        .map(Location::from)
        .collect())
}

/// The statement of [`search_locations`]; on SQLite its words come rarest first, and the
/// first one's range gives the candidates.
pub fn search_statement(
    backend: sea_orm::DbBackend,
    search: &Search,
    words: &[String],
    network: Option<Uuid>,
    limit: u64,
    offset: u64,
) -> sea_orm::Statement {
    let mut values: Vec<sea_orm::Value> = vec![true.into()];
    let bind = |values: &mut Vec<sea_orm::Value>, v: sea_orm::Value| {
        values.push(v);
        format!("${}", values.len())
    };
    let mut conditions = vec!["l.active = $1".to_owned()];
    // Each word reads the range of terms it begins in the term index: the first word's
    // locations are the candidates (the rarest's, on SQLite; PostgreSQL reorders them by
    // its statistics), each other word is checked per candidate.
    for (i, term) in words.iter().enumerate() {
        let (lo, hi) = search::begins_range(term);
        let (lo, hi) = (bind(&mut values, lo.into()), bind(&mut values, hi.into()));
        conditions.push(if i == 0 {
            format!(
                "l.id IN (SELECT t.location_id FROM location_term t \
                 WHERE t.term >= {lo} AND t.term < {hi})"
            )
        } else {
            format!(
                "EXISTS (SELECT 1 FROM location_term t WHERE t.location_id = l.id \
                 AND t.term >= {lo} AND t.term < {hi})"
            )
        });
    }
    let mut relevance = Vec::new();
    for term in &search.terms {
        let p = bind(&mut values, format!("% {term}%").into());
        relevance.push(format!("CASE WHEN l.name_key LIKE {p} THEN 1 ELSE 0 END"));
    }
    if let Some(postal) = &search.postal_code {
        let p = bind(&mut values, postal.clone().into());
        conditions.push(format!("l.postal_code = {p}"));
    }
    if let Some(dept) = &search.departement {
        let p = bind(&mut values, dept.clone().into());
        conditions.push(format!("l.departement = {p}"));
    }
    if let Some(root) = network {
        let p = bind(&mut values, root.into());
        conditions.push(format!(
            "l.id IN (SELECT descendant_id FROM location_closure WHERE ancestor_id = {p})"
        ));
    }
    let collate = match backend {
        sea_orm::DbBackend::Postgres => " COLLATE \"C\"",
        _ => "",
    };
    let order = match search.near {
        Some(near) => {
            let b = near.candidate_box();
            let [lat_lo, lat_hi, lon_lo, lon_hi, lat, lon, scale] = [
                b.min_latitude,
                b.max_latitude,
                b.min_longitude,
                b.max_longitude,
                near.point.latitude,
                near.point.longitude,
                near.point.longitude_scale(),
            ]
            .map(|v| bind(&mut values, v.into()));
            let radius = near.candidate_radius_degrees();
            let r2 = bind(&mut values, (radius * radius).into());
            let d2 = format!(
                "((l.latitude - {lat}) * (l.latitude - {lat}) + \
                 (l.longitude - {lon}) * {scale} * (l.longitude - {lon}) * {scale})"
            );
            conditions.push(format!(
                "l.latitude BETWEEN {lat_lo} AND {lat_hi} AND l.longitude BETWEEN {lon_lo} AND {lon_hi}"
            ));
            conditions.push(format!("{d2} <= {r2}"));
            format!("{d2}, l.code{collate}")
        }
        None if relevance.is_empty() => format!("l.name_key{collate}, l.code{collate}"),
        None => format!(
            "{} DESC, l.name_key{collate}, l.code{collate}",
            relevance.join(" + ")
        ),
    };
    let limit = bind(&mut values, (limit as i64).into());
    let offset = bind(&mut values, (offset as i64).into());
    let text = format!(
        "SELECT l.* FROM location l WHERE {} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
        conditions.join(" AND ")
    );
    sql(backend, &text, values)
}
