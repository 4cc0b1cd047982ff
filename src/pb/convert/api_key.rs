use crate::pb;
use crate::store::api_keys::KeyView;
use crate::store::reports::Recipient;

use super::enums::role_to_pb;
use super::time::timestamp;

pub fn api_key_to_pb(view: &KeyView) -> pb::ApiKey {
    let m = &view.key;
    pb::ApiKey {
        id: m.id.to_string(),
        name: m.name.clone(),
        role: role_to_pb(m.role) as i32,
        scope_location_id: m
            .scope_location_id
            .map(|s| s.to_string())
            .unwrap_or_default(),
        scope_location_code: view.scope_code.clone().unwrap_or_default(),
        prefix: m.prefix.clone(),
        create_time: Some(timestamp(m.created_at)),
        revoke_time: m.revoked_at.map(timestamp),
    }
}

pub fn recipient_to_pb(r: &Recipient) -> pb::Recipient {
    pb::Recipient {
        id: r.id.to_string(),
        email: r.email.clone(),
        name: r.name.clone(),
        location_id: r.location_id.to_string(),
        location_code: r.location_code.clone(),
        create_time: Some(timestamp(r.created_at)),
    }
}
