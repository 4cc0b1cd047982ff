//! Test harness: `spawn_app()` starts a real boucle-server on 127.0.0.1:0 over its own,
//! freshly migrated database, and hands out generated clients that carry an API key.
//!
//! Database: a SQLite file in a temporary folder by default; with `TEST_DATABASE_URL`
//! (e.g. `postgres://postgres@127.0.0.1:5432/postgres`) a fresh PostgreSQL database per
//! test, dropped when the test ends. Schemas are always built by running the migrations.

pub mod grpc_web;
pub mod outage;
pub mod raw_h2;
pub mod smtp;

use std::time::Duration;

use boucle::domain::Role;
use boucle::pb;
use boucle::store::locations::LocationKey;
use boucle::store::{DatabaseSettings, Store};
use boucle_server::{Application, ServeArgs};
use sea_orm::{ConnectionTrait, Database};
use secrecy::ExposeSecret;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::metadata::{AsciiMetadataValue, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

pub use boucle::pb::action_service_client::ActionServiceClient;
pub use boucle::pb::admin_service_client::AdminServiceClient;
pub use boucle::pb::feedback_service_client::FeedbackServiceClient;
pub use boucle::pb::indicator_service_client::IndicatorServiceClient;
pub use boucle::pb::location_service_client::LocationServiceClient;
pub use boucle::pb::results_service_client::ResultsServiceClient;

/// Adds `authorization: Bearer <key>` to every call (or nothing for anonymous calls).
#[derive(Clone)]
pub struct Bearer(Option<AsciiMetadataValue>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

/// Where a test's data lives; dropping it removes the data.
pub enum TestDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let TestDatabase::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime: use a thread with its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(db) = Database::connect(&admin_url).await {
                        let _ = db
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        let _ = db.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// A fresh, empty database (not migrated) and its URL.
pub async fn fresh_database() -> anyhow::Result<(TestDatabase, String)> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => new_postgres_database(admin_url, None).await,
        _ => {
            let dir = tempfile::tempdir()?;
            let url = format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("boucle.db").display()
            );
            Ok((TestDatabase::Sqlite(dir), url))
        }
    }
}

/// An exact copy of `database` (at `url`), so that two runs start from the same data: the
/// SQLite file copied (checkpoint its WAL first), or a PostgreSQL database created from it
/// as a template. Nothing may be connected to `database` meanwhile.
pub async fn copy_database(
    database: &TestDatabase,
    url: &str,
) -> anyhow::Result<(TestDatabase, String)> {
    match database {
        TestDatabase::Sqlite(_) => {
            let from = url
                .strip_prefix("sqlite://")
                .and_then(|u| u.split('?').next())
                .ok_or_else(|| anyhow::anyhow!("not a SQLite URL: {url}"))?;
            let dir = tempfile::tempdir()?;
            let to = dir.path().join("boucle.db");
            std::fs::copy(from, &to)?;
            Ok((
                TestDatabase::Sqlite(dir),
                format!("sqlite://{}?mode=rwc", to.display()),
            ))
        }
        TestDatabase::Postgres { admin_url, name } => {
            new_postgres_database(admin_url.clone(), Some(name)).await
        }
    }
}

/// A new PostgreSQL database beside the one `admin_url` names, empty or a copy of
/// `template`, and its URL; dropped with the returned value.
async fn new_postgres_database(
    admin_url: String,
    template: Option<&str>,
) -> anyhow::Result<(TestDatabase, String)> {
    let name = format!("boucle_test_{}", uuid::Uuid::new_v4().simple());
    let from = template
        .map(|t| format!(" TEMPLATE \"{t}\""))
        .unwrap_or_default();
    let admin = Database::connect(&admin_url).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\"{from}"))
        .await?;
    admin.close().await?;
    let base = admin_url
        .rsplit_once('/')
        .map(|(base, _)| base.to_owned())
        .ok_or_else(|| anyhow::anyhow!("TEST_DATABASE_URL must end with /<database>"))?;
    Ok((
        TestDatabase::Postgres {
            admin_url,
            name: name.clone(),
        },
        format!("{base}/{name}"),
    ))
}

/// The demo's two report recipients, created through the store by a new admin key:
/// `direction@caf69.test` for CAF69 (a network) and `agence@fs.test` for FS12-MILLAU (a site).
pub async fn demo_recipients(store: &Store) -> Vec<boucle::store::reports::Recipient> {
    let (key, _) = boucle::app::keys::create(store, None, "recipients", Role::Admin, None)
        .await
        .expect("admin key");
    let admin = boucle::domain::Caller {
        key_id: key.key.id,
        name: key.key.name,
        role: Role::Admin,
        scope: None,
    };
    let mut recipients = Vec::new();
    for (email, code) in [
        ("direction@caf69.test", "CAF69"),
        ("agence@fs.test", "FS12-MILLAU"),
    ] {
        let location = boucle::app::locations::find(store, &LocationKey::Code(code.into()))
            .await
            .expect("location");
        let recipient = boucle::app::reports::subscribe(
            store,
            &admin,
            email,
            "Direction",
            location.location.id,
        )
        .await
        .expect("recipient");
        recipients.push(recipient);
    }
    recipients
}

/// A short, positive experience at `location` with no optional field, for store-level tests
/// (`NewFeedback { title: …, ..new_feedback(location) }` for the fields a test cares about).
pub fn new_feedback(location: uuid::Uuid) -> boucle::domain::feedback::NewFeedback {
    use boucle::domain::feedback::{LocationRef, NewFeedback};
    use boucle::domain::{Audience, Channel, Satisfaction};
    NewFeedback {
        location: LocationRef::Id(location),
        channel: Channel::InPerson,
        audience: Audience::Usager,
        satisfaction: Satisfaction::Positive,
        nps: None,
        effort: None,
        title: "Accueil".to_owned(),
        story: "Bien reçu.".to_owned(),
        proposal: String::new(),
        procedure: String::new(),
        tags: Default::default(),
        labels: Default::default(),
        occurred_on: None,
        pseudonym: "Camille".to_owned(),
        contact_email: None,
        submitted_at: None,
    }
}

/// Whether the suite runs on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty())
}

/// A database migrated with the real migrations, for store-level tests.
pub struct TestStore {
    pub store: Store,
    pub url: String,
    _database: TestDatabase,
}

pub async fn test_store() -> TestStore {
    let (database, url) = fresh_database().await.expect("test database");
    let store = Store::connect(&DatabaseSettings::new(url.clone()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    TestStore {
        store,
        url,
        _database: database,
    }
}

pub struct TestApp {
    pub addr: String,
    /// The database the server runs on.
    pub url: String,
    pub store: Store,
    /// An unscoped ADMIN key.
    pub admin_key: String,
    channel: Channel,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
    _database: TestDatabase,
}

pub fn test_args() -> ServeArgs {
    ServeArgs {
        listen: "127.0.0.1:0".parse().expect("address"),
        ..ServeArgs::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(test_args()).await
}

pub async fn spawn_app_with(args: ServeArgs) -> TestApp {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
    let (database, url) = fresh_database().await.expect("test database");
    let app = Application::build(&DatabaseSettings::new(url.clone()), args)
        .await
        .expect("build app");
    let addr = format!("http://{}", app.local_addr().expect("local addr"));
    let store = app.store().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = rx.await;
    }));
    let channel = Endpoint::from_shared(addr.clone())
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect()
        .await
        .expect("connect to test server");
    let (_, secret) = boucle::app::keys::create(&store, None, "test admin", Role::Admin, None)
        .await
        .expect("admin key");
    TestApp {
        addr,
        url,
        store,
        admin_key: secret.secret.expose_secret().to_owned(),
        channel,
        shutdown: Some(tx),
        server: Some(server),
        _database: database,
    }
}

impl TestApp {
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    fn bearer(key: Option<&str>) -> Bearer {
        Bearer(key.map(|k| MetadataValue::try_from(format!("Bearer {k}")).expect("ascii key")))
    }

    pub fn locations(&self, key: Option<&str>) -> LocationServiceClient<Authed> {
        LocationServiceClient::with_interceptor(self.channel(), Self::bearer(key))
    }

    pub fn feedback(&self, key: Option<&str>) -> FeedbackServiceClient<Authed> {
        FeedbackServiceClient::with_interceptor(self.channel(), Self::bearer(key))
    }

    pub fn actions(&self, key: Option<&str>) -> ActionServiceClient<Authed> {
        ActionServiceClient::with_interceptor(self.channel(), Self::bearer(key))
    }

    pub fn indicators(&self, key: Option<&str>) -> IndicatorServiceClient<Authed> {
        IndicatorServiceClient::with_interceptor(self.channel(), Self::bearer(key))
    }

    pub fn results(&self) -> ResultsServiceClient<Authed> {
        ResultsServiceClient::with_interceptor(self.channel(), Self::bearer(None))
    }

    pub fn admin(&self, key: Option<&str>) -> AdminServiceClient<Authed> {
        AdminServiceClient::with_interceptor(self.channel(), Self::bearer(key))
    }

    /// The stored location of `code` (it must exist).
    pub async fn stored_location(&self, code: &str) -> boucle::store::locations::LocationView {
        boucle::app::locations::find(&self.store, &LocationKey::Code(code.to_owned()))
            .await
            .unwrap_or_else(|e| panic!("location {code}: {e}"))
    }

    /// The id of the stored location of `code`.
    pub async fn location_id(&self, code: &str) -> uuid::Uuid {
        self.stored_location(code).await.location.id
    }

    /// A new key of `role`, scoped to the location of `scope_code` (or unscoped).
    pub async fn key(&self, role: Role, scope_code: Option<&str>) -> String {
        let scope = match scope_code {
            Some(code) => Some(self.location_id(code).await),
            None => None,
        };
        let (_, secret) =
            boucle::app::keys::create(&self.store, None, &format!("test {role}"), role, scope)
                .await
                .expect("key");
        secret.secret.expose_secret().to_owned()
    }

    /// Creates a location through the API (as the admin) and returns it.
    pub async fn location(&self, code: &str, parent_code: Option<&str>) -> pb::Location {
        self.locations(Some(&self.admin_key))
            .create_location(pb::CreateLocationRequest {
                location: Some(pb::Location {
                    code: code.into(),
                    name: format!("Site {code}"),
                    typology: "Caisse d'allocations familiales".into(),
                    parent_code: parent_code.unwrap_or_default().into(),
                    postal_code: "69003".into(),
                    city: "Lyon".into(),
                    ..Default::default()
                }),
                inactive: false,
            })
            .await
            .expect("create location")
            .into_inner()
            .location
            .expect("location")
    }

    /// Two networks with a regional and two local sites each:
    /// NET-A → A-REG → {A-1, A-2}; NET-B → B-REG → {B-1, B-2}.
    /// Publishes an experience, as the admin.
    pub async fn publish_feedback(&self, id: &str) {
        self.feedback(Some(&self.admin_key))
            .moderate_feedback(pb::ModerateFeedbackRequest {
                id: id.into(),
                decision: pb::moderate_feedback_request::Decision::Publish as i32,
                ..Default::default()
            })
            .await
            .expect("publish the experience");
    }

    /// Drafts and publishes an answer to a published experience, as the admin; its id.
    pub async fn publish_answer(&self, feedback_id: &str, author: &str, body: &str) -> String {
        let mut staff = self.feedback(Some(&self.admin_key));
        let draft = staff
            .draft_response(pb::DraftResponseRequest {
                feedback_id: feedback_id.into(),
                author: author.into(),
                body: body.into(),
                ..Default::default()
            })
            .await
            .expect("draft")
            .into_inner()
            .response
            .expect("response");
        staff
            .publish_response(pb::PublishResponseRequest {
                response_id: draft.id.clone(),
            })
            .await
            .expect("publish the answer");
        draft.id
    }

    pub async fn two_networks(&self) {
        for net in ["A", "B"] {
            self.location(&format!("NET-{net}"), None).await;
            self.location(&format!("{net}-REG"), Some(&format!("NET-{net}")))
                .await;
            self.location(&format!("{net}-1"), Some(&format!("{net}-REG")))
                .await;
            self.location(&format!("{net}-2"), Some(&format!("{net}-REG")))
                .await;
        }
    }

    /// Asks the server to stop the way SIGTERM does, without waiting.
    pub fn begin_shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Stops the server the way SIGTERM does, and waits for in-flight calls to drain.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.begin_shutdown();
        if let Some(server) = self.server.take() {
            server.await??;
        }
        Ok(())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Rows of `table` (tests check what a call stored, or that it stored nothing).
pub async fn count_rows(db: &impl ConnectionTrait, table: &str) -> i64 {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .expect("count query")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("count")
}

/// The id of every location, ordered by code.
pub async fn location_ids(store: &Store) -> Vec<uuid::Uuid> {
    store
        .locations_for_aggregation(None)
        .await
        .expect("locations")
        .into_iter()
        .map(|l| l.location.id)
        .collect()
}

/// A minimal valid experience for `location_code`.
pub fn feedback_for(location_code: &str) -> pb::Feedback {
    pb::Feedback {
        location_code: location_code.into(),
        channel: pb::Channel::InPerson as i32,
        satisfaction: pb::Satisfaction::Positive as i32,
        story: "Accueil rapide et agréable.".into(),
        ..Default::default()
    }
}

/// The field paths of the BadRequest violations carried by a status.
pub fn violations(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// The plan of `statement`, one line per node.
pub async fn plan(db: &sea_orm::DatabaseConnection, statement: sea_orm::Statement) -> String {
    let backend = db.get_database_backend();
    let (prefix, column) = match backend {
        sea_orm::DbBackend::Sqlite => ("EXPLAIN QUERY PLAN ", "detail"),
        _ => ("EXPLAIN ", "QUERY PLAN"),
    };
    let explain = sea_orm::Statement {
        sql: format!("{prefix}{}", statement.sql),
        ..statement
    };
    let txn = sea_orm::TransactionTrait::begin(db).await.expect("begin");
    // A pooled SQLite connection opened before the migrations keeps the schema it read then
    // until it next reads a table, and EXPLAIN reads none: read one first.
    txn.query_one_raw(sea_orm::Statement::from_string(
        backend,
        "SELECT COUNT(*) AS n FROM feedback",
    ))
    .await
    .expect("read");
    if backend == sea_orm::DbBackend::Postgres {
        // An empty table is cheapest to read whole: ask for the best index instead, as the
        // planner chooses on a month of real data.
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .expect("set");
    }
    let rows = txn.query_all_raw(explain).await.expect("explain");
    txn.rollback().await.expect("rollback");
    rows.iter()
        .map(|r| r.try_get::<String>("", column).expect("plan line"))
        .collect::<Vec<_>>()
        .join("\n")
}
