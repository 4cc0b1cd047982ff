//! The baselines of the gRPC benchmarks: tonic servers that answer the same messages as
//! boucle without doing any work — no authentication, no validation, no database. What they
//! sustain on this machine is the ceiling of the transport, against which boucle's figures
//! are given as ratios.

use std::net::SocketAddr;
use std::pin::Pin;

use boucle::pb;
use boucle::pb::feedback_service_server::{FeedbackService, FeedbackServiceServer};
use boucle::pb::results_service_server::{ResultsService, ResultsServiceServer};
use futures::Stream;
use tokio::net::TcpListener;
use tonic::{Request, Response, Status, Streaming};

/// Echoes a submission as a stored experience would be returned (same message, same size).
pub struct BareFeedback;

/// Serves fixed results messages (captured from boucle for a real location and search).
#[derive(Clone, Default)]
pub struct BareResults {
    pub answer: pb::GetLocationResultsResponse,
    pub search: pb::SearchLocationsResponse,
}

/// Starts both bare services on 127.0.0.1:0 in the current runtime; returns the address.
pub async fn spawn(results: BareResults) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = tonic::transport::Server::builder()
        .add_service(FeedbackServiceServer::new(BareFeedback))
        .add_service(ResultsServiceServer::new(results));
    tokio::spawn(router.serve_with_incoming(boucle_server::incoming(listener)));
    Ok(addr)
}

fn unimplemented<T>() -> Result<Response<T>, Status> {
    Err(Status::unimplemented("bare server"))
}

#[tonic::async_trait]
impl FeedbackService for BareFeedback {
    async fn submit_feedback(
        &self,
        request: Request<pb::SubmitFeedbackRequest>,
    ) -> Result<Response<pb::SubmitFeedbackResponse>, Status> {
        let pb::SubmitFeedbackRequest {
            feedback,
            request_id,
        } = request.into_inner();
        let mut feedback = feedback.unwrap_or_default();
        let now = prost_types_now();
        feedback.id = uuid::Uuid::now_v7().to_string();
        feedback.location_id = uuid::Uuid::nil().to_string();
        feedback.redacted_title = feedback.title.clone();
        feedback.redacted_story = feedback.story.clone();
        feedback.redacted_proposal = feedback.proposal.clone();
        feedback.status = pb::ModerationStatus::Pending.into();
        feedback.submit_time = Some(now);
        feedback.update_time = Some(now);
        feedback.request_id = request_id;
        Ok(Response::new(pb::SubmitFeedbackResponse {
            feedback: Some(feedback),
            replayed: false,
        }))
    }
    async fn import_feedback(
        &self,
        _: Request<Streaming<pb::ImportFeedbackRequest>>,
    ) -> Result<Response<pb::ImportFeedbackResponse>, Status> {
        unimplemented()
    }
    async fn get_feedback(
        &self,
        _: Request<pb::GetFeedbackRequest>,
    ) -> Result<Response<pb::GetFeedbackResponse>, Status> {
        unimplemented()
    }
    async fn list_feedback(
        &self,
        _: Request<pb::ListFeedbackRequest>,
    ) -> Result<Response<pb::ListFeedbackResponse>, Status> {
        unimplemented()
    }
    async fn moderate_feedback(
        &self,
        _: Request<pb::ModerateFeedbackRequest>,
    ) -> Result<Response<pb::ModerateFeedbackResponse>, Status> {
        unimplemented()
    }
    async fn reassign_feedback(
        &self,
        _: Request<pb::ReassignFeedbackRequest>,
    ) -> Result<Response<pb::ReassignFeedbackResponse>, Status> {
        unimplemented()
    }
    async fn add_comment(
        &self,
        _: Request<pb::AddCommentRequest>,
    ) -> Result<Response<pb::AddCommentResponse>, Status> {
        unimplemented()
    }
    async fn list_comments(
        &self,
        _: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        unimplemented()
    }
    async fn draft_response(
        &self,
        _: Request<pb::DraftResponseRequest>,
    ) -> Result<Response<pb::DraftResponseResponse>, Status> {
        unimplemented()
    }
    async fn publish_response(
        &self,
        _: Request<pb::PublishResponseRequest>,
    ) -> Result<Response<pb::PublishResponseResponse>, Status> {
        unimplemented()
    }
    async fn erase_contact(
        &self,
        _: Request<pb::EraseContactRequest>,
    ) -> Result<Response<pb::EraseContactResponse>, Status> {
        unimplemented()
    }
    async fn list_feedback_history(
        &self,
        _: Request<pb::ListFeedbackHistoryRequest>,
    ) -> Result<Response<pb::ListFeedbackHistoryResponse>, Status> {
        unimplemented()
    }
}

fn prost_types_now() -> prost_types::Timestamp {
    boucle::pb::convert::timestamp(boucle::store::now_ms())
}

type ReportStream = Pin<Box<dyn Stream<Item = Result<pb::GetReportResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ResultsService for BareResults {
    async fn get_location_results(
        &self,
        _: Request<pb::GetLocationResultsRequest>,
    ) -> Result<Response<pb::GetLocationResultsResponse>, Status> {
        Ok(Response::new(self.answer.clone()))
    }
    async fn search_locations(
        &self,
        _: Request<pb::SearchLocationsRequest>,
    ) -> Result<Response<pb::SearchLocationsResponse>, Status> {
        Ok(Response::new(self.search.clone()))
    }
    async fn compare_children(
        &self,
        _: Request<pb::CompareChildrenRequest>,
    ) -> Result<Response<pb::CompareChildrenResponse>, Status> {
        unimplemented()
    }
    async fn list_open_data_files(
        &self,
        _: Request<pb::ListOpenDataFilesRequest>,
    ) -> Result<Response<pb::ListOpenDataFilesResponse>, Status> {
        unimplemented()
    }
    type GetOpenDataFileStream =
        Pin<Box<dyn Stream<Item = Result<pb::GetOpenDataFileResponse, Status>> + Send>>;
    async fn get_open_data_file(
        &self,
        _: Request<pb::GetOpenDataFileRequest>,
    ) -> Result<Response<Self::GetOpenDataFileStream>, Status> {
        unimplemented()
    }
    async fn list_published_feedback(
        &self,
        _: Request<pb::ListPublishedFeedbackRequest>,
    ) -> Result<Response<pb::ListPublishedFeedbackResponse>, Status> {
        unimplemented()
    }
    async fn vote_response_useful(
        &self,
        _: Request<pb::VoteResponseUsefulRequest>,
    ) -> Result<Response<pb::VoteResponseUsefulResponse>, Status> {
        unimplemented()
    }
    async fn list_public_actions(
        &self,
        _: Request<pb::ListPublicActionsRequest>,
    ) -> Result<Response<pb::ListPublicActionsResponse>, Status> {
        unimplemented()
    }
    async fn list_reports(
        &self,
        _: Request<pb::ListReportsRequest>,
    ) -> Result<Response<pb::ListReportsResponse>, Status> {
        unimplemented()
    }
    type GetReportStream = ReportStream;
    async fn get_report(
        &self,
        _: Request<pb::GetReportRequest>,
    ) -> Result<Response<Self::GetReportStream>, Status> {
        unimplemented()
    }
}
