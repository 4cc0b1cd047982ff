use crate::Error;
use crate::domain::Period;
use crate::domain::codes::{self, IndicatorKind};
use crate::domain::indicators::Figure;
use crate::domain::validation::{Violations, text, uuid};
use crate::pb;
use crate::pb::indicator::{Direction, Frequency, Kind};
use crate::store::indicators::{Definition, Indicator, Measurement, NewMeasurement};

use super::time::timestamp;

fn direction(value: i32) -> Result<codes::Direction, String> {
    match Direction::try_from(value) {
        Ok(Direction::HigherIsBetter) => Ok(codes::Direction::HigherIsBetter),
        Ok(Direction::LowerIsBetter) => Ok(codes::Direction::LowerIsBetter),
        Ok(Direction::Neutral) => Ok(codes::Direction::Neutral),
        Ok(Direction::Unspecified) => Err("is required".into()),
        Err(_) => Err(format!("unknown value {value}")),
    }
}

/// UNSPECIFIED means MONTHLY, the rhythm of the whole programme.
fn frequency(value: i32) -> Result<codes::Frequency, String> {
    match Frequency::try_from(value) {
        Ok(Frequency::Monthly | Frequency::Unspecified) => Ok(codes::Frequency::Monthly),
        Ok(Frequency::Quarterly) => Ok(codes::Frequency::Quarterly),
        Ok(Frequency::Yearly) => Ok(codes::Frequency::Yearly),
        Err(_) => Err(format!("unknown value {value}")),
    }
}

/// Upper-case letters, digits and '_', starting with a letter, 2–64 characters.
pub fn indicator_code(value: &str) -> Result<String, String> {
    let v = value.trim();
    let ok = (2..=64).contains(&v.len())
        && v.starts_with(|c: char| c.is_ascii_uppercase())
        && v.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(v.to_owned())
    } else {
        Err("must be 2–64 characters among A–Z, 0–9 and '_', starting with a letter".into())
    }
}

pub fn definition(value: pb::Indicator) -> Result<Definition, Error> {
    let pb::Indicator {
        code,
        title,
        unit,
        direction,
        frequency,
        methodology,
        version: _,
        kind: _,
        update_time: _,
    } = value;
    let mut v = Violations::under("indicator");
    let code = v.check("code", indicator_code(&code));
    let title = v.check("title", text(&title, 200, true));
    let unit = v.check("unit", text(&unit, 20, true));
    let direction = v.check("direction", self::direction(direction));
    let frequency = v.check("frequency", self::frequency(frequency));
    let methodology = v.check("methodology", text(&methodology, 5_000, false));
    v.finish(|| {
        Some(Definition {
            code: code?,
            title: title?,
            unit: unit?,
            direction: direction?,
            frequency: frequency?,
            methodology: methodology?,
        })
    })
}

pub fn new_measurement(value: pb::Measurement) -> Result<NewMeasurement, Error> {
    let pb::Measurement {
        indicator_code: code,
        indicator_version: _,
        location_id,
        period,
        value,
        sample_size,
        target,
        record_time: _,
    } = value;
    let finite = |x: f64| {
        if x.is_finite() {
            Ok(x)
        } else {
            Err("must be a finite number".to_owned())
        }
    };
    let mut v = Violations::under("measurement");
    let code = v.check("indicator_code", indicator_code(&code));
    let location_id = v.check("location_id", uuid(&location_id));
    let period = v.check("period", period.parse::<Period>());
    let value = v.check("value", finite(value));
    let target = match target {
        Some(t) => v.check("target", finite(t)).map(Some),
        None => Some(None),
    };
    v.finish(|| {
        Some(NewMeasurement {
            indicator_code: code?,
            location_id: location_id?,
            period: period?,
            value: value?,
            sample_size,
            target: target?,
        })
    })
}

fn direction_to_pb(direction: codes::Direction) -> Direction {
    match direction {
        codes::Direction::HigherIsBetter => Direction::HigherIsBetter,
        codes::Direction::LowerIsBetter => Direction::LowerIsBetter,
        codes::Direction::Neutral => Direction::Neutral,
    }
}

fn frequency_to_pb(frequency: codes::Frequency) -> Frequency {
    match frequency {
        codes::Frequency::Monthly => Frequency::Monthly,
        codes::Frequency::Quarterly => Frequency::Quarterly,
        codes::Frequency::Yearly => Frequency::Yearly,
    }
}

pub fn indicator_to_pb(i: &Indicator) -> pb::Indicator {
    let d = &i.definition;
    pb::Indicator {
        code: d.code.clone(),
        title: d.title.clone(),
        unit: d.unit.clone(),
        direction: direction_to_pb(d.direction) as i32,
        frequency: frequency_to_pb(d.frequency) as i32,
        methodology: d.methodology.clone(),
        version: u32::try_from(i.version).unwrap_or(0),
        kind: match i.kind {
            IndicatorKind::Computed => Kind::Computed,
            IndicatorKind::Reported => Kind::Reported,
        } as i32,
        update_time: Some(timestamp(i.updated_at)),
    }
}

pub fn measurement_to_pb(m: &Measurement) -> pb::Measurement {
    pb::Measurement {
        indicator_code: m.indicator_code.clone(),
        indicator_version: u32::try_from(m.indicator_version).unwrap_or(0),
        location_id: m.location_id.to_string(),
        period: m.period.clone(),
        value: m.value,
        sample_size: m.sample_size,
        target: m.target,
        record_time: Some(timestamp(m.recorded_at)),
    }
}

/// A figure as the public sees it: no value, no interval when suppressed.
pub fn figure_to_pb(f: &Figure) -> pb::Figure {
    let shown = !f.suppressed;
    pb::Figure {
        value: f.value.filter(|_| shown),
        sample_size: f.sample,
        ci_low: f.ci.map(|c| c.0).filter(|_| shown),
        ci_high: f.ci.map(|c| c.1).filter(|_| shown),
        suppressed: f.suppressed,
    }
}

/// The internal results of a location (`IndicatorService.GetInternalResults`).
pub fn internal_results_to_pb(
    results: &crate::app::indicators::InternalResults,
) -> pb::GetInternalResultsResponse {
    pb::GetInternalResultsResponse {
        location_code: results.location.location.code.clone(),
        period: results.period.to_string(),
        audiences: results
            .audiences
            .iter()
            .map(|(audience, figures)| pb::AudienceResults {
                audience: audience.map_or(0, |a| super::enums::audience_to_pb(a).into()),
                indicators: figures
                    .iter()
                    .map(super::public::indicator_result_to_pb)
                    .collect(),
            })
            .collect(),
        min_sample: results.location.effective_min_sample,
        min_sample_agents: results.location.effective_min_sample_agents,
        symmetry: results.symmetry.as_ref().map(|s| pb::Symmetry {
            sites: u32::try_from(s.sites).unwrap_or(u32::MAX),
            rho: s.rho,
            ci_low: s.ci.map(|c| c.0),
            ci_high: s.ci.map(|c| c.1),
            divergent: s
                .divergent
                .iter()
                .filter_map(|(code, gap)| {
                    let pair = results.pairs.iter().find(|p| &p.site == code)?;
                    Some(pb::DivergentSite {
                        location_code: code.clone(),
                        rank_gap: *gap,
                        publics_satisfaction: pair.publics,
                        agents_satisfaction: pair.agents,
                    })
                })
                .collect(),
        }),
    }
}
