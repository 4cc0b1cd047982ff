//! Monthly aggregation: counts from SQL, figures from the domain, one transaction to replace
//! the period's aggregates.

use std::collections::HashMap;

use boucle::domain::audiences::breakdown;
use boucle::domain::indicators::{Counts, Figure, compute};
use boucle::domain::{Audience, Period};
use boucle::store::Store;
use boucle::store::aggregates::{AggregateRow, Scope, StoredFigure};
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

    let empty = Counts::default();
    let mut rows = Vec::with_capacity(locations.len() * 22);
    let mut of_audiences: Vec<(Audience, Counts)> = Vec::with_capacity(Audience::ALL.len());
    for (i, location) in locations.iter().enumerate() {
        let id = location.location.id;
        let min_sample = u64::from(location.effective_min_sample);
        let min_sample_agents = u64::from(location.effective_min_sample_agents);
        for scope in [Scope::SelfOnly, Scope::Subtree] {
            let pick = |own: &HashMap<Uuid, Counts>, subtree: &HashMap<Uuid, Counts>| {
                match scope {
                    Scope::SelfOnly => own.get(&id),
                    Scope::Subtree => subtree.get(&id),
                }
                .cloned()
            };
            let c = pick(&counts.own, &counts.subtree).unwrap_or_else(|| empty.clone());
            let row = |audience, figure: Figure| AggregateRow {
                location_id: id,
                scope,
                audience,
                indicator_version: catalogue.version(figure.code),
                figure,
            };
            rows.extend(
                compute(&c, min_sample)
                    .into_iter()
                    .map(|figure| row(None, figure)),
            );
            of_audiences.clear();
            for (audience, of) in &counts.audiences {
                if let Some(c) = pick(&of.own, &of.subtree) {
                    of_audiences.push((*audience, c));
                }
            }
            for of in breakdown(&of_audiences, min_sample, min_sample_agents) {
                rows.extend(
                    of.figures
                        .into_iter()
                        .map(|figure| row(Some(of.audience), figure)),
                );
            }
        }
        if i % 500 == 0 {
            progress(3 + i as u64, total)?;
        }
    }
    progress(total - 1, total)?;
    store
        .replace_aggregates(period, root, &rows, job_run_id, boucle::store::now_ms())
        .await?;
    progress(total, total)?;
    Ok(Summary {
        locations: locations.len(),
        rows: rows.len(),
    })
}

/// Stored figures of one location and scope, by indicator code (for tests).
pub fn by_code(rows: &[StoredFigure]) -> HashMap<&'static str, &StoredFigure> {
    rows.iter().map(|r| (r.figure.code.code(), r)).collect()
}
