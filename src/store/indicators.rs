//! The indicator catalogue (computed indicators seeded by migration, reported ones defined
//! by ADMIN, every definition versioned) and the measurements of reported indicators.

use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use uuid::Uuid;

use super::entities::{indicator, indicator_version, measurement};
use super::locations::subtree_ids;
use super::{Store, audit, now_ms};
use crate::Error;
use crate::domain::codes::IndicatorKind;
use crate::domain::indicators::{Meaning, check_redefinition};
use crate::domain::{Caller, Period};

/// A validated definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub code: String,
    pub title: String,
    pub unit: String,
    pub direction: String,
    pub frequency: String,
    pub methodology: String,
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

#[derive(Clone, Debug, Default)]
pub struct MeasurementFilter {
    pub indicator_code: Option<String>,
    pub location: Option<Uuid>,
    pub from: Option<Period>,
    pub to: Option<Period>,
}

impl Store {
    /// The catalogue, ordered by code, after `after`.
    pub async fn list_indicators(
        &self,
        limit: u64,
        after: Option<&str>,
    ) -> Result<Vec<indicator::Model>, Error> {
        let mut query = indicator::Entity::find()
            .order_by_asc(indicator::Column::Code)
            .limit(limit);
        if let Some(code) = after {
            query = query.filter(indicator::Column::Code.gt(code));
        }
        Ok(query.all(&self.db).await?)
    }

    /// Creates a reported indicator, or writes a new version of an existing definition (the
    /// kind never changes: computed indicators keep their formula, only their wording and
    /// methodology text are versioned).
    pub async fn define_indicator(
        &self,
        caller: &Caller,
        def: &Definition,
    ) -> Result<indicator::Model, Error> {
        let txn = self.write_txn().await?;
        let now = now_ms();
        let existing = indicator::Entity::find_by_id(def.code.clone())
            .one(&txn)
            .await?;
        let model = match existing {
            Some(current) => {
                let kind = IndicatorKind::from_code(&current.kind).ok_or_else(|| {
                    Error::Internal(format!(
                        "indicator {} has kind {:?}",
                        current.code, current.kind
                    ))
                })?;
                check_redefinition(
                    kind,
                    Meaning {
                        unit: &current.unit,
                        direction: &current.direction,
                        frequency: &current.frequency,
                    },
                    Meaning {
                        unit: &def.unit,
                        direction: &def.direction,
                        frequency: &def.frequency,
                    },
                )?;
                let version = current.version + 1;
                let mut row: indicator::ActiveModel = current.into();
                row.title = Set(def.title.clone());
                row.unit = Set(def.unit.clone());
                row.direction = Set(def.direction.clone());
                row.frequency = Set(def.frequency.clone());
                row.methodology = Set(def.methodology.clone());
                row.version = Set(version);
                row.updated_at = Set(now);
                row.update(&txn).await?
            }
            None => {
                indicator::ActiveModel {
                    code: Set(def.code.clone()),
                    kind: Set(IndicatorKind::Reported.code().to_owned()),
                    title: Set(def.title.clone()),
                    unit: Set(def.unit.clone()),
                    direction: Set(def.direction.clone()),
                    frequency: Set(def.frequency.clone()),
                    methodology: Set(def.methodology.clone()),
                    version: Set(1),
                    updated_at: Set(now),
                }
                .insert(&txn)
                .await?
            }
        };
        indicator_version::ActiveModel {
            code: Set(model.code.clone()),
            version: Set(model.version),
            title: Set(model.title.clone()),
            unit: Set(model.unit.clone()),
            direction: Set(model.direction.clone()),
            frequency: Set(model.frequency.clone()),
            methodology: Set(model.methodology.clone()),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        audit::record(
            &txn,
            Some(caller),
            "indicator.define",
            "indicator",
            &model.code,
            serde_json::json!({ "version": model.version }),
        )
        .await?;
        txn.commit().await?;
        self.published_changed();
        Ok(model)
    }

    /// Records (or replaces) the measurement of a reported indicator for a location of the
    /// caller's scope and a period.
    pub async fn record_measurement(
        &self,
        caller: &Caller,
        m: &NewMeasurement,
    ) -> Result<measurement::Model, Error> {
        if !self.in_scope(caller.scope, m.location_id).await?
            || super::entities::location::Entity::find_by_id(m.location_id)
                .one(&self.db)
                .await?
                .is_none()
        {
            return Err(Error::not_found("location"));
        }
        let Some(def) = indicator::Entity::find_by_id(m.indicator_code.clone())
            .one(&self.db)
            .await?
        else {
            return Err(Error::not_found("indicator"));
        };
        if IndicatorKind::from_code(&def.kind) != Some(IndicatorKind::Reported) {
            return Err(Error::FailedPrecondition(format!(
                "{} is computed from experiences; only reported indicators take measurements",
                def.code
            )));
        }
        let row = measurement::ActiveModel {
            id: Set(Uuid::now_v7()),
            indicator_code: Set(def.code.clone()),
            indicator_version: Set(def.version),
            location_id: Set(m.location_id),
            period: Set(m.period.to_string()),
            value: Set(m.value),
            sample_size: Set(m.sample_size.map(|s| i64::try_from(s).unwrap_or(i64::MAX))),
            target: Set(m.target),
            api_key_id: Set(caller.key_id),
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
            .exec(&self.db)
            .await?;
        measurement::Entity::find()
            .filter(measurement::Column::IndicatorCode.eq(def.code.as_str()))
            .filter(measurement::Column::LocationId.eq(m.location_id))
            .filter(measurement::Column::Period.eq(m.period.to_string()))
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::Internal("recorded measurement vanished".into()))
    }

    /// Measurements of the caller's scope, by period then indicator, after id `after`.
    pub async fn list_measurements(
        &self,
        scope: Option<Uuid>,
        filter: &MeasurementFilter,
        limit: u64,
        after: Option<Uuid>,
    ) -> Result<Vec<measurement::Model>, Error> {
        let mut cond = Condition::all();
        for root in [scope, filter.location].into_iter().flatten() {
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
            .all(&self.db)
            .await?)
    }
}
