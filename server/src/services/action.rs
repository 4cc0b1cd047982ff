use boucle::Error;
use boucle::app::actions;
use boucle::domain::action as rules;
use boucle::domain::validation::optional_uuid;
use boucle::domain::validation::{Violations, text};
use boucle::pb;
use boucle::pb::action_service_server::ActionService;
use boucle::pb::convert::{self, action_to_pb};
use boucle::store::actions::{ActionFilter, EventCursor};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use super::{Page, State, required};
use crate::access::caller;

pub struct ActionApi {
    pub state: State,
}

fn note(value: &str) -> Result<String, Error> {
    text(value, rules::NOTE_MAX, false).map_err(|d| Error::invalid("note", d))
}

#[tonic::async_trait]
impl ActionService for ActionApi {
    async fn create_action(
        &self,
        request: Request<pb::CreateActionRequest>,
    ) -> Result<Response<pb::CreateActionResponse>, Status> {
        let caller = caller(&request)?;
        let new = convert::new_action(required(request.into_inner().action, "action")?)?;
        let view = actions::create(&self.state.store, &caller, &new).await?;
        tracing::info!(action = %view.action.id, location = %view.action.location_id, "action created");
        Ok(Response::new(pb::CreateActionResponse {
            action: Some(action_to_pb(&view)),
        }))
    }

    async fn get_action(
        &self,
        request: Request<pb::GetActionRequest>,
    ) -> Result<Response<pb::GetActionResponse>, Status> {
        let caller = caller(&request)?;
        let id = convert::id("id", &request.into_inner().id)?;
        let view = actions::get(&self.state.store, &caller, id).await?;
        Ok(Response::new(pb::GetActionResponse {
            action: Some(action_to_pb(&view)),
        }))
    }

    async fn list_actions(
        &self,
        request: Request<pb::ListActionsRequest>,
    ) -> Result<Response<pb::ListActionsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListActionsRequest {
            page_size,
            page_token,
            location_id,
            status,
            engagement_code,
            overdue,
            feedback_id,
        } = request.into_inner();
        let mut v = Violations::default();
        let location = v.check("location_id", optional_uuid(&location_id));
        let status = v.check("status", convert::filter(status, convert::action_status));
        let engagement = if engagement_code.is_empty() {
            Some(None)
        } else {
            v.check("engagement_code", rules::engagement_code(&engagement_code))
                .map(Some)
        };
        let feedback = v.check("feedback_id", optional_uuid(&feedback_id));
        let filter = v.finish(|| {
            Some(ActionFilter {
                location: location?,
                status: status?,
                engagement: engagement?,
                overdue_on: overdue.then(|| self.state.today()),
                feedback: feedback?,
            })
        })?;
        let page: Page<Uuid> = Page::parse(page_size, &page_token, &filter)?;
        let listed = actions::list(&self.state.store, &caller, &filter, &page).await?;
        Ok(Response::new(pb::ListActionsResponse {
            actions: listed.rows.iter().map(action_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn update_action(
        &self,
        request: Request<pb::UpdateActionRequest>,
    ) -> Result<Response<pb::UpdateActionResponse>, Status> {
        let caller = caller(&request)?;
        let pb::UpdateActionRequest {
            action,
            update_mask,
            note: why,
        } = request.into_inner();
        let paths = update_mask.map(|m| m.paths).unwrap_or_default();
        let (id, patch) = convert::action_patch(required(action, "action")?, &paths)?;
        let view = actions::update(&self.state.store, &caller, id, &patch, &note(&why)?).await?;
        Ok(Response::new(pb::UpdateActionResponse {
            action: Some(action_to_pb(&view)),
        }))
    }

    async fn transition_action(
        &self,
        request: Request<pb::TransitionActionRequest>,
    ) -> Result<Response<pb::TransitionActionResponse>, Status> {
        let caller = caller(&request)?;
        let pb::TransitionActionRequest {
            id,
            to,
            progress,
            note: why,
        } = request.into_inner();
        let mut v = Violations::default();
        let id = v.check("id", boucle::domain::validation::uuid(&id));
        let to = v.check("to", convert::action_status(to));
        let why = v.check("note", text(&why, rules::NOTE_MAX, false));
        let (id, to, why) = v.finish(|| Some((id?, to?, why?)))?;
        let view = actions::transition(
            &self.state.store,
            &caller,
            id,
            to,
            progress,
            &why,
            self.state.today(),
        )
        .await?;
        tracing::info!(action = %id, status = %to, "action transitioned");
        Ok(Response::new(pb::TransitionActionResponse {
            action: Some(action_to_pb(&view)),
        }))
    }

    async fn link_feedback(
        &self,
        request: Request<pb::LinkFeedbackRequest>,
    ) -> Result<Response<pb::LinkFeedbackResponse>, Status> {
        let caller = caller(&request)?;
        let pb::LinkFeedbackRequest {
            action_id,
            feedback_id,
            unlink,
        } = request.into_inner();
        let mut v = Violations::default();
        let action_id = v.check("action_id", boucle::domain::validation::uuid(&action_id));
        let feedback_id = v.check(
            "feedback_id",
            boucle::domain::validation::uuid(&feedback_id),
        );
        let (action_id, feedback_id) = v.finish(|| Some((action_id?, feedback_id?)))?;
        let view =
            actions::link_feedback(&self.state.store, &caller, action_id, feedback_id, unlink)
                .await?;
        Ok(Response::new(pb::LinkFeedbackResponse {
            action: Some(action_to_pb(&view)),
        }))
    }

    async fn list_action_events(
        &self,
        request: Request<pb::ListActionEventsRequest>,
    ) -> Result<Response<pb::ListActionEventsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListActionEventsRequest {
            action_id,
            page_size,
            page_token,
        } = request.into_inner();
        let id = convert::id("action_id", &action_id)?;
        let page: Page<EventCursor> = Page::parse(page_size, &page_token, &id)?;
        let listed = actions::events(&self.state.store, &caller, id, &page).await?;
        Ok(Response::new(pb::ListActionEventsResponse {
            events: listed
                .rows
                .iter()
                .map(convert::action_event_to_pb)
                .collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn list_engagements(
        &self,
        _: Request<pb::ListEngagementsRequest>,
    ) -> Result<Response<pb::ListEngagementsResponse>, Status> {
        let engagements = actions::engagements(&self.state.store).await?;
        Ok(Response::new(pb::ListEngagementsResponse {
            engagements: engagements.iter().map(convert::engagement_to_pb).collect(),
        }))
    }

    async fn update_engagement(
        &self,
        request: Request<pb::UpdateEngagementRequest>,
    ) -> Result<Response<pb::UpdateEngagementResponse>, Status> {
        let caller = caller(&request)?;
        let pb::UpdateEngagementRequest { code, title } = request.into_inner();
        let mut v = Violations::default();
        let code = v.check("code", rules::engagement_code(&code));
        let title = v.check("title", text(&title, 300, true));
        let (code, title) = v.finish(|| Some((code?, title?)))?;
        let updated = actions::reword_engagement(&self.state.store, &caller, &code, &title).await?;
        Ok(Response::new(pb::UpdateEngagementResponse {
            engagement: Some(convert::engagement_to_pb(&updated)),
        }))
    }
}
