//! ActionService: declared in the API, built in the improvement-actions issue. Every RPC
//! already checks its caller, so the access rules hold from day one.

use boucle::Error;
use boucle::domain::Permission;
use boucle::pb;
use boucle::pb::action_service_server::ActionService;
use tonic::{Request, Response, Status};

use super::State;

pub struct ActionApi {
    pub state: State,
}

impl ActionApi {
    async fn not_yet<T, U>(
        &self,
        request: &Request<T>,
        rpc: &'static str,
    ) -> Result<Response<U>, Status> {
        self.state
            .auth
            .authorize(request, Permission::ManageActions)
            .await?;
        Err(Error::Unimplemented(rpc).into())
    }
}

#[tonic::async_trait]
impl ActionService for ActionApi {
    async fn create_action(
        &self,
        r: Request<pb::CreateActionRequest>,
    ) -> Result<Response<pb::CreateActionResponse>, Status> {
        self.not_yet(&r, "CreateAction").await
    }
    async fn get_action(
        &self,
        r: Request<pb::GetActionRequest>,
    ) -> Result<Response<pb::GetActionResponse>, Status> {
        self.not_yet(&r, "GetAction").await
    }
    async fn list_actions(
        &self,
        r: Request<pb::ListActionsRequest>,
    ) -> Result<Response<pb::ListActionsResponse>, Status> {
        self.not_yet(&r, "ListActions").await
    }
    async fn update_action(
        &self,
        r: Request<pb::UpdateActionRequest>,
    ) -> Result<Response<pb::UpdateActionResponse>, Status> {
        self.not_yet(&r, "UpdateAction").await
    }
    async fn transition_action(
        &self,
        r: Request<pb::TransitionActionRequest>,
    ) -> Result<Response<pb::TransitionActionResponse>, Status> {
        self.not_yet(&r, "TransitionAction").await
    }
    async fn link_feedback(
        &self,
        r: Request<pb::LinkFeedbackRequest>,
    ) -> Result<Response<pb::LinkFeedbackResponse>, Status> {
        self.not_yet(&r, "LinkFeedback").await
    }
    async fn list_action_events(
        &self,
        r: Request<pb::ListActionEventsRequest>,
    ) -> Result<Response<pb::ListActionEventsResponse>, Status> {
        self.not_yet(&r, "ListActionEvents").await
    }
}
