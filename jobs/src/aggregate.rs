//! Monthly aggregation: counts from SQL, figures from the domain, one transaction to replace
//! the period's aggregates.

use std::collections::HashMap;

use boucle::domain::audiences::breakdown;
use boucle::domain::indicators::{Counts, Figure, compute};
use boucle::domain::{Audience, Period};
use boucle::store::Store;
use boucle::store::aggregates::{FigureGroup, Scope, StoredFigure};
use boucle::store::locations::LocationView;
use chrono_tz::Tz;
use uuid::Uuid;

use crate::JobError;

/// What an aggregation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub locations: usize,
    pub rows: usize,
}

/// Progress reports: `(done, total)` steps. Returning an error stops the run before its
/// commit — which leaves the previous aggregates untouched (tests use it to simulate a crash).
pub type Progress<'a> = &'a mut (dyn FnMut(u64, u64) -> Result<(), JobError> + Send);

/// Computes and stores every indicator of `period` for every location (of the subtree of
/// `root`), for the location itself and for its subtree: the headline (the publics
/// served) and each audience's breakdown (`boucle::domain::audiences`).
pub async fn aggregate(
    store: &Store,
    period: Period,
    tz: Tz,
    root: Option<Uuid>,
    job_run_id: Uuid,
    progress: Progress<'_>,
) -> Result<Summary, JobError> {
    let locations = store.locations_for_aggregation(root).await?;
    let catalogue = boucle::app::indicators::catalogue(store).await?;
    let total = 3 + locations.len() as u64;
    progress(0, total)?;
    progress(1, total)?;
    let targets: HashMap<Uuid, u32> = locations
        .iter()
        .map(|l| (l.location.id, l.effective_response_target_days))
        .collect();
    let counts = store.monthly_counts(period, tz, root, &targets).await?;
    progress(2, total)?;

    // Locations in id order: the stored rows' key order, so that their index grows like an
    // append.
    let mut ordered: Vec<&LocationView> = locations.iter().collect();
    ordered.sort_unstable_by_key(|l| l.location.id);
    let empty = Counts::default();
    let pick = |own: &HashMap<Uuid, Counts>, subtree: &HashMap<Uuid, Counts>, id, scope| match scope
    {
        Scope::SelfOnly => own.get(&id).cloned(),
        Scope::Subtree => subtree.get(&id).cloned(),
    };
    let versioned = |figures: Vec<Figure>| -> Vec<(i32, Figure)> {
        figures
            .into_iter()
            .map(|f| (catalogue.version(f.code), f))
            .collect()
    };
    // The headline of a location and scope: every public served, together.
    let headline_of = |location: &LocationView, scope: Scope| {
        let id = location.location.id;
        let c = pick(&counts.own, &counts.subtree, id, scope).unwrap_or_else(|| empty.clone());
        FigureGroup {
            location_id: id,
            scope,
            audience: None,
            figures: versioned(compute(&c, u64::from(location.effective_min_sample))),
        }
    };
    // Each public's own figures, by audience code (the stored key's order).
    let breakdown_of = |location: &LocationView, scope: Scope| {
        let id = location.location.id;
        let of: Vec<(Audience, Counts)> = counts
            .audiences
            .iter()
            .filter_map(|(a, of)| Some((*a, pick(&of.own, &of.subtree, id, scope)?)))
            .collect();
        let mut out: Vec<FigureGroup> = breakdown(
            &of,
            u64::from(location.effective_min_sample),
            u64::from(location.effective_min_sample_agents),
        )
        .into_iter()
        .map(|a| FigureGroup {
            location_id: id,
            scope,
            audience: Some(a.audience),
            figures: versioned(a.figures),
        })
        .collect();
        out.sort_by_key(|g| g.audience.map(Audience::code));
        out
    };
    // The headline's figures, computed here a location at a time (reporting progress); each
    // public's are computed as they are stored, so that memory never holds the month's
    // breakdown (3 million figures at 20,000 locations with every public).
    let mut headline: Vec<FigureGroup> = Vec::with_capacity(ordered.len() * 2);
    for (i, location) in ordered.iter().enumerate() {
        for scope in [Scope::SelfOnly, Scope::Subtree] {
            headline.push(headline_of(location, scope));
        }
        if i % 500 == 0 {
            progress(3 + i as u64, total)?;
        }
    }
    progress(total - 1, total)?;
    let audiences = ordered.iter().flat_map(|location| {
        [Scope::SelfOnly, Scope::Subtree]
            .into_iter()
            .flat_map(|scope| breakdown_of(location, scope))
    });
    let rows = store
        .replace_aggregates_streamed(
            period,
            root,
            headline.into_iter().chain(audiences),
            job_run_id,
            boucle::store::now_ms(),
        )
        .await?;
    progress(total, total)?;
    Ok(Summary {
        locations: locations.len(),
        rows,
    })
}

/// Stored figures of one location and scope, by indicator code (for tests).
pub fn by_code(rows: &[StoredFigure]) -> HashMap<&'static str, &StoredFigure> {
    rows.iter().map(|r| (r.figure.code.code(), r)).collect()
}
