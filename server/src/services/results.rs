//! ResultsService: public, no credentials. Declared in the API; built by the lifecycle,
//! actions, aggregation and reports issues.

use std::pin::Pin;

use boucle::Error;
use boucle::pb;
use boucle::pb::results_service_server::ResultsService;
use futures::Stream;
use tonic::{Request, Response, Status};

use super::State;

pub struct ResultsApi {
    pub state: State,
}

fn not_yet<U>(rpc: &'static str) -> Result<Response<U>, Status> {
    Err(Error::Unimplemented(rpc).into())
}

#[tonic::async_trait]
impl ResultsService for ResultsApi {
    async fn get_location_results(
        &self,
        _: Request<pb::GetLocationResultsRequest>,
    ) -> Result<Response<pb::GetLocationResultsResponse>, Status> {
        not_yet("GetLocationResults")
    }
    async fn list_published_feedback(
        &self,
        _: Request<pb::ListPublishedFeedbackRequest>,
    ) -> Result<Response<pb::ListPublishedFeedbackResponse>, Status> {
        not_yet("ListPublishedFeedback")
    }
    async fn vote_response_useful(
        &self,
        _: Request<pb::VoteResponseUsefulRequest>,
    ) -> Result<Response<pb::VoteResponseUsefulResponse>, Status> {
        not_yet("VoteResponseUseful")
    }
    async fn list_public_actions(
        &self,
        _: Request<pb::ListPublicActionsRequest>,
    ) -> Result<Response<pb::ListPublicActionsResponse>, Status> {
        not_yet("ListPublicActions")
    }
    async fn list_reports(
        &self,
        _: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        not_yet("ListReports")
    }

    type GetReportStream =
        Pin<Box<dyn Stream<Item = Result<pb::GetReportResponse, Status>> + Send>>;

    async fn get_report(
        &self,
        _: Request<pb::GetReportRequest>,
    ) -> Result<Response<Self::GetReportStream>, Status> {
        let _ = &self.state;
        not_yet("GetReport")
    }
}
