//! Persistence: sea-orm over SQLite (embedded default) or PostgreSQL (production). The same
//! queries run on both; where raw SQL is clearer (hierarchy maintenance), it is written once
//! with `$n` placeholders and adapted to the backend by [`sql`].

pub mod actions;
pub mod aggregates;
pub mod api_keys;
pub mod audit;
pub(crate) mod entities;
mod error;
pub mod feedback;
mod group_commit;
pub mod indicators;
pub mod jobs;
pub mod lifecycle;
pub mod locations;
pub mod public;
pub mod report_inputs;
pub mod reports;

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend, Statement, Value};

use boucle_migrations::{Migrator, MigratorTrait};

/// A handle on the database, cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite URL for the capture writer's dedicated connection; `None`: it uses `db`.
    capture_writer: Option<String>,
    /// Started on first capture, on the runtime that captures.
    group_commit: std::sync::Arc<std::sync::OnceLock<group_commit::GroupCommit>>,
    /// Locations as capture sees them (see [`Store::capture_location`]).
    capture_cache:
        moka::sync::Cache<locations::LocationKey, std::sync::Arc<locations::CaptureLocation>>,
    /// Bumped after every commit through this store that can change what the public sees of
    /// results (figures, locations, indicator titles); see [`Store::published_epoch`].
    published_epoch: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The indicator catalogue as last read, per [`Store::published_epoch`] (see
    /// [`Store::catalogue`]).
    catalogue: moka::sync::Cache<u64, std::sync::Arc<indicators::Catalogue>>,
}

/// How long what this process keeps of published data (the catalogue's wording) may lag
/// behind a write made by another process (the jobs binary, another replica).
pub const PUBLISHED_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// The values of an `IN (…)` list without repeats, padded to a power of two by repeating
/// the last one. sqlx prepares and keeps one statement per text, per connection, and the
/// text of an `IN` list changes with its length: lists whose length varies from call to
/// call (a page's answers, their locations) filled every connection's cache with statements
/// of hundreds of parameters, 60 MB of the open-data export's memory. Padded, a query
/// shape has at most a dozen texts.
pub(crate) fn in_list<T>(values: impl IntoIterator<Item = T>) -> Vec<T>
where
    T: Clone + Eq + std::hash::Hash,
{
    let mut seen = std::collections::HashSet::new();
    let mut list: Vec<T> = values
        .into_iter()
        .filter(|v| seen.insert(v.clone()))
        .collect();
    if let Some(last) = list.last().cloned() {
        list.resize(list.len().next_power_of_two(), last);
    }
    list
}

/// Why the database could not be opened, in an operator's words: which database, where,
/// and the cause, once (not sqlx's "pool timed out" nor the same text twice), never the
/// password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectError {
    pub message: String,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

impl From<ConnectError> for crate::Error {
    fn from(e: ConnectError) -> Self {
        crate::Error::Unavailable(e.message)
    }
}

impl ConnectError {
    async fn diagnose(url: &str, err: &sea_orm::DbErr) -> Self {
        use sea_orm::sqlx::Error as Sqlx;
        let sqlx = match err {
            sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e)) => Some(e.as_ref()),
            _ => None,
        };
        // What the database itself said (a missing database, a refused role) without the
        // position in PostgreSQL's sources that sqlx appends.
        let said = match sqlx {
            Some(Sqlx::Database(db)) => Some(db.message().to_owned()),
            Some(Sqlx::Io(e)) => Some(e.to_string()),
            Some(Sqlx::Tls(e)) => Some(format!("TLS: {e}")),
            _ => None,
        };
        let message = if let Some(file) = DatabaseSettings::new(url).sqlite_file() {
            let cause = said.unwrap_or_else(|| err.to_string());
            format!(
                "cannot open the SQLite database {}: {cause}",
                file.display()
            )
        } else if let Ok(pg) = url.parse::<sea_orm::sqlx::postgres::PgConnectOptions>() {
            let (host, port) = (pg.get_host().to_owned(), pg.get_port());
            let name = pg.get_database().unwrap_or("(default)").to_owned();
            let cause = match said {
                Some(cause) => cause,
                // The pool only says it timed out: ask the network why.
                None => match tokio::time::timeout(
                    Duration::from_secs(3),
                    tokio::net::TcpStream::connect((host.as_str(), port)),
                )
                .await
                {
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "no answer within 3 s".to_owned(),
                    Ok(Ok(_)) => format!("the server accepted the connection, then: {err}"),
                },
            };
            format!("cannot open the PostgreSQL database {name} at {host}:{port}: {cause}")
        } else {
            format!("cannot open the database: {err}")
        };
        Self { message }
    }
}

/// How to open the database.
#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    pub url: String,
    /// Pool size. SQLite serialises writers anyway; a few connections let readers proceed
    /// while one transaction writes (WAL).
    pub max_connections: u32,
}

impl DatabaseSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_connections: 8,
        }
    }

    /// The file of a SQLite database (`sqlite://path?…` or `sqlite:path`), as the driver
    /// opens it (sqlx's own parser: percent-decoded, so `donn%C3%A9es` is `données`); `None`
    /// for PostgreSQL and in-memory databases.
    pub fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        let rest = self
            .url
            .strip_prefix("sqlite://")
            .or_else(|| self.url.strip_prefix("sqlite:"))?;
        let (path, options) = rest.split_once('?').unwrap_or((rest, ""));
        let in_memory =
            path.is_empty() || path == ":memory:" || options.split('&').any(|o| o == "mode=memory");
        if in_memory {
            return None;
        }
        let parsed: sea_orm::sqlx::sqlite::SqliteConnectOptions = self.url.parse().ok()?;
        Some(parsed.get_filename().to_path_buf())
    }
}

#[cfg(test)]
mod settings_tests {
    use super::DatabaseSettings;

    #[test]
    fn the_file_of_a_sqlite_url() {
        let file = |url: &str| DatabaseSettings::new(url).sqlite_file();
        assert_eq!(
            file("sqlite://boucle.db?mode=rwc"),
            Some("boucle.db".into())
        );
        assert_eq!(
            file("sqlite:///var/lib/boucle/b.db"),
            Some("/var/lib/boucle/b.db".into())
        );
        assert_eq!(file("sqlite:data/b.db"), Some("data/b.db".into()));
        // The driver decodes the path: so must whoever checks the file exists.
        assert_eq!(
            file("sqlite:///srv/donn%C3%A9es/b.db?mode=rwc"),
            Some("/srv/données/b.db".into())
        );
        assert_eq!(file("sqlite::memory:"), None);
        assert_eq!(file("sqlite://shared?mode=memory&cache=shared"), None);
        assert_eq!(file("postgres://postgres@127.0.0.1/boucle"), None);
    }
}

impl Store {
    /// Opens the pool (see [`connect_options`]). A failure says where and why, for an
    /// operator ([`ConnectError`]).
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, ConnectError> {
        let db = match Database::connect(connect_options(&settings.url, settings.max_connections))
            .await
        {
            Ok(db) => db,
            Err(e) => return Err(ConnectError::diagnose(&settings.url, &e).await),
        };
        // The capture writer's own connection (see `group_commit`): on a file, a second pool
        // of one; an in-memory database exists only in its own pool, which it then shares.
        let capture_writer = (db.get_database_backend() == DbBackend::Sqlite
            && !settings.url.contains(":memory:")
            && !settings.url.contains("mode=memory"))
        .then(|| settings.url.clone());
        Ok(Self {
            db,
            capture_writer,
            group_commit: Default::default(),
            capture_cache: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(locations::CAPTURE_CACHE_TTL)
                .build(),
            published_epoch: Default::default(),
            catalogue: moka::sync::Cache::builder()
                .max_capacity(2)
                .time_to_live(PUBLISHED_TTL)
                .build(),
        })
    }

    /// Applies every pending migration (idempotent).
    /// Then derives the catalogue rows of computed indicators that are missing, and what
    /// search compares on locations written before it was stored.
    pub async fn migrate(&self) -> Result<(), sea_orm::DbErr> {
        Migrator::up(&self.db, None).await?;
        indicators::derive_computed(&self.db).await?;
        locations::backfill_search(&self.db).await?;
        locations::backfill_terms(&self.db).await?;
        // What the public reads may have changed (search terms, catalogue rows).
        self.locations_changed();
        Ok(())
    }

    fn group_commit(&self) -> &group_commit::GroupCommit {
        self.group_commit.get_or_init(|| {
            group_commit::GroupCommit::start(self.db.clone(), self.capture_writer.clone())
        })
    }

    /// A number that changes after every commit made through this store (or a clone of it)
    /// that can change published results. Caches of public answers key on it, so what this
    /// process writes is visible to its next read; writes by another process (the jobs
    /// binary, another replica) only reach such caches when their entries expire.
    pub fn published_epoch(&self) -> u64 {
        self.published_epoch
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// The indicator catalogue, read once per [`Store::published_epoch`] and at most
    /// [`PUBLISHED_TTL`] old: every public answer labels its figures with it, and it
    /// changes only when an indicator is defined (which bumps the epoch here).
    pub async fn catalogue(&self) -> Result<std::sync::Arc<indicators::Catalogue>, crate::Error> {
        let epoch = self.published_epoch();
        if let Some(catalogue) = self.catalogue.get(&epoch) {
            return Ok(catalogue);
        }
        let catalogue = std::sync::Arc::new(indicators::catalogue(&self.db).await?);
        self.catalogue.insert(epoch, catalogue.clone());
        Ok(catalogue)
    }

    /// Call after committing a change to published results.
    pub(crate) fn published_changed(&self) {
        self.published_epoch
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Call after committing a change to locations: capture and public answers both see them.
    pub(crate) fn locations_changed(&self) {
        self.capture_cache.invalidate_all();
        self.published_changed();
    }

    /// Begins a transaction that will write (see [`begin_write`]).
    pub(crate) async fn write_txn(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        begin_write(&self.db).await
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    pub async fn close(self) -> Result<(), sea_orm::DbErr> {
        self.db.close().await
    }

    /// Sets the gauges that describe the store now (pool use, capture queue), for a scrape.
    pub fn refresh_metrics(&self) {
        let (size, idle, max) = match self.backend() {
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            DbBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                (
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                )
            }
            _ => (0, 0, 0),
        };
        let m = crate::metrics::metrics();
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        let state = |state| crate::metrics::StateLabel { state };
        m.pool_connections.get_or_create(&state("idle")).set(idle);
        m.pool_connections
            .get_or_create(&state("in_use"))
            .set((i64::from(size) - idle).max(0));
        m.pool_max_connections.set(i64::from(max));
        let waiting = self.group_commit.get().map_or(0, |g| g.waiting());
        m.capture_queue_depth
            .set(i64::try_from(waiting).unwrap_or(i64::MAX));
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), sea_orm::DbErr> {
        self.db.ping().await
    }
}

/// The locations a listing may read: the caller's scope, narrowed to the location a
/// filter names once that location is known to lie inside it. Every listing of scoped data
/// takes one, and only [`Reach::of`] builds one from a caller, so a new listing cannot
/// forget the caller's scope (nor accept a filter outside it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reach {
    scope: Option<uuid::Uuid>,
    within: Option<uuid::Uuid>,
}

impl Reach {
    /// What `caller` may read, narrowed to `within`; NOT_FOUND when `within` lies outside
    /// the caller's scope (outside it a location does not exist for the caller).
    pub async fn of(
        db: &impl sea_orm::ConnectionTrait,
        caller: &crate::domain::Caller,
        within: Option<uuid::Uuid>,
    ) -> Result<Self, crate::Error> {
        if let Some(root) = within
            && !locations::in_scope(db, caller.scope, root).await?
        {
            return Err(crate::Error::not_found("location"));
        }
        Ok(Self {
            scope: caller.scope,
            within,
        })
    }

    /// The batch's reach: every location, or the subtree of `root` (the jobs act for the
    /// platform, not for a key).
    pub fn platform(root: Option<uuid::Uuid>) -> Self {
        Self {
            scope: None,
            within: root,
        }
    }

    /// The caller's own scope (the root it sees), if any.
    pub fn scope(&self) -> Option<uuid::Uuid> {
        self.scope
    }

    /// The subtrees a row must lie in (all of them), none for everything.
    pub fn roots(&self) -> impl Iterator<Item = uuid::Uuid> {
        [self.scope, self.within].into_iter().flatten()
    }
}

/// Pool options for both databases. On SQLite: WAL (readers never block the writer),
/// `synchronous=FULL` (an acknowledged write survives a power cut, not only a process
/// crash), a 10 s busy timeout (writers queue instead of failing "database is locked"),
/// foreign keys on.
fn connect_options(url: &str, max_connections: u32) -> ConnectOptions {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        // Statements may carry personal data in their parameters: never log them.
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        })
        .map_sqlx_sqlite_pool_opts(|o| {
            o.after_connect(|conn, _| Box::pin(async move { stable_plans(conn).await }))
        });
    options
}

/// Turns on SQLite's query planner stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`) for a
/// new connection: a statement's plan no longer depends on the values bound to it, so a
/// prepared statement is prepared once. Without it the bundled SQLite re-prepares on every
/// call each statement with a bound `LIMIT` (sea-query binds every `LIMIT`, `.one()`
/// included, and every page of a listing has one): it reads the limit while planning, and
/// binding that parameter again, even to the same value, expires the statement. Under the
/// search benchmark, parsing and planning again took 8 % of the SQLite threads' time. boucle
/// never analyses a SQLite database (docs/decisions.md, « SQLite statistics »), so no plan
/// here depended on a bound value to begin with.
async fn stable_plans(
    conn: &mut sea_orm::sqlx::sqlite::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut now: std::ffi::c_int = 0;
    // SAFETY: `db` is the connection's open handle, held locked (no other thread uses it)
    // for the call; this option takes an int and a pointer to an int that SQLite writes the
    // setting into, and `now` outlives the call.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            &mut now as *mut std::ffi::c_int,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK || now != 1 {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused stable query plans (code {rc})").into(),
        ));
    }
    Ok(())
}

/// The capture writer's connection on SQLite: one connection, the pool's settings, and
/// temporary files in memory. A multi-row INSERT runs inside a statement savepoint, and in
/// WAL mode every page it touches is first copied to the statement journal; past 64 KiB
/// that journal spills to a temporary file, one `pwrite` per page, on the path every
/// submission waits for. A batch is bounded (`MAX_BATCH` rows), so its journal is too.
/// Only this connection runs this way: the aggregation's large sorts keep spilling to disk.
/// Its automatic checkpoints are off: the group commit checkpoints from another connection,
/// off the path of submissions.
async fn connect_capture_writer(url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = connect_options(url, 1);
    options.map_sqlx_sqlite_opts(|o| {
        o.pragma("temp_store", "memory")
            .pragma("wal_autocheckpoint", "0")
    });
    Database::connect(options).await
}

/// Begins a transaction that will write. On SQLite it is `BEGIN IMMEDIATE`: the write lock
/// is taken (waiting up to the busy timeout) when the transaction starts. A DEFERRED
/// transaction that reads first and writes later fails at once with "database is locked"
/// when another connection wrote in between, since SQLite cannot upgrade its stale snapshot;
/// two job workers or a worker and the server hit that. PostgreSQL ignores the mode.
pub(crate) async fn begin_write(
    db: &DatabaseConnection,
) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
    sea_orm::TransactionTrait::begin_with_options(
        db,
        sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        },
    )
    .await
}

/// Builds a raw statement written with PostgreSQL's `$1, $2, …` placeholders, so one SQL text
/// serves both databases; on SQLite see [`sqlite_placeholders`].
pub fn sql(backend: DbBackend, text: &str, values: Vec<Value>) -> Statement {
    let text = match backend {
        DbBackend::Sqlite => sqlite_placeholders(text),
        _ => text.to_owned(),
    };
    Statement::from_sql_and_values(backend, text, values)
}

/// `$n` placeholders in SQLite's forms: anonymous `?` when they appear exactly as `$1, $2, …`
/// in order, each once; otherwise numbered `?n`. Binding a numbered parameter makes sqlx ask
/// SQLite its name, a linear search: quadratic in statements with hundreds of values (a
/// 12,000-value insert took 83 s instead of 5).
fn sqlite_placeholders(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut expected = 1u64;
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if after[..digits].parse::<u64>().ok() != Some(expected) {
            return text.replace('$', "?");
        }
        out.push('?');
        expected += 1;
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

/// Which way a keyset listing runs over its `(instant, id)` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// Newest first.
    Descending,
    /// Oldest first.
    Ascending,
}

/// The rows after the cursor `(at, id)` of a listing ordered by `(at_col, id_col)`: the one
/// keyset condition every paginated listing uses, so that pages stay stable while rows are
/// inserted (no row served twice, none skipped).
///
/// The condition starts with a bound on the instant alone (`at_col <= at` newest first),
/// implied by the rest: neither planner reads a range of an index out of the `OR` that
/// follows, so without it every page scanned the index from the first row of the listing
/// and looked up each row in the table (a page half-way through a million published
/// experiences took 3.6 s on SQLite, 21 ms with the bound).
pub(crate) fn keyset<C: sea_orm::ColumnTrait>(
    order: Order,
    at_col: C,
    id_col: C,
    at: i64,
    id: uuid::Uuid,
) -> sea_orm::Condition {
    use sea_orm::Condition;
    let (within, beyond, id_beyond) = match order {
        Order::Descending => (at_col.lte(at), at_col.lt(at), id_col.lt(id)),
        Order::Ascending => (at_col.gte(at), at_col.gt(at), id_col.gt(id)),
    };
    Condition::all().add(within).add(
        Condition::any()
            .add(beyond)
            .add(Condition::all().add(at_col.eq(at)).add(id_beyond)),
    )
}

/// The domain value of a code read from a stored row (`row` names it, e.g. `feedback <id>`).
/// A code this version does not know is an INTERNAL error naming the row and column, never
/// a value silently shown as UNSPECIFIED or skipped: the one rule of every typed read model.
pub(crate) fn stored_code<T>(
    parse: fn(&str) -> Option<T>,
    row: impl std::fmt::Display,
    column: &str,
    code: &str,
) -> Result<T, crate::Error> {
    parse(code)
        .ok_or_else(|| crate::Error::Internal(format!("{row} has unknown {column} {code:?}")))
}

/// UTC epoch milliseconds: the storage form of every instant.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Whether a database error is the violation of a unique constraint (raised by the write
/// that lost a race, which then becomes a client error rather than an internal one).
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_lists_lose_repeats_and_come_in_few_lengths() {
        assert_eq!(in_list(Vec::<u8>::new()), Vec::<u8>::new());
        assert_eq!(in_list([7]), [7]);
        assert_eq!(in_list([1, 2, 1, 3]), [1, 2, 3, 3]);
        assert_eq!(in_list([5, 6, 7, 8]), [5, 6, 7, 8]);
        // Every length from 1 to 1,000 gives one of 11 list lengths.
        let lengths: std::collections::HashSet<usize> =
            (1..=1_000).map(|n| in_list(0..n).len()).collect();
        assert_eq!(lengths.len(), 11);
        assert!(lengths.iter().all(|l| l.is_power_of_two()));
    }

    #[test]
    fn placeholders_follow_the_backend() {
        let s = sql(DbBackend::Sqlite, "SELECT $1, $2", vec![1.into(), 2.into()]);
        assert_eq!(s.sql, "SELECT ?, ?");
        let p = sql(DbBackend::Postgres, "SELECT $1", vec![1.into()]);
        assert_eq!(p.sql, "SELECT $1");
    }

    #[test]
    fn sqlite_keeps_numbers_unless_placeholders_run_in_order_once() {
        assert_eq!(
            sqlite_placeholders("a = $1 AND b IN ($2, $3, $4, $5, $6, $7, $8, $9, $10)"),
            "a = ? AND b IN (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        // Reused, out of order, or not starting at 1: SQLite's numbered form.
        assert_eq!(
            sqlite_placeholders("x >= $1 AND y < $1"),
            "x >= ?1 AND y < ?1"
        );
        assert_eq!(
            sqlite_placeholders("x = $2 AND y = $1"),
            "x = ?2 AND y = ?1"
        );
        assert_eq!(
            sqlite_placeholders("x = $1 AND y = $3"),
            "x = ?1 AND y = ?3"
        );
        assert_eq!(sqlite_placeholders("no parameters"), "no parameters");
    }
}
