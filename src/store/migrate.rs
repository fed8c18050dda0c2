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

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "workflow_versions",
    sqlite: include_str!("../../migrations/sqlite/0001_workflow_versions.sql"),
    postgres: include_str!("../../migrations/postgres/0001_workflow_versions.sql"),
}];

const CREATE_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS weft_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)";

/// An arbitrary constant naming weft's advisory lock.
const PG_LOCK_KEY: i64 = 0x0077_6566_746d_6967; // "weftmig" in ASCII

pub(super) async fn run(store: &Store) -> Result<(), Error> {
    let fail = |e: sqlx::Error| Error::Migration(e.to_string());
    match store {
        Store::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.map_err(fail)?;
            sqlx::query(CREATE_TABLE)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            let current: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM weft_migrations")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(fail)?;
            for m in MIGRATIONS
                .iter()
                .filter(|m| m.version > current.unwrap_or(0))
            {
                sqlx::raw_sql(m.sqlite)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
                record(&mut *tx, m).await.map_err(fail)?;
            }
            tx.commit().await.map_err(fail)
        }
        Store::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_LOCK_KEY)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            sqlx::query(CREATE_TABLE)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
            let current: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM weft_migrations")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(fail)?;
            for m in MIGRATIONS
                .iter()
                .filter(|m| m.version > current.unwrap_or(0))
            {
                sqlx::raw_sql(m.postgres)
                    .execute(&mut *tx)
                    .await
                    .map_err(fail)?;
                record(&mut *tx, m).await.map_err(fail)?;
            }
            tx.commit().await.map_err(fail)
        }
    }
}

async fn record<'c, E>(executor: E, m: &Migration) -> Result<(), sqlx::Error>
where
    E: sqlx::Executor<'c>,
    for<'q> i64: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> &'q str: sqlx::Encode<'q, E::Database> + sqlx::Type<E::Database>,
    for<'q> <E::Database as sqlx::Database>::Arguments: sqlx::IntoArguments<E::Database>,
{
    sqlx::query("INSERT INTO weft_migrations (version, name) VALUES ($1, $2)")
        .bind(m.version)
        .bind(m.name)
        .execute(executor)
        .await
        .map(|_| ())
}
