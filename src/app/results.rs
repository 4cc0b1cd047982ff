//! Use cases of the public: what anyone may read without a key, published data only, by a
//! location's public code. An inactive location is not public (NOT_FOUND).

use uuid::Uuid;

use super::page::{Listed, Page, PageRequest};
use crate::Error;
use crate::domain::indicators::{IndicatorCode, RankKey, Scope, rank_order};
use crate::domain::search::{self, Point, Search};
use crate::domain::vote::VotePolicy;
use crate::domain::{Audience, Period};
use crate::store::actions::PublicActionView;
use crate::store::feedback::{FeedbackCursor, FeedbackView};
use crate::store::indicators::LabelledFigure;
use crate::store::locations::{self, Location, LocationKey, LocationView};
use crate::store::public::PublishedFilter;
use crate::store::reports::{PublishedFileView, ReportView};
use crate::store::{Store, now_ms, public};

/// How many months the results of a location show, the current one included.
pub const HISTORY_MONTHS: usize = 12;

/// The published results of a location: its figures for each month of the history.
#[derive(Clone, Debug, PartialEq)]
pub struct LocationResults {
    pub location: LocationView,
    /// The public the figures are of; `None` for the headline (every public served).
    pub audience: Option<Audience>,
    /// Oldest first, [`HISTORY_MONTHS`] of them; the last one is the period asked.
    pub history: Vec<(Period, Vec<LabelledFigure>)>,
    /// The publics with figures of their own in the period asked, in [`Audience::ALL`]
    /// order.
    pub available: Vec<Audience>,
}

impl LocationResults {
    /// The audiences the figures count.
    pub fn counted(&self) -> Vec<Audience> {
        match self.audience {
            Some(a) => vec![a],
            None => Audience::ALL
                .iter()
                .copied()
                .filter(|a| a.is_public())
                .collect(),
        }
    }
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
/// months before it: the headline, or one public's own figures. NOT_FOUND when the period
/// has no published figure (for that public); PERMISSION_DENIED for the agents, whose
/// barometer is internal.
pub async fn location_results(
    store: &Store,
    code: &str,
    period: Option<Period>,
    audience: Option<Audience>,
) -> Result<LocationResults, Error> {
    if let Some(a) = audience.filter(|a| !a.is_public()) {
        return Err(Error::PermissionDenied(format!(
            "the {} figures are internal: ask IndicatorService.GetInternalResults with a key of the location's scope",
            a.code()
        )));
    }
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
    let stored = match audience {
        None => {
            store
                .aggregates_of(root, Scope::Subtree, first, period)
                .await?
        }
        Some(a) => {
            store
                .audience_aggregates_of(root, Scope::Subtree, a, first, period)
                .await?
        }
    };
    let publics: Vec<Audience> = Audience::ALL
        .iter()
        .copied()
        .filter(|a| a.is_public())
        .collect();
    let mut available: Vec<Audience> = store
        .audience_aggregates_of_locations(period, &[root], &publics)
        .await?
        .into_iter()
        .filter(|f| f.scope == Scope::Subtree)
        .filter_map(|f| f.audience)
        .collect();
    available.sort();
    available.dedup();
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
        return Err(Error::not_found(match audience {
            None => "published results for this period",
            Some(_) => "published results for this audience and period",
        }));
    }
    Ok(LocationResults {
        location,
        audience,
        history,
        available,
    })
}

/// A search's page sizes: smaller than the listings', each hit carrying its figures.
pub const SEARCH_PAGE_SIZE: i32 = 20;
pub const SEARCH_MAX_PAGE_SIZE: i32 = 50;

/// The indicators a search hit carries, in this order.
pub const HEADLINE: [IndicatorCode; 2] = [IndicatorCode::Volume, IndicatorCode::SatisfactionRate];

/// One location found by [`search`].
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub location: LocationView,
    /// Great-circle distance from the point searched around.
    pub distance_km: Option<f64>,
    /// The latest published month of the location and its [`HEADLINE`] figures.
    pub headline: Option<(Period, Vec<LabelledFigure>)>,
}

/// Active public locations matching `search` (see `domain::search`), a page at a time (at
/// most [`search::MAX_HITS`] across pages), each with its latest headline figures. A
/// network code that names no public location is NOT_FOUND.
pub async fn search(
    store: &Store,
    search: &Search,
    page: PageRequest<'_>,
) -> Result<Listed<SearchHit>, Error> {
    let network = match &search.network {
        Some(code) => Some(public_location(store, code).await?.location.id),
        None => None,
    };
    let size = match page.size {
        0 => SEARCH_PAGE_SIZE,
        n => n.min(SEARCH_MAX_PAGE_SIZE),
    };
    let page: Page<u64> = PageRequest { size, ..page }.parse(search)?;
    let offset = page.after.unwrap_or(0);
    let wanted = page.size.min(search::MAX_HITS.saturating_sub(offset));
    if wanted == 0 {
        return Ok(Listed {
            rows: Vec::new(),
            next_page_token: String::new(),
        });
    }
    let mut found =
        public::search_locations(store.connection(), search, network, wanted + 1, offset).await?;
    let more = found.len() as u64 > wanted && offset + wanted < search::MAX_HITS;
    found.truncate(wanted as usize);
    let scanned = found.len() as u64;
    let mut hits: Vec<(Location, Option<f64>)> = Vec::with_capacity(found.len());
    for l in found {
        match search.near {
            Some(near) => {
                let at = l
                    .latitude
                    .zip(l.longitude)
                    .and_then(|(a, o)| Point::new(a, o));
                if let Some(d) = at.and_then(|p| near.distance_within(p)) {
                    hits.push((l, Some(d)));
                }
            }
            None => hits.push((l, None)),
        }
    }
    if search.near.is_some() {
        hits.sort_by(|a, b| {
            let d = |h: &(Location, Option<f64>)| h.1.unwrap_or(f64::INFINITY);
            d(a).total_cmp(&d(b)).then_with(|| a.0.code.cmp(&b.0.code))
        });
    }
    let ids: Vec<Uuid> = hits.iter().map(|(l, _)| l.id).collect();
    let mut latest = store.latest_aggregates_of(&ids, Scope::Subtree).await?;
    let catalogue = super::indicators::catalogue(store).await?;
    let (locations, distances): (Vec<Location>, Vec<Option<f64>>) = hits.into_iter().unzip();
    let views = locations::views(store.connection(), locations).await?;
    let rows = views
        .into_iter()
        .zip(distances)
        .map(|(location, distance_km)| {
            let headline = latest.remove(&location.location.id).and_then(|figures| {
                let period: Period = figures.first()?.period.parse().ok()?;
                let shown = HEADLINE
                    .iter()
                    .filter_map(|code| figures.iter().find(|f| f.figure.code == *code))
                    .map(|f| catalogue.labelled(f.figure))
                    .collect();
                Some((period, shown))
            });
            SearchHit {
                location,
                distance_km,
                headline,
            }
        })
        .collect();
    Ok(Listed {
        rows,
        next_page_token: if more {
            page.token_after(&(offset + scanned))
        } else {
            String::new()
        },
    })
}

/// A location's active children side by side for one month (see [`compare_children`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ComparedChildren {
    pub location: LocationView,
    pub period: Period,
    /// In rank order; the rank is 1-based, 0 for a child without a published satisfaction.
    pub children: Vec<(LocationView, u32, Vec<LabelledFigure>)>,
}

/// The active children of a public location with their subtree figures for `period` (by
/// default the latest the location has), ranked by `domain::indicators::rank_order`.
/// NOT_FOUND when the location has no published figure for the period.
pub async fn compare_children(
    store: &Store,
    code: &str,
    period: Option<Period>,
) -> Result<ComparedChildren, Error> {
    let location = public_location(store, code).await?;
    let period = match period {
        Some(p) => p,
        None => store
            .latest_aggregated_period(location.location.id)
            .await?
            .ok_or_else(|| Error::not_found("published results"))?,
    };
    let catalogue = super::indicators::catalogue(store).await?;
    let children = locations::active_children(store.connection(), location.location.id).await?;
    let mut rows = Vec::with_capacity(children.len());
    for child in children {
        let figures: Vec<LabelledFigure> = store
            .aggregates_of(child.location.id, Scope::Subtree, period, period)
            .await?
            .into_iter()
            .map(|f| catalogue.labelled(f.figure))
            .collect();
        rows.push((child, figures));
    }
    if rows.iter().all(|(_, f)| f.is_empty())
        && store
            .aggregates_of(location.location.id, Scope::Subtree, period, period)
            .await?
            .is_empty()
    {
        return Err(Error::not_found("published results for this period"));
    }
    rows.sort_by(|a, b| rank_order(rank_key(a), rank_key(b)));
    let mut rank = 0;
    let children = rows
        .into_iter()
        .map(|row| {
            let ranked = rank_key(&row).satisfaction.is_some();
            if ranked {
                rank += 1;
            }
            (row.0, if ranked { rank } else { 0 }, row.1)
        })
        .collect();
    Ok(ComparedChildren {
        location,
        period,
        children,
    })
}

/// What ranks a child in [`compare_children`].
fn rank_key((child, figures): &(LocationView, Vec<LabelledFigure>)) -> RankKey<'_> {
    let value = |code| {
        figures
            .iter()
            .find(|f| f.figure.code == code)
            .map(|f| &f.figure)
    };
    RankKey {
        satisfaction: value(IndicatorCode::SatisfactionRate)
            .filter(|f| !f.suppressed)
            .and_then(|f| f.value),
        volume: value(IndicatorCode::Volume)
            .and_then(|f| f.value)
            .map_or(0, |v| v.max(0.0) as u64),
        code: &child.location.code,
    }
}

/// Published experiences of a public location's subtree (submitted in `period`, in the
/// reporting time zone `tz`; changed since `updated_since`, for re-users' incremental
/// pulls), newest first, with their published answers only.
pub async fn published_feedback(
    store: &Store,
    code: &str,
    period: Option<Period>,
    updated_since: Option<i64>,
    tz: chrono_tz::Tz,
    page: PageRequest<'_>,
) -> Result<Listed<FeedbackView>, Error> {
    let root = public_location(store, code).await?.location.id;
    let filter = PublishedFilter {
        root: Some(root),
        submitted: period.map(|p| p.bounds_ms(tz)),
        updated_since,
    };
    let page: Page<FeedbackCursor> = page.parse(&filter)?;
    let rows =
        public::published_feedback(store.connection(), filter, page.fetch_limit(), page.after)
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

/// A published report's HTML twin (see `boucle_jobs::report::html`), from the database:
/// its SHA-256 and bytes. NOT_FOUND for a report rendered before twins existed.
pub async fn report_html(store: &Store, id: Uuid) -> Result<(ReportView, String, Vec<u8>), Error> {
    let report = store.get_report(id).await?;
    let file = std::path::Path::new(&report.report.path)
        .file_name()
        .and_then(|f| f.to_str())
        .unwrap_or_default();
    let key = crate::store::reports::html_twin_key(&report.report.period, file);
    let (sha256, bytes) = store
        .published_file(&key)
        .await?
        .ok_or_else(|| Error::not_found("HTML version of the report"))?;
    if crate::domain::digest::sha256_hex(&bytes) != sha256 {
        return Err(Error::DataLoss(format!(
            "report {id}: the stored HTML does not match its recorded SHA-256"
        )));
    }
    Ok((report, sha256, bytes))
}

/// The published open-data files (of `period` when given), by name.
pub async fn open_data_files(
    store: &Store,
    period: Option<Period>,
    page: PageRequest<'_>,
) -> Result<Listed<PublishedFileView>, Error> {
    let page: Page<String> = page.parse(&period)?;
    let rows = store
        .list_published_files(period, page.fetch_limit(), page.after.clone())
        .await?;
    Ok(page.listed(rows, |f| f.name.clone()))
}

/// A published open-data file; NOT_FOUND for anything else (a reports manifest included).
pub async fn open_data_file(store: &Store, name: &str) -> Result<PublishedFileView, Error> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "is required"));
    }
    if name.contains('/') {
        return Err(Error::not_found("open-data file"));
    }
    store.published_file_view(name).await
}

/// Piece `seq` of `file` (`None` past its end), provided the file is still the one
/// described: one replaced meanwhile is ABORTED, so that a reader never joins two versions.
pub async fn open_data_piece(
    store: &Store,
    file: &PublishedFileView,
    seq: i32,
) -> Result<Option<Vec<u8>>, Error> {
    let piece = store.published_piece(&file.name, seq).await?;
    let now = store.published_file_view(&file.name).await;
    match now {
        Ok(now) if now == *file => Ok(piece),
        _ => Err(Error::Aborted(format!(
            "{} was replaced while it was read: read it again",
            file.name
        ))),
    }
}
