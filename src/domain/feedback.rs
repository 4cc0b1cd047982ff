//! An experience as captured: validated fields, redacted texts, and the fingerprint that
//! makes retries idempotent.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::codes::{Audience, Channel, PersonalDataKind, Satisfaction, Tag};
use super::redaction::{Redacted, redact};

pub const TITLE_MAX: usize = 120;
pub const STORY_MAX: usize = 5_000;
pub const PROPOSAL_MAX: usize = 2_000;
pub const PROCEDURE_MAX: usize = 200;
pub const PSEUDONYM_MAX: usize = 60;
pub const LABELS_MAX: usize = 20;
pub const LABEL_MAX: usize = 40;
pub const REQUEST_ID_MAX: usize = 128;
pub const EMAIL_MAX: usize = 254;

/// How the location of an experience is named by the client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum LocationRef {
    Id(Uuid),
    Code(String),
}

/// A validated experience, before storage. It cannot hold an invalid value: every field
/// went through the parsers below.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NewFeedback {
    pub location: LocationRef,
    pub channel: Channel,
    pub audience: Audience,
    pub satisfaction: Satisfaction,
    pub nps: Option<u8>,
    pub effort: Option<u8>,
    pub title: String,
    pub story: String,
    pub proposal: String,
    pub procedure: String,
    pub tags: BTreeSet<Tag>,
    pub labels: BTreeSet<String>,
    pub occurred_on: Option<NaiveDate>,
    pub pseudonym: String,
    pub contact_email: Option<String>,
    /// Submission instant for imports of past experiences (epoch ms); `None` = now.
    pub submitted_at: Option<i64>,
}

/// The redacted copies of the free texts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedactedTexts {
    pub title: String,
    pub story: String,
    pub proposal: String,
    pub kinds: BTreeSet<PersonalDataKind>,
}

impl NewFeedback {
    /// Detects personal data in every free text. The pseudonym is public too: if it holds
    /// personal data (an e-mail as pseudonym), it is redacted as well.
    pub fn redact(&self) -> (RedactedTexts, String) {
        let Redacted {
            text: title,
            kinds: k1,
        } = redact(&self.title);
        let Redacted {
            text: story,
            kinds: k2,
        } = redact(&self.story);
        let Redacted {
            text: proposal,
            kinds: k3,
        } = redact(&self.proposal);
        let Redacted {
            text: pseudonym,
            kinds: k4,
        } = redact(&self.pseudonym);
        let kinds = k1.into_iter().chain(k2).chain(k3).chain(k4).collect();
        (
            RedactedTexts {
                title,
                story,
                proposal,
                kinds,
            },
            pseudonym,
        )
    }

    /// SHA-256 of the canonical JSON of the validated request: two requests with the same
    /// `request_id` are « the same » when this matches. Computed on validated values, so
    /// whitespace trimming or tag order do not make a retry look different.
    pub fn payload_hash(&self) -> String {
        // Serialising this plain struct cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex::encode(Sha256::digest(json))
    }
}

pub fn nps(value: u32) -> Result<u8, String> {
    u8::try_from(value)
        .ok()
        .filter(|v| *v <= 10)
        .ok_or_else(|| format!("must be between 0 and 10 (got {value})"))
}

pub fn effort(value: u32) -> Result<u8, String> {
    u8::try_from(value)
        .ok()
        .filter(|v| (1..=7).contains(v))
        .ok_or_else(|| format!("must be between 1 (very hard) and 7 (very easy) (got {value})"))
}

/// A free business tag: 1–40 characters among a–z, 0–9 and '-'.
pub fn label(value: &str) -> Result<String, String> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= LABEL_MAX
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(v.to_owned())
    } else {
        Err("must be 1–40 characters among a–z, 0–9 and '-'".into())
    }
}

/// A plausible e-mail address (one `@`, a dotted domain, no spaces), at most 254 characters,
/// stored in lower case.
pub fn email(value: &str) -> Result<Option<String>, String> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let bad = || "must be an e-mail address".to_owned();
    if v.len() > EMAIL_MAX || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && !domain.contains('@');
    if local.is_empty() || !domain_ok {
        return Err(bad());
    }
    Ok(Some(v.to_lowercase()))
}

/// 1–128 printable ASCII characters; empty means « no idempotency asked ».
pub fn request_id(value: &str) -> Result<Option<String>, String> {
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() > REQUEST_ID_MAX || !value.chars().all(|c| c.is_ascii_graphic()) {
        return Err("must be 1–128 printable ASCII characters without spaces".into());
    }
    Ok(Some(value.to_owned()))
}

/// A date of experience, not after `today` (the reporting time zone's date, plus one day of
/// slack for clients east of it).
pub fn occurred_on(value: &str, today: NaiveDate) -> Result<Option<NaiveDate>, String> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    let date = super::validation::date(value)?;
    if date > today + chrono::Duration::days(1) {
        return Err("must not be in the future".into());
    }
    if date < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default() {
        return Err("must not be before 2000-01-01".into());
    }
    Ok(Some(date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> NewFeedback {
        NewFeedback {
            location: LocationRef::Code("CAF-69".into()),
            channel: Channel::InPerson,
            audience: Audience::Usager,
            satisfaction: Satisfaction::Positive,
            nps: Some(9),
            effort: None,
            title: "Accueil".into(),
            story: "Appelez-moi au 06 12 34 56 78".into(),
            proposal: String::new(),
            procedure: String::new(),
            tags: BTreeSet::new(),
            labels: BTreeSet::new(),
            occurred_on: None,
            pseudonym: "Camille".into(),
            contact_email: None,
            submitted_at: None,
        }
    }

    #[test]
    fn nps_and_effort_bounds() {
        assert_eq!(nps(10), Ok(10));
        assert!(nps(11).is_err());
        assert!(effort(0).is_err());
        assert_eq!(effort(7), Ok(7));
        assert!(effort(8).is_err());
    }

    #[test]
    fn payload_hash_changes_with_content_only() {
        let a = sample();
        let mut b = sample();
        assert_eq!(a.payload_hash(), b.payload_hash());
        b.nps = Some(8);
        assert_ne!(a.payload_hash(), b.payload_hash());
    }

    #[test]
    fn redaction_covers_story_and_reports_kinds() {
        let (texts, pseudonym) = sample().redact();
        assert!(!texts.story.contains("56 78"));
        assert!(texts.kinds.contains(&PersonalDataKind::Phone));
        assert_eq!(pseudonym, "Camille");
    }

    #[test]
    fn emails_are_checked_and_lowercased() {
        assert_eq!(email(" A.B@Example.FR "), Ok(Some("a.b@example.fr".into())));
        assert_eq!(email(""), Ok(None));
        for bad in ["a@b", "@b.fr", "a b@c.fr", "a@.fr", "a@b..fr", "a@b.fr."] {
            assert!(email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn occurred_on_refuses_the_future() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
        assert!(occurred_on("2026-11-23", today).is_ok());
        assert!(occurred_on("2026-11-25", today).is_err());
        assert!(occurred_on("2026-02-30", today).is_err());
        assert_eq!(occurred_on("", today), Ok(None));
    }

    proptest! {
        #[test]
        fn labels_accept_exactly_their_alphabet(s in "\\PC{0,50}") {
            let ok = label(&s).is_ok();
            let t = s.trim();
            let expected = !t.is_empty() && t.len() <= 40 && t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            prop_assert_eq!(ok, expected);
        }

        #[test]
        fn request_ids_never_panic(s in "\\PC{0,200}") {
            let _ = request_id(&s);
        }
    }
}
