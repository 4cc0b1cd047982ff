use crate::Error;
use crate::domain::Period;
use crate::domain::codes::IndicatorKind;
use crate::domain::validation::{Violations, text, uuid};
use crate::pb;
use crate::pb::indicator::{Direction, Frequency, Kind};
use crate::store::aggregates::Figure;
use crate::store::entities::{indicator, measurement};
use crate::store::indicators::{Definition, NewMeasurement};

use super::time::timestamp;

fn direction_code(value: i32) -> Result<&'static str, String> {
    match Direction::try_from(value) {
        Ok(Direction::HigherIsBetter) => Ok("HIGHER_IS_BETTER"),
        Ok(Direction::LowerIsBetter) => Ok("LOWER_IS_BETTER"),
        Ok(Direction::Neutral) => Ok("NEUTRAL"),
        Ok(Direction::Unspecified) => Err("is required".into()),
        Err(_) => Err(format!("unknown value {value}")),
    }
}

/// UNSPECIFIED means MONTHLY, the rhythm of the whole programme.
fn frequency_code(value: i32) -> Result<&'static str, String> {
    match Frequency::try_from(value) {
        Ok(Frequency::Monthly | Frequency::Unspecified) => Ok("MONTHLY"),
        Ok(Frequency::Quarterly) => Ok("QUARTERLY"),
        Ok(Frequency::Yearly) => Ok("YEARLY"),
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
    let direction = v.check("direction", direction_code(direction));
    let frequency = v.check("frequency", frequency_code(frequency));
    let methodology = v.check("methodology", text(&methodology, 5_000, false));
    v.finish(|| {
        Some(Definition {
            code: code?,
            title: title?,
            unit: unit?,
            direction: direction?.to_owned(),
            frequency: frequency?.to_owned(),
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

fn direction_to_pb(code: &str) -> i32 {
    let direction = match code {
        "HIGHER_IS_BETTER" => Direction::HigherIsBetter,
        "LOWER_IS_BETTER" => Direction::LowerIsBetter,
        "NEUTRAL" => Direction::Neutral,
        _ => Direction::Unspecified,
    };
    direction as i32
}

fn frequency_to_pb(code: &str) -> i32 {
    let frequency = match code {
        "MONTHLY" => Frequency::Monthly,
        "QUARTERLY" => Frequency::Quarterly,
        "YEARLY" => Frequency::Yearly,
        _ => Frequency::Unspecified,
    };
    frequency as i32
}

pub fn indicator_to_pb(i: &indicator::Model) -> pb::Indicator {
    pb::Indicator {
        code: i.code.clone(),
        title: i.title.clone(),
        unit: i.unit.clone(),
        direction: direction_to_pb(&i.direction),
        frequency: frequency_to_pb(&i.frequency),
        methodology: i.methodology.clone(),
        version: u32::try_from(i.version).unwrap_or(0),
        kind: match IndicatorKind::from_code(&i.kind) {
            Some(IndicatorKind::Computed) => Kind::Computed,
            Some(IndicatorKind::Reported) => Kind::Reported,
            None => Kind::Unspecified,
        } as i32,
        update_time: Some(timestamp(i.updated_at)),
    }
}

pub fn measurement_to_pb(m: &measurement::Model) -> pb::Measurement {
    pb::Measurement {
        indicator_code: m.indicator_code.clone(),
        indicator_version: u32::try_from(m.indicator_version).unwrap_or(0),
        location_id: m.location_id.to_string(),
        period: m.period.clone(),
        value: m.value,
        sample_size: m.sample_size.and_then(|s| u64::try_from(s).ok()),
        target: m.target,
        record_time: Some(timestamp(m.recorded_at)),
    }
}

/// A stored figure as the public sees it: no value, no interval when suppressed.
pub fn figure_to_pb(a: &Figure) -> pb::Figure {
    let shown = !a.suppressed;
    pb::Figure {
        value: a.value.filter(|_| shown),
        sample_size: u64::try_from(a.sample_size).unwrap_or(0),
        ci_low: a.ci_low.filter(|_| shown),
        ci_high: a.ci_high.filter(|_| shown),
        suppressed: a.suppressed,
    }
}
