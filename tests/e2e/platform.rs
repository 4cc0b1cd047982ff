//! Health, reflection, migrations, shutdown.

use boucle_migrations::{Migrator, MigratorTrait};
use boucle_tests::{count_rows, spawn_app, test_store};
use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

#[tokio::test]
async fn health_reports_every_service_serving() {
    let app = spawn_app().await;
    let mut health = HealthClient::new(app.channel());
    for service in [
        "",
        "boucle.v1.LocationService",
        "boucle.v1.FeedbackService",
        "boucle.v1.ActionService",
        "boucle.v1.IndicatorService",
        "boucle.v1.ResultsService",
        "boucle.v1.AdminService",
    ] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope.Service".into(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn reflection_v1_lists_the_services() {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let app = spawn_app().await;
    let mut client = ServerReflectionClient::new(app.channel());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("reflection call")
        .into_inner();
    let response = stream.next().await.expect("one answer").expect("ok answer");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("expected a service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "boucle.v1.FeedbackService",
        "boucle.v1.LocationService",
        "boucle.v1.ResultsService",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[tokio::test]
async fn reflection_v1alpha_answers_for_older_clients() {
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

    let app = spawn_app().await;
    let mut client = ServerReflectionClient::new(app.channel());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            "boucle.v1.FeedbackService".into(),
        )),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .expect("reflection call")
        .into_inner();
    let response = stream.next().await.expect("one answer").expect("ok answer");
    let Some(MessageResponse::FileDescriptorResponse(files)) = response.message_response else {
        panic!("expected file descriptors");
    };
    assert!(!files.file_descriptor_proto.is_empty());
}

#[tokio::test]
async fn migrations_build_the_schema_from_empty_and_seed_reference_data() {
    let t = test_store().await;
    let db = t.store.connection();
    assert_eq!(count_rows(db, "engagement").await, 8);
    assert_eq!(count_rows(db, "indicator").await, 11);
    assert_eq!(count_rows(db, "indicator_version").await, 11);
    // The catalogue the migration seeds is the definitions the aggregation computes, word
    // for word: an indicator added to one and not the other would be computed and never
    // published, or published and never computed.
    {
        use boucle::domain::indicators::IndicatorCode;
        use sea_orm::ConnectionTrait;
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT code, title, unit, direction, frequency, methodology FROM indicator \
                 WHERE kind = 'COMPUTED'",
            ))
            .await
            .expect("catalogue");
        let mut seeded: Vec<(String, String, String, String, String, String)> = rows
            .iter()
            .map(|r| {
                let col = |c: &str| r.try_get::<String>("", c).expect("text column");
                (
                    col("code"),
                    col("title"),
                    col("unit"),
                    col("direction"),
                    col("frequency"),
                    col("methodology"),
                )
            })
            .collect();
        let mut defined: Vec<_> = IndicatorCode::ALL
            .iter()
            .map(|c| {
                let d = c.definition();
                (
                    c.code().to_owned(),
                    d.title.to_owned(),
                    d.unit.to_owned(),
                    d.direction.code().to_owned(),
                    d.frequency.code().to_owned(),
                    d.methodology.to_owned(),
                )
            })
            .collect();
        seeded.sort();
        defined.sort();
        assert_eq!(seeded, defined, "seeded catalogue = the definitions");
    }
    for table in [
        "location",
        "location_closure",
        "api_key",
        "feedback",
        "feedback_tag",
        "response",
        "response_vote",
        "comment",
        "feedback_reassignment",
        "moderation_decision",
        "action",
        "action_feedback",
        "action_event",
        "measurement",
        "location_figures",
        "report",
        "job_run",
        "job_lease",
        "recipient",
        "delivery",
        "audit_log",
    ] {
        assert_eq!(count_rows(db, table).await, 0, "{table}");
    }
    // Applying again is a no-op; down then up rebuilds the same schema.
    t.store.migrate().await.expect("second migrate");
    Migrator::down(db, None).await.expect("down");
    Migrator::up(db, None).await.expect("up again");
    assert_eq!(count_rows(db, "engagement").await, 8);
}

/// The catalogue of computed indicators is derived from their definitions when the database
/// is migrated: a computed indicator whose row is missing (one added to `IndicatorCode`
/// without a migration, or a row deleted by hand) comes back, with its first version, and
/// a row that exists is never touched.
#[tokio::test]
async fn migrating_derives_missing_computed_indicators_from_their_definitions() {
    use boucle::domain::indicators::IndicatorCode;
    use sea_orm::ConnectionTrait;
    let t = test_store().await;
    let db = t.store.connection();
    let exec = |text: &'static str| async move {
        db.execute_unprepared(text).await.expect(text);
    };
    exec("DELETE FROM indicator_version WHERE code = 'NPS'").await;
    exec("DELETE FROM indicator WHERE code = 'NPS'").await;
    exec("UPDATE indicator SET title = 'Reworded', version = 2 WHERE code = 'VOLUME'").await;
    assert_eq!(count_rows(db, "indicator").await, 10);
    t.store.migrate().await.expect("migrate again");
    assert_eq!(count_rows(db, "indicator").await, 11);
    assert_eq!(count_rows(db, "indicator_version").await, 11);
    let catalogue = boucle::app::indicators::catalogue(&t.store)
        .await
        .expect("catalogue");
    let nps = catalogue.get("NPS").expect("NPS derived");
    assert_eq!(nps.definition.title, IndicatorCode::Nps.definition().title);
    assert_eq!(nps.version, 1);
    assert_eq!(
        catalogue.label(IndicatorCode::Volume),
        ("Reworded", "count"),
        "an existing row is left alone"
    );
    assert_eq!(catalogue.version(IndicatorCode::Volume), 2);
}

#[tokio::test]
async fn figures_stored_one_row_per_indicator_are_carried_over_exactly() {
    use boucle::store::aggregates::Scope;
    use sea_orm::ConnectionTrait;

    let app = spawn_app().await;
    let site = app.location("SITE", None).await;
    let id = uuid::Uuid::parse_str(&site.id).expect("uuid");
    let db = app.store.connection();
    // Back to the schema before figures were grouped, with figures in the old form.
    let since_figures = Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261129_000002_location_figures")
        .expect("the figures migration")
        + 1;
    Migrator::down(db, Some(since_figures as u32))
        .await
        .expect("down to before figures");
    let run = uuid::Uuid::now_v7();
    for (code, value, sample, ci, suppressed) in [
        ("VOLUME", Some(12.0), 12_i64, None, false),
        ("NPS", Some(1.0 / 3.0), 9, Some((-0.1, 0.7)), false),
        ("EFFORT_MEAN", None, 2, None, true),
    ] {
        db.execute_raw(boucle::store::sql(
            db.get_database_backend(),
            "INSERT INTO aggregate (location_id, period, scope, indicator_code, indicator_version, \
             value, sample_size, ci_low, ci_high, suppressed, job_run_id, computed_at) \
             VALUES ($1, '2026-09', 'SUBTREE', $2, 2, $3, $4, $5, $6, $7, $8, 99)",
            vec![
                id.into(),
                code.into(),
                value.into(),
                sample.into(),
                ci.map(|c: (f64, f64)| c.0).into(),
                ci.map(|c: (f64, f64)| c.1).into(),
                suppressed.into(),
                run.into(),
            ],
        ))
        .await
        .expect("old figure");
    }
    Migrator::up(db, None).await.expect("up");
    let period = "2026-09".parse().expect("period");
    let figures = app
        .store
        .aggregates_of(id, Scope::Subtree, period, period)
        .await
        .expect("figures");
    let got: Vec<_> = figures
        .iter()
        .map(|f| {
            (
                f.figure.code.code(),
                f.figure.value,
                f.figure.sample as i64,
                f.figure.ci.map(|c| c.0),
                f.figure.ci.map(|c| c.1),
                f.figure.suppressed,
                f.indicator_version,
                f.job_run_id,
                f.computed_at,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("EFFORT_MEAN", None, 2, None, None, true, 2, run, 99),
            (
                "NPS",
                Some(1.0 / 3.0),
                9,
                Some(-0.1),
                Some(0.7),
                false,
                2,
                run,
                99
            ),
            ("VOLUME", Some(12.0), 12, None, None, false, 2, run, 99),
        ]
    );
    // A month stored in the compact form (absent values and bounds, shown figures, left
    // out) goes back down as well.
    db.execute_raw(boucle::store::sql(
        db.get_database_backend(),
        "INSERT INTO location_figures (location_id, period, scope, figures, job_run_id, computed_at) \
         VALUES ($1, '2026-10', 'SELF', $2, $3, 100)",
        vec![
            id.into(),
            r#"[{"code":"VOLUME","version":1,"value":3.0,"sample":3},{"code":"NPS","version":1,"sample":3,"suppressed":true}]"#.into(),
            run.into(),
        ],
    ))
    .await
    .expect("compact figures");
    // And back down: the old rows again.
    Migrator::down(db, Some(since_figures as u32))
        .await
        .expect("down again");
    assert_eq!(count_rows(db, "aggregate").await, 5);
}

#[tokio::test]
async fn graceful_shutdown_stops_the_server_cleanly() {
    let app = spawn_app().await;
    let addr = app.addr.clone();
    app.stop().await.expect("clean stop");
    let again = tonic::transport::Endpoint::from_shared(addr)
        .expect("endpoint")
        .connect()
        .await;
    assert!(again.is_err(), "the port should be closed after shutdown");
}

#[tokio::test]
async fn a_call_in_flight_when_shutdown_begins_completes() {
    use boucle::domain::Role;
    use boucle::pb;

    let mut app = spawn_app().await;
    app.two_networks().await;
    let collector = app.key(Role::Collector, None).await;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let mut client = app.feedback(Some(&collector));
    let call = tokio::spawn(async move {
        client
            .import_feedback(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .map(|r| r.into_inner())
    });
    let item = |i: usize| pb::ImportFeedbackRequest {
        feedback: Some(boucle_tests::feedback_for("A-1")),
        request_id: format!("drain-{i}"),
    };
    tx.send(item(0)).await.expect("first item");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.begin_shutdown();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    tx.send(item(1))
        .await
        .expect("second item after shutdown began");
    drop(tx);
    let answer = call
        .await
        .expect("join")
        .expect("the in-flight call succeeds");
    assert_eq!(answer.created, 2);
    app.stop().await.expect("drained and stopped");
}

/// Every TCP connection the store holds to PostgreSQL sends with `TCP_NODELAY`. sqlx 0.9.0
/// left Nagle's algorithm on (the workspace patches it, see `vendor/README.md`): a statement
/// longer than one TCP segment then waited for the server's delayed ACK, 40 ms, before its
/// last segment left — a fifth of the submissions under load, and every large INSERT of the
/// aggregation. Checked on the sockets themselves, not with a stopwatch.
#[tokio::test]
async fn database_connections_send_without_waiting_for_acknowledgements() {
    if !boucle_tests::on_postgres() {
        return; // SQLite runs in the process: no socket.
    }
    use sea_orm::ConnectionTrait;
    let t = test_store().await;
    let port = database_port(&t.url);
    // Several connections at once, so the pool opens more than one.
    let queries = (0..4).map(|_| {
        t.store
            .connection()
            .execute_unprepared("SELECT pg_sleep(0.05)")
    });
    for result in futures::future::join_all(queries).await {
        result.expect("query");
    }
    let sockets = sockets_connected_to(port);
    assert!(
        sockets.len() >= 2,
        "expected the pool's connections to port {port}, found {}",
        sockets.len()
    );
    for (fd, nodelay) in sockets {
        assert!(
            nodelay,
            "connection on fd {fd} to port {port} has Nagle's algorithm on"
        );
    }
}

/// Every SQLite connection the store opens plans a statement once, whatever is bound to it.
/// The bundled SQLite otherwise reads a bound `LIMIT` while planning and, as soon as that
/// parameter is bound again (every call: every page of a listing, every `.one()`), throws
/// the prepared statement away and prepares it anew. Seen in the statement's program: with
/// stable plans the limit is read at run time (`Variable`); without, the value is compiled
/// in (`Integer 7`) by a second preparation.
#[tokio::test]
async fn sqlite_plans_a_statement_once_whatever_is_bound_to_it() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let t = test_store().await;
    if t.store.backend() != sea_orm::DbBackend::Sqlite {
        return; // PostgreSQL plans a prepared statement by its own rules.
    }
    // Four transactions at once hold four of the pool's connections.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(t.store.connection().begin().await.expect("begin"));
    }
    for txn in &held {
        let program = txn
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "EXPLAIN SELECT 1 AS one LIMIT ?",
                [7i64.into()],
            ))
            .await
            .expect("explain");
        let opcodes: Vec<(String, i64)> = program
            .iter()
            .map(|r| {
                (
                    r.try_get::<String>("", "opcode").expect("opcode"),
                    r.try_get::<i64>("", "p1").expect("p1"),
                )
            })
            .collect();
        assert!(
            opcodes.iter().any(|(op, _)| op == "Variable"),
            "the limit was compiled into the statement: {opcodes:?}"
        );
        assert!(!opcodes.contains(&("Integer".to_owned(), 7)), "{opcodes:?}");
    }
    for txn in held {
        txn.rollback().await.expect("rollback");
    }
}

fn database_port(url: &str) -> u16 {
    let authority = url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest))
        .expect("database URL");
    let host = authority.rsplit('@').next().unwrap_or(authority);
    host.rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or(5432)
}

/// `(fd, TCP_NODELAY)` of this process's TCP sockets whose peer listens on `port`.
fn sockets_connected_to(port: u16) -> Vec<(i32, bool)> {
    use std::os::fd::BorrowedFd;
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").expect("/proc/self/fd") {
        let Ok(entry) = entry else { continue };
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let is_socket = std::fs::read_link(entry.path())
            .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is only queried, never read, written or closed. Other
        // tests run in this process and may close it meanwhile; the queries then fail (or
        // answer for whatever reuses the number) and such sockets are skipped by the peer
        // check below.
        let fd_ref = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd_ref);
        let peer = socket.peer_addr().ok().and_then(|a| a.as_socket());
        if peer.is_some_and(|p| p.port() == port)
            && let Ok(nodelay) = socket.tcp_nodelay()
        {
            found.push((fd, nodelay));
        }
    }
    found
}

/// A browser's preflight from an allowed origin gets the CORS answer grpc-web needs; another
/// origin gets none. The origin is configured as an operator might type it (upper-case
/// scheme and host) and matches what the browser sends (lower-case).
#[tokio::test]
async fn grpc_web_preflights_are_answered_for_the_configured_origins_only() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let configured = boucle_server::config::origin("HTTPS://Portail.Example.fr").expect("origin");
    let app = boucle_tests::spawn_app_with(boucle_server::ServeArgs {
        cors_allow_origins: vec![configured],
        ..boucle_tests::test_args()
    })
    .await;
    let address = app.addr.trim_start_matches("http://").to_owned();
    let preflight = |origin: &'static str| {
        let address = address.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&address)
                .await
                .expect("connect");
            let request = format!(
                "OPTIONS /boucle.v1.ResultsService/GetLocationResults HTTP/1.1\r\n\
                 Host: {address}\r\nOrigin: {origin}\r\n\
                 Access-Control-Request-Method: POST\r\n\
                 Access-Control-Request-Headers: content-type,x-grpc-web\r\n\
                 Connection: close\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).await.expect("send");
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.expect("read");
            answer.to_ascii_lowercase()
        }
    };
    let allowed = preflight("https://portail.example.fr").await;
    assert!(
        allowed.contains("access-control-allow-origin: https://portail.example.fr"),
        "{allowed}"
    );
    assert!(
        allowed.contains("access-control-allow-methods"),
        "{allowed}"
    );
    let other = preflight("https://ailleurs.example.org").await;
    assert!(!other.contains("access-control-allow-origin"), "{other}");
}

/// A browser's grpc-web call gets its request id back, and the CORS answer lets the page's
/// script read it (and the status headers).
#[tokio::test]
async fn a_browser_reads_the_request_id_of_its_grpc_web_call() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let origin = boucle_server::config::origin("https://portail.example.fr").expect("origin");
    let app = boucle_tests::spawn_app_with(boucle_server::ServeArgs {
        cors_allow_origins: vec![origin],
        ..boucle_tests::test_args()
    })
    .await;
    let address = app.addr.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let request = format!(
        "POST /grpc.health.v1.Health/Check HTTP/1.1\r\nHost: {address}\r\n\
         Origin: https://portail.example.fr\r\ncontent-type: application/grpc-web+proto\r\n\
         x-grpc-web: 1\r\nx-request-id: portail-42\r\ncontent-length: 5\r\n\
         connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    stream.write_all(&[0, 0, 0, 0, 0]).await.expect("message");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.contains("x-request-id: portail-42"), "{answer}");
    let exposed = answer
        .lines()
        .find_map(|l| l.strip_prefix("access-control-expose-headers:"))
        .unwrap_or_else(|| panic!("no exposed headers: {answer}"));
    assert!(exposed.contains("x-request-id"), "{exposed}");
    assert!(exposed.contains("grpc-status"), "{exposed}");
}

/// As soon as a shutdown begins, health reports NOT_SERVING for the server and every
/// service, while calls are still served during the drain delay; then the server stops.
#[tokio::test]
async fn health_turns_not_serving_as_soon_as_the_drain_begins() {
    let mut app = boucle_tests::spawn_app_with(boucle_server::ServeArgs {
        drain_delay_seconds: 2,
        ..boucle_tests::test_args()
    })
    .await;
    let mut health = HealthClient::new(app.channel());
    let status = |health: &mut HealthClient<tonic::transport::Channel>, service: &'static str| {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .expect("health check")
                .into_inner()
                .status
        }
    };
    assert_eq!(status(&mut health, "").await, ServingStatus::Serving as i32);
    app.begin_shutdown();
    // Reported within moments, well inside the 2 s delay.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while status(&mut health, "").await != ServingStatus::NotServing as i32 {
        assert!(std::time::Instant::now() < deadline, "still SERVING");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for service in ["boucle.v1.FeedbackService", "boucle.v1.ResultsService"] {
        assert_eq!(
            status(&mut health, service).await,
            ServingStatus::NotServing as i32,
            "{service}"
        );
    }
    // Still serving calls during the delay.
    app.results()
        .list_published_feedback(boucle::pb::ListPublishedFeedbackRequest {
            location_code: "NOWHERE".into(),
            ..Default::default()
        })
        .await
        .expect_err("an answer, not a refused connection");
    app.stop().await.expect("drained and stopped");
}

/// Health follows the database: NOT_SERVING for the server and every service while
/// PostgreSQL cannot be reached, SERVING again once it can. (SQLite is a file of the
/// server's own machine: it cannot become unreachable this way.)
#[tokio::test]
async fn health_follows_the_reachability_of_the_database() {
    if !boucle_tests::on_postgres() {
        eprintln!("skipped: needs PostgreSQL (TEST_DATABASE_URL)");
        return;
    }
    let (_database, url) = boucle_tests::fresh_database().await.expect("database");
    // postgres://user@host:port/name: the host and port go through the relay.
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (authority, name) = rest.split_once('/').expect("a database name");
    let (user, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let upstream = tokio::net::lookup_host(host)
        .await
        .expect("resolve")
        .next()
        .expect("an address");
    let outage = boucle_tests::outage::Outage::relay(upstream)
        .await
        .expect("relay");
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    let relayed = format!("{scheme}://{user}{}/{name}", outage.addr());
    let app = boucle_server::Application::build(
        &boucle::store::DatabaseSettings::new(relayed),
        boucle_server::ServeArgs {
            health_check_seconds: 1,
            ..boucle_tests::test_args()
        },
    )
    .await
    .expect("build");
    let addr = format!("http://{}", app.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let channel = tonic::transport::Endpoint::from_shared(addr)
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let health = HealthClient::new(channel);
    let status = |service: &'static str| {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .expect("health answers whatever the database does")
                .into_inner()
                .status
        }
    };
    let wait_for = async |want: ServingStatus| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while status("").await != want as i32 {
            assert!(std::time::Instant::now() < deadline, "never {want:?}");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    };
    wait_for(ServingStatus::Serving).await;

    outage.cut();
    wait_for(ServingStatus::NotServing).await;
    for service in ["boucle.v1.FeedbackService", "boucle.v1.ResultsService"] {
        assert_eq!(
            status(service).await,
            ServingStatus::NotServing as i32,
            "{service}"
        );
    }

    outage.restore();
    wait_for(ServingStatus::Serving).await;
    assert_eq!(
        status("boucle.v1.AdminService").await,
        ServingStatus::Serving as i32
    );

    let _ = stop.send(());
    server.await.expect("server task").expect("stopped cleanly");
}

/// The google.rpc error details are described by reflection, and so is every file they
/// import (asked by name, as grpcurl does), so that a reflecting client decodes a BadRequest
/// without local proto files.
#[tokio::test]
async fn reflection_describes_the_error_details_and_their_imports() {
    use prost::Message;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let app = spawn_app().await;
    let mut client = ServerReflectionClient::new(app.channel());
    let mut ask =
        async |request: MessageRequest| -> Result<Vec<prost_types::FileDescriptorProto>, String> {
            let mut stream = client
                .server_reflection_info(tokio_stream::iter(vec![ServerReflectionRequest {
                    host: String::new(),
                    message_request: Some(request.clone()),
                }]))
                .await
                .map_err(|e| e.to_string())?
                .into_inner();
            let response = stream
                .next()
                .await
                .ok_or("no answer")?
                .map_err(|e| e.to_string())?;
            match response.message_response {
                Some(MessageResponse::FileDescriptorResponse(files)) => files
                    .file_descriptor_proto
                    .iter()
                    .map(|bytes| prost_types::FileDescriptorProto::decode(bytes.as_slice()))
                    .collect::<Result<_, _>>()
                    .map_err(|e| e.to_string()),
                other => Err(format!("{request:?}: {other:?}")),
            }
        };
    for symbol in [
        "google.rpc.BadRequest",
        "google.rpc.RetryInfo",
        "google.rpc.Status",
    ] {
        let files = ask(MessageRequest::FileContainingSymbol(symbol.into()))
            .await
            .unwrap_or_else(|e| panic!("{symbol}: {e}"));
        let (package, name) = symbol.rsplit_once('.').expect("qualified");
        assert!(
            files
                .iter()
                .any(|f| f.package() == package && f.message_type.iter().any(|m| m.name() == name)),
            "{symbol} is described"
        );
        // Every import, transitively, is served by its name.
        let mut wanted: Vec<String> = files.iter().flat_map(|f| f.dependency.clone()).collect();
        let mut seen: Vec<String> = files.iter().map(|f| f.name().to_owned()).collect();
        while let Some(import) = wanted.pop() {
            if seen.contains(&import) {
                continue;
            }
            let imported = ask(MessageRequest::FileByFilename(import.clone()))
                .await
                .unwrap_or_else(|e| panic!("{symbol} needs {import}: {e}"));
            assert!(imported.iter().any(|f| f.name() == import), "{import}");
            wanted.extend(imported.iter().flat_map(|f| f.dependency.clone()));
            seen.push(import);
        }
    }
}
