use std::collections::HashMap;

use boucle::Error;
use boucle::app::moderation;
use boucle::domain::Caller;
use boucle::domain::feedback::request_id as parse_request_id;
use boucle::domain::period::parse_optional;
use boucle::pb::convert::{self, SubmitTime, feedback_to_pb, lifecycle, new_feedback, optional_id};
use boucle::pb::feedback_service_server::FeedbackService;
use boucle::pb::{self, import_feedback_outcome};
use boucle::store::feedback::{FeedbackFilter, FeedbackView};
use boucle::store::lifecycle::CommentCursor;
use futures::{StreamExt, TryStreamExt};
use tokio::sync::oneshot;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

use super::{Page, State, required};
use crate::access::caller;

pub struct FeedbackApi {
    pub state: State,
}

impl FeedbackApi {
    /// Validates and records one experience (shared by SubmitFeedback and ImportFeedback).
    async fn capture(
        &self,
        caller: &Caller,
        feedback: Option<pb::Feedback>,
        request_id: &str,
        submit_time: SubmitTime,
    ) -> Result<(FeedbackView, bool), Error> {
        let parsed = new_feedback(
            required(feedback, "feedback")?,
            "feedback",
            self.state.today(),
            submit_time,
        );
        let request_id = parse_request_id(request_id).map_err(|d| Error::invalid("request_id", d));
        // Report the violations of both the message and the request_id at once.
        let (feedback, request_id) = match (parsed, request_id) {
            (Ok(f), Ok(r)) => (f, r),
            (Err(Error::InvalidArgument(mut a)), Err(Error::InvalidArgument(b))) => {
                a.extend(b);
                return Err(Error::InvalidArgument(a));
            }
            (Err(e), _) | (_, Err(e)) => return Err(e),
        };
        boucle::app::capture::submit(&self.state.store, caller, &feedback, request_id.as_deref())
            .await
    }

    /// One item of an import, stored on its own: its outcome, never an error of the call.
    async fn import_one(
        &self,
        caller: &Caller,
        index: u32,
        item: pb::ImportFeedbackRequest,
    ) -> pb::ImportFeedbackOutcome {
        let pb::ImportFeedbackRequest {
            feedback,
            request_id,
        } = item;
        let now_ms = boucle::store::now_ms();
        let result = match self.state.within_import_limit(index) {
            Ok(()) => {
                self.capture(
                    caller,
                    feedback,
                    &request_id,
                    SubmitTime::Imported { now_ms },
                )
                .await
            }
            Err(e) => Err(e),
        };
        use import_feedback_outcome::Result as R;
        match result {
            Ok((view, replayed)) => pb::ImportFeedbackOutcome {
                index,
                request_id,
                result: if replayed { R::Replayed } else { R::Created } as i32,
                feedback_id: view.feedback.id.to_string(),
                ..Default::default()
            },
            Err(e) => {
                let (error_code, error_message, violations) = boucle::pb::status::item_error(&e);
                pb::ImportFeedbackOutcome {
                    index,
                    request_id,
                    result: R::Failed as i32,
                    feedback_id: String::new(),
                    error_code,
                    error_message,
                    violations,
                }
            }
        }
    }
}

/// Import items stored at once: enough to fill group-commit batches, few enough that one
/// import does not crowd out the other callers' submissions.
const IMPORT_CONCURRENCY: usize = 64;

#[tonic::async_trait]
impl FeedbackService for FeedbackApi {
    async fn submit_feedback(
        &self,
        request: Request<pb::SubmitFeedbackRequest>,
    ) -> Result<Response<pb::SubmitFeedbackResponse>, Status> {
        let caller = caller(&request)?;
        self.state.limiter.check(caller.key_id)?;
        let pb::SubmitFeedbackRequest {
            feedback,
            request_id,
        } = request.into_inner();
        let (view, replayed) = self
            .capture(&caller, feedback, &request_id, SubmitTime::ServerClock)
            .await?;
        tracing::info!(feedback = %view.feedback.id, location = %view.feedback.location_id, replayed, "feedback submitted");
        Ok(Response::new(pb::SubmitFeedbackResponse {
            feedback: Some(feedback_to_pb(&view)),
            replayed,
        }))
    }

    async fn import_feedback(
        &self,
        request: Request<Streaming<pb::ImportFeedbackRequest>>,
    ) -> Result<Response<pb::ImportFeedbackResponse>, Status> {
        let caller = caller(&request)?;
        // Items are stored concurrently (group commit makes one transaction of those that
        // wait together), each with its own outcome, answered in the order they came. An
        // item repeating an earlier item's request_id waits for it, so the first one is the
        // one created and the later ones are replays, as if stored one by one.
        let mut previous_with_id: HashMap<String, oneshot::Receiver<()>> = HashMap::new();
        let mut outcomes = request
            .into_inner()
            .enumerate()
            .map(|(index, item)| {
                let caller = &caller;
                let mut order = None;
                if let Ok(item) = &item
                    && !item.request_id.is_empty()
                {
                    let (done, next) = oneshot::channel();
                    let before = previous_with_id.insert(item.request_id.clone(), next);
                    order = Some((before, done));
                }
                async move {
                    let index = u32::try_from(index).unwrap_or(u32::MAX);
                    let item = item?;
                    let (before, done) = order.map_or((None, None), |(b, d)| (b, Some(d)));
                    if let Some(before) = before {
                        // Sent or dropped when the earlier item is stored or given up.
                        let _ = before.await;
                    }
                    let outcome = self.import_one(caller, index, item).await;
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                    Ok::<_, Status>(outcome)
                }
            })
            .buffered(IMPORT_CONCURRENCY);
        let mut answer = pb::ImportFeedbackResponse::default();
        while let Some(outcome) = outcomes.try_next().await? {
            use import_feedback_outcome::Result as R;
            match R::try_from(outcome.result) {
                Ok(R::Created) => answer.created += 1,
                Ok(R::Replayed) => answer.replayed += 1,
                _ => answer.failed += 1,
            }
            answer.outcomes.push(outcome);
        }
        tracing::info!(
            created = answer.created,
            replayed = answer.replayed,
            failed = answer.failed,
            "feedback imported"
        );
        Ok(Response::new(answer))
    }

    async fn get_feedback(
        &self,
        request: Request<pb::GetFeedbackRequest>,
    ) -> Result<Response<pb::GetFeedbackResponse>, Status> {
        let caller = caller(&request)?;
        let id = convert::id("id", &request.into_inner().id)?;
        let view = boucle::app::feedback::get(&self.state.store, &caller, id).await?;
        Ok(Response::new(pb::GetFeedbackResponse {
            feedback: Some(feedback_to_pb(&view)),
        }))
    }

    async fn list_feedback(
        &self,
        request: Request<pb::ListFeedbackRequest>,
    ) -> Result<Response<pb::ListFeedbackResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListFeedbackRequest {
            page_size,
            page_token,
            location_id,
            period,
            status,
            channel,
            satisfaction,
            tag,
            label,
            answered,
        } = request.into_inner();
        let bad = |field: &'static str| move |d: String| Error::invalid(field, d);
        let location = optional_id("location_id", &location_id)?;
        let submitted = parse_optional(&period)
            .map_err(bad("period"))?
            .map(|p| p.bounds_ms(self.state.timezone));
        let filter = FeedbackFilter {
            location,
            submitted,
            status: convert::filter(status, convert::moderation_status).map_err(bad("status"))?,
            channel: convert::filter(channel, convert::channel).map_err(bad("channel"))?,
            satisfaction: convert::filter(satisfaction, convert::satisfaction)
                .map_err(bad("satisfaction"))?,
            tag: convert::filter(tag, convert::tag).map_err(bad("tag"))?,
            label: if label.is_empty() {
                None
            } else {
                Some(boucle::domain::feedback::label(&label).map_err(bad("label"))?)
            },
            answered,
        };
        let page: Page<(i64, Uuid)> = Page::parse(page_size, &page_token, &filter)?;
        let listed =
            boucle::app::feedback::list(&self.state.store, &caller, &filter, &page).await?;
        Ok(Response::new(pb::ListFeedbackResponse {
            feedback: listed.rows.iter().map(feedback_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn moderate_feedback(
        &self,
        request: Request<pb::ModerateFeedbackRequest>,
    ) -> Result<Response<pb::ModerateFeedbackResponse>, Status> {
        let caller = caller(&request)?;
        let m = lifecycle::moderation(request.into_inner())?;
        let view = moderation::moderate(&self.state.store, &caller, &m).await?;
        tracing::info!(feedback = %m.id, status = %view.feedback.status, "feedback moderated");
        Ok(Response::new(pb::ModerateFeedbackResponse {
            feedback: Some(feedback_to_pb(&view)),
        }))
    }

    async fn reassign_feedback(
        &self,
        request: Request<pb::ReassignFeedbackRequest>,
    ) -> Result<Response<pb::ReassignFeedbackResponse>, Status> {
        let caller = caller(&request)?;
        let (id, to, note) = lifecycle::reassignment(request.into_inner())?;
        let view = moderation::reassign(&self.state.store, &caller, id, to, &note).await?;
        tracing::info!(feedback = %id, location = %to, "feedback reassigned");
        Ok(Response::new(pb::ReassignFeedbackResponse {
            feedback: Some(feedback_to_pb(&view)),
        }))
    }

    async fn add_comment(
        &self,
        request: Request<pb::AddCommentRequest>,
    ) -> Result<Response<pb::AddCommentResponse>, Status> {
        let caller = caller(&request)?;
        let (id, body) = lifecycle::comment(request.into_inner())?;
        let comment = moderation::add_comment(&self.state.store, &caller, id, &body).await?;
        Ok(Response::new(pb::AddCommentResponse {
            comment: Some(convert::comment_to_pb(&comment)),
        }))
    }

    async fn list_comments(
        &self,
        request: Request<pb::ListCommentsRequest>,
    ) -> Result<Response<pb::ListCommentsResponse>, Status> {
        let caller = caller(&request)?;
        let pb::ListCommentsRequest {
            feedback_id,
            page_size,
            page_token,
        } = request.into_inner();
        let id = convert::id("feedback_id", &feedback_id)?;
        let page: Page<CommentCursor> = Page::parse(page_size, &page_token, &id)?;
        let listed = moderation::list_comments(&self.state.store, &caller, id, &page).await?;
        Ok(Response::new(pb::ListCommentsResponse {
            comments: listed.rows.iter().map(convert::comment_to_pb).collect(),
            next_page_token: listed.next_page_token,
        }))
    }

    async fn draft_response(
        &self,
        request: Request<pb::DraftResponseRequest>,
    ) -> Result<Response<pb::DraftResponseResponse>, Status> {
        let caller = caller(&request)?;
        let d = lifecycle::draft(request.into_inner())?;
        let response = moderation::draft_answer(&self.state.store, &caller, &d).await?;
        Ok(Response::new(pb::DraftResponseResponse {
            response: Some(convert::response_to_pb(&response, (0, 0))),
        }))
    }

    async fn publish_response(
        &self,
        request: Request<pb::PublishResponseRequest>,
    ) -> Result<Response<pb::PublishResponseResponse>, Status> {
        let caller = caller(&request)?;
        let id = convert::id("response_id", &request.into_inner().response_id)?;
        let response = moderation::publish_answer(&self.state.store, &caller, id).await?;
        tracing::info!(response = %id, feedback = %response.feedback_id, "response published");
        Ok(Response::new(pb::PublishResponseResponse {
            response: Some(convert::response_to_pb(&response, (0, 0))),
        }))
    }

    async fn list_feedback_history(
        &self,
        request: Request<pb::ListFeedbackHistoryRequest>,
    ) -> Result<Response<pb::ListFeedbackHistoryResponse>, Status> {
        let caller = caller(&request)?;
        let id = convert::id("feedback_id", &request.into_inner().feedback_id)?;
        let events = moderation::history(&self.state.store, &caller, id).await?;
        Ok(Response::new(pb::ListFeedbackHistoryResponse {
            events: events.iter().map(convert::history_event_to_pb).collect(),
        }))
    }

    async fn erase_contact(
        &self,
        request: Request<pb::EraseContactRequest>,
    ) -> Result<Response<pb::EraseContactResponse>, Status> {
        let caller = caller(&request)?;
        let id = convert::id("feedback_id", &request.into_inner().feedback_id)?;
        let view = moderation::erase_contact(&self.state.store, &caller, id).await?;
        tracing::info!(feedback = %id, "contact erased");
        Ok(Response::new(pb::EraseContactResponse {
            feedback: Some(feedback_to_pb(&view)),
        }))
    }
}
