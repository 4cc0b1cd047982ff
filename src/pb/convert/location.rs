use crate::Error;
use crate::domain::location::{self as rules, LocationPatch, LocationSpec, ParentRef};
use crate::domain::validation::{Violations, text};
use crate::pb;
use crate::store::locations::{LocationKey, LocationView};

use super::mask_paths;
use super::time::timestamp;

fn parent_ref(v: &mut Violations, parent_id: &str, parent_code: &str) -> Option<Option<ParentRef>> {
    match (parent_id.trim().is_empty(), parent_code.trim().is_empty()) {
        (true, true) => Some(None),
        (false, _) => v
            .check("parent_id", crate::domain::validation::uuid(parent_id))
            .map(|id| Some(ParentRef::Id(id))),
        (true, false) => v
            .check("parent_code", rules::code(parent_code))
            .map(|code| Some(ParentRef::Code(code))),
    }
}

/// A location to create or upsert. `prefix` is the request path of the message.
pub fn location_spec(
    location: pb::Location,
    active: bool,
    prefix: &str,
) -> Result<LocationSpec, Error> {
    let pb::Location {
        id: _,
        code,
        name,
        typology,
        parent_id,
        parent_code,
        postal_code,
        city,
        latitude,
        longitude,
        response_target_days,
        min_sample,
        min_sample_agents,
        active: _,
        effective_response_target_days: _,
        effective_min_sample: _,
        effective_min_sample_agents: _,
        depth: _,
        create_time: _,
        update_time: _,
    } = location;
    let mut v = Violations::under(prefix);
    let code = v.check("code", rules::code(&code));
    let name = v.check("name", text(&name, rules::NAME_MAX, true));
    let typology = v.check("typology", text(&typology, 200, false));
    let parent = parent_ref(&mut v, &parent_id, &parent_code);
    let postal_code = v.check("postal_code", rules::postal_code(&postal_code));
    let city = v.check("city", text(&city, 200, false));
    let coordinates = coordinates(&mut v, latitude, longitude);
    let response_target_days = v.check(
        "response_target_days",
        rules::response_target_days(response_target_days),
    );
    let min_sample = v.check("min_sample", rules::min_sample(min_sample));
    let min_sample_agents = v.check("min_sample_agents", rules::min_sample(min_sample_agents));
    v.finish(|| {
        Some(LocationSpec {
            code: code?,
            name: name?,
            typology: typology?,
            parent: parent?,
            postal_code: postal_code?,
            city: city?,
            coordinates: coordinates?,
            response_target_days: response_target_days?,
            min_sample: min_sample?,
            min_sample_agents: min_sample_agents?,
            active,
        })
    })
}

/// The location named by an update and the patch of the fields in `paths`.
pub fn location_patch(
    location: pb::Location,
    paths: &[String],
) -> Result<(LocationKey, LocationPatch), Error> {
    let pb::Location {
        id,
        code,
        name,
        typology,
        parent_id,
        parent_code,
        postal_code,
        city,
        latitude,
        longitude,
        response_target_days,
        min_sample,
        min_sample_agents,
        active,
        effective_response_target_days: _,
        effective_min_sample: _,
        effective_min_sample_agents: _,
        depth: _,
        create_time: _,
        update_time: _,
    } = location;
    let mut v = Violations::under("location");
    let key = if !id.trim().is_empty() {
        v.check("id", crate::domain::validation::uuid(&id))
            .map(LocationKey::Id)
    } else if !code.trim().is_empty() {
        v.check("code", rules::code(&code)).map(LocationKey::Code)
    } else {
        v.add("id", "id or code is required");
        None
    };
    let mut patch = LocationPatch::default();
    let mut mask = Violations::default();
    let paths = mask_paths(paths)?;
    if paths.is_empty() {
        mask.add("update_mask", "must name at least one field");
    }
    for path in paths {
        match path.as_str() {
            "name" => patch.name = v.check("name", text(&name, rules::NAME_MAX, true)),
            "typology" => patch.typology = v.check("typology", text(&typology, 200, false)),
            "parent_id" | "parent_code" => {
                patch.parent = parent_ref(&mut v, &parent_id, &parent_code)
            }
            "postal_code" => {
                patch.postal_code = v.check("postal_code", rules::postal_code(&postal_code))
            }
            "city" => patch.city = v.check("city", text(&city, 200, false)),
            "latitude" | "longitude" => {
                patch.coordinates = coordinates(&mut v, latitude, longitude)
            }
            "response_target_days" => {
                patch.response_target_days = v.check(
                    "response_target_days",
                    rules::response_target_days(response_target_days),
                )
            }
            "min_sample" => patch.min_sample = v.check("min_sample", rules::min_sample(min_sample)),
            "min_sample_agents" => {
                patch.min_sample_agents =
                    v.check("min_sample_agents", rules::min_sample(min_sample_agents))
            }
            "active" => patch.active = Some(active),
            "code" => mask.add("update_mask", "code is immutable"),
            other => mask.add("update_mask", format!("unknown or read-only field {other}")),
        }
    }
    v.absorb(mask);
    if let Some(e) = v.into_error() {
        return Err(e);
    }
    let key = key.ok_or_else(|| Error::invalid("location.id", "id or code is required"))?;
    Ok((key, patch))
}

pub fn location_to_pb(view: &LocationView) -> pb::Location {
    let m = &view.location;
    pb::Location {
        id: m.id.to_string(),
        code: m.code.clone(),
        name: m.name.clone(),
        typology: m.typology.clone(),
        parent_id: m.parent_id.map(|p| p.to_string()).unwrap_or_default(),
        parent_code: view.parent_code.clone().unwrap_or_default(),
        postal_code: m.postal_code.clone(),
        city: m.city.clone(),
        latitude: m.latitude,
        longitude: m.longitude,
        response_target_days: m.response_target_days,
        min_sample: m.min_sample,
        min_sample_agents: m.min_sample_agents,
        active: m.active,
        effective_response_target_days: view.effective_response_target_days,
        effective_min_sample: view.effective_min_sample,
        effective_min_sample_agents: view.effective_min_sample_agents,
        depth: view.depth,
        create_time: Some(timestamp(m.created_at)),
        update_time: Some(timestamp(m.updated_at)),
    }
}

/// The coordinates, or a violation on the one at fault.
fn coordinates(
    v: &mut Violations,
    latitude: Option<f64>,
    longitude: Option<f64>,
) -> Option<Option<(f64, f64)>> {
    match rules::coordinates(latitude, longitude) {
        Ok(c) => Some(c),
        Err((field, description)) => {
            v.add(field, description);
            None
        }
    }
}
