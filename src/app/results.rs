//! Use cases of the public: what anyone may read without a key, published data only, by a
//! location's public code. An inactive location is not public (NOT_FOUND).

use uuid::Uuid;

use super::page::{Listed, Page, PageRequest};
use crate::Error;
use crate::domain::Period;
use crate::domain::indicators::Scope;
use crate::domain::vote::VotePolicy;
use crate::store::actions::PublicActionView;
use crate::store::feedback::{FeedbackCursor, FeedbackView};
use crate::store::indicators::LabelledFigure;
use crate::store::locations::{self, LocationKey, LocationView};
use crate::store::reports::ReportView;
use crate::store::{Store, now_ms, public};

/// How many months the results of a location show, the current one included.
pub const HISTORY_MONTHS: usize = 12;

/// The published results of a location: its figures for each month of the history.
#[derive(Clone, Debug, PartialEq)]
pub struct LocationResults {
    pub location: LocationView,
    /// Oldest first, [`HISTORY_MONTHS`] of them; the last one is the period asked.
    pub history: Vec<(Period, Vec<LabelledFigure>)>,
}

/// The public location of `code`; NOT_FOUND when absent or inactive.
pub async fn public_location(store: &Store, code: &str) -> Result<LocationView, Error> {
    let code = code.trim();
    if code.is_empty() {
        return Err(Error::invalid("location_code", "is required"));
    }
    let view = locations::find(
        store.connection(),
        None,
        &LocationKey::Code(code.to_owned()),
    )
    .await?;
    if !view.location.active {
        return Err(Error::not_found("location"));
    }
    Ok(view)
}

/// The results of a location for `period` (default: the latest aggregated one) and the
/// months before it. NOT_FOUND when the period has no published figure.
pub async fn location_results(
    store: &Store,
    code: &str,
    period: Option<Period>,
) -> Result<LocationResults, Error> {
    let location = public_location(store, code).await?;
    let root = location.location.id;
    let period = match period {
        Some(p) => p,
        None => store
            .latest_aggregated_period(root)
            .await?
            .ok_or_else(|| Error::not_found("published results"))?,
    };
    let mut first = period;
    for _ in 1..HISTORY_MONTHS {
        first = first.previous();
    }
    let stored = store
        .aggregates_of(root, Scope::Subtree, first, period)
        .await?;
    let catalogue = super::indicators::catalogue(store).await?;
    let mut history = Vec::with_capacity(HISTORY_MONTHS);
    let mut month = first;
    for _ in 0..HISTORY_MONTHS {
        let text = month.to_string();
        let figures: Vec<LabelledFigure> = stored
            .iter()
            .filter(|a| a.period == text)
            .map(|a| catalogue.labelled(a.figure))
            .collect();
        history.push((month, figures));
        month = month.next();
    }
    if history.last().is_some_and(|(_, f)| f.is_empty()) {
        return Err(Error::not_found("published results for this period"));
    }
    Ok(LocationResults { location, history })
}

/// Published experiences of a public location's subtree (submitted in `period`, in the
/// reporting time zone `tz`), newest first, with their published answers only.
pub async fn published_feedback(
    store: &Store,
    code: &str,
    period: Option<Period>,
    tz: chrono_tz::Tz,
    page: PageRequest<'_>,
) -> Result<Listed<FeedbackView>, Error> {
    let root = public_location(store, code).await?.location.id;
    let submitted = period.map(|p| p.bounds_ms(tz));
    let page: Page<FeedbackCursor> = page.parse(&(root, submitted))?;
    let rows = public::published_feedback(
        store.connection(),
        root,
        submitted,
        page.fetch_limit(),
        page.after,
    )
    .await?;
    Ok(page.listed(rows, |v| (v.feedback.submitted_at, v.feedback.id)))
}

/// Records (or replaces) a vote on a published answer of a published experience, from an
/// address (`address_hash`, see `domain::vote`) that may cast at most `policy` new votes on
/// that answer in its window; replacing one's own vote is always allowed. The answer's
/// (useful, not useful) counts.
pub async fn vote(
    store: &Store,
    response_id: Uuid,
    voter_hash: &str,
    useful: bool,
    address_hash: &str,
    policy: VotePolicy,
) -> Result<(u64, u64), Error> {
    if !public::is_published_answer(store.connection(), response_id).await? {
        return Err(Error::not_found("response"));
    }
    let now = now_ms();
    let txn = store.write_txn().await?;
    if !public::has_voted(&txn, response_id, voter_hash).await? {
        let already =
            public::votes_from(&txn, response_id, address_hash, now - policy.window_ms).await?;
        policy.allows(already)?;
    }
    public::save_vote(&txn, response_id, voter_hash, useful, address_hash, now).await?;
    txn.commit().await?;
    public::vote_counts(store.connection(), response_id).await
}

/// Public actions of a public location's subtree, most recently changed first.
pub async fn public_actions(
    store: &Store,
    code: &str,
    page: PageRequest<'_>,
) -> Result<Listed<PublicActionView>, Error> {
    let root = public_location(store, code).await?.location.id;
    let page: Page<(i64, Uuid)> = page.parse(&root)?;
    let rows =
        crate::store::actions::public(store.connection(), root, page.fetch_limit(), page.after)
            .await?;
    Ok(page.listed(rows, |a| (a.action.updated_at, a.action.id)))
}

/// Published reports of a public location's subtree (of `period` when given).
pub async fn reports(
    store: &Store,
    code: &str,
    period: Option<Period>,
    page: PageRequest<'_>,
) -> Result<Listed<ReportView>, Error> {
    let root = public_location(store, code).await?.location.id;
    let page: Page<Uuid> = page.parse(&(root, period))?;
    let rows = store
        .list_reports(root, period, page.fetch_limit(), page.after)
        .await?;
    Ok(page.listed(rows, |r| r.report.id))
}

/// A published report and its bytes, from the database, which every replica reaches: they
/// were recorded with the report's SHA-256 in one transaction, and are checked against it.
/// A report recorded before the database kept its bytes is read from its file, where a
/// rewrite renames the new file in before it records the new digest: a mismatch there is
/// read again once, and only a file that still does not match is DATA_LOSS.
pub async fn report_file(store: &Store, id: Uuid) -> Result<(ReportView, Vec<u8>), Error> {
    let mut attempt = 0;
    loop {
        let report = store.get_report(id).await?;
        let bytes = match store.report_content(id).await? {
            Some((sha256, bytes)) => {
                if sha256 != report.report.sha256
                    || crate::domain::digest::sha256_hex(&bytes) != sha256
                {
                    return Err(Error::DataLoss(format!(
                        "report {id}: the stored bytes do not match its recorded SHA-256"
                    )));
                }
                return Ok((report, bytes));
            }
            None => match tokio::fs::read(&report.report.path).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    tracing::error!(report = %id, error = %e, "report file unreadable");
                    return Err(Error::not_found("report file"));
                }
            },
        };
        if crate::domain::digest::sha256_hex(&bytes) == report.report.sha256 {
            return Ok((report, bytes));
        }
        attempt += 1;
        if attempt == 2 {
            return Err(Error::DataLoss(format!(
                "report {id} ({}): the file does not match its recorded SHA-256",
                report.report.path
            )));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
