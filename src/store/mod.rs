//! Persistence over SQLite (embedded, the default) and PostgreSQL, through sqlx.
//!
//! [`Store`] holds one of two concrete pools. Most queries are written once and run on either
//! through the [`with_pool!`] macro (sqlx accepts `$1` placeholders on both); backend-specific
//! DDL lives in `migrations/sqlite` and `migrations/postgres`. Callers never see which backend
//! runs.

mod migrate;
mod versions;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

pub use versions::{Overrides, VersionRow};

/// Errors of the persistence layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot open the database: {0}")]
    Connect(String),
    #[error("database migration failed: {0}")]
    Migration(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// Which database a store talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The store: cheap to clone (pools are reference-counted).
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same query code on whichever pool the store holds.
#[macro_export]
#[doc(hidden)]
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $store {
            $crate::store::Store::Sqlite($pool) => $body,
            $crate::store::Store::Postgres($pool) => $body,
        }
    };
}
pub use with_pool;

impl Store {
    /// Connects and applies pending migrations. `sqlite://path` creates the file (and its
    /// directory) on first start; `sqlite::memory:` is an in-memory database; `postgres://…` and
    /// `postgresql://…` select PostgreSQL.
    pub async fn connect(url: &str) -> Result<Store, Error> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts =
                PgConnectOptions::from_str(url).map_err(|e| Error::Connect(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await
                .map_err(|e| Error::Connect(e.to_string()))?;
            Store::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            Store::Sqlite(connect_sqlite(url).await?)
        } else {
            return Err(Error::UnsupportedUrl(url.to_string()));
        };
        migrate::run(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Store::Sqlite(_) => Backend::Sqlite,
            Store::Postgres(_) => Backend::Postgres,
        }
    }

    /// Succeeds when the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<(), Error> {
        with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()).map_err(Error::from))
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

async fn connect_sqlite(url: &str) -> Result<SqlitePool, Error> {
    let memory = url.contains(":memory:") || url.contains("mode=memory");
    let opts = SqliteConnectOptions::from_str(url).map_err(|e| Error::Connect(e.to_string()))?;
    let opts = if memory {
        opts
    } else {
        if let Some(parent) = Path::new(opts.get_filename()).parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::Connect(format!("creating {}: {e}", parent.display())))?;
        }
        opts.create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
    };
    let opts = opts
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    // An in-memory database lives in one connection: a pool of several would see several databases.
    let max = if memory { 1 } else { 8 };
    SqlitePoolOptions::new()
        .max_connections(max)
        .connect_with(opts)
        .await
        .map_err(|e| Error::Connect(e.to_string()))
}
