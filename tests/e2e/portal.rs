//! A portal developer's session, with no key: find a location by text, postal code,
//! département, network or nearness; compare a network's children — over gRPC and over
//! grpc-web as a browser sends it.

use boucle::domain::Period;
use boucle::pb;
use boucle_jobs::pipeline::{self, Options};
use boucle_tests::{TestApp, spawn_app, violations};
use prost::Message;

const PARIS: chrono_tz::Tz = chrono_tz::Europe::Paris;

fn previous() -> Period {
    boucle_jobs::schedule::previous_period(boucle::store::now_ms(), PARIS)
}

/// The demo data set with its previous month aggregated, as a portal finds it.
async fn portal() -> (TestApp, tempfile::TempDir) {
    let app = spawn_app().await;
    boucle::demo::seed(&app.store, 11, PARIS, boucle::store::now_ms())
        .await
        .expect("demo");
    let out = tempfile::tempdir().expect("out");
    let options = Options {
        tz: PARIS,
        root: None,
        out_dir: out.path().to_owned(),
        open_data_base_url: None,
        holder: "test-portal".into(),
        lease_ttl: boucle_jobs::lease::TTL,
        transport: boucle_jobs::deliver::Transport::Outbox(out.path().join("outbox")),
        mail_from: "boucle <noreply@boucle.test>".into(),
        retry: boucle_jobs::retry::Retry::within_run(std::time::Duration::from_millis(10), 5),
        metrics_file: None,
    };
    pipeline::aggregate_period(&app.store, previous(), &options, &mut |_, _| Ok(()))
        .await
        .expect("aggregate");
    (app, out)
}

async fn search(app: &TestApp, request: pb::SearchLocationsRequest) -> Vec<pb::LocationHit> {
    app.results()
        .search_locations(request)
        .await
        .expect("search")
        .into_inner()
        .hits
}

fn codes(hits: &[pb::LocationHit]) -> Vec<String> {
    hits.iter()
        .map(|h| {
            h.location
                .as_ref()
                .map(|l| l.code.clone())
                .unwrap_or_default()
        })
        .collect()
}

fn text(query: &str) -> pb::SearchLocationsRequest {
    pb::SearchLocationsRequest {
        query: query.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn free_text_ignores_accents_case_and_saint_and_ranks_names_first() {
    let (app, _out) = portal().await;
    let hits = search(&app, text("caf lyon")).await;
    let found = codes(&hits);
    // The name holding both words first; then what holds them in the city.
    assert_eq!(found[0], "CAF69-LYON-PARTDIEU", "{found:?}");
    assert!(found.contains(&"CAF69".to_owned()), "{found:?}");
    assert!(
        !found.iter().any(|c| c.contains("VILLEURBANNE")),
        "{found:?}"
    );
    for hit in &hits {
        let l = hit.location.as_ref().expect("location");
        let words = boucle::domain::search::search_key(&l.name, &l.typology, &l.city, &l.code);
        assert!(words.contains(" caf") && words.contains(" lyon"), "{l:?}");
    }
    // However the visitor spells it.
    for spelling in ["CAF  LYON", "Caf Lyon", "caf\u{a0}lyon"] {
        assert_eq!(
            codes(&search(&app, text(spelling)).await),
            found,
            "{spelling:?}"
        );
    }
    for spelling in ["venissieux", "VÉNISSIEUX", "Ve\u{301}nissieux"] {
        assert_eq!(
            codes(&search(&app, text(spelling)).await),
            ["CAF69-VENISSIEUX"],
            "{spelling:?}"
        );
    }
    for spelling in ["st charles", "saint-charles", "ST-CHARLES marseille"] {
        assert_eq!(
            codes(&search(&app, text(spelling)).await),
            ["CPAM13-MARSEILLE"],
            "{spelling:?}"
        );
    }
    // A word begins a word: « part » finds Part-Dieu, « dieu » too, « ieu » does not.
    assert_eq!(
        codes(&search(&app, text("part")).await),
        ["CAF69-LYON-PARTDIEU"]
    );
    assert!(search(&app, text("ieu")).await.is_empty());
    // SQL wildcards are nothing but separators.
    let status = app
        .results()
        .search_locations(text("%_%"))
        .await
        .expect_err("no criterion left");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}

#[tokio::test]
async fn postal_code_departement_and_network_filter_and_combine() {
    let (app, _out) = portal().await;
    let by_postal = search(
        &app,
        pb::SearchLocationsRequest {
            postal_code: "69003".into(),
            ..Default::default()
        },
    )
    .await;
    // By name: « Accueil CAF Lyon Part-Dieu » before « CAF du Rhône ».
    assert_eq!(codes(&by_postal), ["CAF69-LYON-PARTDIEU", "CAF69"]);
    let rhone = search(
        &app,
        pb::SearchLocationsRequest {
            departement: "69".into(),
            ..Default::default()
        },
    )
    .await;
    let mut rhone = codes(&rhone);
    rhone.sort();
    assert_eq!(
        rhone,
        [
            "CAF69",
            "CAF69-LYON-PARTDIEU",
            "CAF69-VENISSIEUX",
            "CAF69-VILLEURBANNE",
            "FS-ARA"
        ]
    );
    let caf_in_69 = search(
        &app,
        pb::SearchLocationsRequest {
            departement: "69".into(),
            network_code: "CAF".into(),
            query: "accueil".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        codes(&caf_in_69),
        [
            "CAF69-LYON-PARTDIEU",
            "CAF69-VENISSIEUX",
            "CAF69-VILLEURBANNE"
        ]
    );
    let status = app
        .results()
        .search_locations(pb::SearchLocationsRequest {
            network_code: "NOPE".into(),
            ..Default::default()
        })
        .await
        .expect_err("unknown network");
    assert_eq!(status.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn near_a_point_hits_come_nearest_first_within_the_radius() {
    let (app, _out) = portal().await;
    // Lyon Part-Dieu station.
    let near = |radius_km| pb::SearchLocationsRequest {
        latitude: Some(45.7605),
        longitude: Some(4.8597),
        radius_km,
        ..Default::default()
    };
    let hits = search(&app, near(Some(8.0))).await;
    let found = codes(&hits);
    assert_eq!(found[..2], ["CAF69", "CAF69-LYON-PARTDIEU"], "{found:?}");
    assert!(
        found.contains(&"CAF69-VILLEURBANNE".to_owned()),
        "{found:?}"
    );
    assert!(found.contains(&"CAF69-VENISSIEUX".to_owned()), "{found:?}");
    let distances: Vec<f64> = hits
        .iter()
        .map(|h| h.distance_km.expect("distance"))
        .collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]), "{distances:?}");
    assert!(distances.iter().all(|d| *d <= 8.0), "{distances:?}");
    // Villeurbanne is 2.4 km away: in at 3 km, out at 2 km.
    assert!(codes(&search(&app, near(Some(3.0))).await).contains(&"CAF69-VILLEURBANNE".into()));
    assert!(!codes(&search(&app, near(Some(2.0))).await).contains(&"CAF69-VILLEURBANNE".into()));
    // Text and point together.
    let hits = search(
        &app,
        pb::SearchLocationsRequest {
            query: "france services".into(),
            ..near(Some(100.0))
        },
    )
    .await;
    assert_eq!(codes(&hits), ["FS-ARA"]);
}

#[tokio::test]
async fn hits_carry_their_latest_headline_and_inactive_ones_are_not_listed() {
    let (app, _out) = portal().await;
    let hits = search(&app, text("caf69 partdieu")).await;
    assert_eq!(codes(&hits), ["CAF69-LYON-PARTDIEU"]);
    let hit = &hits[0];
    assert_eq!(hit.period, previous().to_string());
    let headline: Vec<&str> = hit.headline.iter().map(|i| i.code.as_str()).collect();
    assert_eq!(headline, ["VOLUME", "SATISFACTION_RATE"]);
    // The same figures as the location's results.
    let results = app
        .results()
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: "CAF69-LYON-PARTDIEU".into(),
            period: String::new(),
            ..Default::default()
        })
        .await
        .expect("results")
        .into_inner();
    for shown in &hit.headline {
        let same = results
            .current
            .as_ref()
            .expect("current")
            .indicators
            .iter()
            .find(|i| i.code == shown.code)
            .expect("in the results");
        assert_eq!(same, shown);
        let figure = shown.figure.as_ref().expect("figure");
        assert!(figure.suppressed || figure.value.is_some(), "{shown:?}");
    }
    // A new location without figures is found, with no headline; once inactive, it is not.
    let admin = app.admin_key.clone();
    let mut locations = app.locations(Some(&admin));
    let parent = app.stored_location("CAF69").await;
    let created = locations
        .create_location(pb::CreateLocationRequest {
            location: Some(pb::Location {
                code: "CAF69-SAINT-FONS".into(),
                name: "Accueil CAF Saint-Fons".into(),
                typology: "Caisse d'allocations familiales".into(),
                parent_id: parent.location.id.to_string(),
                postal_code: "69190".into(),
                city: "Saint-Fons".into(),
                ..Default::default()
            }),
            inactive: false,
        })
        .await
        .expect("create")
        .into_inner()
        .location
        .expect("location");
    let hits = search(&app, text("st fons")).await;
    assert_eq!(codes(&hits), ["CAF69-SAINT-FONS"]);
    assert!(hits[0].headline.is_empty() && hits[0].period.is_empty());
    assert_eq!(
        codes(&search(&app, text("accueil st fons")).await),
        ["CAF69-SAINT-FONS"]
    );
    // Renamed, it is found by its new name's words and no longer by the old ones.
    locations
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                id: created.id.clone(),
                name: "Maison France services des Minguettes".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
        })
        .await
        .expect("rename");
    assert_eq!(
        codes(&search(&app, text("MINGUETTES")).await),
        ["CAF69-SAINT-FONS"]
    );
    assert!(search(&app, text("accueil st fons")).await.is_empty());
    locations
        .update_location(pb::UpdateLocationRequest {
            location: Some(pb::Location {
                id: created.id.clone(),
                active: false,
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["active".into()],
            }),
        })
        .await
        .expect("deactivate");
    assert!(search(&app, text("st fons")).await.is_empty());
}

#[tokio::test]
async fn pages_resume_where_they_stopped_and_bad_searches_are_refused() {
    let (app, _out) = portal().await;
    let all = codes(&search(&app, text("accueil")).await);
    assert!(all.len() >= 8, "{all:?}");
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .results()
            .search_locations(pb::SearchLocationsRequest {
                query: "accueil".into(),
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .expect("page")
            .into_inner();
        assert!(page.hits.len() <= 3);
        paged.extend(codes(&page.hits));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, all);
    // A token replayed on another search is refused.
    let first = app
        .results()
        .search_locations(pb::SearchLocationsRequest {
            query: "accueil".into(),
            page_size: 1,
            ..Default::default()
        })
        .await
        .expect("page")
        .into_inner();
    let status = app
        .results()
        .search_locations(pb::SearchLocationsRequest {
            query: "caf".into(),
            page_token: first.next_page_token,
            ..Default::default()
        })
        .await
        .expect_err("replayed token");
    assert_eq!(violations(&status), ["page_token"]);
    let status = app
        .results()
        .search_locations(pb::SearchLocationsRequest {
            query: "x".repeat(101),
            postal_code: "6900".into(),
            departement: "99".into(),
            latitude: Some(95.0),
            longitude: Some(4.0),
            page_size: -1,
            ..Default::default()
        })
        .await
        .expect_err("bad search");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert_eq!(
        violations(&status),
        ["query", "postal_code", "departement", "latitude"]
    );
    let status = app
        .results()
        .search_locations(pb::SearchLocationsRequest {
            latitude: Some(45.0),
            longitude: Some(4.0),
            radius_km: Some(1_000.0),
            ..Default::default()
        })
        .await
        .expect_err("radius");
    assert_eq!(violations(&status), ["radius_km"]);
    let status = app
        .results()
        .search_locations(pb::SearchLocationsRequest::default())
        .await
        .expect_err("no criterion");
    assert_eq!(violations(&status), ["query"]);
}

#[tokio::test]
async fn a_network_s_children_compare_in_the_summary_s_order() {
    let (app, _out) = portal().await;
    let compared = app
        .results()
        .compare_children(pb::CompareChildrenRequest {
            location_code: "CAF69".into(),
            period: String::new(),
        })
        .await
        .expect("compare")
        .into_inner();
    assert_eq!(compared.period, previous().to_string());
    assert_eq!(
        compared.location.as_ref().map(|l| l.code.as_str()),
        Some("CAF69")
    );
    let mut children: Vec<String> = compared
        .children
        .iter()
        .map(|c| c.location.as_ref().expect("child").code.clone())
        .collect();
    children.sort();
    assert_eq!(
        children,
        [
            "CAF69-LYON-PARTDIEU",
            "CAF69-VENISSIEUX",
            "CAF69-VILLEURBANNE"
        ]
    );
    let value = |c: &pb::ChildResults, code: &str| {
        c.indicators
            .iter()
            .find(|i| i.code == code)
            .and_then(|i| i.figure)
    };
    // Ranked: 1, 2, … for published satisfactions, best first; then 0s.
    let mut expected_rank = 1;
    let mut last: Option<f64> = None;
    for child in &compared.children {
        let satisfaction = value(child, "SATISFACTION_RATE")
            .filter(|f| !f.suppressed)
            .and_then(|f| f.value);
        match satisfaction {
            Some(s) => {
                assert_eq!(child.rank, expected_rank);
                expected_rank += 1;
                if let Some(previous) = last {
                    assert!((previous * 10.0).round() >= (s * 10.0).round());
                }
                last = Some(s);
            }
            None => assert_eq!(child.rank, 0),
        }
    }
    // A site has no children; a month without figures is NOT_FOUND.
    let leaf = app
        .results()
        .compare_children(pb::CompareChildrenRequest {
            location_code: "CAF69-VILLEURBANNE".into(),
            period: String::new(),
        })
        .await
        .expect("leaf")
        .into_inner();
    assert!(leaf.children.is_empty());
    let status = app
        .results()
        .compare_children(pb::CompareChildrenRequest {
            location_code: "CAF69".into(),
            period: "2001-01".into(),
        })
        .await
        .expect_err("no figures");
    assert_eq!(status.code(), tonic::Code::NotFound);
}

/// What a browser's generated client does: grpc-web over HTTP/1.1, no tonic on its side.
#[tokio::test]
async fn a_browser_searches_and_compares_over_grpc_web() {
    let (app, _out) = portal().await;
    let request = text("caf lyon").encode_to_vec();
    let answer = boucle_tests::grpc_web::call(
        &app.addr,
        "/boucle.v1.ResultsService/SearchLocations",
        &request,
    )
    .await
    .expect("grpc-web");
    assert_eq!(answer.http_status, 200);
    assert_eq!(answer.grpc_status(), Some("0"), "{answer:?}");
    let found = pb::SearchLocationsResponse::decode(answer.messages[0].as_slice()).expect("decode");
    assert_eq!(
        codes(&found.hits),
        codes(&search(&app, text("caf lyon")).await)
    );

    let request = pb::CompareChildrenRequest {
        location_code: "CAF69".into(),
        period: String::new(),
    }
    .encode_to_vec();
    let answer = boucle_tests::grpc_web::call(
        &app.addr,
        "/boucle.v1.ResultsService/CompareChildren",
        &request,
    )
    .await
    .expect("grpc-web");
    assert_eq!(answer.grpc_status(), Some("0"), "{answer:?}");
    let compared =
        pb::CompareChildrenResponse::decode(answer.messages[0].as_slice()).expect("decode");
    assert_eq!(compared.children.len(), 3);

    // A refusal reaches the browser as a status, not a broken page.
    let answer = boucle_tests::grpc_web::call(
        &app.addr,
        "/boucle.v1.ResultsService/SearchLocations",
        &pb::SearchLocationsRequest::default().encode_to_vec(),
    )
    .await
    .expect("grpc-web");
    assert_eq!(answer.grpc_status(), Some("3"), "{answer:?}");
}

/// Locations written before search was stored are found once the database is migrated: the
/// store fills what search compares (the keys, the term index) right after the migrations
/// that add it.
#[tokio::test]
async fn locations_of_an_older_schema_are_found_after_migrating() {
    use boucle_migrations::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;

    let app = spawn_app().await;
    app.location("SAINT-LO", None).await;
    let db = app.store.connection();
    for older in [
        "UPDATE location SET name = 'Accueil de Saint-Lô', search_key = NULL, \
         name_key = NULL, departement = NULL",
        "DELETE FROM location_term",
    ] {
        db.execute_unprepared(older)
            .await
            .expect("as an older version left it");
    }
    let found = || async {
        app.results()
            .search_locations(text("st lo"))
            .await
            .expect("search")
            .into_inner()
            .hits
            .len()
    };
    assert_eq!(found().await, 0);
    // Down past the migration and up again, as an upgrade runs it.
    let since = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261202_000001_location_search")
        .expect("the search migration")
        + 1;
    Migrator::down(db, Some(since as u32)).await.expect("down");
    app.store.migrate().await.expect("migrate");
    assert_eq!(found().await, 1);
}

/// Runs `frictionless validate` on one file; `None` when frictionless is not installed
/// (`.ci/run` installs it and sets BOUCLE_REQUIRE_FRICTIONLESS).
fn frictionless(args: &[&str]) -> Option<serde_json::Value> {
    match std::process::Command::new("frictionless")
        .arg("validate")
        .args(["--json", "--trusted"])
        .args(args)
        .output()
    {
        Ok(out) => Some(serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "frictionless {args:?}: {e}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })),
        Err(_) => {
            assert!(
                std::env::var("BOUCLE_REQUIRE_FRICTIONLESS").is_err(),
                "frictionless is required"
            );
            None
        }
    }
}

/// Every file of the month's open data, in every encoding, validates against the
/// TableSchema shipped beside it: types, required fields, enumerations, patterns, keys.
#[tokio::test]
async fn every_open_data_file_validates_against_its_schema() {
    let (app, out) = portal().await;
    let exported =
        boucle_jobs::open_data::export(&app.store, previous(), PARIS, None, out.path(), None)
            .await
            .expect("export");
    let dir = out.path();
    let mut checked = 0;
    for dataset in boucle_jobs::open_data::fields::all() {
        let schema = dir.join(format!("schema-{}.json", dataset.stem));
        let excel_schema = dir.join(format!("schema-{}.excel.json", dataset.stem));
        std::fs::write(
            &excel_schema,
            boucle_jobs::open_data::catalogue::excel_table_schema(&dataset),
        )
        .expect("excel schema");
        for stem in [
            format!("{}-{}", dataset.stem, previous()),
            dataset.stem.to_owned(),
        ] {
            let rows = exported
                .rows
                .iter()
                .find(|(name, _)| *name == stem)
                .map(|r| r.1)
                .unwrap_or_else(|| panic!("{stem} written"));
            assert!(rows > 0, "{stem} is not empty");
            for (file, extra) in [
                (format!("{stem}.csv"), vec![]),
                (
                    format!("{stem}.excel.csv"),
                    vec![
                        "--dialect",
                        r#"{"delimiter": ";"}"#,
                        "--encoding",
                        "utf-8-sig",
                    ],
                ),
            ] {
                let schema = if file.ends_with(".excel.csv") {
                    &excel_schema
                } else {
                    &schema
                };
                let path = dir.join(&file);
                let mut args = vec![
                    path.to_str().expect("path"),
                    "--schema",
                    schema.to_str().expect("schema"),
                ];
                args.extend(extra);
                let Some(report) = frictionless(&args) else {
                    return;
                };
                assert_eq!(report["valid"], true, "{file}: {report:#}");
                let task = &report["tasks"][0];
                assert_eq!(task["stats"]["rows"], rows, "{file}");
                checked += 1;
            }
            // JSON: the same rows, each object with exactly the schema's fields.
            let json: serde_json::Value = serde_json::from_slice(
                &std::fs::read(dir.join(format!("{stem}.json"))).expect("json"),
            )
            .expect("json");
            let objects = json.as_array().expect("array");
            assert_eq!(objects.len() as u64, rows, "{stem}.json");
            let names: Vec<&str> = dataset.fields.iter().map(|f| f.name).collect();
            for o in objects {
                let keys: Vec<&str> = o
                    .as_object()
                    .expect("object")
                    .keys()
                    .map(String::as_str)
                    .collect();
                let mut expected = names.clone();
                expected.sort();
                let mut keys = keys;
                keys.sort();
                assert_eq!(keys, expected);
                for f in &dataset.fields {
                    let v = &o[f.name];
                    if f.required {
                        assert!(!v.is_null(), "{stem}.json: {} is required: {o}", f.name);
                    }
                    if !f.values.is_empty() && !v.is_null() {
                        assert!(f.values.iter().any(|e| v == e.as_str()), "{}: {v}", f.name);
                    }
                }
            }
        }
    }
    assert_eq!(checked, 12);
    // The catalogue lists each dataset with its distributions, sizes and digests.
    let catalogue: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("catalogue.jsonld")).expect("catalogue"))
            .expect("json-ld");
    assert_eq!(catalogue["@type"], "dcat:Catalog");
    let datasets = catalogue["dcat:dataset"].as_array().expect("datasets");
    assert_eq!(datasets.len(), 3);
    for d in datasets {
        let distributions = d["dcat:distribution"].as_array().expect("distributions");
        assert_eq!(distributions.len(), 6, "{d:#}");
        for dist in distributions {
            let name = dist["dcat:downloadURL"]["@id"].as_str().expect("url");
            let bytes = std::fs::read(dir.join(name)).expect("listed file exists");
            assert_eq!(
                dist["spdx:checksum"]["spdx:checksumValue"],
                boucle::domain::digest::sha256_hex(&bytes)
            );
        }
    }
}

/// A re-user, with no key, lists the open data and downloads each file with its schema and
/// the catalogue, over gRPC and grpc-web: the bytes the run wrote, from the database.
#[tokio::test]
async fn a_re_user_downloads_the_datasets_schemas_and_catalogue() {
    use tokio_stream::StreamExt;
    let (app, out) = portal().await;
    let exported =
        boucle_jobs::open_data::export(&app.store, previous(), PARIS, None, out.path(), None)
            .await
            .expect("export");
    let listed = app
        .results()
        .list_open_data_files(pb::ListOpenDataFilesRequest {
            period: previous().to_string(),
            ..Default::default()
        })
        .await
        .expect("list")
        .into_inner();
    let names: Vec<&str> = listed.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names.len(), exported.files.len(), "{names:?}");
    for expected in [
        "catalogue.jsonld",
        "experiences.csv",
        "resultats.excel.csv",
        "schema-structures.json",
        &format!("resultats-{}.json", previous()),
    ] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert!(
        !names.iter().any(|n| n.contains('/')),
        "manifests are not open data"
    );
    for file in &listed.files {
        let mut stream = app
            .results()
            .get_open_data_file(pb::GetOpenDataFileRequest {
                name: file.name.clone(),
            })
            .await
            .expect("get")
            .into_inner();
        let mut bytes = Vec::new();
        let mut described = None;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.expect("chunk");
            if let Some(d) = chunk.file {
                described = Some(d);
            }
            assert!(chunk.chunk.len() <= 1024 * 1024);
            bytes.extend(chunk.chunk);
        }
        assert_eq!(described.as_ref(), Some(file));
        assert_eq!(
            bytes,
            std::fs::read(out.path().join(&file.name)).expect("file")
        );
        assert_eq!(boucle::domain::digest::sha256_hex(&bytes), file.sha256);
    }
    for (name, code) in [
        ("nope.csv", tonic::Code::NotFound),
        ("../experiences.csv", tonic::Code::NotFound),
        ("", tonic::Code::InvalidArgument),
    ] {
        let status = match app
            .results()
            .get_open_data_file(pb::GetOpenDataFileRequest { name: name.into() })
            .await
        {
            Ok(mut s) => s
                .get_mut()
                .next()
                .await
                .expect("an answer")
                .expect_err("refused"),
            Err(status) => status,
        };
        assert_eq!(status.code(), code, "{name:?}");
    }
    // Over grpc-web, as a browser downloads it.
    let answer = boucle_tests::grpc_web::call(
        &app.addr,
        "/boucle.v1.ResultsService/GetOpenDataFile",
        &pb::GetOpenDataFileRequest {
            name: "schema-resultats.json".into(),
        }
        .encode_to_vec(),
    )
    .await
    .expect("grpc-web");
    assert_eq!(answer.grpc_status(), Some("0"), "{answer:?}");
    let bytes: Vec<u8> = answer
        .messages
        .iter()
        .flat_map(|m| {
            pb::GetOpenDataFileResponse::decode(m.as_slice())
                .expect("decode")
                .chunk
        })
        .collect();
    let schema: serde_json::Value = serde_json::from_slice(&bytes).expect("schema");
    assert_eq!(schema["name"], "resultats");
}

/// A re-user pulls only what changed: `updated_since` lists the experiences published or
/// answered since, and nothing when nothing changed.
#[tokio::test]
async fn published_experiences_can_be_pulled_incrementally() {
    let (app, _out) = portal().await;
    let list = |since: Option<prost_types::Timestamp>| {
        let mut results = app.results();
        async move {
            results
                .list_published_feedback(pb::ListPublishedFeedbackRequest {
                    location_code: "CAF".into(),
                    updated_since: since,
                    page_size: 500,
                    ..Default::default()
                })
                .await
                .expect("list")
                .into_inner()
                .feedback
        }
    };
    let everything = list(None).await;
    assert!(everything.len() > 10);
    let now = boucle::pb::convert::timestamp(boucle::store::now_ms() + 1);
    assert!(list(Some(now)).await.is_empty(), "nothing changed since");
    // An answer published now on an old experience brings it back.
    let old = everything
        .iter()
        .rev()
        .find(|f| f.responses.is_empty())
        .expect("an unanswered experience")
        .clone();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.publish_answer(&old.id, "L'équipe", "Merci, c'est corrigé.")
        .await;
    let changed = list(Some(now)).await;
    assert_eq!(
        changed.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        [old.id.as_str()]
    );
    let status = app
        .results()
        .list_published_feedback(pb::ListPublishedFeedbackRequest {
            location_code: "CAF".into(),
            updated_since: Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -1,
            }),
            ..Default::default()
        })
        .await
        .expect_err("bad instant");
    assert_eq!(violations(&status), ["updated_since"]);
}

/// The demo shows every feature of the publics at once: a network whose publics each have
/// figures of their own, and France Services' agents' barometer with the « symétrie des
/// attentions » across its sites, inside only.
#[tokio::test]
async fn the_demo_shows_each_public_and_the_agents_barometer_inside() {
    let (app, _out) = portal().await;
    let caf = app
        .results()
        .get_location_results(pb::GetLocationResultsRequest {
            location_code: "CAF".into(),
            ..Default::default()
        })
        .await
        .expect("CAF")
        .into_inner();
    assert!(
        caf.available_audiences.len() >= 3,
        "{:?}",
        caf.available_audiences
    );
    assert!(
        !caf.available_audiences
            .contains(&(pb::Audience::Agent as i32))
    );
    let internal = app
        .indicators(Some(&app.admin_key))
        .get_internal_results(pb::GetInternalResultsRequest {
            location_code: "FS".into(),
            period: previous().to_string(),
        })
        .await
        .expect("internal")
        .into_inner();
    assert_eq!(internal.min_sample_agents, 5);
    assert!(
        internal
            .audiences
            .iter()
            .any(|a| a.audience == pb::Audience::Agent as i32),
        "{internal:?}"
    );
    let symmetry = internal.symmetry.expect("the sites' symmetry");
    assert!(symmetry.sites >= 3, "{symmetry:?}");
    assert!(symmetry.rho.is_some(), "{symmetry:?}");
}

/// A page of published experiences after a cursor reads a range of an index that begins at
/// the cursor, whatever the filter. With the keyset's `OR` alone, both planners read the
/// listing from its first row for every page and looked each row up in the table: paging
/// through a million experiences was quadratic (a page half-way took 3.6 s on SQLite).
#[tokio::test]
async fn a_page_of_published_experiences_starts_at_its_cursor() {
    use boucle::store::public::{PublishedFilter, published_page_statement};
    let t = boucle_tests::test_store().await;
    let backend = t.store.backend();
    let cursor = Some((1_790_000_000_000, uuid::Uuid::now_v7()));
    for filter in [
        PublishedFilter::default(),
        PublishedFilter {
            submitted: Some((1_780_000_000_000, 1_800_000_000_000)),
            ..Default::default()
        },
        PublishedFilter {
            root: Some(uuid::Uuid::now_v7()),
            ..Default::default()
        },
        PublishedFilter {
            updated_since: Some(1_780_000_000_000),
            ..Default::default()
        },
    ] {
        let statement = published_page_statement(backend, filter, 1_000, cursor);
        let plan = boucle_tests::plan(t.store.connection(), statement).await;
        let from_the_cursor = plan.lines().any(|line| match backend {
            sea_orm::DbBackend::Sqlite => {
                line.contains("SEARCH feedback") && line.contains("submitted_at<")
            }
            _ => line.contains("Index Cond") && line.contains("submitted_at <="),
        });
        assert!(from_the_cursor, "{filter:?}:\n{plan}");
    }
}

/// A search around a point reads its box from an index that holds both coordinates. Indexed
/// by latitude alone, SQLite read the box's whole band of latitude and looked each location
/// up in the table to compare its longitude: some 440 lookups for a 10 km radius at 20,000
/// locations, most of the search's time (`boucle-bench reads`).
#[tokio::test]
async fn a_search_around_a_point_reads_its_box_from_the_index() {
    use boucle::domain::search::{Search, SearchInput};
    let t = boucle_tests::test_store().await;
    let backend = t.store.backend();
    let search = Search::parse(&SearchInput {
        query: "",
        postal_code: "",
        departement: "",
        network: "",
        latitude: Some(45.76),
        longitude: Some(4.84),
        radius_km: Some(10.0),
    })
    .expect("a search around Lyon");
    let statement = boucle::store::public::search_statement(backend, &search, &[], None, 21, 0);
    let plan = boucle_tests::plan(t.store.connection(), statement).await;
    let by_position = plan.lines().any(|line| match backend {
        sea_orm::DbBackend::Sqlite => {
            line.contains("USING INDEX ix_location_position (latitude>? AND latitude<?)")
        }
        _ => line.contains("ix_location_position"),
    });
    assert!(by_position, "{plan}");
    if backend == sea_orm::DbBackend::Postgres {
        assert!(
            plan.lines()
                .any(|line| line.contains("Index Cond") && line.contains("longitude")),
            "{plan}"
        );
    }
}

/// PostgreSQL starts a search from its rarest word by itself, whatever the order the words
/// come in: boucle no longer counts them first there (a statement less for every search of
/// several words). SQLite, never analysed, is still told (`rarest_first`).
#[tokio::test]
async fn postgres_starts_a_search_from_its_rarest_word() {
    use boucle::domain::search::{Search, SearchInput};
    use sea_orm::ConnectionTrait;
    let t = boucle_tests::test_store().await;
    if t.store.backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    // 400 sites of « accueil », four of them at a « gare ».
    let locations: Vec<boucle::store::locations::Location> = (0..400)
        .map(|i| boucle::store::locations::Location {
            id: uuid::Uuid::now_v7(),
            code: format!("S{i:04}"),
            name: match i % 100 {
                0 => format!("Accueil de la gare {i}"),
                _ => format!("Accueil {i}"),
            },
            typology: "Accueil".into(),
            parent_id: None,
            postal_code: "69003".into(),
            city: "Lyon".into(),
            latitude: None,
            longitude: None,
            response_target_days: None,
            min_sample: None,
            min_sample_agents: None,
            active: true,
            created_at: 0,
            updated_at: 0,
        })
        .collect();
    t.store
        .bulk_insert_locations(&locations)
        .await
        .expect("locations");
    t.store
        .connection()
        .execute_unprepared("ANALYZE location_term")
        .await
        .expect("analyse");
    let search = Search::parse(&SearchInput {
        query: "accueil gare",
        postal_code: "",
        departement: "",
        network: "",
        latitude: None,
        longitude: None,
        radius_km: None,
    })
    .expect("a search by words");
    assert_eq!(
        search.terms,
        ["accueil", "gare"],
        "the common word comes first"
    );
    let statement = boucle::store::public::search_statement(
        t.store.backend(),
        &search,
        &search.terms,
        None,
        21,
        0,
    );
    let plan = boucle_tests::plan(t.store.connection(), statement).await;
    assert!(
        plan.lines()
            .any(|line| line.contains("Index Cond: ((term >= 'gare'")),
        "the candidates should come from « gare »:\n{plan}"
    );
}

/// The demo is the same all day for a seed: seeded at 9:00 and at 17:00 of one day, into
/// two databases, it holds the same experiences with the same statuses and answers. Its
/// clock used to be the instant it ran, so experiences of the afternoon, and answers that
/// fell due meanwhile, made two newcomers of the same day see different figures.
#[tokio::test]
async fn the_demo_is_the_same_at_any_hour_of_a_day() {
    use chrono::TimeZone;
    use sea_orm::{ConnectionTrait, Statement};
    let mut seen = Vec::new();
    for hour in [9, 17] {
        let t = boucle_tests::test_store().await;
        let at = PARIS
            .with_ymd_and_hms(2026, 11, 18, hour, 0, 0)
            .single()
            .expect("instant")
            .timestamp_millis();
        boucle::demo::seed(&t.store, 11, PARIS, at)
            .await
            .expect("demo");
        let db = t.store.connection();
        let rows = db
            .query_all_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT f.id, f.status, f.satisfaction, f.submitted_at, \
                 (SELECT COUNT(*) FROM response r WHERE r.feedback_id = f.id) AS answers \
                 FROM feedback f ORDER BY f.id",
            ))
            .await
            .expect("rows");
        let rows: Vec<(uuid::Uuid, String, String, i64, i64)> = rows
            .iter()
            .map(|r| {
                (
                    r.try_get("", "id").expect("id"),
                    r.try_get("", "status").expect("status"),
                    r.try_get("", "satisfaction").expect("satisfaction"),
                    r.try_get("", "submitted_at").expect("submitted_at"),
                    r.try_get("", "answers").expect("answers"),
                )
            })
            .collect();
        assert!(rows.len() > 1_000, "{} experiences", rows.len());
        seen.push(rows);
    }
    assert!(
        seen[0] == seen[1],
        "the demo differs between 9:00 and 17:00"
    );
}

/// Within a month, a page after a cursor has one upper bound on the instant: the cursor's.
/// Given the month's end as well, SQLite took the end for its index scan and read the month
/// from its last experience down to the cursor for every page (0.12–0.25 s a page half-way
/// through a month of a million, against 25–35 ms). A plan does not say which bound the
/// scan took; the statement's values do.
#[test]
fn a_page_within_a_month_is_bounded_by_its_cursor_alone() {
    use boucle::store::public::{PublishedFilter, published_page_statement};
    let (start, end) = (1_780_000_000_000_i64, 1_800_000_000_000_i64);
    let filter = PublishedFilter {
        submitted: Some((start, end)),
        ..Default::default()
    };
    let binds = |statement: &sea_orm::Statement, value: i64| {
        statement
            .values
            .as_ref()
            .is_some_and(|v| v.0.contains(&sea_orm::Value::from(value)))
    };
    for backend in [sea_orm::DbBackend::Sqlite, sea_orm::DbBackend::Postgres] {
        let first = published_page_statement(backend, filter, 1_000, None);
        assert!(binds(&first, start) && binds(&first, end), "{first}");
        let cursor = Some((1_790_000_000_000, uuid::Uuid::now_v7()));
        let next = published_page_statement(backend, filter, 1_000, cursor);
        assert!(binds(&next, start) && !binds(&next, end), "{next}");
        // A cursor past the end (a forged token) keeps the month's end.
        let past = Some((end + 1_000, uuid::Uuid::now_v7()));
        let past = published_page_statement(backend, filter, 1_000, past);
        assert!(binds(&past, end), "{past}");
    }
}
