//! Field violations, collected so that a client learns every problem of a request at once.

use std::fmt;

/// One invalid field: `field` is the request path (`feedback.nps`), `description` says what a
/// valid value looks like.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub field: String,
    pub description: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            description: description.into(),
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.description)
    }
}

/// Accumulates violations while a request is parsed into domain types.
#[derive(Debug, Default)]
pub struct Violations {
    prefix: String,
    list: Vec<Violation>,
}

impl Violations {
    /// Violations whose fields are reported under `prefix` (e.g. `feedback`).
    pub fn under(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
            list: Vec::new(),
        }
    }

    fn path(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{}", self.prefix, field)
        }
    }

    pub fn add(&mut self, field: &str, description: impl Into<String>) {
        let path = self.path(field);
        self.list.push(Violation::new(path, description));
    }

    /// Keeps the value of a successful parse, records the violation of a failed one.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(description) => {
                self.add(field, description);
                None
            }
        }
    }

    /// Takes the violations of another collector (already prefixed by it).
    pub fn absorb(&mut self, other: Violations) {
        self.list.extend(other.list);
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// `Ok(value)` when nothing was recorded, the violations otherwise.
    pub fn finish<T>(self, value: impl FnOnce() -> Option<T>) -> Result<T, crate::Error> {
        if self.list.is_empty() {
            value().ok_or_else(|| crate::Error::Internal("parse produced no value".into()))
        } else {
            Err(crate::Error::InvalidArgument(self.list))
        }
    }

    pub fn into_error(self) -> Option<crate::Error> {
        (!self.list.is_empty()).then_some(crate::Error::InvalidArgument(self.list))
    }
}

/// Checks the length of a free text in characters (not bytes: « é » counts once) and
/// refuses control characters other than line breaks and tabs.
pub fn text(value: &str, max_chars: usize, required: bool) -> Result<String, String> {
    let trimmed = value.trim();
    if required && trimmed.is_empty() {
        return Err("is required".into());
    }
    let count = trimmed.chars().count();
    if count > max_chars {
        return Err(format!(
            "must be at most {max_chars} characters (got {count})"
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("must not contain control characters".into());
    }
    Ok(trimmed.to_owned())
}

/// Parses a UUID given as text; `field_name` is only used in the message.
pub fn uuid(value: &str) -> Result<uuid::Uuid, String> {
    uuid::Uuid::parse_str(value.trim()).map_err(|_| "must be a UUID".to_owned())
}

/// An optional UUID: empty means none.
pub fn optional_uuid(value: &str) -> Result<Option<uuid::Uuid>, String> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        uuid(value).map(Some)
    }
}

/// Parses an ISO date `YYYY-MM-DD`.
pub fn date(value: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| "must be a date YYYY-MM-DD".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_counts_characters_not_bytes() {
        assert!(text(&"é".repeat(120), 120, false).is_ok());
        assert!(text(&"é".repeat(121), 120, false).is_err());
    }

    #[test]
    fn required_text_refuses_blank() {
        assert!(text("   ", 10, true).is_err());
        assert_eq!(text("  ok ", 10, true), Ok("ok".into()));
    }

    #[test]
    fn text_refuses_control_characters_but_keeps_line_breaks() {
        assert!(text("a\u{0}b", 10, false).is_err());
        assert!(text("a\nb\tc", 10, false).is_ok());
    }

    #[test]
    fn violations_are_reported_under_their_prefix() {
        let mut v = Violations::under("feedback");
        v.add("nps", "must be between 0 and 10");
        let Some(crate::Error::InvalidArgument(list)) = v.into_error() else {
            panic!("expected violations");
        };
        assert_eq!(list[0].field, "feedback.nps");
    }
}
