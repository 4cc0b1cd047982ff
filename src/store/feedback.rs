//! Experiences: capture (idempotent by request_id), reads and filtered listings.

use std::collections::HashMap;

use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Set, TryIntoModel,
};
use uuid::Uuid;

use super::entities::{action_feedback, comment, feedback, feedback_tag, response, response_vote};
use super::locations::subtree_ids;
use super::{Order, Reach, Store, keyset, sql, stored_code};
use crate::Error;
use crate::domain::codes::ResponseStatus;
use crate::domain::feedback::{NewFeedback, RedactedTexts};
use crate::domain::{
    Audience, Caller, Channel, ModerationStatus, PersonalDataKind, RejectReason, Satisfaction, Tag,
};

/// An experience as stored, its codes typed. Raw texts and the contact e-mail are here:
/// the public view (`pb::convert::public`) reads only the redacted ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Experience {
    pub id: Uuid,
    pub location_id: Uuid,
    pub channel: Channel,
    pub audience: Audience,
    pub satisfaction: Satisfaction,
    pub nps: Option<u8>,
    pub effort: Option<u8>,
    pub title: String,
    pub story: String,
    pub proposal: String,
    pub redacted_title: String,
    pub redacted_story: String,
    pub redacted_proposal: String,
    /// Kinds of personal data found at capture.
    pub personal_data: Vec<PersonalDataKind>,
    pub procedure: String,
    /// `YYYY-MM-DD`.
    pub occurred_on: Option<String>,
    pub pseudonym: String,
    pub contact_email: Option<String>,
    pub contact_erased_at: Option<i64>,
    pub status: ModerationStatus,
    pub reject_reason: Option<RejectReason>,
    pub request_id: Option<String>,
    pub submitted_at: i64,
    pub updated_at: i64,
    /// When its first answer was published (the earliest, if several locations answered).
    pub first_answered_at: Option<i64>,
}

impl TryFrom<feedback::Model> for Experience {
    type Error = Error;

    fn try_from(m: feedback::Model) -> Result<Self, Error> {
        let id = m.id;
        let row = format!("feedback {id}");
        let score = |column: &str, v: Option<i16>| {
            v.map(|n| {
                u8::try_from(n)
                    .map_err(|_| Error::Internal(format!("{row} has unknown {column} {n}")))
            })
            .transpose()
        };
        Ok(Self {
            id,
            location_id: m.location_id,
            channel: stored_code(Channel::from_code, &row, "channel", &m.channel)?,
            audience: stored_code(Audience::from_code, &row, "audience", &m.audience)?,
            satisfaction: stored_code(
                Satisfaction::from_code,
                &row,
                "satisfaction",
                &m.satisfaction,
            )?,
            nps: score("nps", m.nps)?,
            effort: score("effort", m.effort)?,
            title: m.title,
            story: m.story,
            proposal: m.proposal,
            redacted_title: m.redacted_title,
            redacted_story: m.redacted_story,
            redacted_proposal: m.redacted_proposal,
            personal_data: m
                .personal_data
                .split(',')
                .filter(|k| !k.is_empty())
                .map(|k| stored_code(PersonalDataKind::from_code, &row, "personal_data", k))
                .collect::<Result<_, _>>()?,
            procedure: m.procedure,
            occurred_on: m.occurred_on,
            pseudonym: m.pseudonym,
            contact_email: m.contact_email,
            contact_erased_at: m.contact_erased_at,
            status: stored_code(ModerationStatus::from_code, &row, "status", &m.status)?,
            reject_reason: m
                .reject_reason
                .as_deref()
                .map(|r| stored_code(RejectReason::from_code, &row, "reject_reason", r))
                .transpose()?,
            request_id: m.request_id,
            submitted_at: m.submitted_at,
            updated_at: m.updated_at,
            first_answered_at: m.first_answered_at,
        })
    }
}

/// An experience as a trusted bulk load writes it (benchmarks): every column given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredExperience {
    pub experience: Experience,
    pub api_key_id: Uuid,
    pub payload_hash: String,
}

impl From<&StoredExperience> for feedback::ActiveModel {
    fn from(s: &StoredExperience) -> Self {
        let e = &s.experience;
        feedback::ActiveModel {
            id: Set(e.id),
            location_id: Set(e.location_id),
            channel: Set(e.channel.code().to_owned()),
            audience: Set(e.audience.code().to_owned()),
            satisfaction: Set(e.satisfaction.code().to_owned()),
            nps: Set(e.nps.map(i16::from)),
            effort: Set(e.effort.map(i16::from)),
            title: Set(e.title.clone()),
            story: Set(e.story.clone()),
            proposal: Set(e.proposal.clone()),
            redacted_title: Set(e.redacted_title.clone()),
            redacted_story: Set(e.redacted_story.clone()),
            redacted_proposal: Set(e.redacted_proposal.clone()),
            personal_data: Set(e
                .personal_data
                .iter()
                .map(|k| k.code())
                .collect::<Vec<_>>()
                .join(",")),
            procedure: Set(e.procedure.clone()),
            occurred_on: Set(e.occurred_on.clone()),
            pseudonym: Set(e.pseudonym.clone()),
            contact_email: Set(e.contact_email.clone()),
            contact_erased_at: Set(e.contact_erased_at),
            status: Set(e.status.code().to_owned()),
            reject_reason: Set(e.reject_reason.map(|r| r.code().to_owned())),
            api_key_id: Set(s.api_key_id),
            request_id: Set(e.request_id.clone()),
            payload_hash: Set(s.payload_hash.clone()),
            submitted_at: Set(e.submitted_at),
            updated_at: Set(e.updated_at),
            first_answered_at: Set(e.first_answered_at),
        }
    }
}

fn answer_row(api_key_id: Uuid, a: &Answer) -> response::ActiveModel {
    response::ActiveModel {
        id: Set(a.id),
        feedback_id: Set(a.feedback_id),
        location_id: Set(a.location_id),
        author: Set(a.author.clone()),
        body: Set(a.body.clone()),
        status: Set(a.status.code().to_owned()),
        api_key_id: Set(api_key_id),
        created_at: Set(a.created_at),
        updated_at: Set(a.updated_at),
        published_at: Set(a.published_at),
    }
}

/// Writes experiences and answers as given, in one statement each (trusted bulk loads: the
/// caller keeps each under the bind-parameter limits, 27 and 10 columns a row).
pub async fn insert_stored(
    db: &impl ConnectionTrait,
    experiences: &[StoredExperience],
    answers_by: Uuid,
    answers: &[Answer],
) -> Result<(), Error> {
    if !experiences.is_empty() {
        feedback::Entity::insert_many(experiences.iter().map(feedback::ActiveModel::from))
            .exec_without_returning(db)
            .await?;
    }
    if !answers.is_empty() {
        response::Entity::insert_many(answers.iter().map(|a| answer_row(answers_by, a)))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// How many experiences are stored.
pub async fn count(db: &impl ConnectionTrait) -> Result<u64, Error> {
    Ok(sea_orm::PaginatorTrait::count(feedback::Entity::find(), db).await?)
}

/// An answer of a location to an experience.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub location_id: Uuid,
    pub author: String,
    pub body: String,
    pub status: ResponseStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub published_at: Option<i64>,
}

impl TryFrom<response::Model> for Answer {
    type Error = Error;

    fn try_from(r: response::Model) -> Result<Self, Error> {
        Ok(Self {
            status: stored_code(
                ResponseStatus::from_code,
                format_args!("response {}", r.id),
                "status",
                &r.status,
            )?,
            id: r.id,
            feedback_id: r.feedback_id,
            location_id: r.location_id,
            author: r.author,
            body: r.body,
            created_at: r.created_at,
            updated_at: r.updated_at,
            published_at: r.published_at,
        })
    }
}

/// An internal comment on an experience.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: Uuid,
    pub feedback_id: Uuid,
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

impl From<comment::Model> for Comment {
    fn from(c: comment::Model) -> Self {
        Self {
            id: c.id,
            feedback_id: c.feedback_id,
            author: c.author,
            body: c.body,
            created_at: c.created_at,
        }
    }
}

/// An experience with what is stored beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedbackView {
    pub feedback: Experience,
    pub location_code: String,
    /// General tags, by code.
    pub tags: Vec<Tag>,
    /// Free labels (lower-case), in order.
    pub labels: Vec<String>,
    pub responses: Vec<Answer>,
    /// (useful, not useful) public votes per answer.
    pub votes: HashMap<Uuid, (u64, u64)>,
    /// Codes of the experience's and the answering locations.
    pub location_codes: HashMap<Uuid, String>,
    pub action_ids: Vec<Uuid>,
}

#[derive(Clone, Debug, Default)]
pub struct FeedbackFilter {
    pub location: Option<Uuid>,
    /// `[start, end)` in epoch ms.
    pub submitted: Option<(i64, i64)>,
    pub status: Option<ModerationStatus>,
    pub channel: Option<Channel>,
    pub satisfaction: Option<Satisfaction>,
    pub tag: Option<Tag>,
    pub label: Option<String>,
    pub answered: Option<bool>,
}

/// Everything needed to store a new experience.
pub struct Capture<'a> {
    pub feedback: &'a NewFeedback,
    pub redacted: &'a RedactedTexts,
    pub redacted_pseudonym: &'a str,
    pub location_id: Uuid,
    pub request_id: Option<&'a str>,
    pub submitted_at: i64,
    /// Deterministic id (demo data); `None` draws a UUIDv7 from the clock.
    pub id: Option<Uuid>,
    /// PENDING for every capture through the API; bulk loads of already moderated
    /// experiences (demo data) may say otherwise.
    pub status: ModerationStatus,
    pub reject_reason: Option<RejectReason>,
}

/// The keyset position of an experience in listings: newest submission first.
pub type FeedbackCursor = (i64, Uuid);

impl Store {
    /// Stores a new experience, or returns the original one when `request_id` was already
    /// used by this key with the same payload (`replayed = true`). The same request_id with
    /// another payload is ALREADY_EXISTS. The unique index on (api_key_id, request_id)
    /// decides, not a read-then-write check: a retry is tried as an insert like any
    /// submission, and only when its request_id turns out to be taken is the original read.
    /// Retries are rare, and a lookup before every insert cost each submission a database
    /// round trip.
    pub async fn record_feedback(
        &self,
        caller: &Caller,
        capture: Capture<'_>,
        location_code: &str,
    ) -> Result<(FeedbackView, bool), Error> {
        let hash = capture.feedback.payload_hash();
        let (row, tag_rows) = rows(caller.key_id, &capture, &hash);
        let model = row
            .clone()
            .try_into_model()
            .map_err(|e| Error::Internal(format!("incomplete feedback row: {e}")))?;
        if self.group_commit().insert(row, tag_rows).await? {
            // A new experience has no answer, link or vote yet, and its tags and location are
            // known: no need to read them back.
            let mut tags: Vec<Tag> = capture.feedback.tags.iter().copied().collect();
            tags.sort_by_key(|t| t.code());
            let mut labels: Vec<String> = capture.feedback.labels.iter().cloned().collect();
            labels.sort();
            let view = FeedbackView {
                location_code: location_code.to_owned(),
                location_codes: HashMap::from([(model.location_id, location_code.to_owned())]),
                tags,
                labels,
                responses: Vec::new(),
                votes: HashMap::new(),
                action_ids: Vec::new(),
                feedback: Experience::try_from(model)?,
            };
            return Ok((view, false));
        }
        // The request_id was taken, by an earlier request or a concurrent retry.
        let request_id = capture.request_id.unwrap_or_default();
        match self.replay(caller, request_id, &hash).await? {
            Some(existing) => Ok((existing, true)),
            None => Err(Error::Internal(
                "conflicting request_id without a winner".into(),
            )),
        }
    }

    async fn replay(
        &self,
        caller: &Caller,
        request_id: &str,
        hash: &str,
    ) -> Result<Option<FeedbackView>, Error> {
        let existing = feedback::Entity::find()
            .filter(feedback::Column::ApiKeyId.eq(caller.key_id))
            .filter(feedback::Column::RequestId.eq(request_id))
            .one(&self.db)
            .await?;
        match existing {
            None => Ok(None),
            Some(model) if model.payload_hash == hash => {
                Ok(feedback_views(&self.db, vec![model]).await?.pop())
            }
            Some(_) => Err(Error::AlreadyExists(format!(
                "request_id {request_id} was already used with a different payload"
            ))),
        }
    }

    /// Inserts many captured experiences in one transaction, in chunks that stay under the
    /// bind-parameter limits of both databases. For trusted bulk loads (demo, benchmarks):
    /// no idempotency check.
    pub async fn bulk_insert_feedback(
        &self,
        api_key_id: Uuid,
        captures: &[Capture<'_>],
    ) -> Result<(), Error> {
        // 27 columns per row: 500 rows stay far below SQLite's 32,766 parameters.
        const CHUNK: usize = 500;
        let txn = self.write_txn().await?;
        for chunk in captures.chunks(CHUNK) {
            let mut rows_chunk = Vec::with_capacity(chunk.len());
            let mut tags_chunk = Vec::new();
            for capture in chunk {
                let (row, tags) = rows(api_key_id, capture, &capture.feedback.payload_hash());
                rows_chunk.push(row);
                tags_chunk.extend(tags);
            }
            feedback::Entity::insert_many(rows_chunk).exec(&txn).await?;
            for tags in tags_chunk.chunks(CHUNK * 4) {
                feedback_tag::Entity::insert_many(tags.to_vec())
                    .exec(&txn)
                    .await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// Inserts answers in one transaction and records on each experience when its first
    /// published answer appeared, as `app::moderation::publish_answer` does one at a time. For
    /// trusted bulk loads (demo): the experiences must exist and be published.
    pub async fn bulk_insert_answers(
        &self,
        api_key_id: Uuid,
        answers: &[Answer],
    ) -> Result<(), Error> {
        // 10 columns per row.
        const CHUNK: usize = 500;
        let txn = self.write_txn().await?;
        for chunk in answers.chunks(CHUNK) {
            insert_stored(&txn, &[], api_key_id, chunk).await?;
            let ids: Vec<Uuid> = chunk.iter().map(|a| a.feedback_id).collect();
            let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
            txn.execute_raw(sql(
                self.backend(),
                &format!(
                    "UPDATE feedback SET first_answered_at = ( \
                         SELECT MIN(r.published_at) FROM response r \
                         WHERE r.feedback_id = feedback.id AND r.status = 'PUBLISHED') \
                     WHERE id IN ({})",
                    placeholders.join(", ")
                ),
                ids.into_iter().map(Into::into).collect(),
            ))
            .await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

/// One experience of the caller's scope, or NOT_FOUND.
pub async fn get(
    db: &impl ConnectionTrait,
    scope: Option<Uuid>,
    id: Uuid,
) -> Result<FeedbackView, Error> {
    let mut query = feedback::Entity::find_by_id(id);
    if let Some(root) = scope {
        query = query.filter(feedback::Column::LocationId.in_subquery(subtree_ids(root)));
    }
    let model = query
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("feedback"))?;
    feedback_views(db, vec![model])
        .await?
        .pop()
        .ok_or_else(|| Error::not_found("feedback"))
}

/// Experiences within `reach` matching `filter`, newest submission first, after `after`
/// (`filter.location` is already in `reach`).
pub async fn list(
    db: &impl ConnectionTrait,
    reach: &Reach,
    filter: &FeedbackFilter,
    limit: u64,
    after: Option<FeedbackCursor>,
) -> Result<Vec<FeedbackView>, Error> {
    let mut cond = Condition::all();
    for root in reach.roots() {
        cond = cond.add(feedback::Column::LocationId.in_subquery(subtree_ids(root)));
    }
    if let Some(status) = filter.status {
        cond = cond.add(feedback::Column::Status.eq(status.code()));
    }
    if let Some(channel) = filter.channel {
        cond = cond.add(feedback::Column::Channel.eq(channel.code()));
    }
    if let Some(satisfaction) = filter.satisfaction {
        cond = cond.add(feedback::Column::Satisfaction.eq(satisfaction.code()));
    }
    for tag in filter
        .tag
        .map(|t| t.code().to_owned())
        .into_iter()
        .chain(filter.label.clone())
    {
        cond = cond.add(
            feedback::Column::Id.in_subquery(
                Query::select()
                    .column(feedback_tag::Column::FeedbackId)
                    .from(feedback_tag::Entity)
                    .and_where(feedback_tag::Column::Tag.eq(tag))
                    .to_owned(),
            ),
        );
    }
    if let Some(answered) = filter.answered {
        let published = Query::select()
            .column(response::Column::FeedbackId)
            .from(response::Entity)
            .and_where(
                response::Column::Status.eq(crate::domain::codes::ResponseStatus::Published.code()),
            )
            .to_owned();
        cond = cond.add(if answered {
            feedback::Column::Id.in_subquery(published)
        } else {
            feedback::Column::Id.not_in_subquery(published)
        });
    }
    newest_first(db, cond, filter.submitted, limit, after).await
}

/// The experiences matching `cond` and submitted within `submitted` (`[start, end)`), newest
/// submission first, after `after`, with what is stored beside them.
pub(crate) async fn newest_first(
    db: &impl ConnectionTrait,
    cond: Condition,
    submitted: Option<(i64, i64)>,
    limit: u64,
    after: Option<FeedbackCursor>,
) -> Result<Vec<FeedbackView>, Error> {
    let models = newest_first_query(cond, submitted, limit, after)
        .all(db)
        .await?;
    feedback_views(db, models).await
}

/// The query of [`newest_first`]'s experiences. The end of `submitted` is left out once the
/// cursor lies before it (the cursor's own bound implies it): given two upper bounds on the
/// instant, SQLite took the end of the range for its index scan and read a month from its
/// last row down to the cursor for every page (0.12–0.25 s a page half-way through a month
/// of a million experiences, 25–35 ms from the cursor).
pub(crate) fn newest_first_query(
    mut cond: Condition,
    submitted: Option<(i64, i64)>,
    limit: u64,
    after: Option<FeedbackCursor>,
) -> sea_orm::Select<feedback::Entity> {
    if let Some((start, end)) = submitted {
        cond = cond.add(feedback::Column::SubmittedAt.gte(start));
        if after.is_none_or(|(at, _)| at >= end) {
            cond = cond.add(feedback::Column::SubmittedAt.lt(end));
        }
    }
    if let Some((at, id)) = after {
        cond = cond.add(keyset(
            Order::Descending,
            feedback::Column::SubmittedAt,
            feedback::Column::Id,
            at,
            id,
        ));
    }
    feedback::Entity::find()
        .filter(cond)
        .order_by_desc(feedback::Column::SubmittedAt)
        .order_by_desc(feedback::Column::Id)
        .limit(limit)
}

/// The rows of one captured experience: the feedback and its tags.
fn rows(
    api_key_id: Uuid,
    capture: &Capture<'_>,
    hash: &str,
) -> (feedback::ActiveModel, Vec<feedback_tag::ActiveModel>) {
    let f = capture.feedback;
    let r = capture.redacted;
    let id = capture.id.unwrap_or_else(Uuid::now_v7);
    let row = feedback::ActiveModel {
        id: Set(id),
        location_id: Set(capture.location_id),
        channel: Set(f.channel.code().to_owned()),
        audience: Set(f.audience.code().to_owned()),
        satisfaction: Set(f.satisfaction.code().to_owned()),
        nps: Set(f.nps.map(i16::from)),
        effort: Set(f.effort.map(i16::from)),
        title: Set(f.title.clone()),
        story: Set(f.story.clone()),
        proposal: Set(f.proposal.clone()),
        redacted_title: Set(r.title.clone()),
        redacted_story: Set(r.story.clone()),
        redacted_proposal: Set(r.proposal.clone()),
        personal_data: Set(r
            .kinds
            .iter()
            .map(|k| k.code())
            .collect::<Vec<_>>()
            .join(",")),
        procedure: Set(f.procedure.clone()),
        occurred_on: Set(f.occurred_on.map(|d| d.format("%Y-%m-%d").to_string())),
        pseudonym: Set(capture.redacted_pseudonym.to_owned()),
        contact_email: Set(f.contact_email.clone()),
        contact_erased_at: Set(None),
        status: Set(capture.status.code().to_owned()),
        reject_reason: Set(capture.reject_reason.map(|r| r.code().to_owned())),
        api_key_id: Set(api_key_id),
        request_id: Set(capture.request_id.map(str::to_owned)),
        payload_hash: Set(hash.to_owned()),
        submitted_at: Set(capture.submitted_at),
        updated_at: Set(capture.submitted_at),
        first_answered_at: Set(None),
    };
    let tags = f
        .tags
        .iter()
        .map(|t| t.code().to_owned())
        .chain(f.labels.iter().cloned())
        .map(|tag| feedback_tag::ActiveModel {
            feedback_id: Set(id),
            tag: Set(tag),
        })
        .collect();
    (row, tags)
}

/// Loads tags, answers, links and location codes of a page of experiences in four queries.
pub(crate) async fn feedback_views(
    db: &impl ConnectionTrait,
    models: Vec<feedback::Model>,
) -> Result<Vec<FeedbackView>, Error> {
    if models.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = models.iter().map(|m| m.id).collect();
    let location_ids: Vec<Uuid> = models.iter().map(|m| m.location_id).collect();

    let mut tags_of: HashMap<Uuid, Vec<String>> = HashMap::new();
    for t in feedback_tag::Entity::find()
        .filter(feedback_tag::Column::FeedbackId.is_in(super::in_list(ids.iter().copied())))
        .order_by_asc(feedback_tag::Column::Tag)
        .all(db)
        .await?
    {
        tags_of.entry(t.feedback_id).or_default().push(t.tag);
    }
    let mut responses: HashMap<Uuid, Vec<Answer>> = HashMap::new();
    for r in response::Entity::find()
        .filter(response::Column::FeedbackId.is_in(super::in_list(ids.iter().copied())))
        .order_by_asc(response::Column::CreatedAt)
        .all(db)
        .await?
    {
        responses
            .entry(r.feedback_id)
            .or_default()
            .push(Answer::try_from(r)?);
    }
    let mut actions: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for a in action_feedback::Entity::find()
        .filter(action_feedback::Column::FeedbackId.is_in(super::in_list(ids)))
        .order_by_asc(action_feedback::Column::ActionId)
        .all(db)
        .await?
    {
        actions.entry(a.feedback_id).or_default().push(a.action_id);
    }
    let response_ids: Vec<Uuid> = responses.values().flatten().map(|r| r.id).collect();
    let mut votes: HashMap<Uuid, (u64, u64)> = HashMap::new();
    if !response_ids.is_empty() {
        for v in response_vote::Entity::find()
            .filter(response_vote::Column::ResponseId.is_in(super::in_list(response_ids)))
            .all(db)
            .await?
        {
            let counts = votes.entry(v.response_id).or_default();
            if v.useful {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
    }
    let location_ids: Vec<Uuid> = location_ids
        .into_iter()
        .chain(responses.values().flatten().map(|r| r.location_id))
        .collect();
    let codes = super::locations::codes(db, location_ids).await?;

    models
        .into_iter()
        .map(|model| {
            let responses = responses.remove(&model.id).unwrap_or_default();
            // Stored together (in the database's order), told apart by their form: tags
            // are codes, labels lower-case.
            let (mut tags, mut labels) = (Vec::new(), Vec::new());
            for stored in tags_of.remove(&model.id).unwrap_or_default() {
                match Tag::from_code(&stored) {
                    Some(tag) => tags.push(tag),
                    None => labels.push(stored),
                }
            }
            Ok(FeedbackView {
                location_code: codes.get(&model.location_id).cloned().unwrap_or_default(),
                tags,
                labels,
                votes: responses
                    .iter()
                    .filter_map(|r| votes.get(&r.id).map(|v| (r.id, *v)))
                    .collect(),
                location_codes: std::iter::once(model.location_id)
                    .chain(responses.iter().map(|r| r.location_id))
                    .filter_map(|id| codes.get(&id).map(|c| (id, c.clone())))
                    .collect(),
                responses,
                action_ids: actions.remove(&model.id).unwrap_or_default(),
                feedback: Experience::try_from(model)?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> feedback::Model {
        feedback::Model {
            id: Uuid::nil(),
            location_id: Uuid::nil(),
            channel: "PHONE".into(),
            audience: "USAGER".into(),
            satisfaction: "POSITIVE".into(),
            nps: Some(9),
            effort: None,
            title: String::new(),
            story: "Merci".into(),
            proposal: String::new(),
            redacted_title: String::new(),
            redacted_story: "Merci".into(),
            redacted_proposal: String::new(),
            personal_data: "EMAIL,PHONE".into(),
            procedure: String::new(),
            occurred_on: None,
            pseudonym: String::new(),
            contact_email: None,
            contact_erased_at: None,
            status: "REJECTED".into(),
            reject_reason: Some("SPAM".into()),
            api_key_id: Uuid::nil(),
            request_id: None,
            payload_hash: String::new(),
            submitted_at: 1,
            updated_at: 1,
            first_answered_at: None,
        }
    }

    #[test]
    fn stored_codes_read_as_domain_values() {
        let e = Experience::try_from(stored()).expect("readable");
        assert_eq!(e.channel, Channel::Phone);
        assert_eq!(e.status, ModerationStatus::Rejected);
        assert_eq!(e.reject_reason, Some(RejectReason::Spam));
        assert_eq!(
            e.personal_data,
            [PersonalDataKind::Email, PersonalDataKind::Phone]
        );
        assert_eq!(e.nps, Some(9));
        let none = Experience::try_from(feedback::Model {
            personal_data: String::new(),
            ..stored()
        })
        .expect("readable");
        assert!(none.personal_data.is_empty());
    }

    /// A code this version does not know is an error naming the row, never UNSPECIFIED.
    #[test]
    fn an_unknown_stored_code_is_an_error_not_unspecified() {
        for broken in [
            feedback::Model {
                channel: "TELEPATHY".into(),
                ..stored()
            },
            feedback::Model {
                status: "LIMBO".into(),
                ..stored()
            },
            feedback::Model {
                reject_reason: Some("BORED".into()),
                ..stored()
            },
            feedback::Model {
                personal_data: "EMAIL,DNA".into(),
                ..stored()
            },
            feedback::Model {
                nps: Some(-3),
                ..stored()
            },
        ] {
            let read = Experience::try_from(broken);
            assert!(
                matches!(&read, Err(Error::Internal(m)) if m.contains("unknown")),
                "{read:?}"
            );
        }
    }
}
