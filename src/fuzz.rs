//! Fuzzing at scale of everything a request's bytes reach before the database: request
//! validation (experiences, actions), personal-data redaction, period parsing and page
//! tokens. Each target runs `BOUCLE_FUZZ_CASES` generated inputs (default 5,000 each, the
//! quick version in the test suite; RELIABILITY.md gives the long run) and prints how many ran
//! with zero panics. A panic or a broken invariant fails the test with the shrunk input.

use chrono::NaiveDate;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::domain::Period;
use crate::domain::page::decode_token;
use crate::domain::redaction::redact;
use crate::pb;
use crate::pb::convert::{SubmitTime, new_action, new_feedback};

fn cases() -> u32 {
    std::env::var("BOUCLE_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(5_000)
}

/// Runs `test` over `cases()` inputs of `strategy`; panics are failures too.
fn fuzz<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), String>) {
    let cases = cases();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&strategy, |value| {
        test(value).map_err(proptest::test_runner::TestCaseError::fail)
    });
    if let Err(e) = outcome {
        panic!("fuzz target {name}: {e}");
    }
    println!("fuzz {name}: {cases} inputs, 0 panics, invariants held");
}

/// Text as clients may send it: any Unicode, control characters, very long runs, and
/// strings that look like what validators look for.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "\\PC{0,80}",
        2 => any::<String>(),
        1 => "[ \\t\\n]{0,5}",
        1 => "[a-z0-9-]{1,70}",
        // Around the longest text limit (5,000 characters): one character repeated is cheap
        // to generate and shrink, unlike 5,000 random ones.
        1 => ("\\PC", 4990..5010usize).prop_map(|(c, n)| c.repeat(n)),
        1 => Just("0612345678 jean.dupont@example.org FR7630006000011234567890189".to_owned()),
    ]
}

/// Enum values: the declared ones, just outside, and anything.
fn enum_value() -> impl Strategy<Value = i32> {
    prop_oneof![4 => 0..12i32, 1 => any::<i32>()]
}

fn timestamp() -> impl Strategy<Value = Option<prost_types::Timestamp>> {
    proptest::option::of(
        (any::<i64>(), any::<i32>())
            .prop_map(|(seconds, nanos)| prost_types::Timestamp { seconds, nanos }),
    )
}

fn feedback() -> impl Strategy<Value = pb::Feedback> {
    (
        (text(), text(), enum_value(), enum_value(), enum_value()),
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of(0..12u32),
        ),
        (text(), text(), text(), text()),
        (
            proptest::collection::vec(enum_value(), 0..6),
            proptest::collection::vec(text(), 0..25),
        ),
        (text(), text(), text(), timestamp()),
    )
        .prop_map(
            |(
                (location_id, location_code, channel, audience, satisfaction),
                (nps, effort),
                (title, story, proposal, procedure),
                (tags, labels),
                (occurred_on, pseudonym, contact_email, submit_time),
            )| pb::Feedback {
                location_id,
                location_code,
                channel,
                audience,
                satisfaction,
                nps,
                effort,
                title,
                story,
                proposal,
                procedure,
                tags,
                labels,
                occurred_on,
                pseudonym,
                contact_email,
                submit_time,
                ..Default::default()
            },
        )
}

fn action() -> impl Strategy<Value = pb::Action> {
    (
        (text(), text(), text(), text(), enum_value()),
        (
            any::<u32>(),
            text(),
            text(),
            text(),
            any::<u32>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (location_id, title, description, engagement_code, status),
                (progress, owner, due_on, parent_id, weight, public),
            )| pb::Action {
                location_id,
                title,
                description,
                engagement_code,
                status,
                progress,
                owner,
                due_on,
                parent_id,
                weight,
                public,
                ..Default::default()
            },
        )
}

#[test]
fn experience_validation_never_panics_and_bounds_what_it_accepts() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
    fuzz(
        "SubmitFeedback/ImportFeedback validation",
        (feedback(), any::<bool>()),
        |(f, imported)| {
            let when = if imported {
                SubmitTime::Imported {
                    now_ms: 1_795_000_000_000,
                }
            } else {
                SubmitTime::ServerClock
            };
            if let Ok(v) = new_feedback(f, "feedback", today, when) {
                let limit = crate::domain::feedback::STORY_MAX;
                if v.story.chars().count() > limit {
                    return Err(format!("a story over {limit} characters was accepted"));
                }
                if v.nps.is_some_and(|n| n > 10) || v.effort.is_some_and(|e| !(1..=5).contains(&e))
                {
                    return Err("a score out of range was accepted".into());
                }
            }
            Ok(())
        },
    );
}

#[test]
fn action_validation_never_panics() {
    fuzz("CreateAction validation", action(), |a| {
        if let Ok(v) = new_action(a)
            && v.title.trim().is_empty()
        {
            return Err("an action without a title was accepted".into());
        }
        Ok(())
    });
}

#[test]
fn redaction_never_panics_is_idempotent_and_removes_what_it_is_given() {
    let pii = prop_oneof![
        "[a-z]{1,12}(\\.[a-z]{1,8})?@[a-z]{2,10}\\.(fr|com|org)",
        "0[67]( |\\.|-|)[0-9]{2}( |\\.|-|)[0-9]{2}( |\\.|-|)[0-9]{2}( |\\.|-|)[0-9]{2}",
    ];
    fuzz(
        "personal-data redaction",
        (text(), pii, text()),
        |(before, secret, after)| {
            let input = format!("{before} {secret} {after}");
            let once = redact(&input);
            if once.text.contains(&secret) {
                return Err(format!("{secret:?} survived: {:?}", once.text));
            }
            let twice = redact(&once.text);
            if twice.text != once.text {
                return Err("redaction is not idempotent".into());
            }
            // Text alone: never panics, never grows without bound.
            let plain = redact(&before);
            if plain.text.len() > before.len() * 4 + 64 {
                return Err("redaction blew the text up".into());
            }
            Ok(())
        },
    );
}

#[test]
fn period_parsing_never_panics_and_round_trips() {
    let candidates = prop_oneof!["\\PC{0,12}", "[0-9]{1,5}-[0-9]{1,3}", "-?[0-9]{4}-[0-9]{2}",];
    fuzz("period parsing", candidates, |s| {
        if let Ok(p) = s.parse::<Period>() {
            let again: Period = p
                .to_string()
                .parse()
                .map_err(|e| format!("{p} does not parse back: {e}"))?;
            if again != p {
                return Err(format!("{s:?} → {p} → {again}"));
            }
            let (start, end) = p.bounds_ms(chrono_tz::Europe::Paris);
            if start >= end {
                return Err(format!("{p} has empty bounds"));
            }
        }
        Ok(())
    });
}

#[test]
fn page_tokens_never_panic() {
    let tokens = prop_oneof!["\\PC{0,120}", "[A-Za-z0-9_-]{0,200}"];
    fuzz("page tokens", tokens, |s| {
        let _ = decode_token::<(i64, uuid::Uuid)>(&s, "listing");
        Ok(())
    });
}
