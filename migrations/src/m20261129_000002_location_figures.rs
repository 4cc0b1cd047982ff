//! Monthly figures stored as one row per location, period and scope, holding all its
//! indicators, instead of one row per indicator.
//!
//! The figures of a location, period and scope are computed together by one run and always
//! read together (public results, reports, exports), so one row per indicator only
//! multiplied the rows: 440,000 per month for 20,000 locations, each paying its key, its
//! index entries and, on PostgreSQL, a foreign-key trigger. Storing them took 13.7 s of a
//! 17 s aggregation there (1M experiences; BENCHMARKS.md). Now 40,000 rows.
//!
//! `figures` is a JSON array ordered by indicator code, each element
//! `{"code", "version", "value", "sample", "ci_low", "ci_high", "suppressed"}` (`value`,
//! `ci_low` and `ci_high` may be null; numbers are written in the shortest form that reads
//! back as the same double). Existing figures are copied into that form, one period and
//! scope at a time, then the old table is dropped.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000002_location_figures"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LocationFigures::Table)
                    .col(
                        ColumnDef::new(LocationFigures::LocationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LocationFigures::Period)
                            .string_len(7)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(LocationFigures::Scope)
                            .string_len(8)
                            .not_null(),
                    )
                    .col(ColumnDef::new(LocationFigures::Figures).text().not_null())
                    .col(ColumnDef::new(LocationFigures::JobRunId).uuid().not_null())
                    .col(
                        ColumnDef::new(LocationFigures::ComputedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(LocationFigures::LocationId)
                            .col(LocationFigures::Period)
                            .col(LocationFigures::Scope),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LocationFigures::Table, LocationFigures::LocationId)
                            .to(Location::Table, Location::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_location_figures_period")
                    .table(LocationFigures::Table)
                    .col(LocationFigures::Period)
                    .col(LocationFigures::Scope)
                    .to_owned(),
            )
            .await?;
        copy_figures(manager).await?;
        manager
            .drop_table(Table::drop().table(Aggregate::Table).to_owned())
            .await
    }

    /// Back to one row per indicator: the table as the initial migration made it, the
    /// figures copied back.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Aggregate::Table)
                    .col(ColumnDef::new(Aggregate::LocationId).uuid().not_null())
                    .col(ColumnDef::new(Aggregate::Period).string_len(7).not_null())
                    .col(ColumnDef::new(Aggregate::Scope).string_len(8).not_null())
                    .col(
                        ColumnDef::new(Aggregate::IndicatorCode)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Aggregate::IndicatorVersion)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Aggregate::Value).double().null())
                    .col(
                        ColumnDef::new(Aggregate::SampleSize)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Aggregate::CiLow).double().null())
                    .col(ColumnDef::new(Aggregate::CiHigh).double().null())
                    .col(ColumnDef::new(Aggregate::Suppressed).boolean().not_null())
                    .col(ColumnDef::new(Aggregate::JobRunId).uuid().not_null())
                    .col(
                        ColumnDef::new(Aggregate::ComputedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(Aggregate::LocationId)
                            .col(Aggregate::Period)
                            .col(Aggregate::Scope)
                            .col(Aggregate::IndicatorCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Aggregate::Table, Aggregate::LocationId)
                            .to(Location::Table, Location::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_aggregate_period")
                    .table(Aggregate::Table)
                    .col(Aggregate::Period)
                    .col(Aggregate::Scope)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT location_id, period, scope, figures, job_run_id, computed_at FROM location_figures",
            ))
            .await?;
        for row in rows {
            let location: sea_orm_migration::sea_orm::prelude::Uuid =
                row.try_get("", "location_id")?;
            let run: sea_orm_migration::sea_orm::prelude::Uuid = row.try_get("", "job_run_id")?;
            let period: String = row.try_get("", "period")?;
            let scope: String = row.try_get("", "scope")?;
            let computed_at: i64 = row.try_get("", "computed_at")?;
            let figures: String = row.try_get("", "figures")?;
            let figures: Vec<Stored> = serde_json::from_str(&figures)
                .map_err(|e| DbErr::Migration(format!("unreadable figures: {e}")))?;
            for f in figures {
                let marks: Vec<String> = (1..=12).map(|n| placeholder(backend, n)).collect();
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "INSERT INTO aggregate (location_id, period, scope, indicator_code, \
                         indicator_version, value, sample_size, ci_low, ci_high, suppressed, \
                         job_run_id, computed_at) VALUES ({})",
                        marks.join(", ")
                    ),
                    [
                        location.into(),
                        period.clone().into(),
                        scope.clone().into(),
                        f.code.into(),
                        f.version.into(),
                        f.value.into(),
                        f.sample.into(),
                        f.ci_low.into(),
                        f.ci_high.into(),
                        f.suppressed.into(),
                        run.into(),
                        computed_at.into(),
                    ],
                ))
                .await?;
            }
        }
        manager
            .drop_table(Table::drop().table(LocationFigures::Table).to_owned())
            .await
    }
}

/// An element of `figures`, as read back by `down`.
#[derive(serde::Deserialize)]
struct Stored {
    code: String,
    version: i32,
    value: Option<f64>,
    sample: i64,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
    /// Left out when false by the compact form boucle now writes (which leaves out absent
    /// bounds and values too, read here as `None`).
    #[serde(default)]
    suppressed: bool,
}

/// `$n` on PostgreSQL, `?` on SQLite.
fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

async fn copy_figures(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let keys = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT DISTINCT period, scope FROM aggregate ORDER BY period, scope",
        ))
        .await?;
    for key in keys {
        let period: String = key.try_get("", "period")?;
        let scope: String = key.try_get("", "scope")?;
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT location_id, indicator_code, indicator_version, value, sample_size, \
                     ci_low, ci_high, suppressed, job_run_id, computed_at FROM aggregate \
                     WHERE period = {} AND scope = {} ORDER BY location_id, indicator_code",
                    placeholder(backend, 1),
                    placeholder(backend, 2)
                ),
                [period.clone().into(), scope.clone().into()],
            ))
            .await?;
        // (location, figures, run, computed_at), in location order.
        let mut sets: Vec<(Value, Vec<String>, Value, i64)> = Vec::new();
        let mut current: Option<Vec<u8>> = None;
        for row in rows {
            let location: sea_orm_migration::sea_orm::prelude::Uuid =
                row.try_get("", "location_id")?;
            let run: sea_orm_migration::sea_orm::prelude::Uuid = row.try_get("", "job_run_id")?;
            let figure = format!(
                "{{\"code\":{},\"version\":{},\"value\":{},\"sample\":{},\"ci_low\":{},\"ci_high\":{},\"suppressed\":{}}}",
                json_string(&row.try_get::<String>("", "indicator_code")?),
                row.try_get::<i32>("", "indicator_version")?,
                json_number(row.try_get("", "value")?),
                row.try_get::<i64>("", "sample_size")?,
                json_number(row.try_get("", "ci_low")?),
                json_number(row.try_get("", "ci_high")?),
                row.try_get::<bool>("", "suppressed")?,
            );
            let computed_at: i64 = row.try_get("", "computed_at")?;
            if current.as_deref() != Some(location.as_bytes()) {
                current = Some(location.as_bytes().to_vec());
                sets.push((location.into(), Vec::new(), run.into(), computed_at));
            }
            if let Some(set) = sets.last_mut() {
                set.1.push(figure);
            }
        }
        for chunk in sets.chunks(500) {
            let mut text = String::from(
                "INSERT INTO location_figures (location_id, period, scope, figures, job_run_id, computed_at) VALUES ",
            );
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 6);
            for (i, (location, figures, run, computed_at)) in chunk.iter().enumerate() {
                let marks: Vec<String> = (1..=6).map(|c| placeholder(backend, i * 6 + c)).collect();
                if i > 0 {
                    text.push_str(", ");
                }
                text.push_str(&format!("({})", marks.join(", ")));
                values.extend([
                    location.clone(),
                    period.clone().into(),
                    scope.clone().into(),
                    format!("[{}]", figures.join(",")).into(),
                    run.clone(),
                    (*computed_at).into(),
                ]);
            }
            db.execute_raw(Statement::from_sql_and_values(backend, text, values))
                .await?;
        }
    }
    Ok(())
}

/// Indicator codes are upper-case ASCII with underscores; anything else is escaped.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Rust's `Display` for f64 is the shortest decimal that reads back as the same double
/// (never an exponent, which JSON would accept anyway); non-finite values have no JSON form.
fn json_number(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x}"),
        _ => "null".to_owned(),
    }
}

#[derive(DeriveIden)]
enum LocationFigures {
    Table,
    LocationId,
    Period,
    Scope,
    Figures,
    JobRunId,
    ComputedAt,
}

#[derive(DeriveIden)]
enum Location {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Aggregate {
    Table,
    LocationId,
    Period,
    Scope,
    IndicatorCode,
    IndicatorVersion,
    Value,
    SampleSize,
    CiLow,
    CiHigh,
    Suppressed,
    JobRunId,
    ComputedAt,
}
