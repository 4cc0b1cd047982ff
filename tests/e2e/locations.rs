//! LocationService: hierarchy, inheritance, validation, updates, import, listing.

use boucle::pb;
use boucle_tests::{spawn_app, violations};
use prost_types::FieldMask;
use tonic::Code;

fn mask(paths: &[&str]) -> Option<FieldMask> {
    Some(FieldMask {
        paths: paths.iter().map(|p| (*p).to_owned()).collect(),
    })
}

#[tokio::test]
async fn a_hierarchy_inherits_settings_from_the_nearest_ancestor() {
    let app = spawn_app().await;
    let mut client = app.locations(Some(&app.admin_key));
    let network = client
        .create_location(pb::CreateLocationRequest {
            location: Some(pb::Location {
                code: "CAF".into(),
                name: "Réseau CAF".into(),
                response_target_days: Some(20),
                ..Default::default()
            }),
            inactive: false,
        })
        .await
        .expect("network")
        .into_inner()
        .location
        .expect("location");
    assert_eq!(network.depth, 0);
    assert_eq!(network.effective_response_target_days, 20);
    assert_eq!(network.effective_min_sample, 10);

    let region = app.location("CAF69", Some("CAF")).await;
    assert_eq!(region.parent_id, network.id);
    assert_eq!(region.parent_code, "CAF");
    assert_eq!(region.depth, 1);
    assert_eq!(
        region.effective_response_target_days, 20,
        "inherited from the network"
    );
    assert_eq!(region.response_target_days, None);

    let site = client
        .create_location(pb::CreateLocationRequest {
            location: Some(pb::Location {
                code: "CAF69-LYON".into(),
                name: "Accueil Lyon".into(),
                parent_id: region.id.clone(),
                min_sample: Some(5),
                latitude: Some(45.76),
                longitude: Some(4.85),
                ..Default::default()
            }),
            inactive: false,
        })
        .await
        .expect("site")
        .into_inner()
        .location
        .expect("location");
    assert_eq!(site.depth, 2);
    assert_eq!(site.effective_min_sample, 5);
    assert_eq!(site.effective_response_target_days, 20);

    let by_code = client
        .get_location(pb::GetLocationRequest {
            key: Some(pb::get_location_request::Key::Code("CAF69-LYON".into())),
        })
        .await
        .expect("get by code")
        .into_inner()
        .location
        .expect("location");
    assert_eq!(by_code.id, site.id);
    assert_eq!(by_code.latitude, Some(45.76));
}

#[tokio::test]
async fn invalid_locations_are_refused_with_every_field_violation() {
    let app = spawn_app().await;
    let status = app
        .locations(Some(&app.admin_key))
        .create_location(pb::CreateLocationRequest {
            location: Some(pb::Location {
                code: "bad code!".into(),
                name: " ".into(),
                postal_code: "690".into(),
                latitude: Some(120.0),
                longitude: Some(4.0),
                response_target_days: Some(0),
                min_sample: Some(20_000),
                ..Default::default()
            }),
            inactive: false,
        })
        .await
        .expect_err("invalid");
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields = violations(&status);
    for field in [
        "location.code",
        "location.name",
        "location.postal_code",
        "location.latitude",
        "location.response_target_days",
        "location.min_sample",
    ] {
        assert!(
            fields.contains(&field.to_owned()),
            "{field} missing from {fields:?}"
        );
    }
}

#[tokio::test]
async fn a_taken_code_is_already_exists_and_a_missing_parent_not_found() {
    let app = spawn_app().await;
    app.location("CAF", None).await;
    let mut client = app.locations(Some(&app.admin_key));
    let dup = client
        .create_location(pb::CreateLocationRequest {
            location: Some(pb::Location {
                code: "CAF".into(),
                name: "Doublon".into(),
                ..Default::default()
            }),
            inactive: false,
        })
        .await
        .expect_err("duplicate");
    assert_eq!(dup.code(), Code::AlreadyExists);
    let orphan = client
        .create_location(pb::CreateLocationRequest {
            location: Some(pb::Location {
                code: "ORPHAN".into(),
                name: "Orphelin".into(),
                parent_code: "NOPE".into(),
                ..Default::default()
            }),
            inactive: false,
        })
        .await
        .expect_err("missing parent");
    assert_eq!(orphan.code(), Code::NotFound);
}

#[tokio::test]
async fn updates_follow_the_mask_and_moves_keep_the_hierarchy_exact() {
    let app = spawn_app().await;
    app.two_networks().await;
    let mut client = app.locations(Some(&app.admin_key));

    // Rename only: other fields untouched even though the message carries them.
    let renamed = client
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "A-1".into(),
                name: "Nouveau nom".into(),
                city: "Ignorée".into(),
                ..Default::default()
            }),
            update_mask: mask(&["name"]),
        })
        .await
        .expect("rename")
        .into_inner()
        .location
        .expect("location");
    assert_eq!(renamed.name, "Nouveau nom");
    assert_eq!(renamed.city, "Lyon");

    // Move the regional level A-REG (with its children) under NET-B.
    let moved = client
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "A-REG".into(),
                parent_code: "NET-B".into(),
                ..Default::default()
            }),
            update_mask: mask(&["parent_code"]),
        })
        .await
        .expect("move")
        .into_inner()
        .location
        .expect("location");
    assert_eq!(moved.parent_code, "NET-B");
    let net_b = client
        .get_location(pb::GetLocationRequest {
            key: Some(pb::get_location_request::Key::Code("NET-B".into())),
        })
        .await
        .expect("net b")
        .into_inner()
        .location
        .expect("location");
    let subtree = client
        .list_locations(pb::ListLocationsRequest {
            subtree_of: net_b.id,
            ..Default::default()
        })
        .await
        .expect("subtree")
        .into_inner()
        .locations;
    let codes: Vec<_> = subtree.iter().map(|l| l.code.as_str()).collect();
    assert_eq!(
        codes,
        ["A-1", "A-2", "A-REG", "B-1", "B-2", "B-REG", "NET-B"]
    );
    let a1 = subtree.iter().find(|l| l.code == "A-1").expect("A-1");
    assert_eq!(a1.depth, 2);

    // Moving a location under its own descendant is refused.
    let cycle = client
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "NET-B".into(),
                parent_code: "A-1".into(),
                ..Default::default()
            }),
            update_mask: mask(&["parent_code"]),
        })
        .await
        .expect_err("cycle");
    assert_eq!(cycle.code(), Code::FailedPrecondition);

    // The code is immutable; unknown paths are refused.
    let immutable = client
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                code: "A-1".into(),
                ..Default::default()
            }),
            update_mask: mask(&["code", "colour"]),
        })
        .await
        .expect_err("immutable");
    assert_eq!(immutable.code(), Code::InvalidArgument);
    assert_eq!(violations(&immutable), ["update_mask", "update_mask"]);
}

#[tokio::test]
async fn listing_pages_through_every_location_once() {
    let app = spawn_app().await;
    app.two_networks().await;
    let mut client = app.locations(Some(&app.admin_key));
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = client
            .list_locations(pb::ListLocationsRequest {
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.locations.len() <= 3);
        seen.extend(page.locations.into_iter().map(|l| l.code));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(
        seen,
        [
            "A-1", "A-2", "A-REG", "B-1", "B-2", "B-REG", "NET-A", "NET-B"
        ]
    );

    let roots = client
        .list_locations(pb::ListLocationsRequest {
            roots_only: true,
            ..Default::default()
        })
        .await
        .expect("roots")
        .into_inner()
        .locations;
    assert_eq!(
        roots.iter().map(|l| l.code.as_str()).collect::<Vec<_>>(),
        ["NET-A", "NET-B"]
    );

    let bad = client
        .list_locations(pb::ListLocationsRequest {
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await
        .expect_err("bad token");
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violations(&bad), ["page_token"]);
}

#[tokio::test]
async fn import_upserts_by_code_with_one_outcome_per_item() {
    let app = spawn_app().await;
    app.location("NET", None).await;
    let item = |code: &str, name: &str, parent: &str| pb::ImportLocationsRequest {
        location: Some(pb::Location {
            code: code.into(),
            name: name.into(),
            parent_code: parent.into(),
            postal_code: "33000".into(),
            ..Default::default()
        }),
    };
    let items = vec![
        item("REG", "Région", "NET"),
        item("SITE-1", "Site 1", "REG"),
        item("SITE-1", "Site 1", "REG"),
        item("SITE-1", "Site 1 renommé", "REG"),
        item("bad code", "Invalide", "REG"),
        item("SITE-2", "Sans parent", "MISSING"),
    ];
    let answer = app
        .locations(Some(&app.admin_key))
        .import_locations(tokio_stream::iter(items))
        .await
        .expect("import")
        .into_inner();
    use pb::import_location_outcome::Result as R;
    let results: Vec<i32> = answer.outcomes.iter().map(|o| o.result).collect();
    assert_eq!(
        results,
        [
            R::Created,
            R::Created,
            R::Unchanged,
            R::Updated,
            R::Failed,
            R::Failed
        ]
        .map(|r| r as i32)
    );
    assert_eq!(
        (
            answer.created,
            answer.updated,
            answer.unchanged,
            answer.failed
        ),
        (2, 1, 1, 2)
    );
    assert_eq!(answer.outcomes[4].error_code, Code::InvalidArgument as i32);
    assert_eq!(answer.outcomes[4].violations[0].field, "location.code");
    assert_eq!(answer.outcomes[5].error_code, Code::NotFound as i32);
    assert_eq!(
        answer.outcomes.iter().map(|o| o.index).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );

    let site = app
        .locations(Some(&app.admin_key))
        .get_location(pb::GetLocationRequest {
            key: Some(pb::get_location_request::Key::Code("SITE-1".into())),
        })
        .await
        .expect("site")
        .into_inner()
        .location
        .expect("location");
    assert_eq!(site.name, "Site 1 renommé");
    assert_eq!(site.depth, 2);
}
