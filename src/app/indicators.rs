//! Use cases of the indicator catalogue and of reported measurements.

use uuid::Uuid;

use super::page::{Listed, Page};
use crate::Error;
use crate::domain::Caller;
use crate::domain::codes::IndicatorKind;
use crate::domain::indicators::check_redefinition;
use crate::domain::symmetry::{SitePair, Symmetry, symmetry};
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

/// The whole catalogue, for what publishes figures (see [`Store::catalogue`]).
pub async fn catalogue(store: &Store) -> Result<std::sync::Arc<Catalogue>, Error> {
    store.catalogue().await
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

/// A location's figures for one month, every public on its own: the headline (`None`), then
/// each audience with figures (agents' included, above their threshold), in
/// [`crate::domain::Audience::ALL`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct InternalResults {
    pub location: crate::store::locations::LocationView,
    pub period: crate::domain::Period,
    pub audiences: Vec<(
        Option<crate::domain::Audience>,
        Vec<crate::store::indicators::LabelledFigure>,
    )>,
    /// The « symétrie des attentions » across the subtree's locations, by code.
    pub symmetry: Option<Symmetry<String>>,
    /// The two satisfaction rates (publics', agents') of each location taking part.
    pub pairs: Vec<SitePair<String>>,
}

/// The internal results of the location `code` of the caller's scope (NOT_FOUND outside it)
/// for `period` (default: the latest aggregated one), of its whole subtree. NOT_FOUND when
/// the period has no figure.
pub async fn internal_results(
    store: &Store,
    caller: &Caller,
    code: &str,
    period: Option<crate::domain::Period>,
) -> Result<InternalResults, Error> {
    use crate::domain::Audience;
    use crate::domain::indicators::Scope;
    let location = crate::store::locations::find(
        store.connection(),
        caller.scope,
        &LocationKey::Code(code.trim().to_owned()),
    )
    .await?;
    let id = location.location.id;
    let period = match period {
        Some(p) => p,
        None => store
            .latest_aggregated_period(id)
            .await?
            .ok_or_else(|| Error::not_found("results"))?,
    };
    let catalogue = catalogue(store).await?;
    let headline = store
        .aggregates_of(id, Scope::Subtree, period, period)
        .await?;
    if headline.is_empty() {
        return Err(Error::not_found("results for this period"));
    }
    let mut audiences = vec![(
        None,
        headline
            .iter()
            .map(|f| catalogue.labelled(f.figure))
            .collect(),
    )];
    let stored = store
        .audience_aggregates_of_locations(period, &[id], Audience::ALL)
        .await?;
    for audience in Audience::ALL {
        let figures: Vec<_> = stored
            .iter()
            .filter(|f| f.scope == Scope::Subtree && f.audience == Some(*audience))
            .map(|f| catalogue.labelled(f.figure))
            .collect();
        if !figures.is_empty() {
            audiences.push((Some(*audience), figures));
        }
    }
    let (symmetry, pairs) = symmetry_of(store, id, period).await?;
    Ok(InternalResults {
        location,
        period,
        audiences,
        symmetry,
        pairs,
    })
}

/// The « symétrie des attentions » across the subtree of `root` in `period`, with the two
/// rates of each location taking part (internal: the jobs' barometer and
/// [`internal_results`]).
pub async fn symmetry_of(
    store: &Store,
    root: Uuid,
    period: crate::domain::Period,
) -> Result<(Option<Symmetry<String>>, Vec<SitePair<String>>), Error> {
    let pairs = satisfaction_pairs(store, root, period).await?;
    Ok((symmetry(&pairs), pairs))
}

/// For every location of the subtree of `root` where both are published in `period`: the
/// publics' satisfaction rate and the agents', each from the location's own experiences.
async fn satisfaction_pairs(
    store: &Store,
    root: Uuid,
    period: crate::domain::Period,
) -> Result<Vec<SitePair<String>>, Error> {
    use crate::domain::Audience;
    use crate::domain::indicators::{IndicatorCode, Scope};
    use std::collections::HashMap;
    let views = store.locations_for_aggregation(Some(root)).await?;
    let ids: Vec<Uuid> = views.iter().map(|v| v.location.id).collect();
    let rate = |f: &crate::store::aggregates::StoredFigure| {
        (f.scope == Scope::SelfOnly
            && f.figure.code == IndicatorCode::SatisfactionRate
            && !f.figure.suppressed)
            .then_some(f.figure.value)
            .flatten()
            .map(|v| (f.location_id, v))
    };
    let mut publics: HashMap<Uuid, f64> = HashMap::new();
    let mut agents: HashMap<Uuid, f64> = HashMap::new();
    for chunk in ids.chunks(2_000) {
        publics.extend(
            store
                .aggregates_of_locations(period, chunk)
                .await?
                .iter()
                .filter_map(rate),
        );
        agents.extend(
            store
                .audience_aggregates_of_locations(period, chunk, &[Audience::Agent])
                .await?
                .iter()
                .filter_map(rate),
        );
    }
    let mut pairs: Vec<SitePair<String>> = views
        .iter()
        .filter_map(|v| {
            let id = v.location.id;
            Some(SitePair {
                site: v.location.code.clone(),
                publics: *publics.get(&id)?,
                agents: *agents.get(&id)?,
            })
        })
        .collect();
    pairs.sort_by(|a, b| a.site.cmp(&b.site));
    Ok(pairs)
}
