//! ResultsService: public, no credentials, published data only: results (suppressed figures
//! carry no value), published experiences, votes, public actions, PDF reports.

use std::pin::Pin;
use std::sync::Arc;

use boucle::Error;
use boucle::app::page::PageRequest;
use boucle::app::results;
use boucle::domain::codes::ReportKind;
use boucle::domain::period::parse_optional;
use boucle::pb;
use boucle::pb::results_service_server::ResultsService;
use futures::Stream;
use tonic::{Request, Response, Status};

use boucle::domain::search::{Search, SearchInput};
use boucle::domain::validation::Violations;
use boucle::domain::vote::address_hash;
use boucle::pb::convert::{
    audience_filter, audience_to_pb, compared_children_to_pb, from_timestamp,
    indicator_result_to_pb, lifecycle, location_hit_to_pb, public_action_to_pb,
    public_location_to_pb, published_feedback_to_pb,
};

use super::State;
use crate::peer::client_address;

/// GetLocationResults: the use case's results, converted.
async fn location_results(
    state: &State,
    r: pb::GetLocationResultsRequest,
) -> Result<pb::GetLocationResultsResponse, Error> {
    let period = parse_optional(&r.period).map_err(|d| Error::invalid("period", d));
    let audience = audience_filter(r.audience).map_err(|d| Error::invalid("audience", d));
    let results =
        results::location_results(&state.store, &r.location_code, period?, audience?).await?;
    let history: Vec<pb::PeriodResults> = results
        .history
        .iter()
        .map(|(period, figures)| pb::PeriodResults {
            period: period.to_string(),
            indicators: figures.iter().map(indicator_result_to_pb).collect(),
        })
        .collect();
    Ok(pb::GetLocationResultsResponse {
        location: Some(public_location_to_pb(&results.location)),
        current: history.last().cloned(),
        history,
        min_sample: results.location.effective_min_sample,
        audience: results.audience.map_or(0, |a| audience_to_pb(a).into()),
        counted_audiences: results
            .counted()
            .into_iter()
            .map(|a| audience_to_pb(a).into())
            .collect(),
        available_audiences: results
            .available
            .iter()
            .map(|a| audience_to_pb(*a).into())
            .collect(),
    })
}

pub struct ResultsApi {
    pub state: State,
}

#[tonic::async_trait]
impl ResultsService for ResultsApi {
    async fn search_locations(
        &self,
        request: Request<pb::SearchLocationsRequest>,
    ) -> Result<Response<pb::SearchLocationsResponse>, Status> {
        let r = request.into_inner();
        let search = Search::parse(&SearchInput {
            query: &r.query,
            postal_code: &r.postal_code,
            departement: &r.departement,
            network: &r.network_code,
            latitude: r.latitude,
            longitude: r.longitude,
            radius_km: r.radius_km,
        })
        .map_err(Error::InvalidArgument)?;
        // Only a valid search reaches the cache; a bad page token is an error, never cached.
        let key = (
            prost::Message::encode_to_vec(&r),
            self.state.store.published_epoch(),
        );
        let store = &self.state.store;
        let build = async move {
            let page = PageRequest {
                size: r.page_size,
                token: &r.page_token,
            };
            let listed = results::search(store, &search, page).await?;
            Ok(pb::SearchLocationsResponse {
                hits: listed.rows.iter().map(location_hit_to_pb).collect(),
                next_page_token: listed.next_page_token,
            })
        };
        let answer = self
            .state
            .public_cache
            .search(key, build)
            .await
            .map_err(|e| Status::from(&*e))?;
        Ok(Response::new(Arc::unwrap_or_clone(answer)))
    }

    async fn compare_children(
        &self,
        request: Request<pb::CompareChildrenRequest>,
    ) -> Result<Response<pb::CompareChildrenResponse>, Status> {
        let pb::CompareChildrenRequest {
            location_code,
            period,
        } = request.into_inner();
        let period = parse_optional(&period).map_err(|d| Error::invalid("period", d))?;
        let compared = results::compare_children(&self.state.store, &location_code, period).await?;
        Ok(Response::new(compared_children_to_pb(&compared)))
    }

    async fn get_location_results(
        &self,
        request: Request<pb::GetLocationResultsRequest>,
    ) -> Result<Response<pb::GetLocationResultsResponse>, Status> {
        let r = request.into_inner();
        let key = (
            r.location_code.trim().to_owned(),
            r.period.trim().to_owned(),
            r.audience,
            self.state.store.published_epoch(),
        );
        let answer = self
            .state
            .public_cache
            .location_results(key, location_results(&self.state, r))
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
            updated_since,
        } = request.into_inner();
        let period = parse_optional(&period).map_err(|d| Error::invalid("period", d))?;
        let updated_since = updated_since
            .map(|t| from_timestamp(&t).map_err(|d| Error::invalid("updated_since", d)))
            .transpose()?;
        let page = PageRequest {
            size: page_size,
            token: &page_token,
        };
        let listed = results::published_feedback(
            &self.state.store,
            &location_code,
            period,
            updated_since,
            self.state.timezone,
            page,
        )
        .await?;
        Ok(Response::new(pb::ListPublishedFeedbackResponse {
            feedback: listed.rows.iter().map(published_feedback_to_pb).collect(),
            next_page_token: listed.next_page_token,
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
        let (useful_votes, not_useful_votes) = results::vote(
            &self.state.store,
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
        let page = PageRequest {
            size: page_size,
            token: &page_token,
        };
        let listed = results::public_actions(&self.state.store, &location_code, page).await?;
        Ok(Response::new(pb::ListPublicActionsResponse {
            actions: listed.rows.iter().map(public_action_to_pb).collect(),
            next_page_token: listed.next_page_token,
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
        let period = parse_optional(&period).map_err(|d| Error::invalid("period", d))?;
        let page = PageRequest {
            size: page_size,
            token: &page_token,
        };
        let listed = results::reports(&self.state.store, &location_code, period, page).await?;
        Ok(Response::new(pb::ListReportsResponse {
            reports: listed.rows.iter().map(report_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn list_open_data_files(
        &self,
        request: Request<pb::ListOpenDataFilesRequest>,
    ) -> Result<Response<pb::ListOpenDataFilesResponse>, Status> {
        let pb::ListOpenDataFilesRequest {
            period,
            page_size,
            page_token,
        } = request.into_inner();
        let period = parse_optional(&period).map_err(|d| Error::invalid("period", d))?;
        let page = PageRequest {
            size: page_size,
            token: &page_token,
        };
        let listed = results::open_data_files(&self.state.store, period, page).await?;
        Ok(Response::new(pb::ListOpenDataFilesResponse {
            files: listed.rows.iter().map(open_data_file_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    type GetOpenDataFileStream =
        Pin<Box<dyn Stream<Item = Result<pb::GetOpenDataFileResponse, Status>> + Send>>;

    /// Streams the file piece by piece as stored (1 MiB), each read when the client is
    /// ready for it: memory stays one piece whatever the file's size.
    async fn get_open_data_file(
        &self,
        request: Request<pb::GetOpenDataFileRequest>,
    ) -> Result<Response<Self::GetOpenDataFileStream>, Status> {
        let name = request.into_inner().name;
        let file = results::open_data_file(&self.state.store, &name).await?;
        let store = self.state.store.clone();
        let stream = futures::stream::unfold(Some(0i32), move |next| {
            let (store, file) = (store.clone(), file.clone());
            async move {
                let seq = next?;
                match results::open_data_piece(&store, &file, seq).await {
                    Ok(Some(chunk)) => Some((
                        Ok(pb::GetOpenDataFileResponse {
                            file: (seq == 0).then(|| open_data_file_to_pb(&file)),
                            chunk,
                        }),
                        Some(seq + 1),
                    )),
                    // An empty file still gives its description.
                    Ok(None) if seq == 0 => Some((
                        Ok(pb::GetOpenDataFileResponse {
                            file: Some(open_data_file_to_pb(&file)),
                            chunk: Vec::new(),
                        }),
                        None,
                    )),
                    Ok(None) => None,
                    Err(e) => Some((Err(Status::from(&e)), None)),
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
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
        let request = request.into_inner();
        let id = boucle::pb::convert::id("id", &request.id)?;
        let html = match pb::get_report_request::Format::try_from(request.format) {
            Ok(pb::get_report_request::Format::Html) => true,
            Ok(_) => false,
            Err(_) => return Err(Error::invalid("format", "is not a known format").into()),
        };
        let (report, media_type, sha256, bytes) = if html {
            let (report, sha256, bytes) = results::report_html(&self.state.store, id).await?;
            (report, "text/html; charset=utf-8", sha256, bytes)
        } else {
            let (report, bytes) = results::report_file(&self.state.store, id).await?;
            let sha256 = report.report.sha256.clone();
            (report, "application/pdf", sha256, bytes)
        };
        let description = report_to_pb(&report);
        let chunks: Vec<Result<pb::GetReportResponse, Status>> = bytes
            .chunks(CHUNK)
            .enumerate()
            .map(|(i, chunk)| {
                let first = i == 0;
                Ok(pb::GetReportResponse {
                    report: first.then(|| description.clone()),
                    chunk: chunk.to_vec(),
                    media_type: if first {
                        media_type.to_owned()
                    } else {
                        String::new()
                    },
                    content_sha256: if first { sha256.clone() } else { String::new() },
                })
            })
            .collect();
        Ok(Response::new(Box::pin(futures::stream::iter(chunks))))
    }
}

const CHUNK: usize = 64 * 1024;

fn open_data_file_to_pb(f: &boucle::store::reports::PublishedFileView) -> pb::OpenDataFile {
    let media_type = if f.name.ends_with(".jsonld") {
        "application/ld+json"
    } else if f.name.ends_with(".json") {
        "application/json"
    } else {
        "text/csv"
    };
    pb::OpenDataFile {
        name: f.name.clone(),
        period: f.period.clone(),
        size_bytes: f.size_bytes,
        sha256: f.sha256.clone(),
        media_type: media_type.to_owned(),
        update_time: Some(boucle::pb::convert::timestamp(f.updated_at)),
    }
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
