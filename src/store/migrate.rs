//! Schema migrations for both backends, applied at start.
//!
//! A small runner instead of sqlx's `Migrator`: sqlx takes no lock on SQLite, so two processes
//! starting on a fresh file would race. Here the whole check-and-apply runs in one transaction
//! that holds the write lock (`BEGIN IMMEDIATE` on SQLite, an advisory lock on PostgreSQL). The
//! two directories `migrations/sqlite` and `migrations/postgres` keep the same version numbers.

use sqlx::Connection as _;

use super::{Error, Store};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "workflow_versions",
        sqlite: include_str!("../../migrations/sqlite/0001_workflow_versions.sql"),
        postgres: include_str!("../../migrations/postgres/0001_workflow_versions.sql"),
    },
    Migration {
        version: 2,
        name: "model_versions",
        sqlite: include_str!("../../migrations/sqlite/0002_model_versions.sql"),
        postgres: include_str!("../../migrations/postgres/0002_model_versions.sql"),
    },
];

const CREATE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS weft_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)";

/// An arbitrary constant naming weft's advisory lock.
const PG_LOCK_KEY: i64 = 0x0077_6566_746d_6967; // "weftmig" in ASCII

/// Creates the bookkeeping table, then applies (and records) every migration newer than the
/// last one recorded — inside the caller's locked transaction. `$sql` picks the dialect.
macro_rules! apply_pending {
    ($tx:expr, $sql:ident) => {{
        sqlx::query(CREATE_TABLE).execute(&mut *$tx).await?;
        let current: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM weft_migrations")
            .fetch_one(&mut *$tx)
            .await?;
        for m in MIGRATIONS
            .iter()
            .filter(|m| m.version > current.unwrap_or(0))
        {
            sqlx::raw_sql(m.$sql).execute(&mut *$tx).await?;
            sqlx::query("INSERT INTO weft_migrations (version, name) VALUES ($1, $2)")
                .bind(m.version)
                .bind(m.name)
                .execute(&mut *$tx)
                .await?;
        }
        Ok::<(), sqlx::Error>(())
    }};
}

pub(super) async fn run(store: &Store) -> Result<(), Error> {
    let result: Result<(), sqlx::Error> = async {
        match store {
            Store::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                apply_pending!(tx, sqlite)?;
                tx.commit().await
            }
            Store::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(PG_LOCK_KEY)
                    .execute(&mut *tx)
                    .await?;
                apply_pending!(tx, postgres)?;
                tx.commit().await
            }
        }
    }
    .await;
    result.map_err(|e| Error::Migration(e.to_string()))
}
