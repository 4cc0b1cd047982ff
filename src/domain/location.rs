//! Locations: validated fields and the inheritance of settings down the hierarchy.

use uuid::Uuid;

pub const DEFAULT_RESPONSE_TARGET_DAYS: u32 = 15;
pub const DEFAULT_MIN_SAMPLE: u32 = 10;
pub const NAME_MAX: usize = 200;

/// A validated location, as created or upserted.
#[derive(Clone, Debug, PartialEq)]
pub struct LocationSpec {
    pub code: String,
    pub name: String,
    pub typology: String,
    pub parent: Option<ParentRef>,
    pub postal_code: String,
    pub city: String,
    pub coordinates: Option<(f64, f64)>,
    pub response_target_days: Option<u32>,
    pub min_sample: Option<u32>,
    /// The agents' threshold (see [`super::audiences`]).
    pub min_sample_agents: Option<u32>,
    pub active: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParentRef {
    Id(Uuid),
    Code(String),
}

/// 1–64 characters among A–Z, a–z, 0–9, '-', '_' and '.'.
pub fn code(value: &str) -> Result<String, String> {
    let v = value.trim();
    let ok = !v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err("must be 1–64 characters among A–Z, a–z, 0–9, '-', '_' and '.'".into())
    }
}

/// Empty, or five digits (metropolitan and overseas French postal codes).
pub fn postal_code(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.is_empty() || (v.len() == 5 && v.chars().all(|c| c.is_ascii_digit())) {
        Ok(v.to_owned())
    } else {
        Err("must be a five-digit postal code".into())
    }
}

/// Both coordinates or neither, on earth. The error names the field at fault (`latitude` or
/// `longitude`) with its description.
pub fn coordinates(
    latitude: Option<f64>,
    longitude: Option<f64>,
) -> Result<Option<(f64, f64)>, (&'static str, String)> {
    match (latitude, longitude) {
        (None, None) => Ok(None),
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) {
                Err((
                    "latitude",
                    format!("must be between -90 and 90 (got {lat})"),
                ))
            } else if !(-180.0..=180.0).contains(&lon) {
                Err((
                    "longitude",
                    format!("must be between -180 and 180 (got {lon})"),
                ))
            } else {
                Ok(Some((lat, lon)))
            }
        }
        (Some(_), None) => Err(("longitude", "is required with latitude".into())),
        (None, Some(_)) => Err(("latitude", "is required with longitude".into())),
    }
}

pub fn response_target_days(value: Option<u32>) -> Result<Option<u32>, String> {
    match value {
        Some(v) if !(1..=365).contains(&v) => Err("must be between 1 and 365 days".into()),
        v => Ok(v),
    }
}

pub fn min_sample(value: Option<u32>) -> Result<Option<u32>, String> {
    match value {
        Some(v) if !(1..=10_000).contains(&v) => Err("must be between 1 and 10000".into()),
        v => Ok(v),
    }
}

/// An inactive location takes no new work (experiences, reassignments): its history stays
/// readable, nothing is added to it.
pub fn check_active(active: bool, code: &str) -> crate::Result<()> {
    if active {
        Ok(())
    } else {
        Err(crate::Error::FailedPrecondition(format!(
            "location {code} is inactive"
        )))
    }
}

/// A network (a location without a parent) belongs to no scope: only an unscoped key may
/// create one or make a location one.
pub fn check_may_be_root(caller_scope: Option<Uuid>) -> crate::Result<()> {
    match caller_scope {
        None => Ok(()),
        Some(_) => Err(crate::Error::PermissionDenied(
            "only an unscoped ADMIN key may create or move a network (root)".into(),
        )),
    }
}

/// The value that applies to a location: its own setting, else the nearest ancestor's, else
/// the default. `chain` goes from the location up to its root.
pub fn inherited(chain: impl IntoIterator<Item = Option<u32>>, default: u32) -> u32 {
    chain.into_iter().flatten().next().unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_inherited_from_the_nearest_ancestor() {
        assert_eq!(inherited([None, Some(7), Some(30)], 15), 7);
        assert_eq!(inherited([Some(3), Some(7)], 15), 3);
        assert_eq!(inherited([None, None], 15), 15);
    }

    #[test]
    fn only_an_unscoped_key_may_make_a_network() {
        assert!(check_may_be_root(None).is_ok());
        assert!(matches!(
            check_may_be_root(Some(Uuid::nil())),
            Err(crate::Error::PermissionDenied(_))
        ));
    }

    #[test]
    fn codes_and_postal_codes() {
        assert!(code("CAF-69.LYON_3").is_ok());
        assert!(code("CAF 69").is_err());
        assert!(code("").is_err());
        assert!(postal_code("97400").is_ok());
        assert!(postal_code("6900").is_err());
    }

    #[test]
    fn coordinates_go_together_and_stay_on_earth() {
        assert_eq!(
            coordinates(Some(45.0), Some(200.0)).map_err(|(field, _)| field),
            Err("longitude"),
            "the faulty coordinate is named"
        );
        assert_eq!(
            coordinates(None, Some(2.0)).map_err(|(f, _)| f),
            Err("latitude")
        );
        assert!(coordinates(Some(45.0), None).is_err());
        assert!(coordinates(Some(95.0), Some(2.0)).is_err());
        assert_eq!(
            coordinates(Some(45.76), Some(4.83)),
            Ok(Some((45.76, 4.83)))
        );
    }
}

/// The fields an UpdateLocation changes: `None` = untouched; `Some(None)` = cleared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocationPatch {
    pub name: Option<String>,
    pub typology: Option<String>,
    pub parent: Option<Option<ParentRef>>,
    pub postal_code: Option<String>,
    pub city: Option<String>,
    pub coordinates: Option<Option<(f64, f64)>>,
    pub response_target_days: Option<Option<u32>>,
    pub min_sample: Option<Option<u32>>,
    pub min_sample_agents: Option<Option<u32>>,
    pub active: Option<bool>,
}

impl LocationPatch {
    /// Every field of `spec`, for an upsert of an existing code.
    pub fn from_spec(spec: &LocationSpec) -> Self {
        Self {
            name: Some(spec.name.clone()),
            typology: Some(spec.typology.clone()),
            parent: Some(spec.parent.clone()),
            postal_code: Some(spec.postal_code.clone()),
            city: Some(spec.city.clone()),
            coordinates: Some(spec.coordinates),
            response_target_days: Some(spec.response_target_days),
            min_sample: Some(spec.min_sample),
            min_sample_agents: Some(spec.min_sample_agents),
            active: Some(spec.active),
        }
    }
}
