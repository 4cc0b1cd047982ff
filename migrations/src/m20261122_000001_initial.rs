//! The initial schema: every table of docs/product.md, with the indexes the API and the jobs need.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Reverse order of creation, so that foreign keys never dangle.
        let names: Vec<DynIden> = vec![
            AuditLog::Table.into_iden(),
            Delivery::Table.into_iden(),
            Recipient::Table.into_iden(),
            JobLease::Table.into_iden(),
            JobRun::Table.into_iden(),
            Report::Table.into_iden(),
            Aggregate::Table.into_iden(),
            Measurement::Table.into_iden(),
            IndicatorVersion::Table.into_iden(),
            Indicator::Table.into_iden(),
            ActionEvent::Table.into_iden(),
            ActionFeedback::Table.into_iden(),
            Action::Table.into_iden(),
            Engagement::Table.into_iden(),
            Comment::Table.into_iden(),
            ResponseVote::Table.into_iden(),
            Response::Table.into_iden(),
            ModerationDecision::Table.into_iden(),
            FeedbackReassignment::Table.into_iden(),
            FeedbackTag::Table.into_iden(),
            Feedback::Table.into_iden(),
            ApiKey::Table.into_iden(),
            LocationClosure::Table.into_iden(),
            Location::Table.into_iden(),
        ];
        for name in names {
            manager
                .drop_table(Table::drop().table(name).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

fn fk(
    from_table: impl IntoIden,
    from_col: impl IntoIden,
    to_table: impl IntoIden,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from_table, from_col)
        .to(to_table, to_col)
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

fn tables() -> Vec<TableCreateStatement> {
    vec![
        // Service locations. `response_target_days` and `min_sample` are NULL when inherited.
        Table::create()
            .table(Location::Table)
            .col(pk_uuid(Location::Id))
            .col(string_len_uniq(Location::Code, 64))
            .col(string_len(Location::Name, 200))
            .col(string_len(Location::Typology, 200))
            .col(uuid_null(Location::ParentId))
            .col(string_len(Location::PostalCode, 10))
            .col(string_len(Location::City, 200))
            .col(double_null(Location::Latitude))
            .col(double_null(Location::Longitude))
            .col(integer_null(Location::ResponseTargetDays))
            .col(integer_null(Location::MinSample))
            .col(boolean(Location::Active))
            .col(big_integer(Location::CreatedAt))
            .col(big_integer(Location::UpdatedAt))
            .foreign_key(&mut fk(
                Location::Table,
                Location::ParentId,
                Location::Table,
                Location::Id,
            ))
            .to_owned(),
        // Closure table of the hierarchy: one row per (ancestor, descendant) pair, the location
        // itself included at depth 0. Subtree filters and rollups are plain joins on it.
        Table::create()
            .table(LocationClosure::Table)
            .col(uuid(LocationClosure::AncestorId))
            .col(uuid(LocationClosure::DescendantId))
            .col(integer(LocationClosure::Depth))
            .primary_key(
                Index::create()
                    .col(LocationClosure::AncestorId)
                    .col(LocationClosure::DescendantId),
            )
            .foreign_key(&mut fk(
                LocationClosure::Table,
                LocationClosure::AncestorId,
                Location::Table,
                Location::Id,
            ))
            .foreign_key(&mut fk(
                LocationClosure::Table,
                LocationClosure::DescendantId,
                Location::Table,
                Location::Id,
            ))
            .to_owned(),
        // API keys: only the SHA-256 of the secret is stored.
        Table::create()
            .table(ApiKey::Table)
            .col(pk_uuid(ApiKey::Id))
            .col(string_len(ApiKey::Name, 120))
            .col(string_len(ApiKey::Role, 20))
            .col(uuid_null(ApiKey::ScopeLocationId))
            .col(string_len_uniq(ApiKey::SecretHash, 64))
            .col(string_len(ApiKey::Prefix, 16))
            .col(uuid_null(ApiKey::CreatedBy))
            .col(big_integer(ApiKey::CreatedAt))
            .col(big_integer_null(ApiKey::RevokedAt))
            .foreign_key(&mut fk(
                ApiKey::Table,
                ApiKey::ScopeLocationId,
                Location::Table,
                Location::Id,
            ))
            .to_owned(),
        // Experiences. Raw texts and their redacted copies side by side; `payload_hash`
        // decides whether a retry with the same request_id is the same request.
        Table::create()
            .table(Feedback::Table)
            .col(pk_uuid(Feedback::Id))
            .col(uuid(Feedback::LocationId))
            .col(string_len(Feedback::Channel, 20))
            .col(string_len(Feedback::Audience, 20))
            .col(string_len(Feedback::Satisfaction, 10))
            .col(small_integer_null(Feedback::Nps))
            .col(small_integer_null(Feedback::Effort))
            .col(text(Feedback::Title))
            .col(text(Feedback::Story))
            .col(text(Feedback::Proposal))
            .col(text(Feedback::RedactedTitle))
            .col(text(Feedback::RedactedStory))
            .col(text(Feedback::RedactedProposal))
            .col(string_len(Feedback::PersonalData, 200))
            .col(string_len(Feedback::Procedure, 200))
            .col(string_len_null(Feedback::OccurredOn, 10))
            .col(string_len(Feedback::Pseudonym, 60))
            .col(string_len_null(Feedback::ContactEmail, 254))
            .col(big_integer_null(Feedback::ContactErasedAt))
            .col(string_len(Feedback::Status, 12))
            .col(string_len_null(Feedback::RejectReason, 16))
            .col(uuid(Feedback::ApiKeyId))
            .col(string_len_null(Feedback::RequestId, 128))
            .col(string_len(Feedback::PayloadHash, 64))
            .col(big_integer(Feedback::SubmittedAt))
            .col(big_integer(Feedback::UpdatedAt))
            .foreign_key(&mut fk(
                Feedback::Table,
                Feedback::LocationId,
                Location::Table,
                Location::Id,
            ))
            .foreign_key(&mut fk(
                Feedback::Table,
                Feedback::ApiKeyId,
                ApiKey::Table,
                ApiKey::Id,
            ))
            .to_owned(),
        // General SP+ tags (upper case) and free business labels (lower case).
        Table::create()
            .table(FeedbackTag::Table)
            .col(uuid(FeedbackTag::FeedbackId))
            .col(string_len(FeedbackTag::Tag, 40))
            .primary_key(
                Index::create()
                    .col(FeedbackTag::FeedbackId)
                    .col(FeedbackTag::Tag),
            )
            .foreign_key(&mut fk(
                FeedbackTag::Table,
                FeedbackTag::FeedbackId,
                Feedback::Table,
                Feedback::Id,
            ))
            .to_owned(),
        Table::create()
            .table(FeedbackReassignment::Table)
            .col(pk_uuid(FeedbackReassignment::Id))
            .col(uuid(FeedbackReassignment::FeedbackId))
            .col(uuid(FeedbackReassignment::FromLocationId))
            .col(uuid(FeedbackReassignment::ToLocationId))
            .col(uuid(FeedbackReassignment::ApiKeyId))
            .col(text(FeedbackReassignment::Note))
            .col(big_integer(FeedbackReassignment::CreatedAt))
            .foreign_key(&mut fk(
                FeedbackReassignment::Table,
                FeedbackReassignment::FeedbackId,
                Feedback::Table,
                Feedback::Id,
            ))
            .to_owned(),
        Table::create()
            .table(ModerationDecision::Table)
            .col(pk_uuid(ModerationDecision::Id))
            .col(uuid(ModerationDecision::FeedbackId))
            .col(string_len(ModerationDecision::Decision, 12))
            .col(string_len_null(ModerationDecision::RejectReason, 16))
            .col(uuid(ModerationDecision::ApiKeyId))
            .col(text(ModerationDecision::Note))
            .col(big_integer(ModerationDecision::CreatedAt))
            .foreign_key(&mut fk(
                ModerationDecision::Table,
                ModerationDecision::FeedbackId,
                Feedback::Table,
                Feedback::Id,
            ))
            .to_owned(),
        // Answers: one per (experience, answering location), draft then published.
        Table::create()
            .table(Response::Table)
            .col(pk_uuid(Response::Id))
            .col(uuid(Response::FeedbackId))
            .col(uuid(Response::LocationId))
            .col(string_len(Response::Author, 120))
            .col(text(Response::Body))
            .col(string_len(Response::Status, 12))
            .col(uuid(Response::ApiKeyId))
            .col(big_integer(Response::CreatedAt))
            .col(big_integer(Response::UpdatedAt))
            .col(big_integer_null(Response::PublishedAt))
            .foreign_key(&mut fk(
                Response::Table,
                Response::FeedbackId,
                Feedback::Table,
                Feedback::Id,
            ))
            .foreign_key(&mut fk(
                Response::Table,
                Response::LocationId,
                Location::Table,
                Location::Id,
            ))
            .to_owned(),
        // One vote per hashed voter token and answer.
        Table::create()
            .table(ResponseVote::Table)
            .col(uuid(ResponseVote::ResponseId))
            .col(string_len(ResponseVote::VoterHash, 64))
            .col(boolean(ResponseVote::Useful))
            .col(big_integer(ResponseVote::CreatedAt))
            .primary_key(
                Index::create()
                    .col(ResponseVote::ResponseId)
                    .col(ResponseVote::VoterHash),
            )
            .foreign_key(&mut fk(
                ResponseVote::Table,
                ResponseVote::ResponseId,
                Response::Table,
                Response::Id,
            ))
            .to_owned(),
        Table::create()
            .table(Comment::Table)
            .col(pk_uuid(Comment::Id))
            .col(uuid(Comment::FeedbackId))
            .col(uuid(Comment::ApiKeyId))
            .col(string_len(Comment::Author, 120))
            .col(text(Comment::Body))
            .col(big_integer(Comment::CreatedAt))
            .foreign_key(&mut fk(
                Comment::Table,
                Comment::FeedbackId,
                Feedback::Table,
                Feedback::Id,
            ))
            .to_owned(),
        // Services Publics + engagements (reference data, titles editable by ADMIN).
        Table::create()
            .table(Engagement::Table)
            .col(string_len(Engagement::Code, 8).primary_key())
            .col(string_len(Engagement::Pillar, 40))
            .col(text(Engagement::Title))
            .col(integer(Engagement::Position))
            .col(big_integer(Engagement::UpdatedAt))
            .to_owned(),
        Table::create()
            .table(Action::Table)
            .col(pk_uuid(Action::Id))
            .col(uuid(Action::LocationId))
            .col(string_len(Action::Title, 200))
            .col(text(Action::Description))
            .col(string_len(Action::EngagementCode, 8))
            .col(string_len(Action::Status, 12))
            .col(integer(Action::Progress))
            .col(uuid_null(Action::ParentId))
            .col(integer(Action::Weight))
            .col(string_len(Action::Owner, 120))
            .col(string_len_null(Action::DueOn, 10))
            .col(boolean(Action::Public))
            .col(string_len_null(Action::DoneOn, 10))
            .col(big_integer(Action::CreatedAt))
            .col(big_integer(Action::UpdatedAt))
            .foreign_key(&mut fk(
                Action::Table,
                Action::LocationId,
                Location::Table,
                Location::Id,
            ))
            .foreign_key(&mut fk(
                Action::Table,
                Action::EngagementCode,
                Engagement::Table,
                Engagement::Code,
            ))
            .foreign_key(&mut fk(
                Action::Table,
                Action::ParentId,
                Action::Table,
                Action::Id,
            ))
            .to_owned(),
        Table::create()
            .table(ActionFeedback::Table)
            .col(uuid(ActionFeedback::ActionId))
            .col(uuid(ActionFeedback::FeedbackId))
            .col(big_integer(ActionFeedback::CreatedAt))
            .primary_key(
                Index::create()
                    .col(ActionFeedback::ActionId)
                    .col(ActionFeedback::FeedbackId),
            )
            .foreign_key(&mut fk(
                ActionFeedback::Table,
                ActionFeedback::ActionId,
                Action::Table,
                Action::Id,
            ))
            .foreign_key(&mut fk(
                ActionFeedback::Table,
                ActionFeedback::FeedbackId,
                Feedback::Table,
                Feedback::Id,
            ))
            .to_owned(),
        Table::create()
            .table(ActionEvent::Table)
            .col(pk_uuid(ActionEvent::Id))
            .col(uuid(ActionEvent::ActionId))
            .col(uuid(ActionEvent::ApiKeyId))
            .col(string_len(ActionEvent::Actor, 120))
            .col(string_len(ActionEvent::Field, 40))
            .col(text(ActionEvent::FromValue))
            .col(text(ActionEvent::ToValue))
            .col(text(ActionEvent::Note))
            .col(big_integer(ActionEvent::CreatedAt))
            .foreign_key(&mut fk(
                ActionEvent::Table,
                ActionEvent::ActionId,
                Action::Table,
                Action::Id,
            ))
            .to_owned(),
        // The indicator catalogue: the current definition, and every version of it.
        Table::create()
            .table(Indicator::Table)
            .col(string_len(Indicator::Code, 64).primary_key())
            .col(string_len(Indicator::Kind, 10))
            .col(string_len(Indicator::Title, 200))
            .col(string_len(Indicator::Unit, 20))
            .col(string_len(Indicator::Direction, 20))
            .col(string_len(Indicator::Frequency, 12))
            .col(text(Indicator::Methodology))
            .col(integer(Indicator::Version))
            .col(big_integer(Indicator::UpdatedAt))
            .to_owned(),
        Table::create()
            .table(IndicatorVersion::Table)
            .col(string_len(IndicatorVersion::Code, 64))
            .col(integer(IndicatorVersion::Version))
            .col(string_len(IndicatorVersion::Title, 200))
            .col(string_len(IndicatorVersion::Unit, 20))
            .col(string_len(IndicatorVersion::Direction, 20))
            .col(string_len(IndicatorVersion::Frequency, 12))
            .col(text(IndicatorVersion::Methodology))
            .col(big_integer(IndicatorVersion::CreatedAt))
            .primary_key(
                Index::create()
                    .col(IndicatorVersion::Code)
                    .col(IndicatorVersion::Version),
            )
            .foreign_key(&mut fk(
                IndicatorVersion::Table,
                IndicatorVersion::Code,
                Indicator::Table,
                Indicator::Code,
            ))
            .to_owned(),
        // Reported indicators: one measurement per indicator, location and period.
        Table::create()
            .table(Measurement::Table)
            .col(pk_uuid(Measurement::Id))
            .col(string_len(Measurement::IndicatorCode, 64))
            .col(integer(Measurement::IndicatorVersion))
            .col(uuid(Measurement::LocationId))
            .col(string_len(Measurement::Period, 7))
            .col(double(Measurement::Value))
            .col(big_integer_null(Measurement::SampleSize))
            .col(double_null(Measurement::Target))
            .col(uuid(Measurement::ApiKeyId))
            .col(big_integer(Measurement::RecordedAt))
            .foreign_key(&mut fk(
                Measurement::Table,
                Measurement::IndicatorCode,
                Indicator::Table,
                Indicator::Code,
            ))
            .foreign_key(&mut fk(
                Measurement::Table,
                Measurement::LocationId,
                Location::Table,
                Location::Id,
            ))
            .to_owned(),
        // Monthly results per location; `scope` is SELF (the location's own experiences) or
        // SUBTREE (the rollup over its whole subtree, computed from raw rows).
        Table::create()
            .table(Aggregate::Table)
            .col(uuid(Aggregate::LocationId))
            .col(string_len(Aggregate::Period, 7))
            .col(string_len(Aggregate::Scope, 8))
            .col(string_len(Aggregate::IndicatorCode, 64))
            .col(integer(Aggregate::IndicatorVersion))
            .col(double_null(Aggregate::Value))
            .col(big_integer(Aggregate::SampleSize))
            .col(double_null(Aggregate::CiLow))
            .col(double_null(Aggregate::CiHigh))
            .col(boolean(Aggregate::Suppressed))
            .col(uuid(Aggregate::JobRunId))
            .col(big_integer(Aggregate::ComputedAt))
            .primary_key(
                Index::create()
                    .col(Aggregate::LocationId)
                    .col(Aggregate::Period)
                    .col(Aggregate::Scope)
                    .col(Aggregate::IndicatorCode),
            )
            .foreign_key(&mut fk(
                Aggregate::Table,
                Aggregate::LocationId,
                Location::Table,
                Location::Id,
            ))
            .to_owned(),
        Table::create()
            .table(Report::Table)
            .col(pk_uuid(Report::Id))
            .col(uuid(Report::LocationId))
            .col(string_len(Report::Period, 7))
            .col(string_len(Report::Kind, 10))
            .col(text(Report::Path))
            .col(string_len(Report::Sha256, 64))
            .col(big_integer(Report::SizeBytes))
            .col(big_integer(Report::CreatedAt))
            .foreign_key(&mut fk(
                Report::Table,
                Report::LocationId,
                Location::Table,
                Location::Id,
            ))
            .to_owned(),
        Table::create()
            .table(JobRun::Table)
            .col(pk_uuid(JobRun::Id))
            .col(string_len(JobRun::Period, 7))
            .col(string_len(JobRun::Step, 20))
            .col(string_len(JobRun::Status, 12))
            .col(string_len(JobRun::Holder, 120))
            .col(big_integer(JobRun::StartedAt))
            .col(big_integer_null(JobRun::FinishedAt))
            .col(text_null(JobRun::Error))
            .to_owned(),
        // Leases that keep two job workers off the same period (expiring, so a crashed worker
        // does not block the next one forever).
        Table::create()
            .table(JobLease::Table)
            .col(string_len(JobLease::Name, 120).primary_key())
            .col(string_len(JobLease::Holder, 120))
            .col(big_integer(JobLease::AcquiredAt))
            .col(big_integer(JobLease::ExpiresAt))
            .to_owned(),
        Table::create()
            .table(Recipient::Table)
            .col(pk_uuid(Recipient::Id))
            .col(string_len(Recipient::Email, 254))
            .col(string_len(Recipient::Name, 120))
            .col(uuid(Recipient::LocationId))
            .col(big_integer(Recipient::CreatedAt))
            .foreign_key(&mut fk(
                Recipient::Table,
                Recipient::LocationId,
                Location::Table,
                Location::Id,
            ))
            .to_owned(),
        Table::create()
            .table(Delivery::Table)
            .col(pk_uuid(Delivery::Id))
            .col(uuid(Delivery::RecipientId))
            .col(uuid(Delivery::ReportId))
            .col(string_len(Delivery::Sha256, 64))
            .col(string_len(Delivery::Method, 10))
            .col(big_integer(Delivery::DeliveredAt))
            .foreign_key(&mut fk(
                Delivery::Table,
                Delivery::RecipientId,
                Recipient::Table,
                Recipient::Id,
            ))
            .foreign_key(&mut fk(
                Delivery::Table,
                Delivery::ReportId,
                Report::Table,
                Report::Id,
            ))
            .to_owned(),
        // Who did what: moderation, publication, reassignment, erasure, key changes, …
        Table::create()
            .table(AuditLog::Table)
            .col(pk_uuid(AuditLog::Id))
            .col(big_integer(AuditLog::At))
            .col(uuid_null(AuditLog::ApiKeyId))
            .col(string_len(AuditLog::Actor, 120))
            .col(string_len(AuditLog::Action, 40))
            .col(string_len(AuditLog::TargetType, 20))
            .col(string_len(AuditLog::TargetId, 64))
            .col(text(AuditLog::Details))
            .to_owned(),
    ]
}

fn index(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut stmt = Index::create().name(name).table(table).to_owned();
    for col in cols {
        stmt.col(col);
    }
    stmt
}

fn unique(name: &str, table: impl IntoIden, cols: Vec<DynIden>) -> IndexCreateStatement {
    let mut stmt = index(name, table, cols);
    stmt.unique();
    stmt
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "ix_location_parent",
            Location::Table,
            vec![Location::ParentId.into_iden()],
        ),
        index(
            "ix_location_closure_descendant",
            LocationClosure::Table,
            vec![
                LocationClosure::DescendantId.into_iden(),
                LocationClosure::Depth.into_iden(),
            ],
        ),
        // The idempotency rule: a request_id is unique per API key. NULL request ids (no
        // idempotency asked) never collide.
        unique(
            "ux_feedback_key_request",
            Feedback::Table,
            vec![
                Feedback::ApiKeyId.into_iden(),
                Feedback::RequestId.into_iden(),
            ],
        ),
        // Listing and aggregation by location and period; keyset pagination on
        // (submitted_at, id).
        index(
            "ix_feedback_location_submitted",
            Feedback::Table,
            vec![
                Feedback::LocationId.into_iden(),
                Feedback::SubmittedAt.into_iden(),
                Feedback::Id.into_iden(),
            ],
        ),
        index(
            "ix_feedback_submitted",
            Feedback::Table,
            vec![Feedback::SubmittedAt.into_iden(), Feedback::Id.into_iden()],
        ),
        index(
            "ix_feedback_status_submitted",
            Feedback::Table,
            vec![
                Feedback::Status.into_iden(),
                Feedback::SubmittedAt.into_iden(),
            ],
        ),
        index(
            "ix_feedback_tag_tag",
            FeedbackTag::Table,
            vec![
                FeedbackTag::Tag.into_iden(),
                FeedbackTag::FeedbackId.into_iden(),
            ],
        ),
        index(
            "ix_feedback_reassignment_feedback",
            FeedbackReassignment::Table,
            vec![FeedbackReassignment::FeedbackId.into_iden()],
        ),
        index(
            "ix_moderation_decision_feedback",
            ModerationDecision::Table,
            vec![ModerationDecision::FeedbackId.into_iden()],
        ),
        unique(
            "ux_response_feedback_location",
            Response::Table,
            vec![
                Response::FeedbackId.into_iden(),
                Response::LocationId.into_iden(),
            ],
        ),
        index(
            "ix_response_location_status",
            Response::Table,
            vec![
                Response::LocationId.into_iden(),
                Response::Status.into_iden(),
            ],
        ),
        index(
            "ix_comment_feedback",
            Comment::Table,
            vec![
                Comment::FeedbackId.into_iden(),
                Comment::CreatedAt.into_iden(),
            ],
        ),
        index(
            "ix_action_location_status",
            Action::Table,
            vec![Action::LocationId.into_iden(), Action::Status.into_iden()],
        ),
        index(
            "ix_action_parent",
            Action::Table,
            vec![Action::ParentId.into_iden()],
        ),
        index(
            "ix_action_feedback_feedback",
            ActionFeedback::Table,
            vec![ActionFeedback::FeedbackId.into_iden()],
        ),
        index(
            "ix_action_event_action",
            ActionEvent::Table,
            vec![
                ActionEvent::ActionId.into_iden(),
                ActionEvent::CreatedAt.into_iden(),
            ],
        ),
        unique(
            "ux_measurement_indicator_location_period",
            Measurement::Table,
            vec![
                Measurement::IndicatorCode.into_iden(),
                Measurement::LocationId.into_iden(),
                Measurement::Period.into_iden(),
            ],
        ),
        index(
            "ix_measurement_location_period",
            Measurement::Table,
            vec![
                Measurement::LocationId.into_iden(),
                Measurement::Period.into_iden(),
            ],
        ),
        index(
            "ix_aggregate_period",
            Aggregate::Table,
            vec![Aggregate::Period.into_iden(), Aggregate::Scope.into_iden()],
        ),
        unique(
            "ux_report_location_period_kind",
            Report::Table,
            vec![
                Report::LocationId.into_iden(),
                Report::Period.into_iden(),
                Report::Kind.into_iden(),
            ],
        ),
        index(
            "ix_job_run_period_step",
            JobRun::Table,
            vec![JobRun::Period.into_iden(), JobRun::Step.into_iden()],
        ),
        unique(
            "ux_recipient_email_location",
            Recipient::Table,
            vec![
                Recipient::Email.into_iden(),
                Recipient::LocationId.into_iden(),
            ],
        ),
        // A report version (its SHA-256) is delivered once per recipient.
        unique(
            "ux_delivery_recipient_report_sha",
            Delivery::Table,
            vec![
                Delivery::RecipientId.into_iden(),
                Delivery::ReportId.into_iden(),
                Delivery::Sha256.into_iden(),
            ],
        ),
        index(
            "ix_audit_log_target",
            AuditLog::Table,
            vec![
                AuditLog::TargetType.into_iden(),
                AuditLog::TargetId.into_iden(),
            ],
        ),
        index(
            "ix_audit_log_at",
            AuditLog::Table,
            vec![AuditLog::At.into_iden()],
        ),
        index(
            "ix_api_key_scope",
            ApiKey::Table,
            vec![ApiKey::ScopeLocationId.into_iden()],
        ),
    ]
}

#[derive(DeriveIden)]
enum Location {
    Table,
    Id,
    Code,
    Name,
    Typology,
    ParentId,
    PostalCode,
    City,
    Latitude,
    Longitude,
    ResponseTargetDays,
    MinSample,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LocationClosure {
    Table,
    AncestorId,
    DescendantId,
    Depth,
}

#[derive(DeriveIden)]
enum ApiKey {
    Table,
    Id,
    Name,
    Role,
    ScopeLocationId,
    SecretHash,
    Prefix,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Feedback {
    Table,
    Id,
    LocationId,
    Channel,
    Audience,
    Satisfaction,
    Nps,
    Effort,
    Title,
    Story,
    Proposal,
    RedactedTitle,
    RedactedStory,
    RedactedProposal,
    PersonalData,
    Procedure,
    OccurredOn,
    Pseudonym,
    ContactEmail,
    ContactErasedAt,
    Status,
    RejectReason,
    ApiKeyId,
    RequestId,
    PayloadHash,
    SubmittedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FeedbackTag {
    Table,
    FeedbackId,
    Tag,
}

#[derive(DeriveIden)]
enum FeedbackReassignment {
    Table,
    Id,
    FeedbackId,
    FromLocationId,
    ToLocationId,
    ApiKeyId,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ModerationDecision {
    Table,
    Id,
    FeedbackId,
    Decision,
    RejectReason,
    ApiKeyId,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Response {
    Table,
    Id,
    FeedbackId,
    LocationId,
    Author,
    Body,
    Status,
    ApiKeyId,
    CreatedAt,
    UpdatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum ResponseVote {
    Table,
    ResponseId,
    VoterHash,
    Useful,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Comment {
    Table,
    Id,
    FeedbackId,
    ApiKeyId,
    Author,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Engagement {
    Table,
    Code,
    Pillar,
    Title,
    Position,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Action {
    Table,
    Id,
    LocationId,
    Title,
    Description,
    EngagementCode,
    Status,
    Progress,
    ParentId,
    Weight,
    Owner,
    DueOn,
    Public,
    DoneOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ActionFeedback {
    Table,
    ActionId,
    FeedbackId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ActionEvent {
    Table,
    Id,
    ActionId,
    ApiKeyId,
    Actor,
    Field,
    FromValue,
    ToValue,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Indicator {
    Table,
    Code,
    Kind,
    Title,
    Unit,
    Direction,
    Frequency,
    Methodology,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IndicatorVersion {
    Table,
    Code,
    Version,
    Title,
    Unit,
    Direction,
    Frequency,
    Methodology,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Measurement {
    Table,
    Id,
    IndicatorCode,
    IndicatorVersion,
    LocationId,
    Period,
    Value,
    SampleSize,
    Target,
    ApiKeyId,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Aggregate {
    Table,
    LocationId,
    Period,
    Scope,
    IndicatorCode,
    IndicatorVersion,
    Value,
    SampleSize,
    CiLow,
    CiHigh,
    Suppressed,
    JobRunId,
    ComputedAt,
}

#[derive(DeriveIden)]
enum Report {
    Table,
    Id,
    LocationId,
    Period,
    Kind,
    Path,
    Sha256,
    SizeBytes,
    CreatedAt,
}

#[derive(DeriveIden)]
enum JobRun {
    Table,
    Id,
    Period,
    Step,
    Status,
    Holder,
    StartedAt,
    FinishedAt,
    Error,
}

#[derive(DeriveIden)]
enum JobLease {
    Table,
    Name,
    Holder,
    AcquiredAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Recipient {
    Table,
    Id,
    Email,
    Name,
    LocationId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Delivery {
    Table,
    Id,
    RecipientId,
    ReportId,
    Sha256,
    Method,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    ApiKeyId,
    Actor,
    Action,
    TargetType,
    TargetId,
    Details,
}
