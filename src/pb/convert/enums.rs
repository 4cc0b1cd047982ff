//! Proto enums (i32 on the wire) to domain enums and back. Each `match` is exhaustive on
//! both sides; UNSPECIFIED and unknown numbers are refused with a message.

use crate::domain::{self, codes::ResponseStatus};
use crate::pb;

fn known<T: TryFrom<i32>>(value: i32) -> Result<T, String> {
    T::try_from(value).map_err(|_| format!("unknown value {value}"))
}

const REQUIRED: &str = "is required";

pub fn channel(value: i32) -> Result<domain::Channel, String> {
    use domain::Channel as D;
    use pb::Channel as P;
    Ok(match known::<P>(value)? {
        P::Unspecified => return Err(REQUIRED.into()),
        P::InPerson => D::InPerson,
        P::Phone => D::Phone,
        P::Online => D::Online,
        P::Email => D::Email,
        P::Mail => D::Mail,
        P::Video => D::Video,
        P::Other => D::Other,
    })
}

/// An audience asked for as a filter: UNSPECIFIED means none (every public).
pub fn audience_filter(value: i32) -> Result<Option<domain::Audience>, String> {
    match known::<pb::Audience>(value)? {
        pb::Audience::Unspecified => Ok(None),
        _ => audience(value).map(Some),
    }
}

pub fn channel_to_pb(value: domain::Channel) -> pb::Channel {
    use domain::Channel as D;
    use pb::Channel as P;
    match value {
        D::InPerson => P::InPerson,
        D::Phone => P::Phone,
        D::Online => P::Online,
        D::Email => P::Email,
        D::Mail => P::Mail,
        D::Video => P::Video,
        D::Other => P::Other,
    }
}

/// UNSPECIFIED means USAGER: most experiences come from usagers, and channels that do not
/// ask (a kiosk) should not have to say it.
pub fn audience(value: i32) -> Result<domain::Audience, String> {
    use domain::Audience as D;
    use pb::Audience as P;
    Ok(match known::<P>(value)? {
        P::Unspecified | P::Usager => D::Usager,
        P::Professional => D::Professional,
        P::Partner => D::Partner,
        P::Volunteer => D::Volunteer,
        P::Donor => D::Donor,
        P::Patient => D::Patient,
        P::Agent => D::Agent,
    })
}

pub fn audience_to_pb(value: domain::Audience) -> pb::Audience {
    use domain::Audience as D;
    use pb::Audience as P;
    match value {
        D::Usager => P::Usager,
        D::Professional => P::Professional,
        D::Partner => P::Partner,
        D::Volunteer => P::Volunteer,
        D::Donor => P::Donor,
        D::Patient => P::Patient,
        D::Agent => P::Agent,
    }
}

pub fn satisfaction(value: i32) -> Result<domain::Satisfaction, String> {
    use domain::Satisfaction as D;
    use pb::Satisfaction as P;
    Ok(match known::<P>(value)? {
        P::Unspecified => return Err(REQUIRED.into()),
        P::Negative => D::Negative,
        P::Neutral => D::Neutral,
        P::Positive => D::Positive,
    })
}

pub fn satisfaction_to_pb(value: domain::Satisfaction) -> pb::Satisfaction {
    use domain::Satisfaction as D;
    use pb::Satisfaction as P;
    match value {
        D::Negative => P::Negative,
        D::Neutral => P::Neutral,
        D::Positive => P::Positive,
    }
}

pub fn tag(value: i32) -> Result<domain::Tag, String> {
    use domain::Tag as D;
    use pb::Tag as P;
    Ok(match known::<P>(value)? {
        P::Unspecified => return Err(REQUIRED.into()),
        P::Accessibility => D::Accessibility,
        P::Information => D::Information,
        P::Relation => D::Relation,
        P::Reactivity => D::Reactivity,
        P::Simplicity => D::Simplicity,
    })
}

pub fn tag_to_pb(value: domain::Tag) -> pb::Tag {
    use domain::Tag as D;
    use pb::Tag as P;
    match value {
        D::Accessibility => P::Accessibility,
        D::Information => P::Information,
        D::Relation => P::Relation,
        D::Reactivity => P::Reactivity,
        D::Simplicity => P::Simplicity,
    }
}

pub fn moderation_status(value: i32) -> Result<domain::ModerationStatus, String> {
    use domain::ModerationStatus as D;
    use pb::ModerationStatus as P;
    Ok(match known::<P>(value)? {
        P::Unspecified => return Err(REQUIRED.into()),
        P::Pending => D::Pending,
        P::Published => D::Published,
        P::Rejected => D::Rejected,
    })
}

pub fn moderation_status_to_pb(value: domain::ModerationStatus) -> pb::ModerationStatus {
    use domain::ModerationStatus as D;
    use pb::ModerationStatus as P;
    match value {
        D::Pending => P::Pending,
        D::Published => P::Published,
        D::Rejected => P::Rejected,
    }
}

pub fn reject_reason(value: i32) -> Result<domain::RejectReason, String> {
    use domain::RejectReason as D;
    use pb::RejectReason as P;
    Ok(match known::<P>(value)? {
        P::Unspecified => return Err(REQUIRED.into()),
        P::Abusive => D::Abusive,
        P::PersonalData => D::PersonalData,
        P::OutOfScope => D::OutOfScope,
        P::Spam => D::Spam,
        P::Duplicate => D::Duplicate,
    })
}

pub fn reject_reason_to_pb(value: domain::RejectReason) -> pb::RejectReason {
    use domain::RejectReason as D;
    use pb::RejectReason as P;
    match value {
        D::Abusive => P::Abusive,
        D::PersonalData => P::PersonalData,
        D::OutOfScope => P::OutOfScope,
        D::Spam => P::Spam,
        D::Duplicate => P::Duplicate,
    }
}

pub fn personal_data_to_pb(value: domain::PersonalDataKind) -> pb::PersonalDataKind {
    use domain::PersonalDataKind as D;
    use pb::PersonalDataKind as P;
    match value {
        D::Email => P::Email,
        D::Phone => P::Phone,
        D::Nir => P::Nir,
        D::Iban => P::Iban,
        D::Card => P::Card,
        D::PostalAddress => P::PostalAddress,
    }
}

pub fn role(value: i32) -> Result<domain::Role, String> {
    use domain::Role as D;
    use pb::Role as P;
    Ok(match known::<P>(value)? {
        P::Unspecified => return Err(REQUIRED.into()),
        P::Collector => D::Collector,
        P::Agent => D::Agent,
        P::Validator => D::Validator,
        P::Moderator => D::Moderator,
        P::Admin => D::Admin,
    })
}

pub fn role_to_pb(value: domain::Role) -> pb::Role {
    use domain::Role as D;
    use pb::Role as P;
    match value {
        D::Collector => P::Collector,
        D::Agent => P::Agent,
        D::Validator => P::Validator,
        D::Moderator => P::Moderator,
        D::Admin => P::Admin,
    }
}

pub fn response_status_to_pb(value: ResponseStatus) -> pb::ResponseStatus {
    match value {
        ResponseStatus::Draft => pb::ResponseStatus::Draft,
        ResponseStatus::Published => pb::ResponseStatus::Published,
    }
}

/// An optional enum filter: UNSPECIFIED means « no filter ».
pub fn filter<T>(
    value: i32,
    parse: impl Fn(i32) -> Result<T, String>,
) -> Result<Option<T>, String> {
    if value == 0 {
        Ok(None)
    } else {
        parse(value).map(Some)
    }
}

pub fn action_status(value: i32) -> Result<domain::ActionStatus, String> {
    use domain::ActionStatus as D;
    use pb::ActionStatus as P;
    Ok(match known::<P>(value)? {
        P::Unspecified => return Err(REQUIRED.into()),
        P::Planned => D::Planned,
        P::InProgress => D::InProgress,
        P::Done => D::Done,
        P::Abandoned => D::Abandoned,
    })
}

pub fn action_status_to_pb(value: domain::ActionStatus) -> pb::ActionStatus {
    use domain::ActionStatus as D;
    use pb::ActionStatus as P;
    match value {
        D::Planned => P::Planned,
        D::InProgress => P::InProgress,
        D::Done => P::Done,
        D::Abandoned => P::Abandoned,
    }
}
