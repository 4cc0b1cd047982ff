//! The databases benchmarks run on: a SQLite file under `target/bench/`, or a PostgreSQL
//! database created for the purpose next to the one `--postgres` names.

use std::path::PathBuf;

use boucle::store::{DatabaseSettings, Store};
use sea_orm::{ConnectionTrait, Database};

#[derive(Clone, Debug)]
pub enum Target {
    Sqlite,
    /// The admin URL (e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
    Postgres(String),
}

impl Target {
    pub fn label(&self) -> &'static str {
        match self {
            Target::Sqlite => "SQLite",
            Target::Postgres(_) => "PostgreSQL",
        }
    }

    /// The settings of database `name`, created empty (`fresh`) or kept if it exists.
    pub async fn database(&self, name: &str, fresh: bool) -> anyhow::Result<DatabaseSettings> {
        match self {
            Target::Sqlite => {
                let dir = bench_dir();
                std::fs::create_dir_all(&dir)?;
                let path = dir.join(format!("{name}.db"));
                if fresh {
                    for suffix in ["", "-wal", "-shm"] {
                        let p = PathBuf::from(format!("{}{suffix}", path.display()));
                        if p.exists() {
                            std::fs::remove_file(p)?;
                        }
                    }
                }
                Ok(DatabaseSettings::new(format!(
                    "sqlite://{}?mode=rwc",
                    path.display()
                )))
            }
            Target::Postgres(admin) => {
                let admin_db = Database::connect(admin.as_str()).await?;
                let exists = admin_db
                    .query_one_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
                    ))
                    .await?
                    .is_some();
                if fresh && exists {
                    admin_db
                        .execute_unprepared(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
                        .await?;
                }
                if fresh || !exists {
                    admin_db
                        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                        .await?;
                }
                admin_db.close().await?;
                let base = admin
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(admin.as_str());
                Ok(DatabaseSettings::new(format!("{base}/{name}")))
            }
        }
    }
}

/// Where the SQLite files and the reports of the benchmarks go.
pub fn bench_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("bench")
}

/// Opens and migrates.
pub async fn open(settings: &DatabaseSettings) -> anyhow::Result<Store> {
    let store = Store::connect(settings).await?;
    store.migrate().await?;
    Ok(store)
}
