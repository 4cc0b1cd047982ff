//! Monthly aggregation. The databases count each location's own experiences in one GROUP BY
//! (Rust receives one row per location); subtree counts are exact sums of those over the
//! closure table, never averages of averages; medians are exact, from one ordered stream of
//! the answered experiences. Memory grows with the locations, not the experiences.

use std::collections::HashMap;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Statement, StreamTrait, Value,
};
use uuid::Uuid;

use super::entities::{audience_figures, location_figures};
use super::locations::{LocationView, subtree_ids};
use super::{Store, sql};
use crate::Error;
use crate::domain::answer_delays::AnswerDelays;
use crate::domain::indicators::{Counts, Figure, IndicatorCode};
use crate::domain::{Audience, Period};

pub use crate::domain::indicators::Scope;

/// The publics of the public figures and texts, as SQL on `feedback f`: every audience but
/// the agents ([`crate::domain::codes::Audience::is_public`]; a test holds the two together).
pub(crate) const PUBLIC_AUDIENCE: &str = "f.audience <> 'AGENT'";

/// The counting rule of docs/product.md, whatever the audience: every experience except
/// those rejected as out of scope, spam or duplicate.
const COUNTED_ANY_AUDIENCE: &str =
    "(f.status <> 'REJECTED' OR f.reject_reason IN ('ABUSIVE', 'PERSONAL_DATA'))";

/// The counting rule of the public figures: [`COUNTED_ANY_AUDIENCE`] among the publics
/// served ([`PUBLIC_AUDIENCE`]).
pub(crate) const COUNTED: &str = "(f.status <> 'REJECTED' OR f.reject_reason IN ('ABUSIVE', 'PERSONAL_DATA')) \
     AND f.audience <> 'AGENT'";

/// One audience's counts of a month: of each location's own experiences and of each
/// subtree's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AudienceCounts {
    pub own: HashMap<Uuid, Counts>,
    pub subtree: HashMap<Uuid, Counts>,
}

/// A month's counts: the headline (the publics served, see [`PUBLIC_AUDIENCE`]) and each
/// audience's, agents' included, for every location and subtree.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MonthlyCounts {
    pub own: HashMap<Uuid, Counts>,
    pub subtree: HashMap<Uuid, Counts>,
    pub audiences: HashMap<Audience, AudienceCounts>,
}

/// One answered experience: its location, its delay in ms and its audience.
type Answered = (Uuid, i64, Audience);

/// The answered experiences packed in one row of [`Store::answer_delays_statement`] on
/// SQLite: `location:delay:audience` items separated by commas.
fn answered_batch(batch: &str) -> impl Iterator<Item = Result<Answered, Error>> + '_ {
    batch.split(',').map(|item| {
        let mut parts = item.split(':');
        (|| {
            let location = Uuid::try_parse(parts.next()?).ok()?;
            let delay = parts.next()?.parse::<i64>().ok()?;
            let audience = Audience::from_code(parts.next()?)?;
            parts
                .next()
                .is_none()
                .then_some((location, delay, audience))
        })()
        .ok_or_else(|| Error::Internal(format!("unreadable answered experience {item:?}")))
    })
}

/// The answered experiences of one row of [`Store::answer_delays_statement`] (one minute of
/// delay), as `(location, delay in ms, audience)` in ascending delay. The databases give the rows in
/// minute order and each minute's answers in any order: sorting a minute here (a few hundred
/// answers at most) spares PostgreSQL an ordered aggregate per minute.
fn minute_of_answers(
    backend: DbBackend,
    row: &sea_orm::QueryResult,
) -> Result<Vec<Answered>, Error> {
    let mut answers = match backend {
        DbBackend::Sqlite => {
            let batch: String = row.try_get("", "batch")?;
            answered_batch(&batch).collect::<Result<Vec<_>, _>>()?
        }
        _ => {
            let locations: Vec<Uuid> = row.try_get("", "locations")?;
            let delays: Vec<i64> = row.try_get("", "delays")?;
            let audiences: Vec<String> = row.try_get("", "audiences")?;
            if locations.len() != delays.len() || locations.len() != audiences.len() {
                return Err(Error::Internal(format!(
                    "{} answered locations for {} delays and {} audiences",
                    locations.len(),
                    delays.len(),
                    audiences.len()
                )));
            }
            let mut answers = Vec::with_capacity(locations.len());
            for ((location, delay), audience) in locations.into_iter().zip(delays).zip(audiences) {
                let audience = Audience::from_code(&audience).ok_or_else(|| {
                    Error::Internal(format!("answered experience of audience {audience:?}"))
                })?;
                answers.push((location, delay, audience));
            }
            answers
        }
    };
    answers.sort_unstable_by_key(|&(_, delay, _)| delay);
    Ok(answers)
}

/// The part of a WHERE clause restricting rows of `column` to the subtree of the root bound
/// at placeholder `$n`; empty without a root.
pub(super) fn restriction(column: &str, root_placeholder: Option<usize>) -> String {
    match root_placeholder {
        None => String::new(),
        Some(n) => format!(
            " AND {column} IN (SELECT descendant_id FROM location_closure WHERE ancestor_id = ${n})"
        ),
    }
}

/// The month's bounds (`$1`, `$2`), then the root when there is one (`$3`).
pub(super) fn params(bounds: (i64, i64), root: Option<Uuid>) -> Vec<Value> {
    let mut values: Vec<Value> = vec![bounds.0.into(), bounds.1.into()];
    if let Some(root) = root {
        values.push(root.into());
    }
    values
}

fn count(row: &sea_orm::QueryResult, column: &str) -> Result<u64, Error> {
    let v: Option<i64> = row.try_get("", column)?;
    Ok(v.unwrap_or(0).max(0) as u64)
}

/// Subtree counts: for every location, the sum of its descendants' own counts (itself
/// included; `ancestors` maps a location to its ancestors, itself among them).
fn subtree_sums(
    own: &HashMap<Uuid, Counts>,
    ancestors: &HashMap<Uuid, Vec<Uuid>>,
) -> HashMap<Uuid, Counts> {
    let mut subtree: HashMap<Uuid, Counts> = HashMap::with_capacity(own.len() * 2);
    for (location, of) in ancestors {
        if let Some(c) = own.get(location) {
            for ancestor in of {
                subtree.entry(*ancestor).or_default().add(c);
            }
        }
    }
    subtree
}

/// One stored figure: an indicator of a location for a period and scope.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredFigure {
    pub location_id: Uuid,
    pub period: String,
    pub scope: Scope,
    /// `None` for the headline (the publics served); an audience's own figure otherwise.
    pub audience: Option<Audience>,
    /// The definition version that produced the figure.
    pub indicator_version: i32,
    pub figure: Figure,
    pub job_run_id: Uuid,
    pub computed_at: i64,
}

/// An element of `location_figures.figures` and `audience_figures.figures`, the JSON form
/// the migration `m20261129_000002_location_figures` set: keep the names. An absent value or
/// bound and a figure shown are left out rather than written as `null` and `false`: a
/// quarter to a third of the bytes of a month's figures, most of them each public's figures
/// on a few experiences (BENCHMARKS.md, 22nd session). Both forms are read.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    code: String,
    version: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value: Option<f64>,
    sample: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ci_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ci_high: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    suppressed: bool,
}

/// The figures of one stored headline row, in indicator-code order.
fn expand(row: location_figures::Model) -> Result<Vec<StoredFigure>, Error> {
    expand_stored(
        location_figures::Model {
            figures: String::new(),
            ..row.clone()
        },
        None,
        &row.figures,
    )
}

/// Every public's and the agents' figure rows of `locations` for `period`, through the
/// primary key. The audiences are chosen as the rows arrive, not in the statement: with an
/// equality on the audience as well, SQLite preferred `ix_audience_figures_period` (period,
/// audience) and read every location's rows of the month for each chunk of 200 (0.72 s a
/// chunk at 20,000 locations, 72 s of the open-data export).
fn audience_figures_query(
    period: Period,
    locations: &[Uuid],
) -> sea_orm::Select<audience_figures::Entity> {
    audience_figures::Entity::find()
        .filter(audience_figures::Column::LocationId.is_in(locations.to_vec()))
        .filter(audience_figures::Column::Period.eq(period.to_string()))
        .order_by_asc(audience_figures::Column::LocationId)
        .order_by_asc(audience_figures::Column::Scope)
        .order_by_asc(audience_figures::Column::Audience)
}

/// The statement [`Store::audience_aggregates_of_locations`] runs (its plan is tested).
pub fn audience_figures_statement(
    backend: DbBackend,
    period: Period,
    locations: &[Uuid],
) -> Statement {
    sea_orm::QueryTrait::build(&audience_figures_query(period, locations), backend)
}

/// Expands stored audience rows (already in the order wanted) into figures.
fn expand_all_audiences(rows: Vec<audience_figures::Model>) -> Result<Vec<StoredFigure>, Error> {
    let mut out = Vec::with_capacity(rows.len() * 9);
    for row in rows {
        out.extend(expand_audience(row)?);
    }
    Ok(out)
}

/// The figures of one stored audience row, in indicator-code order.
fn expand_audience(row: audience_figures::Model) -> Result<Vec<StoredFigure>, Error> {
    let audience = Audience::from_code(&row.audience).ok_or_else(|| {
        Error::Internal(format!(
            "figures of {} {} {} of unknown audience {:?}",
            row.location_id, row.period, row.scope, row.audience
        ))
    })?;
    expand_stored(
        location_figures::Model {
            location_id: row.location_id,
            period: row.period,
            scope: row.scope,
            figures: String::new(),
            job_run_id: row.job_run_id,
            computed_at: row.computed_at,
        },
        Some(audience),
        &row.figures,
    )
}

/// The figures `figures` (JSON) of the row `row` describes. A code or scope this version does
/// not know is an error, never a figure silently dropped or renamed.
fn expand_stored(
    row: location_figures::Model,
    audience: Option<Audience>,
    figures: &str,
) -> Result<Vec<StoredFigure>, Error> {
    let unreadable = |what: String| {
        Error::Internal(format!(
            "unreadable figures of {} {} {}: {what}",
            row.location_id, row.period, row.scope
        ))
    };
    let stored: Vec<Stored> =
        serde_json::from_str(figures).map_err(|e| unreadable(e.to_string()))?;
    let scope = Scope::from_code(&row.scope).ok_or_else(|| unreadable("scope".into()))?;
    stored
        .into_iter()
        .map(|f| {
            let code = IndicatorCode::from_code(&f.code)
                .ok_or_else(|| unreadable(format!("indicator {:?}", f.code)))?;
            Ok(StoredFigure {
                location_id: row.location_id,
                period: row.period.clone(),
                scope,
                audience,
                indicator_version: f.version,
                figure: Figure {
                    code,
                    value: f.value,
                    sample: u64::try_from(f.sample).unwrap_or(0),
                    ci: f.ci_low.zip(f.ci_high),
                    suppressed: f.suppressed,
                },
                job_run_id: row.job_run_id,
                computed_at: row.computed_at,
            })
        })
        .collect()
}

/// Expands stored rows (already in the order wanted) into figures.
pub(super) fn expand_all(rows: Vec<location_figures::Model>) -> Result<Vec<StoredFigure>, Error> {
    let mut out = Vec::with_capacity(rows.len() * 11);
    for row in rows {
        out.extend(expand(row)?);
    }
    Ok(out)
}

/// The `figures` column of one location and scope (`group`, in indicator-code order).
fn figures_json(group: &FigureGroup) -> Result<String, Error> {
    let stored: Vec<Stored> = group
        .figures
        .iter()
        .map(|(version, f)| Stored {
            code: f.code.code().to_owned(),
            version: *version,
            value: f.value.filter(|v| v.is_finite()),
            sample: i64::try_from(f.sample).unwrap_or(i64::MAX),
            ci_low: f.ci.map(|c| c.0).filter(|v| v.is_finite()),
            ci_high: f.ci.map(|c| c.1).filter(|v| v.is_finite()),
            suppressed: f.suppressed,
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| Error::Internal(e.to_string()))
}

/// Where a group of figures is stored: the headline in `location_figures`, an audience's in
/// `audience_figures`, which has one more column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FiguresTable {
    Headline,
    Audiences,
}

impl FiguresTable {
    fn of(audience: Option<Audience>) -> Self {
        match audience {
            None => FiguresTable::Headline,
            Some(_) => FiguresTable::Audiences,
        }
    }

    /// `INSERT INTO … (columns)`.
    fn insert_into(self) -> &'static str {
        match self {
            FiguresTable::Headline => {
                "INSERT INTO location_figures (location_id, period, scope, figures, job_run_id, computed_at)"
            }
            FiguresTable::Audiences => {
                "INSERT INTO audience_figures (location_id, period, scope, figures, job_run_id, computed_at, audience)"
            }
        }
    }

    fn columns(self) -> usize {
        match self {
            FiguresTable::Headline => 6,
            FiguresTable::Audiences => 7,
        }
    }
}

/// Rows per insert statement: at most 7,000 values, under SQLite's bind limit.
const INSERT_CHUNK: usize = 1000;

/// `INSERT INTO … VALUES ($1, …), …` for `rows` rows of `table`, placeholders in order (so
/// that [`sql`] makes them anonymous on SQLite).
fn insert_figures_sql(table: FiguresTable, rows: usize) -> String {
    use std::fmt::Write;
    let mut text = format!("{} VALUES ", table.insert_into());
    let columns = table.columns();
    for row in 0..rows {
        text.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            let n = row * columns + column + 1;
            let separator = if column == 0 { "" } else { ", " };
            let _ = write!(text, "{separator}${n}");
        }
        text.push(')');
    }
    text
}

/// Stores `groups` (each one location, scope and audience's figures, all in `table`) with
/// multi-row `VALUES` statements, [`INSERT_CHUNK`] rows each (SQLite's bind limit). Each
/// statement's JSON is built when it is sent: memory holds one chunk of it.
async fn insert_figures_values(
    txn: &sea_orm::DatabaseTransaction,
    backend: DbBackend,
    table: FiguresTable,
    groups: &[FigureGroup],
    period: &str,
    job_run_id: Uuid,
    computed_at: i64,
) -> Result<(), Error> {
    for chunk in groups.chunks(INSERT_CHUNK) {
        let text = sql(backend, &insert_figures_sql(table, chunk.len()), Vec::new()).sql;
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * table.columns());
        for group in chunk {
            values.extend([
                group.location_id.into(),
                period.into(),
                group.scope.code().into(),
                figures_json(group)?.into(),
                job_run_id.into(),
                computed_at.into(),
            ]);
            if let Some(audience) = group.audience {
                values.push(audience.code().into());
            }
        }
        txn.execute_raw(Statement::from_sql_and_values(backend, text, values))
            .await?;
    }
    Ok(())
}

/// Rows per statement on PostgreSQL: 5,000 rows hold about 6 MB of JSON (10,000 stored no
/// faster and took the step's peak memory from 132 to 170 MB).
const UNNEST_CHUNK: usize = 5_000;

/// Stores `groups` on PostgreSQL: each statement sends its rows as three arrays (locations,
/// scopes, figures) that `unnest` turns back into rows, [`UNNEST_CHUNK`] rows at a time. A
/// multi-row `VALUES` with six parameters per row took 1.1–1.2 s for 40,000 rows, the arrays
/// 0.6 s, of which 0.35 s is PostgreSQL inserting them (the same `INSERT … SELECT` from a
/// table in psql). BENCHMARKS.md has the measurements.
async fn insert_figures_unnested(
    txn: &sea_orm::DatabaseTransaction,
    table: FiguresTable,
    groups: &[FigureGroup],
    period: &str,
    job_run_id: Uuid,
    computed_at: i64,
) -> Result<(), Error> {
    let text = match table {
        FiguresTable::Headline => format!(
            "{} SELECT u.location_id, $1, u.scope, u.figures, $2, $3 \
             FROM unnest($4::uuid[], $5::text[], $6::text[]) AS u(location_id, scope, figures)",
            table.insert_into()
        ),
        FiguresTable::Audiences => format!(
            "{} SELECT u.location_id, $1, u.scope, u.figures, $2, $3, u.audience \
             FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[]) \
             AS u(location_id, scope, figures, audience)",
            table.insert_into()
        ),
    };
    for chunk in groups.chunks(UNNEST_CHUNK) {
        let mut locations = Vec::with_capacity(chunk.len());
        let mut scopes = Vec::with_capacity(chunk.len());
        let mut figures = Vec::with_capacity(chunk.len());
        let mut audiences = Vec::with_capacity(chunk.len());
        for group in chunk {
            locations.push(group.location_id);
            scopes.push(group.scope.code().to_owned());
            figures.push(figures_json(group)?);
            if let Some(audience) = group.audience {
                audiences.push(audience.code().to_owned());
            }
        }
        let mut values: Vec<Value> = vec![
            period.into(),
            job_run_id.into(),
            computed_at.into(),
            locations.into(),
            scopes.into(),
            figures.into(),
        ];
        if table == FiguresTable::Audiences {
            values.push(audiences.into());
        }
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            &text,
            values,
        ))
        .await?;
    }
    Ok(())
}

/// One location, scope and audience's figures (`audience` `None`: the headline), each with
/// the definition version that produced it, in indicator-code order: one stored row.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureGroup {
    pub location_id: Uuid,
    pub scope: Scope,
    pub audience: Option<Audience>,
    pub figures: Vec<(i32, Figure)>,
}

/// A row to store: a headline figure (`audience` `None`) or one audience's.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateRow {
    pub location_id: Uuid,
    pub scope: Scope,
    pub audience: Option<Audience>,
    pub indicator_version: i32,
    pub figure: Figure,
}

impl Store {
    /// Counts of experiences, answers and actions of `period` for every location, for the
    /// location itself and for its subtree, the headline and each audience's, restricted to
    /// the subtree of `root` when given. `targets` gives each location's announced answer delay in days (its
    /// effective setting; the default for a location it does not name).
    ///
    /// One pass over the month's experiences groups them by location; subtree counts are
    /// sums of those (every count is additive, so the rollup is exact, not an average of
    /// averages). Medians are not additive: [`Store::answers`] reads the answered
    /// experiences once, in order.
    pub async fn monthly_counts(
        &self,
        period: Period,
        tz: chrono_tz::Tz,
        root: Option<Uuid>,
        targets: &HashMap<Uuid, u32>,
    ) -> Result<MonthlyCounts, Error> {
        // One snapshot for every statement: an experience answered (or moderated) while the
        // step runs is either in the counts and the ordered answers alike or in neither, so
        // each median is sized by exactly the answers that feed it.
        let snapshot = self.read_snapshot().await?;
        let mut counts = self.own_counts(&snapshot, period, tz, root).await?;
        self.answers(&snapshot, period, tz, root, targets, &mut counts)
            .await?;
        snapshot.commit().await?;
        Ok(counts)
    }

    /// A read-only transaction whose statements all see one snapshot: REPEATABLE READ on
    /// PostgreSQL (which still allows parallel workers, unlike SERIALIZABLE); on SQLite in
    /// WAL mode a deferred transaction reads one snapshot from its first statement on.
    pub(crate) async fn read_snapshot(
        &self,
    ) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        use sea_orm::{AccessMode, IsolationLevel, TransactionTrait};
        match self.backend() {
            DbBackend::Postgres => {
                self.db
                    .begin_with_config(
                        Some(IsolationLevel::RepeatableRead),
                        Some(AccessMode::ReadOnly),
                    )
                    .await
            }
            _ => self.db.begin().await,
        }
    }

    /// Subtree counts (sums of the locations' own counts over the hierarchy), then answers
    /// on time and median answer delays for each location and each subtree, the headline's
    /// and each public audience's: the answered experiences of the month stream by once, in
    /// ascending delay, into [`AnswerDelays`] tallies set up from the answered counts (from
    /// [`Store::own_counts`]). Agents' experiences are not answered publicly and are not
    /// read (see [`crate::domain::audiences::measured_for`]).
    async fn answers(
        &self,
        db: &sea_orm::DatabaseTransaction,
        period: Period,
        tz: chrono_tz::Tz,
        root: Option<Uuid>,
        targets: &HashMap<Uuid, u32>,
        counts: &mut MonthlyCounts,
    ) -> Result<(), Error> {
        use futures::TryStreamExt;

        let mut ancestors: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for (ancestor, descendant) in self.closure_pairs(db, root).await? {
            ancestors.entry(descendant).or_default().push(ancestor);
        }
        counts.subtree = subtree_sums(&counts.own, &ancestors);
        for of in counts.audiences.values_mut() {
            of.subtree = subtree_sums(&of.own, &ancestors);
        }
        let default_target = crate::domain::location::DEFAULT_RESPONSE_TARGET_DAYS;
        let target = |id| targets.get(&id).copied().unwrap_or(default_target);
        let mut tally = AnswerDelays::new(&counts.own, &counts.subtree, &ancestors, target);
        // Indexed by the audience's place in `Audience::ALL`.
        let mut tallies: Vec<Option<AnswerDelays>> = Audience::ALL
            .iter()
            .map(|a| {
                counts
                    .audiences
                    .get(a)
                    .filter(|_| a.is_public())
                    .map(|of| AnswerDelays::new(&of.own, &of.subtree, &ancestors, target))
            })
            .collect();
        let backend = self.backend();
        let statement = self.answer_delays_statement(period, tz, root);
        let mut rows = db.stream_raw(statement).await?;
        while let Some(row) = rows.try_next().await? {
            for (location, delay, audience) in minute_of_answers(backend, &row)? {
                tally.add(location, delay);
                if let Some(Some(of)) = tallies.get_mut(audience as usize) {
                    of.add(location, delay);
                }
            }
        }
        tally.finish(&mut counts.own, &mut counts.subtree);
        for (audience, of) in Audience::ALL.iter().zip(tallies) {
            if let (Some(of), Some(into)) = (of, counts.audiences.get_mut(audience)) {
                of.finish(&mut into.own, &mut into.subtree);
            }
        }
        Ok(())
    }

    /// The answered experiences of the month (of the subtree of `root`): each one's location
    /// and delay to its first answer in milliseconds, one row per minute of delay, in minute
    /// order (see [`minute_of_answers`]). One row per experience cost more than the rest of
    /// the step: on SQLite each row crosses from SQLite's thread to the job's task on its own
    /// (10M experiences: 16–19 s for 3.7M rows, against 7–9 s packed). Memory holds one row:
    /// the answers of one minute of delay (a few hundred, 20 KB, in the busiest minute of the
    /// 10M benchmark).
    ///
    /// SQLite packs a minute as `location:delay` text. PostgreSQL gives it as two arrays
    /// (binary, nothing to format or parse) and sorts the month by minute in parallel
    /// workers under the grouping (the inner `ORDER BY`), with no ordered aggregate per
    /// minute: at 10M, 3.3 s for the text form against 1.8 s. Its condition repeats the one
    /// of the partial index `ix_feedback_answered_public`, which holds every column it reads; public
    /// so that a test can check that the planner uses that index.
    pub fn answer_delays_statement(
        &self,
        period: Period,
        tz: chrono_tz::Tz,
        root: Option<Uuid>,
    ) -> Statement {
        let only = restriction("f.location_id", root.map(|_| 3));
        const DELAY: &str = "(f.first_answered_at - f.submitted_at)";
        const ANSWERED: &str = "FROM feedback f \
            WHERE f.status = 'PUBLISHED' AND f.submitted_at >= $1 AND f.submitted_at < $2 \
            AND f.first_answered_at IS NOT NULL";
        let text = match self.backend() {
            // hex() writes the 16-byte blob as 32 hex digits, which `Uuid::try_parse` reads.
            DbBackend::Sqlite => format!(
                "SELECT {DELAY} / 60000 AS minute, \
                 group_concat(hex(f.location_id) || ':' || {DELAY} || ':' || f.audience, ',' ORDER BY {DELAY}) AS batch \
                 {ANSWERED} AND {PUBLIC_AUDIENCE}{only} GROUP BY minute ORDER BY minute"
            ),
            _ => format!(
                "SELECT a.minute, array_agg(a.location_id) AS locations, array_agg(a.delay) AS delays, \
                 array_agg(a.audience) AS audiences \
                 FROM (SELECT {DELAY} / 60000 AS minute, {DELAY} AS delay, f.location_id, f.audience \
                       {ANSWERED} AND {PUBLIC_AUDIENCE}{only} ORDER BY minute) a \
                 GROUP BY a.minute ORDER BY a.minute"
            ),
        };
        sql(self.backend(), &text, params(period.bounds_ms(tz), root))
    }

    /// Every (ancestor, descendant) pair of the hierarchy (of the subtree of `root`).
    pub(super) async fn closure_pairs(
        &self,
        db: &impl ConnectionTrait,
        root: Option<Uuid>,
    ) -> Result<Vec<(Uuid, Uuid)>, Error> {
        let (text, values): (&str, Vec<Value>) = match root {
            None => (
                "SELECT ancestor_id, descendant_id FROM location_closure",
                vec![],
            ),
            Some(r) => (
                "SELECT c.ancestor_id, c.descendant_id FROM location_closure c \
                 WHERE c.ancestor_id IN (SELECT descendant_id FROM location_closure WHERE ancestor_id = $1)",
                vec![r.into()],
            ),
        };
        let rows = db.query_all_raw(sql(self.backend(), text, values)).await?;
        let mut pairs = Vec::with_capacity(rows.len());
        for row in rows {
            pairs.push((
                row.try_get("", "ancestor_id")?,
                row.try_get("", "descendant_id")?,
            ));
        }
        Ok(pairs)
    }

    /// The counts of every location's own experiences, all but the answers on time and the
    /// medians (see [`Store::answers`]): one statement groups the month by location and
    /// audience; the headline is the sum of the public audiences (counts are additive), and
    /// the actions are the headline's only.
    async fn own_counts(
        &self,
        db: &sea_orm::DatabaseTransaction,
        period: Period,
        tz: chrono_tz::Tz,
        root: Option<Uuid>,
    ) -> Result<MonthlyCounts, Error> {
        let bounds = period.bounds_ms(tz);
        let only = restriction("f.location_id", root.map(|_| 3));
        let backend = self.backend();
        let mut monthly = MonthlyCounts::default();

        // Streamed: a row per location and audience (160,000 at 20,000 locations with every
        // public) would otherwise be held at once, each with all its columns.
        use futures::TryStreamExt;
        let mut rows = db
            .stream_raw(sql(
                backend,
                &format!(
                    "SELECT f.location_id AS grp, COUNT(*) AS volume, \
                     SUM(CASE WHEN f.satisfaction = 'POSITIVE' THEN 1 ELSE 0 END) AS positive, \
                     SUM(CASE WHEN f.satisfaction = 'NEGATIVE' THEN 1 ELSE 0 END) AS negative, \
                     SUM(CASE WHEN f.nps IS NOT NULL THEN 1 ELSE 0 END) AS nps_answers, \
                     SUM(CASE WHEN f.nps >= 9 THEN 1 ELSE 0 END) AS promoters, \
                     SUM(CASE WHEN f.nps <= 6 THEN 1 ELSE 0 END) AS detractors, \
                     SUM(CASE WHEN f.effort IS NOT NULL THEN 1 ELSE 0 END) AS effort_answers, \
                     SUM(CASE WHEN f.effort >= 5 THEN 1 ELSE 0 END) AS effort_easy, \
                     SUM(CASE WHEN f.effort IS NOT NULL THEN f.effort ELSE 0 END) AS effort_sum, \
                     SUM(CASE WHEN f.effort IS NOT NULL THEN f.effort * f.effort ELSE 0 END) AS effort_sum_squares, \
                     SUM(CASE WHEN f.status = 'PUBLISHED' THEN 1 ELSE 0 END) AS published, \
                     SUM(CASE WHEN f.status = 'PUBLISHED' AND f.first_answered_at IS NOT NULL THEN 1 ELSE 0 END) AS answered, \
                     f.audience AS audience \
                     FROM feedback f \
                     WHERE f.submitted_at >= $1 AND f.submitted_at < $2 AND {COUNTED_ANY_AUDIENCE}{only} \
                     GROUP BY f.location_id, f.audience"
                ),
                params(bounds, root),
            ))
            .await?;
        while let Some(row) = rows.try_next().await? {
            let grp: Uuid = row.try_get("", "grp")?;
            let code: String = row.try_get("", "audience")?;
            let audience = super::stored_code(
                Audience::from_code,
                format_args!("feedback of {grp}"),
                "audience",
                &code,
            )?;
            let c = Counts {
                volume: count(&row, "volume")?,
                positive: count(&row, "positive")?,
                negative: count(&row, "negative")?,
                nps_answers: count(&row, "nps_answers")?,
                promoters: count(&row, "promoters")?,
                detractors: count(&row, "detractors")?,
                effort_answers: count(&row, "effort_answers")?,
                effort_easy: count(&row, "effort_easy")?,
                effort_sum: count(&row, "effort_sum")?,
                effort_sum_squares: count(&row, "effort_sum_squares")?,
                published: count(&row, "published")?,
                answered: count(&row, "answered")?,
                ..Counts::default()
            };
            if audience.is_public() {
                monthly.own.entry(grp).or_default().add(&c);
            }
            monthly
                .audiences
                .entry(audience)
                .or_default()
                .own
                .insert(grp, c);
        }
        drop(rows);
        let counts = &mut monthly.own;

        // Actions: done during the month (by local date), and open at its end (their status
        // at that instant, read from the timeline).
        let first = period.first_day().format("%Y-%m-%d").to_string();
        let next = period.next().first_day().format("%Y-%m-%d").to_string();
        let aonly = restriction("a.location_id", root.map(|_| 3));
        let mut values: Vec<Value> = vec![first.into(), next.into()];
        if let Some(root) = root {
            values.push(root.into());
        }
        let rows = db
            .query_all_raw(sql(
                backend,
                &format!(
                    "SELECT a.location_id AS grp, COUNT(*) AS n FROM action a \
                     WHERE a.status = 'DONE' AND a.done_on >= $1 AND a.done_on < $2{aonly} GROUP BY a.location_id"
                ),
                values,
            ))
            .await?;
        for row in rows {
            let grp: Uuid = row.try_get("", "grp")?;
            counts.entry(grp).or_default().actions_done = count(&row, "n")?;
        }
        let aonly_open = restriction("a.location_id", root.map(|_| 2));
        let mut values: Vec<Value> = vec![bounds.1.into()];
        if let Some(root) = root {
            values.push(root.into());
        }
        let rows = db
            .query_all_raw(sql(
                backend,
                &format!(
                    "WITH last_change AS ( \
                         SELECT action_id, MAX(created_at) AS at FROM action_event \
                         WHERE field IN ('created', 'status') AND created_at < $1 GROUP BY action_id), \
                     state AS ( \
                         SELECT DISTINCT lc.action_id FROM last_change lc \
                         JOIN action_event e ON e.action_id = lc.action_id AND e.created_at = lc.at \
                         WHERE e.field IN ('created', 'status') AND e.to_value IN ('PLANNED', 'IN_PROGRESS')) \
                     SELECT a.location_id AS grp, COUNT(*) AS n FROM action a JOIN state s ON s.action_id = a.id \
                     WHERE 1 = 1{aonly_open} GROUP BY a.location_id"
                ),
                values,
            ))
            .await?;
        for row in rows {
            let grp: Uuid = row.try_get("", "grp")?;
            counts.entry(grp).or_default().actions_open = count(&row, "n")?;
        }
        Ok(monthly)
    }

    /// Counted experiences of the subtree of `root` in `period`, by channel code.
    pub async fn channel_counts(
        &self,
        root: Uuid,
        period: Period,
        tz: chrono_tz::Tz,
    ) -> Result<Vec<(crate::domain::Channel, u64)>, Error> {
        let bounds = period.bounds_ms(tz);
        let rows = self
            .db
            .query_all_raw(sql(
                self.backend(),
                &format!(
                    "SELECT f.channel AS channel, COUNT(*) AS n FROM feedback f \
                     WHERE f.submitted_at >= $1 AND f.submitted_at < $2 AND {COUNTED}{} GROUP BY f.channel",
                    restriction("f.location_id", Some(3))
                ),
                params(bounds, Some(root)),
            ))
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let code: String = row.try_get("", "channel")?;
            let channel = super::stored_code(
                crate::domain::Channel::from_code,
                format_args!("feedback of {root}"),
                "channel",
                &code,
            )?;
            out.push((channel, count(&row, "n")?));
        }
        // Largest first; ties by code, so the order never depends on the database.
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.code().cmp(b.0.code())));
        Ok(out)
    }

    /// Every location (of the subtree of `root`, or all), with its inherited settings, by code.
    pub async fn locations_for_aggregation(
        &self,
        root: Option<Uuid>,
    ) -> Result<Vec<LocationView>, Error> {
        super::locations::subtree_views(&self.db, root).await
    }

    /// Replaces the figures of `period` (for the subtree of `root`, or everything) with
    /// `rows`, grouped here (see [`Store::replace_aggregates_streamed`]).
    pub async fn replace_aggregates(
        &self,
        period: Period,
        root: Option<Uuid>,
        rows: &[AggregateRow],
        job_run_id: Uuid,
        computed_at: i64,
    ) -> Result<usize, Error> {
        // Headline first, then grouped by location, scope and audience in primary-key order
        // (the key's index then grows like an append), each group's figures in code order.
        let key = |r: &AggregateRow| {
            (
                r.audience.is_some(),
                r.location_id,
                r.scope.code(),
                r.audience.map(Audience::code),
                r.figure.code.code(),
            )
        };
        let mut order: Vec<&AggregateRow> = rows.iter().collect();
        order.sort_unstable_by(|a, b| key(a).cmp(&key(b)));
        let groups = order
            .chunk_by(|a, b| {
                a.location_id == b.location_id && a.scope == b.scope && a.audience == b.audience
            })
            .filter_map(|g| {
                let first = g.first()?;
                Some(FigureGroup {
                    location_id: first.location_id,
                    scope: first.scope,
                    audience: first.audience,
                    figures: g.iter().map(|r| (r.indicator_version, r.figure)).collect(),
                })
            });
        self.replace_aggregates_streamed(period, root, groups, job_run_id, computed_at)
            .await
    }

    /// Replaces the figures of `period` (for the subtree of `root`, or everything) in one
    /// transaction: readers see the previous complete state until the commit, and a crash
    /// before it leaves that state untouched. One row per location, scope and audience holds
    /// all its indicators. `groups` gives the headline's groups first, then the audiences';
    /// it is read a chunk at a time as the rows are inserted, so memory holds one chunk of
    /// figures, never the month's (at 20,000 locations with every public, 3 million
    /// figures). Returns how many figures were stored.
    pub async fn replace_aggregates_streamed(
        &self,
        period: Period,
        root: Option<Uuid>,
        groups: impl Iterator<Item = FigureGroup>,
        job_run_id: Uuid,
        computed_at: i64,
    ) -> Result<usize, Error> {
        let period_text = period.to_string();
        let txn = self.write_txn().await?;
        let mut delete = location_figures::Entity::delete_many()
            .filter(location_figures::Column::Period.eq(period_text.as_str()));
        if let Some(root) = root {
            delete =
                delete.filter(location_figures::Column::LocationId.in_subquery(subtree_ids(root)));
        }
        delete.exec(&txn).await?;
        let mut delete = audience_figures::Entity::delete_many()
            .filter(audience_figures::Column::Period.eq(period_text.as_str()));
        if let Some(root) = root {
            delete =
                delete.filter(audience_figures::Column::LocationId.in_subquery(subtree_ids(root)));
        }
        delete.exec(&txn).await?;
        let backend = self.backend();
        let chunk = match backend {
            DbBackend::Postgres => UNNEST_CHUNK,
            _ => INSERT_CHUNK,
        };
        let mut stored = 0;
        let mut pending: Vec<FigureGroup> = Vec::with_capacity(chunk);
        let mut groups = groups.filter(|g| !g.figures.is_empty()).peekable();
        loop {
            let next = groups.peek().map(|g| FiguresTable::of(g.audience));
            let table = pending.first().map(|g| FiguresTable::of(g.audience));
            if let Some(table) = table
                && (pending.len() == chunk || next != Some(table))
            {
                stored += pending.iter().map(|g| g.figures.len()).sum::<usize>();
                match backend {
                    DbBackend::Postgres => {
                        insert_figures_unnested(
                            &txn,
                            table,
                            &pending,
                            &period_text,
                            job_run_id,
                            computed_at,
                        )
                        .await?
                    }
                    _ => {
                        insert_figures_values(
                            &txn,
                            backend,
                            table,
                            &pending,
                            &period_text,
                            job_run_id,
                            computed_at,
                        )
                        .await?
                    }
                }
                pending.clear();
            }
            match groups.next() {
                Some(group) => pending.push(group),
                None => break,
            }
        }
        txn.commit().await?;
        self.published_changed();
        Ok(stored)
    }

    /// Stored figures of one location and scope for the periods `from..=to`, by period then
    /// indicator code.
    pub async fn aggregates_of(
        &self,
        location_id: Uuid,
        scope: Scope,
        from: Period,
        to: Period,
    ) -> Result<Vec<StoredFigure>, Error> {
        let rows = location_figures::Entity::find()
            .filter(
                Condition::all()
                    .add(location_figures::Column::LocationId.eq(location_id))
                    .add(location_figures::Column::Scope.eq(scope.code()))
                    .add(location_figures::Column::Period.gte(from.to_string()))
                    .add(location_figures::Column::Period.lte(to.to_string())),
            )
            .order_by_asc(location_figures::Column::Period)
            .all(&self.db)
            .await?;
        expand_all(rows)
    }

    /// The latest period aggregated for a location, if any.
    pub async fn latest_aggregated_period(
        &self,
        location_id: Uuid,
    ) -> Result<Option<Period>, Error> {
        let latest = location_figures::Entity::find()
            .filter(location_figures::Column::LocationId.eq(location_id))
            .order_by_desc(location_figures::Column::Period)
            .one(&self.db)
            .await?;
        Ok(latest.and_then(|a| a.period.parse().ok()))
    }

    /// The figures of `scope` of the latest period each of `locations` has, in one query
    /// (a location without any has no entry).
    pub async fn latest_aggregates_of(
        &self,
        locations: &[Uuid],
        scope: Scope,
    ) -> Result<HashMap<Uuid, Vec<StoredFigure>>, Error> {
        if locations.is_empty() {
            return Ok(HashMap::new());
        }
        let mut values: Vec<sea_orm::Value> = vec![scope.code().into()];
        let placeholders: Vec<String> = locations
            .iter()
            .map(|id| {
                values.push((*id).into());
                format!("${}", values.len())
            })
            .collect();
        let text = format!(
            "SELECT f.* FROM location_figures f WHERE f.scope = $1 AND f.location_id IN ({}) \
             AND f.period = (SELECT MAX(g.period) FROM location_figures g \
             WHERE g.location_id = f.location_id AND g.scope = $1)",
            placeholders.join(", ")
        );
        let rows = location_figures::Entity::find()
            .from_raw_sql(sql(self.backend(), &text, values))
            .all(&self.db)
            .await?;
        let mut out: HashMap<Uuid, Vec<StoredFigure>> = HashMap::new();
        for figure in expand_all(rows)? {
            out.entry(figure.location_id).or_default().push(figure);
        }
        Ok(out)
    }

    /// The stored figures of `period` for the given locations, both scopes.
    pub async fn aggregates_of_locations(
        &self,
        period: Period,
        locations: &[Uuid],
    ) -> Result<Vec<StoredFigure>, Error> {
        if locations.is_empty() {
            return Ok(Vec::new());
        }
        let rows = location_figures::Entity::find()
            .filter(location_figures::Column::Period.eq(period.to_string()))
            .filter(location_figures::Column::LocationId.is_in(locations.to_vec()))
            .all(&self.db)
            .await?;
        expand_all(rows)
    }

    /// The periods that have figures, oldest first.
    pub async fn aggregated_periods(&self) -> Result<Vec<String>, Error> {
        Ok(location_figures::Entity::find()
            .select_only()
            .column(location_figures::Column::Period)
            .distinct()
            .order_by_asc(location_figures::Column::Period)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// The stored figures of `audience` for one location and scope for the periods
    /// `from..=to`, by period then indicator code (a month where the audience counted no
    /// experience, or the agents stayed below their threshold, has none).
    pub async fn audience_aggregates_of(
        &self,
        location_id: Uuid,
        scope: Scope,
        audience: Audience,
        from: Period,
        to: Period,
    ) -> Result<Vec<StoredFigure>, Error> {
        let rows = audience_figures::Entity::find()
            .filter(
                Condition::all()
                    .add(audience_figures::Column::LocationId.eq(location_id))
                    .add(audience_figures::Column::Scope.eq(scope.code()))
                    .add(audience_figures::Column::Audience.eq(audience.code()))
                    .add(audience_figures::Column::Period.gte(from.to_string()))
                    .add(audience_figures::Column::Period.lte(to.to_string())),
            )
            .order_by_asc(audience_figures::Column::Period)
            .all(&self.db)
            .await?;
        expand_all_audiences(rows)
    }

    /// The stored figures of the `audiences` of `period` for the given locations, both
    /// scopes, by location, scope and audience.
    pub async fn audience_aggregates_of_locations(
        &self,
        period: Period,
        locations: &[Uuid],
        audiences: &[Audience],
    ) -> Result<Vec<StoredFigure>, Error> {
        if locations.is_empty() || audiences.is_empty() {
            return Ok(Vec::new());
        }
        let rows = audience_figures_query(period, locations)
            .all(&self.db)
            .await?
            .into_iter()
            .filter(|row| audiences.iter().any(|a| a.code() == row.audience))
            .collect();
        expand_all_audiences(rows)
    }

    /// Every stored figure of a period, both scopes, for exports, by location then scope
    /// then indicator code.
    pub async fn aggregates_of_period(
        &self,
        period: Period,
        root: Option<Uuid>,
    ) -> Result<Vec<StoredFigure>, Error> {
        let mut query = location_figures::Entity::find()
            .filter(location_figures::Column::Period.eq(period.to_string()));
        if let Some(root) = root {
            query =
                query.filter(location_figures::Column::LocationId.in_subquery(subtree_ids(root)));
        }
        let rows = query
            .order_by_asc(location_figures::Column::LocationId)
            .all(&self.db)
            .await?;
        expand_all(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SQL of the public figures leaves out exactly the audiences the domain keeps
    /// private.
    #[test]
    fn the_public_audiences_in_sql_are_the_domain_s() {
        use crate::domain::codes::Audience;
        let private: Vec<&str> = Audience::ALL
            .iter()
            .filter(|a| !a.is_public())
            .map(|a| a.code())
            .collect();
        let sql: Vec<String> = private
            .iter()
            .map(|code| format!("f.audience <> '{code}'"))
            .collect();
        assert_eq!(PUBLIC_AUDIENCE, sql.join(" AND "));
        assert_eq!(
            COUNTED,
            format!("{COUNTED_ANY_AUDIENCE} AND {PUBLIC_AUDIENCE}")
        );
        assert_eq!(
            Audience::public_codes().len() + private.len(),
            Audience::ALL.len()
        );
    }

    #[test]
    fn insert_statement_numbers_every_placeholder_once_in_row_order() {
        let text = insert_figures_sql(FiguresTable::Headline, 3);
        assert!(text.ends_with("($13, $14, $15, $16, $17, $18)"));
        assert_eq!(text.matches('$').count(), 3 * 6);
        assert_eq!(text.matches("), (").count(), 2);
        assert!(text.contains("VALUES ($1, $2, "));
        let text = insert_figures_sql(FiguresTable::Audiences, 2);
        assert!(text.starts_with("INSERT INTO audience_figures ("));
        assert!(text.ends_with("($8, $9, $10, $11, $12, $13, $14)"));
    }

    #[test]
    fn on_sqlite_placeholders_are_anonymous() {
        // Numbered ones make sqlx's binding quadratic in the number of values.
        let text = sql(
            sea_orm::DbBackend::Sqlite,
            &insert_figures_sql(FiguresTable::Headline, 3),
            Vec::new(),
        )
        .sql;
        assert_eq!(text.matches('?').count(), 3 * 6);
        assert!(!text.contains('$'));
        assert!(text.contains("VALUES (?, ?, "));
    }

    #[test]
    fn stored_figures_read_back_exactly() {
        let row = location_figures::Model {
            location_id: Uuid::nil(),
            period: "2026-10".into(),
            scope: "SUBTREE".into(),
            figures: serde_json::to_string(&[Stored {
                code: "NPS".into(),
                version: 2,
                value: Some(0.1 + 0.2),
                sample: 7,
                ci_low: Some(-1.0 / 3.0),
                ci_high: None,
                suppressed: false,
            }])
            .expect("json"),
            job_run_id: Uuid::nil(),
            computed_at: 5,
        };
        let figures = expand(row).expect("readable");
        assert_eq!(figures.len(), 1);
        assert_eq!(figures[0].figure.value, Some(0.1 + 0.2));
        assert_eq!(figures[0].figure.ci, None, "an interval needs both bounds");
        assert_eq!(figures[0].indicator_version, 2);
    }

    #[test]
    fn a_stored_figure_leaves_out_what_it_does_not_have() {
        let group = FigureGroup {
            location_id: Uuid::nil(),
            scope: Scope::SelfOnly,
            audience: None,
            figures: vec![
                (
                    1,
                    Figure {
                        code: IndicatorCode::Volume,
                        value: Some(12.0),
                        sample: 12,
                        ci: None,
                        suppressed: false,
                    },
                ),
                (
                    1,
                    Figure {
                        code: IndicatorCode::Nps,
                        value: None,
                        sample: 2,
                        ci: None,
                        suppressed: true,
                    },
                ),
            ],
        };
        let json = figures_json(&group).expect("json");
        assert_eq!(
            json,
            r#"[{"code":"VOLUME","version":1,"value":12.0,"sample":12},{"code":"NPS","version":1,"sample":2,"suppressed":true}]"#
        );
        let row = location_figures::Model {
            location_id: Uuid::nil(),
            period: "2026-10".into(),
            scope: "SELF".into(),
            figures: json,
            job_run_id: Uuid::nil(),
            computed_at: 5,
        };
        let read: Vec<Figure> = expand(row)
            .expect("readable")
            .into_iter()
            .map(|f| f.figure)
            .collect();
        assert_eq!(
            read,
            group.figures.iter().map(|(_, f)| *f).collect::<Vec<_>>()
        );
    }

    #[test]
    fn the_migration_s_json_form_is_read() {
        // What m20261129_000002_location_figures writes for copied figures.
        let row = location_figures::Model {
            location_id: Uuid::nil(),
            period: "2026-10".into(),
            scope: "SELF".into(),
            figures: r#"[{"code":"VOLUME","version":1,"value":12,"sample":12,"ci_low":null,"ci_high":null,"suppressed":false},{"code":"NPS","version":1,"value":null,"sample":2,"ci_low":null,"ci_high":null,"suppressed":true}]"#.into(),
            job_run_id: Uuid::nil(),
            computed_at: 5,
        };
        let figures = expand(row).expect("readable");
        assert_eq!(figures[0].figure.value, Some(12.0));
        assert!(figures[1].figure.suppressed);
    }

    #[test]
    fn sqlite_s_packed_answers_are_read() {
        let id = Uuid::parse_str("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").expect("uuid");
        // hex() of the 16-byte blob.
        let sqlite = "0193A1B2C3D47E5F8A9B0C1D2E3F4A5B:-5:USAGER,0193A1B2C3D47E5F8A9B0C1D2E3F4A5B:86400000:DONOR";
        let read = |batch| answered_batch(batch).collect::<Result<Vec<_>, _>>();
        assert_eq!(
            read(sqlite).expect("sqlite"),
            [
                (id, -5, Audience::Usager),
                (id, 86_400_000, Audience::Donor)
            ]
        );
        for broken in [
            "",
            "0193a1b2:1:USAGER",
            "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "0193A1B2C3D47E5F8A9B0C1D2E3F4A5B:-5",
            "0193A1B2C3D47E5F8A9B0C1D2E3F4A5B:-5:usager",
            "0193A1B2C3D47E5F8A9B0C1D2E3F4A5B:-5:USAGER:1",
            "x:1,",
        ] {
            assert!(read(broken).is_err(), "{broken:?}");
        }
    }
}
