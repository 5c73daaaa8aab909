//! The database pool and migrations.
//!
//! Services talk to either backend through `sqlx::Any` with one set of queries
//! (placeholders `$1…`, portable SQL); only the DDL differs, so each service
//! keeps one migrations folder per backend. The embedded default is a SQLite
//! file under `./data/`; production is PostgreSQL by URL.

use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::settings::DatabaseSettings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("database.url must start with sqlite: or postgres://")
        }
    }
}

/// A pool on one backend.
#[derive(Debug, Clone)]
pub struct Database {
    pub pool: AnyPool,
    pub backend: Backend,
}

/// Opens the pool. For SQLite, creates the file's folder, turns on WAL,
/// foreign keys and a busy timeout, and uses one connection: the embedded
/// store serialises writers, which keeps every transaction's checks exact.
pub async fn connect(settings: &DatabaseSettings) -> anyhow::Result<Database> {
    sqlx::any::install_default_drivers();
    let url = settings.url()?;
    let url = url.expose_secret();
    let backend = Backend::from_url(url)?;
    let options = AnyPoolOptions::new().acquire_timeout(Duration::from_millis(settings.acquire_timeout_ms));
    let pool = match backend {
        Backend::Sqlite => {
            if let Some(parent) = sqlite_path(url).and_then(|p| std::path::Path::new(p).parent())
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent)?;
            }
            options
                .max_connections(1)
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        connection
                            .execute("PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;")
                            .await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await?
        }
        Backend::Postgres => options.max_connections(settings.max_connections).connect(url).await?,
    };
    Ok(Database { pool, backend })
}

/// Applies the backend's migrations; returns the ones this run applied
/// (`version description`), empty when the database was up to date.
pub async fn migrate(database: &Database, sqlite: &Migrator, postgres: &Migrator) -> anyhow::Result<Vec<String>> {
    let migrator = match database.backend {
        Backend::Sqlite => sqlite,
        Backend::Postgres => postgres,
    };
    let before = applied_versions(&database.pool).await;
    migrator.run(&database.pool).await?;
    Ok(migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration() && !before.contains(&m.version))
        .map(|m| format!("{} {}", m.version, m.description))
        .collect())
}

async fn applied_versions(pool: &AnyPool) -> Vec<i64> {
    // No table yet: nothing applied (the first run creates it).
    sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success")
        .fetch_all(pool)
        .await
        .unwrap_or_default()
}

/// `migrate` subcommand: connects, applies, and says what it did, or on
/// failure which database (host and name, never the password) and why.
pub async fn migrate_command(
    settings: &DatabaseSettings,
    sqlite: &Migrator,
    postgres: &Migrator,
) -> anyhow::Result<()> {
    let url = settings.url()?;
    let target = describe(url.expose_secret());
    let run = async {
        // One plain connection first: its error says why (refused, password,
        // no such database), where a pool would only say it timed out.
        {
            use sqlx::Connection as _;
            sqlx::any::install_default_drivers();
            let probe = tokio::time::timeout(
                Duration::from_millis(settings.acquire_timeout_ms.max(1000)),
                sqlx::AnyConnection::connect(url.expose_secret()),
            )
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {} ms", settings.acquire_timeout_ms.max(1000)))??;
            probe.close().await?;
        }
        let database = connect(settings).await?;
        migrate(&database, sqlite, postgres).await
    };
    match run.await {
        Ok(applied) if applied.is_empty() => {
            println!("{target}: up to date, nothing to apply");
            Ok(())
        }
        Ok(applied) => {
            println!(
                "{target}: applied {} migration(s): {}",
                applied.len(),
                applied.join(", ")
            );
            Ok(())
        }
        Err(error) => Err(error.context(format!("migrating {target}"))),
    }
}

/// A database URL without its credentials: `postgres host:port/db` or `sqlite path`.
pub fn describe(url: &str) -> String {
    if let Some(path) = sqlite_path(url) {
        return format!("sqlite {path}");
    }
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let rest = rest.split('?').next().unwrap_or(rest);
    format!("postgres {rest}")
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (path != ":memory:" && !path.is_empty()).then_some(path)
}

/// True when `error` is a unique-constraint violation.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// True when `error` says the database is out of reach for now rather than
/// that the statement is wrong: the connection or pool failed, PostgreSQL is
/// shutting down, starting, out of resources or closed for maintenance
/// (SQLSTATE classes 08, 53, 57P; 55000 "not accepting connections"), or
/// SQLite is busy or locked.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_BUSY and SQLITE_LOCKED (extended codes keep them in the low byte).
                code.parse::<i32>().is_ok_and(|sqlite| matches!(sqlite & 0xff, 5 | 6))
            } else {
                code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P")
                    // A database closed for maintenance (ALLOW_CONNECTIONS false).
                    || (code == "55000" && db.message().contains("not currently accepting connections"))
            }
        }
        _ => false,
    }
}
