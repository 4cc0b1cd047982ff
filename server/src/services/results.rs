//! ResultsService: public, no credentials, published data only: results (suppressed figures
//! carry no value), published experiences, votes, public actions, PDF reports.

use std::pin::Pin;
use std::sync::Arc;

use boucle::Error;
use boucle::domain::codes::ReportKind;
use boucle::domain::period::parse_optional;
use boucle::pb;
use boucle::pb::results_service_server::ResultsService;
use futures::Stream;
use tonic::{Request, Response, Status};

use boucle::domain::validation::Violations;
use boucle::domain::vote::address_hash;
use boucle::pb::convert::indicator::figure_to_pb;
use boucle::pb::convert::{lifecycle, public_action_to_pb, published_feedback_to_pb};
use boucle::store::aggregates::Scope;
use boucle::store::feedback::FeedbackCursor;
use boucle::store::locations::LocationKey;
use uuid::Uuid;

use super::{Page, State};
use crate::peer::client_address;

/// The public id of an active location named by its code; NOT_FOUND otherwise.
async fn public_location(state: &State, code: &str) -> Result<Uuid, Error> {
    if code.trim().is_empty() {
        return Err(Error::invalid("location_code", "is required"));
    }
    let view = state
        .store
        .find_location(None, &LocationKey::Code(code.trim().to_owned()))
        .await?;
    if !view.model.active {
        return Err(Error::not_found("location"));
    }
    Ok(view.model.id)
}

/// GetLocationResults built from the database: the location, its current period (the one
/// asked, or the latest aggregated) and the 12 months up to it.
async fn location_results(
    state: &State,
    location_code: String,
    period: String,
) -> Result<pb::GetLocationResultsResponse, Error> {
    let root = public_location(state, &location_code).await?;
    let period = match parse_optional(&period).map_err(|d| Error::invalid("period", d))? {
        Some(p) => p,
        None => state
            .store
            .latest_aggregated_period(root)
            .await?
            .ok_or_else(|| Error::not_found("published results"))?,
    };
    let location = state
        .store
        .find_location(None, &LocationKey::Id(root))
        .await?;
    let mut first = period;
    for _ in 0..11 {
        first = first.previous();
    }
    let stored = state
        .store
        .aggregates_of(root, Scope::Subtree, first, period)
        .await?;
    let catalogue = boucle::app::indicators::catalogue(&state.store).await?;
    let mut history = Vec::with_capacity(12);
    let mut month = first;
    for _ in 0..12 {
        let text = month.to_string();
        history.push(pb::PeriodResults {
            indicators: stored
                .iter()
                .filter(|a| a.period == text)
                .map(|a| {
                    let (title, unit) = catalogue.label(a.figure.code);
                    pb::IndicatorResult {
                        code: a.figure.code.code().to_owned(),
                        title: title.to_owned(),
                        unit: unit.to_owned(),
                        figure: Some(figure_to_pb(&a.figure)),
                    }
                })
                .collect(),
            period: text,
        });
        month = month.next();
    }
    if history.last().is_some_and(|h| h.indicators.is_empty()) {
        return Err(Error::not_found("published results for this period"));
    }
    let m = &location.model;
    Ok(pb::GetLocationResultsResponse {
        location: Some(pb::PublicLocation {
            code: m.code.clone(),
            name: m.name.clone(),
            typology: m.typology.clone(),
            postal_code: m.postal_code.clone(),
            city: m.city.clone(),
            parent_code: location.parent_code.clone().unwrap_or_default(),
            latitude: m.latitude,
            longitude: m.longitude,
            response_target_days: location.effective_response_target_days,
        }),
        current: history.last().cloned(),
        history,
        min_sample: location.effective_min_sample,
    })
}

pub struct ResultsApi {
    pub state: State,
}

#[tonic::async_trait]
impl ResultsService for ResultsApi {
    async fn get_location_results(
        &self,
        request: Request<pb::GetLocationResultsRequest>,
    ) -> Result<Response<pb::GetLocationResultsResponse>, Status> {
        let pb::GetLocationResultsRequest {
            location_code,
            period,
        } = request.into_inner();
        let key = (
            location_code.trim().to_owned(),
            period.trim().to_owned(),
            self.state.store.published_epoch(),
        );
        let answer = self
            .state
            .public_cache
            .location_results(key, location_results(&self.state, location_code, period))
            .await
            .map_err(|e| Status::from(&*e))?;
        Ok(Response::new(Arc::unwrap_or_clone(answer)))
    }

    async fn list_published_feedback(
        &self,
        request: Request<pb::ListPublishedFeedbackRequest>,
    ) -> Result<Response<pb::ListPublishedFeedbackResponse>, Status> {
        let pb::ListPublishedFeedbackRequest {
            location_code,
            period,
            page_size,
            page_token,
        } = request.into_inner();
        let root = public_location(&self.state, &location_code).await?;
        let submitted = parse_optional(&period)
            .map_err(|d| Error::invalid("period", d))?
            .map(|p| p.bounds_ms(self.state.timezone));
        let page: Page<FeedbackCursor> = Page::parse(page_size, &page_token, &(root, submitted))?;
        let mut rows = self
            .state
            .store
            .list_published_feedback(root, submitted, page.fetch_limit(), page.after)
            .await?;
        let next_page_token = page.finish(&mut rows, |v| (v.feedback.submitted_at, v.feedback.id));
        Ok(Response::new(pb::ListPublishedFeedbackResponse {
            feedback: rows.iter().map(published_feedback_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn vote_response_useful(
        &self,
        request: Request<pb::VoteResponseUsefulRequest>,
    ) -> Result<Response<pb::VoteResponseUsefulResponse>, Status> {
        let address = client_address(&request, &self.state.trusted_proxies);
        let pb::VoteResponseUsefulRequest {
            response_id,
            voter_token,
            useful,
        } = request.into_inner();
        let mut v = Violations::default();
        let id = v.check(
            "response_id",
            boucle::domain::validation::uuid(&response_id),
        );
        let voter = v.check("voter_token", lifecycle::voter_token(&voter_token));
        let (id, voter) = v.finish(|| Some((id?, voter?)))?;
        self.state.votes.check(address, id)?;
        let (useful_votes, not_useful_votes) = self
            .state
            .store
            .vote_response(
                id,
                &voter,
                useful,
                &address_hash(id, address),
                self.state.vote_policy,
            )
            .await?;
        Ok(Response::new(pb::VoteResponseUsefulResponse {
            useful_votes,
            not_useful_votes,
        }))
    }

    async fn list_public_actions(
        &self,
        request: Request<pb::ListPublicActionsRequest>,
    ) -> Result<Response<pb::ListPublicActionsResponse>, Status> {
        let pb::ListPublicActionsRequest {
            location_code,
            page_size,
            page_token,
        } = request.into_inner();
        let root = public_location(&self.state, &location_code).await?;
        let page: Page<(i64, Uuid)> = Page::parse(page_size, &page_token, &root)?;
        let mut rows = self
            .state
            .store
            .list_public_actions(root, page.fetch_limit(), page.after)
            .await?;
        let next_page_token = page.finish(&mut rows, |a| (a.action.updated_at, a.action.id));
        Ok(Response::new(pb::ListPublicActionsResponse {
            actions: rows.iter().map(public_action_to_pb).collect(),
            next_page_token,
        }))
    }

    async fn list_reports(
        &self,
        request: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        let pb::ListReportsRequest {
            location_code,
            period,
            page_size,
            page_token,
        } = request.into_inner();
        let root = public_location(&self.state, &location_code).await?;
        let period = parse_optional(&period).map_err(|d| Error::invalid("period", d))?;
        let page: Page<Uuid> = Page::parse(page_size, &page_token, &(root, period))?;
        let mut rows = self
            .state
            .store
            .list_reports(root, period, page.fetch_limit(), page.after)
            .await?;
        let next_page_token = page.finish(&mut rows, |r| r.report.id);
        Ok(Response::new(pb::ListReportsResponse {
            reports: rows.iter().map(report_to_pb).collect(),
            next_page_token,
        }))
    }

    type GetReportStream =
        Pin<Box<dyn Stream<Item = Result<pb::GetReportResponse, Status>> + Send>>;

    /// Streams the file in chunks of 64 KiB, the report's description with the first one.
    /// The file is read whole first and checked against its recorded SHA-256, so a client
    /// never receives a truncated or replaced report.
    async fn get_report(
        &self,
        request: Request<pb::GetReportRequest>,
    ) -> Result<Response<Self::GetReportStream>, Status> {
        let id = boucle::pb::convert::id("id", &request.into_inner().id)?;
        let (report, bytes) = self.verified_report(id).await?;
        let description = report_to_pb(&report);
        let chunks: Vec<Result<pb::GetReportResponse, Status>> = bytes
            .chunks(CHUNK)
            .enumerate()
            .map(|(i, chunk)| {
                Ok(pb::GetReportResponse {
                    report: (i == 0).then(|| description.clone()),
                    chunk: chunk.to_vec(),
                })
            })
            .collect();
        Ok(Response::new(Box::pin(futures::stream::iter(chunks))))
    }
}

impl ResultsApi {
    /// A report and the bytes of its file, checked against the SHA-256 recorded with it. A
    /// rewrite renames the new file in before it records the new digest: a mismatch is read
    /// again once, and only a file that still does not match is an integrity failure.
    async fn verified_report(
        &self,
        id: Uuid,
    ) -> Result<(boucle::store::reports::ReportView, Vec<u8>), Error> {
        let mut attempt = 0;
        loop {
            let report = self.state.store.get_report(id).await?;
            let bytes = match tokio::fs::read(&report.report.path).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    tracing::error!(report = %id, error = %e, "report file unreadable");
                    return Err(Error::not_found("report file"));
                }
            };
            if hex_sha256(&bytes) == report.report.sha256 {
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
}

const CHUNK: usize = 64 * 1024;

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn report_to_pb(r: &boucle::store::reports::ReportView) -> pb::Report {
    pb::Report {
        id: r.report.id.to_string(),
        location_code: r.location_code.clone(),
        period: r.report.period.clone(),
        kind: match r.report.kind {
            ReportKind::Location => pb::report::Kind::Location,
            ReportKind::Summary => pb::report::Kind::Summary,
        } as i32,
        size_bytes: r.report.size_bytes,
        sha256: r.report.sha256.clone(),
        create_time: Some(boucle::pb::convert::timestamp(r.report.created_at)),
    }
}
