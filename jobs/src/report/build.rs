//! Building a report's content from the inputs loaded for its batch
//! ([`boucle::store::report_inputs`] selects the rows; every presentation choice — labels,
//! which verbatim of each feeling, orders, rankings — is made here, deterministically), so
//! that rendering stays pure and this step needs no database.

use std::collections::HashMap;

use boucle::domain::codes::Direction;
use boucle::domain::indicators::{RankKey, rank_order};
use boucle::domain::redaction::public_text;
use boucle::domain::{ActionStatus, Channel, Period, Satisfaction};
use boucle::store::Store;
use boucle::store::aggregates::StoredFigure;
use boucle::store::indicators::Catalogue;
use boucle::store::locations::LocationView;
use boucle::store::report_inputs::ReportInputs;
use chrono_tz::Tz;
use uuid::Uuid;

use super::model::*;
use crate::JobError;

/// What every report of a run shares: the locations and the catalogue.
pub struct Context {
    pub locations: HashMap<Uuid, LocationView>,
    pub children: HashMap<Uuid, Vec<Uuid>>,
    pub catalogue: std::sync::Arc<Catalogue>,
    pub tz: Tz,
}

impl Context {
    /// Loads every location: a report of a subtree still names the ancestors above it.
    pub async fn load(store: &Store, tz: Tz) -> Result<Self, JobError> {
        let all = store.locations_for_aggregation(None).await?;
        let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for l in &all {
            if let Some(parent) = l.location.parent_id {
                children.entry(parent).or_default().push(l.location.id);
            }
        }
        let catalogue = boucle::app::indicators::catalogue(store).await?;
        Ok(Self {
            locations: all.into_iter().map(|l| (l.location.id, l)).collect(),
            children,
            catalogue,
            tz,
        })
    }

    /// The names above `id`, from the top of its network down to its parent.
    fn ancestors(&self, id: Uuid) -> Vec<String> {
        let mut names = Vec::new();
        let mut cursor = self.locations.get(&id).and_then(|l| l.location.parent_id);
        while let Some(current) = cursor.and_then(|c| self.locations.get(&c)) {
            names.push(current.location.name.clone());
            cursor = current.location.parent_id;
            if names.len() > 32 {
                break;
            }
        }
        names.reverse();
        names
    }
}

fn channel_label(channel: Channel) -> String {
    boucle::domain::french::channel(channel).to_owned()
}

fn satisfaction_label(satisfaction: Satisfaction) -> String {
    boucle::domain::french::satisfaction(satisfaction).to_owned()
}

fn shown(f: Option<&&Figure>) -> Option<f64> {
    f.filter(|f| !f.suppressed).and_then(|f| f.value)
}

/// A count as a whole number (0 when absent).
fn whole(f: Option<&&Figure>) -> u64 {
    f.and_then(|f| f.value).unwrap_or(0.0).max(0.0) as u64
}

/// The figures of one period, by indicator.
fn of_period<'a>(
    figures: impl IntoIterator<Item = &'a StoredFigure>,
    period: &str,
) -> HashMap<IndicatorCode, &'a Figure> {
    figures
        .into_iter()
        .filter(|a| a.period == period)
        .map(|a| (a.figure.code, &a.figure))
        .collect()
}

/// The model of the report of `kind` for `location_id` and `period`, from the inputs
/// loaded for its batch (see [`boucle::store::report_inputs`]).
pub fn build(
    ctx: &Context,
    inputs: &ReportInputs,
    location_id: Uuid,
    period: Period,
    kind: Kind,
) -> Result<ReportModel, JobError> {
    let Some(location) = ctx.locations.get(&location_id) else {
        return Err(JobError::Store(boucle::Error::not_found("location")));
    };
    let m = &location.location;
    let first = first_of_trend(period);
    let first_text = first.to_string();
    let period_text = period.to_string();
    let history: Vec<&StoredFigure> = inputs
        .figures
        .get(&location_id)
        .into_iter()
        .flatten()
        .filter(|a| a.period >= first_text && a.period <= period_text)
        .collect();
    let figures = history
        .iter()
        .filter(|a| a.period == period_text)
        .map(|a| {
            let f = a.figure;
            ctx.catalogue.labelled(Figure {
                value: f.value.filter(|_| !f.suppressed),
                ci: f.ci.filter(|_| !f.suppressed),
                ..f
            })
        })
        .collect();
    let mut trend = Vec::with_capacity(12);
    let mut month = first;
    for _ in 0..12 {
        let text = month.to_string();
        let of_month = of_period(history.iter().copied(), &text);
        trend.push(TrendPoint {
            satisfaction: shown(of_month.get(&IndicatorCode::SatisfactionRate)),
            volume: whole(of_month.get(&IndicatorCode::Volume)),
            period: text,
        });
        month = month.next();
    }
    let header = Header {
        code: m.code.clone(),
        name: m.name.clone(),
        typology: m.typology.clone(),
        ancestors: ctx.ancestors(location_id),
        postal_code: m.postal_code.clone(),
        city: m.city.clone(),
        response_target_days: location.effective_response_target_days,
        min_sample: location.effective_min_sample,
    };
    let mut model = ReportModel {
        kind,
        header,
        period: period_text,
        timezone: ctx.tz.name().to_owned(),
        figures,
        trend,
        channels: Vec::new(),
        actions_done: Vec::new(),
        actions_in_progress: Vec::new(),
        reported: Vec::new(),
        verbatims: Vec::new(),
        children: Vec::new(),
    };
    match kind {
        Kind::Location => fill_location(ctx, inputs, &mut model, location_id),
        Kind::Summary => {
            fill_channels_and_actions(inputs, &mut model, location_id);
            fill_summary(ctx, inputs, &mut model, location_id, period);
        }
    }
    Ok(model)
}

/// The first month of a report's twelve-month trend.
pub fn first_of_trend(period: Period) -> Period {
    let mut first = period;
    for _ in 0..11 {
        first = first.previous();
    }
    first
}

/// What both kinds show of the whole subtree: its channels and its public actions.
fn fill_channels_and_actions(inputs: &ReportInputs, model: &mut ReportModel, id: Uuid) {
    model.channels = inputs
        .channels
        .get(&id)
        .into_iter()
        .flatten()
        .map(|(channel, n)| (channel_label(*channel), *n))
        .collect();

    // Public actions only (the report is published), already limited by the query to those
    // in progress or done in the month, and sorted by title.
    for a in inputs.actions.get(&id).into_iter().flatten() {
        let line = |date: Option<String>| ActionLine {
            title: public_text(&a.title),
            engagement: a.engagement_code.clone(),
            progress: a.progress,
            date: date.unwrap_or_default(),
        };
        match a.status {
            ActionStatus::Done => model.actions_done.push(line(a.done_on.clone())),
            ActionStatus::InProgress => model.actions_in_progress.push(line(a.due_on.clone())),
            ActionStatus::Planned | ActionStatus::Abandoned => {}
        }
    }
}

fn fill_location(ctx: &Context, inputs: &ReportInputs, model: &mut ReportModel, id: Uuid) {
    fill_channels_and_actions(inputs, model, id);

    for m in inputs.measurements.get(&id).into_iter().flatten() {
        let def = ctx.catalogue.get(&m.indicator_code).map(|i| &i.definition);
        model.reported.push(Reported {
            title: def
                .map(|d| d.title.clone())
                .unwrap_or_else(|| m.indicator_code.clone()),
            unit: def.map(|d| d.unit.clone()).unwrap_or_default(),
            value: m.value,
            target: m.target,
            higher_is_better: def.is_none_or(|d| d.direction != Direction::LowerIsBetter),
        });
    }

    // Up to three published verbatims of the month, one of each feeling when possible, the
    // most recent first; only redacted texts and published answers.
    let published = inputs.verbatims.get(&id).map(Vec::as_slice).unwrap_or(&[]);
    for wanted in [
        Satisfaction::Negative,
        Satisfaction::Neutral,
        Satisfaction::Positive,
    ] {
        let Some(v) = published
            .iter()
            .find(|v| v.satisfaction == wanted && !v.redacted_story.trim().is_empty())
        else {
            continue;
        };
        let date = chrono::DateTime::from_timestamp_millis(v.submitted_at)
            .map(|t| {
                t.with_timezone(&ctx.tz)
                    .date_naive()
                    .format("%Y-%m-%d")
                    .to_string()
            })
            .unwrap_or_default();
        model.verbatims.push(Verbatim {
            satisfaction: satisfaction_label(v.satisfaction),
            title: if v.redacted_title.is_empty() {
                "Avis".into()
            } else {
                public_text(&v.redacted_title)
            },
            story: public_text(&v.redacted_story),
            pseudonym: public_text(&v.pseudonym),
            date,
            answers: v
                .answers
                .iter()
                .map(|(author, body)| (public_text(author), public_text(body)))
                .collect(),
        });
    }
}

fn rank_key(row: &ChildRow) -> RankKey<'_> {
    RankKey {
        satisfaction: row.satisfaction,
        volume: row.volume,
        code: &row.code,
    }
}

fn fill_summary(
    ctx: &Context,
    inputs: &ReportInputs,
    model: &mut ReportModel,
    id: Uuid,
    period: Period,
) {
    let period_text = period.to_string();
    for child in ctx.children.get(&id).into_iter().flatten() {
        let Some(c) = ctx.locations.get(child) else {
            continue;
        };
        let by_code = of_period(
            inputs.figures.get(child).into_iter().flatten(),
            &period_text,
        );
        let shown = |code| shown(by_code.get(&code));
        model.children.push(ChildRow {
            code: c.location.code.clone(),
            name: c.location.name.clone(),
            volume: whole(by_code.get(&IndicatorCode::Volume)),
            satisfaction: shown(IndicatorCode::SatisfactionRate),
            net_satisfaction: shown(IndicatorCode::NetSatisfaction),
            nps: shown(IndicatorCode::Nps),
            response_rate: shown(IndicatorCode::ResponseRate),
            median_delay: shown(IndicatorCode::ResponseDelayMedian),
        });
    }
    model
        .children
        .sort_by(|a, b| rank_order(rank_key(a), rank_key(b)));
}
