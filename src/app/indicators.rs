//! Use cases of the indicator catalogue and of reported measurements.

use uuid::Uuid;

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::Caller;
use crate::domain::codes::IndicatorKind;
use crate::domain::indicators::check_redefinition;
use crate::store::indicators::{
    self as repo, Catalogue, Definition, Indicator, Measurement, MeasurementFilter, NewMeasurement,
};
use crate::store::locations::{LocationKey, location_in_scope};
use crate::store::{Reach, Store, audit, now_ms};

/// The catalogue, ordered by code (every role reads it).
pub async fn list(store: &Store, page: &Page<String>) -> Result<Listed<Indicator>, Error> {
    let rows = repo::list(
        store.connection(),
        page.fetch_limit(),
        page.after.as_deref(),
    )
    .await?;
    Ok(page.listed(rows, |i| i.code().to_owned()))
}

/// The whole catalogue, for what publishes figures.
pub async fn catalogue(store: &Store) -> Result<Catalogue, Error> {
    repo::catalogue(store.connection()).await
}

/// Creates a reported indicator, or writes a new version of an existing definition. The
/// kind never changes, and a computed indicator keeps its meaning
/// (`domain::indicators::check_redefinition`): only its wording is versioned.
pub async fn define(store: &Store, caller: &Caller, def: &Definition) -> Result<Indicator, Error> {
    let txn = store.write_txn().await?;
    let now = now_ms();
    let indicator = match repo::find(&txn, &def.code).await? {
        Some(current) => {
            check_redefinition(current.kind, current.definition.meaning(), def.meaning())?;
            Indicator {
                kind: current.kind,
                definition: def.clone(),
                version: current.version + 1,
                updated_at: now,
            }
        }
        None => Indicator {
            kind: IndicatorKind::Reported,
            definition: def.clone(),
            version: 1,
            updated_at: now,
        },
    };
    repo::save(&txn, &indicator).await?;
    audit::record(
        &txn,
        Some(caller),
        "indicator.define",
        "indicator",
        indicator.code(),
        serde_json::json!({ "version": indicator.version }),
    )
    .await?;
    txn.commit().await?;
    store.published_changed();
    Ok(indicator)
}

/// Records (or replaces) the measurement of a reported indicator for a location of the
/// caller's scope and a period.
pub async fn record_measurement(
    store: &Store,
    caller: &Caller,
    m: &NewMeasurement,
) -> Result<Measurement, Error> {
    let db = store.connection();
    location_in_scope(db, caller.scope, &LocationKey::Id(m.location_id)).await?;
    let Some(indicator) = repo::find(db, &m.indicator_code).await? else {
        return Err(Error::not_found("indicator"));
    };
    if indicator.kind != IndicatorKind::Reported {
        return Err(Error::FailedPrecondition(format!(
            "{} is computed from experiences; only reported indicators take measurements",
            indicator.code()
        )));
    }
    repo::record_measurement(db, &indicator, m, caller.key_id).await
}

/// Measurements of the caller's scope (narrowed to the filter's location), by id.
pub async fn list_measurements(
    store: &Store,
    caller: &Caller,
    filter: &MeasurementFilter,
    page: &Page<Uuid>,
) -> Result<Listed<Measurement>, Error> {
    let db = store.connection();
    let reach = Reach::of(db, caller, filter.location).await?;
    let rows = repo::list_measurements(db, &reach, filter, page.fetch_limit(), page.after).await?;
    Ok(page.listed(rows, |m| m.id))
}
