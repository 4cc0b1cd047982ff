//! Monthly aggregation: counts from SQL, figures from the domain, one transaction to replace
//! the period's aggregates.

use std::collections::HashMap;

use boucle::domain::Period;
use boucle::domain::indicators::{Counts, compute};
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
/// `root`), for the location itself and for its subtree.
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
    let (own, subtree) = store.monthly_counts(period, tz, root, &targets).await?;
    progress(2, total)?;

    let empty = Counts::default();
    let mut rows = Vec::with_capacity(locations.len() * 22);
    for (i, location) in locations.iter().enumerate() {
        let min_sample = u64::from(location.effective_min_sample);
        for (scope, counts) in [(Scope::SelfOnly, &own), (Scope::Subtree, &subtree)] {
            let c = counts.get(&location.location.id).unwrap_or(&empty);
            rows.extend(
                compute(c, min_sample)
                    .into_iter()
                    .map(|figure| AggregateRow {
                        location_id: location.location.id,
                        scope,
                        indicator_version: catalogue.version(figure.code),
                        figure,
                    }),
            );
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
