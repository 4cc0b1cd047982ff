//! The indicator catalogue's repository: definitions (computed ones derived from
//! `domain::indicators::IndicatorCode`, reported ones defined by ADMIN, every definition
//! versioned) and the measurements of reported indicators. Functions over any connection, so
//! that the use case (`app::indicators`) decides the transaction; they return typed read
//! models, never entity rows.

use std::collections::HashMap;

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entities::{indicator, indicator_version, measurement};
use super::locations::subtree_ids;
use super::{Reach, now_ms, stored_code};
use crate::Error;
use crate::domain::Period;
use crate::domain::codes::{Direction, Frequency, IndicatorKind};
use crate::domain::indicators::{Figure, IndicatorCode, Meaning};

/// A validated definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub code: String,
    pub title: String,
    pub unit: String,
    pub direction: Direction,
    pub frequency: Frequency,
    pub methodology: String,
}

impl Definition {
    pub fn meaning(&self) -> Meaning<'_> {
        Meaning {
            unit: &self.unit,
            direction: self.direction,
            frequency: self.frequency,
        }
    }
}

/// An indicator of the catalogue, as it stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    pub kind: IndicatorKind,
    pub definition: Definition,
    pub version: i32,
    pub updated_at: i64,
}

impl Indicator {
    pub fn code(&self) -> &str {
        &self.definition.code
    }
}

/// A figure with the catalogue's wording of its indicator, as published (API, reports).
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledFigure {
    pub figure: Figure,
    pub title: String,
    pub unit: String,
}

/// The catalogue's wording of every indicator, for what publishes figures (results, reports,
/// open data): one rule for an indicator whose row is missing, the definition's own text.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    by_code: HashMap<String, Indicator>,
}

impl Catalogue {
    /// The catalogue's entry for a reported indicator's code.
    pub fn get(&self, code: &str) -> Option<&Indicator> {
        self.by_code.get(code)
    }

    /// Title and unit of a computed indicator: the catalogue's current wording, or its
    /// definition's if the row is missing (the catalogue is derived from the definitions
    /// when the database is migrated, so only a hand-edited database lacks one).
    pub fn label(&self, code: IndicatorCode) -> (&str, &str) {
        match self.by_code.get(code.code()) {
            Some(i) => (&i.definition.title, &i.definition.unit),
            None => {
                let d = code.definition();
                (d.title, d.unit)
            }
        }
    }

    /// A figure with the wording of its indicator (see [`Catalogue::label`]).
    pub fn labelled(&self, figure: Figure) -> LabelledFigure {
        let (title, unit) = self.label(figure.code);
        LabelledFigure {
            figure,
            title: title.to_owned(),
            unit: unit.to_owned(),
        }
    }

    /// Frequency of a computed indicator (see [`Catalogue::label`]).
    pub fn frequency(&self, code: IndicatorCode) -> Frequency {
        self.by_code
            .get(code.code())
            .map_or(code.definition().frequency, |i| i.definition.frequency)
    }

    /// The current version of each computed indicator (1 for a missing row).
    pub fn version(&self, code: IndicatorCode) -> i32 {
        self.by_code.get(code.code()).map_or(1, |i| i.version)
    }
}

/// A validated measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMeasurement {
    pub indicator_code: String,
    pub location_id: Uuid,
    pub period: Period,
    pub value: f64,
    pub sample_size: Option<u64>,
    pub target: Option<f64>,
}

/// A stored measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub id: Uuid,
    pub indicator_code: String,
    pub indicator_version: i32,
    pub location_id: Uuid,
    pub period: String,
    pub value: f64,
    pub sample_size: Option<u64>,
    pub target: Option<f64>,
    pub recorded_at: i64,
}

#[derive(Clone, Debug, Default)]
pub struct MeasurementFilter {
    pub indicator_code: Option<String>,
    pub location: Option<Uuid>,
    pub from: Option<Period>,
    pub to: Option<Period>,
}

fn indicator_of(row: indicator::Model) -> Result<Indicator, Error> {
    let name = format!("indicator {}", row.code);
    let kind = stored_code(IndicatorKind::from_code, &name, "kind", &row.kind)?;
    let direction = stored_code(Direction::from_code, &name, "direction", &row.direction)?;
    let frequency = stored_code(Frequency::from_code, &name, "frequency", &row.frequency)?;
    Ok(Indicator {
        kind,
        definition: Definition {
            code: row.code,
            title: row.title,
            unit: row.unit,
            direction,
            frequency,
            methodology: row.methodology,
        },
        version: row.version,
        updated_at: row.updated_at,
    })
}

pub(super) fn measurement_of(m: measurement::Model) -> Measurement {
    Measurement {
        id: m.id,
        indicator_code: m.indicator_code,
        indicator_version: m.indicator_version,
        location_id: m.location_id,
        period: m.period,
        value: m.value,
        sample_size: m.sample_size.and_then(|s| u64::try_from(s).ok()),
        target: m.target,
        recorded_at: m.recorded_at,
    }
}

/// The catalogue, ordered by code, after `after`.
pub async fn list(
    db: &impl ConnectionTrait,
    limit: u64,
    after: Option<&str>,
) -> Result<Vec<Indicator>, Error> {
    let mut query = indicator::Entity::find()
        .order_by_asc(indicator::Column::Code)
        .limit(limit);
    if let Some(code) = after {
        query = query.filter(indicator::Column::Code.gt(code));
    }
    query.all(db).await?.into_iter().map(indicator_of).collect()
}

/// The whole catalogue, for what publishes figures.
pub async fn catalogue(db: &impl ConnectionTrait) -> Result<Catalogue, Error> {
    let by_code = indicator::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| indicator_of(row).map(|i| (i.definition.code.clone(), i)))
        .collect::<Result<_, _>>()?;
    Ok(Catalogue { by_code })
}

pub async fn find(db: &impl ConnectionTrait, code: &str) -> Result<Option<Indicator>, Error> {
    indicator::Entity::find_by_id(code.to_owned())
        .one(db)
        .await?
        .map(indicator_of)
        .transpose()
}

/// Writes `indicator` as the current definition (inserting or replacing its row) and as a
/// row of its version history.
pub async fn save(db: &impl ConnectionTrait, indicator: &Indicator) -> Result<(), Error> {
    let d = &indicator.definition;
    let row = indicator::ActiveModel {
        code: Set(d.code.clone()),
        kind: Set(indicator.kind.code().to_owned()),
        title: Set(d.title.clone()),
        unit: Set(d.unit.clone()),
        direction: Set(d.direction.code().to_owned()),
        frequency: Set(d.frequency.code().to_owned()),
        methodology: Set(d.methodology.clone()),
        version: Set(indicator.version),
        updated_at: Set(indicator.updated_at),
    };
    if indicator.version == 1 {
        row.insert(db).await?;
    } else {
        row.update(db).await?;
    }
    indicator_version::ActiveModel {
        code: Set(d.code.clone()),
        version: Set(indicator.version),
        title: Set(d.title.clone()),
        unit: Set(d.unit.clone()),
        direction: Set(d.direction.code().to_owned()),
        frequency: Set(d.frequency.code().to_owned()),
        methodology: Set(d.methodology.clone()),
        created_at: Set(indicator.updated_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Adds the catalogue row (and first version) of every computed indicator that has none,
/// from its definition. Run after the migrations: the catalogue of computed indicators is
/// derived from `IndicatorCode`, so one added there cannot be missing from the API, the
/// reports or the open data. Existing rows, whatever their version, are left alone.
pub async fn derive_computed(db: &impl ConnectionTrait) -> Result<(), sea_orm::DbErr> {
    let now = now_ms();
    for code in IndicatorCode::ALL {
        let d = code.definition();
        let row = indicator::ActiveModel {
            code: Set(code.code().to_owned()),
            kind: Set(IndicatorKind::Computed.code().to_owned()),
            title: Set(d.title.to_owned()),
            unit: Set(d.unit.to_owned()),
            direction: Set(d.direction.code().to_owned()),
            frequency: Set(d.frequency.code().to_owned()),
            methodology: Set(d.methodology.to_owned()),
            version: Set(1),
            updated_at: Set(now),
        };
        let inserted = indicator::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec(db)
            .await?;
        if matches!(inserted, sea_orm::TryInsertResult::Inserted(_)) {
            indicator_version::ActiveModel {
                code: Set(code.code().to_owned()),
                version: Set(1),
                title: Set(d.title.to_owned()),
                unit: Set(d.unit.to_owned()),
                direction: Set(d.direction.code().to_owned()),
                frequency: Set(d.frequency.code().to_owned()),
                methodology: Set(d.methodology.to_owned()),
                created_at: Set(now),
            }
            .insert(db)
            .await?;
        }
    }
    Ok(())
}

/// Records (or replaces) the measurement `m` of the reported indicator `of`.
pub async fn record_measurement(
    db: &impl ConnectionTrait,
    of: &Indicator,
    m: &NewMeasurement,
    key_id: Uuid,
) -> Result<Measurement, Error> {
    let row = measurement::ActiveModel {
        id: Set(Uuid::now_v7()),
        indicator_code: Set(of.code().to_owned()),
        indicator_version: Set(of.version),
        location_id: Set(m.location_id),
        period: Set(m.period.to_string()),
        value: Set(m.value),
        sample_size: Set(m.sample_size.map(|s| i64::try_from(s).unwrap_or(i64::MAX))),
        target: Set(m.target),
        api_key_id: Set(key_id),
        recorded_at: Set(now_ms()),
    };
    measurement::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                measurement::Column::IndicatorCode,
                measurement::Column::LocationId,
                measurement::Column::Period,
            ])
            .update_columns([
                measurement::Column::IndicatorVersion,
                measurement::Column::Value,
                measurement::Column::SampleSize,
                measurement::Column::Target,
                measurement::Column::ApiKeyId,
                measurement::Column::RecordedAt,
            ])
            .to_owned(),
        )
        .exec(db)
        .await?;
    measurement::Entity::find()
        .filter(measurement::Column::IndicatorCode.eq(of.code()))
        .filter(measurement::Column::LocationId.eq(m.location_id))
        .filter(measurement::Column::Period.eq(m.period.to_string()))
        .one(db)
        .await?
        .map(measurement_of)
        .ok_or_else(|| Error::Internal("recorded measurement vanished".into()))
}

/// Measurements within `reach`, by id, after `after`.
pub async fn list_measurements(
    db: &impl ConnectionTrait,
    reach: &Reach,
    filter: &MeasurementFilter,
    limit: u64,
    after: Option<Uuid>,
) -> Result<Vec<Measurement>, Error> {
    let mut cond = Condition::all();
    for root in reach.roots() {
        cond = cond.add(measurement::Column::LocationId.in_subquery(subtree_ids(root)));
    }
    if let Some(code) = &filter.indicator_code {
        cond = cond.add(measurement::Column::IndicatorCode.eq(code.as_str()));
    }
    if let Some(from) = filter.from {
        cond = cond.add(measurement::Column::Period.gte(from.to_string()));
    }
    if let Some(to) = filter.to {
        cond = cond.add(measurement::Column::Period.lte(to.to_string()));
    }
    if let Some(after) = after {
        cond = cond.add(measurement::Column::Id.gt(after));
    }
    Ok(measurement::Entity::find()
        .filter(cond)
        .order_by_asc(measurement::Column::Id)
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(measurement_of)
        .collect())
}
