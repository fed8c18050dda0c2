//! The `model_versions` table (every declared (model, version), its document as written and the
//! admin's enabled override) and `model_tables` (the columns weft last applied to each model
//! table, as JSON — the reference that schema diffing at start compares against).

use super::versions::Versioned;
use chrono::{DateTime, Utc};

use super::conn::Conn;
use super::{Error, Overrides, Store, with_pool};

/// One row of `model_versions`.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelVersionRow {
    pub name: String,
    pub schema_version: String,
    pub yaml_enabled: bool,
    /// The document as written (`${VAR}` unexpanded).
    pub config: String,
    pub source_file: String,
    pub tablename: String,
}

const UPSERT: &str = "INSERT INTO model_versions \
    (name, schema_version, yaml_enabled, config, source_file, tablename, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
    ON CONFLICT (name, schema_version) DO UPDATE SET \
    yaml_enabled = excluded.yaml_enabled, config = excluded.config, source_file = excluded.source_file, \
    tablename = excluded.tablename, updated_at = excluded.updated_at";

impl Store {
    /// Records the declared model versions (everything but the admin override). One
    /// transaction.
    pub async fn sync_model_versions(&self, rows: &[ModelVersionRow]) -> Result<(), Error> {
        let now: DateTime<Utc> = Utc::now();
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for r in rows {
                sqlx::query(UPSERT)
                    .bind(&r.name)
                    .bind(&r.schema_version)
                    .bind(r.yaml_enabled)
                    .bind(&r.config)
                    .bind(&r.source_file)
                    .bind(&r.tablename)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Every stored model override: (name, schema_version) → enabled.
    pub async fn model_overrides(&self) -> Result<Overrides, Error> {
        self.overrides(Versioned::Model).await
    }

    /// Stores an admin's toggle of a model version; false when the version was never recorded.
    pub async fn set_model_enabled(
        &self,
        name: &str,
        version: &str,
        enabled: bool,
    ) -> Result<bool, Error> {
        self.set_enabled(Versioned::Model, name, version, enabled)
            .await
    }
}

/// The columns recorded for `table` (JSON text), if weft ever applied it.
pub async fn applied_columns(conn: &mut Conn<'_>, table: &str) -> Result<Option<String>, Error> {
    const SQL: &str = "SELECT columns FROM model_tables WHERE tablename = $1";
    Ok(match conn {
        Conn::Sqlite(c) => {
            sqlx::query_scalar(SQL)
                .bind(table)
                .fetch_optional(&mut **c)
                .await?
        }
        Conn::Postgres(c) => {
            sqlx::query_scalar(SQL)
                .bind(table)
                .fetch_optional(&mut **c)
                .await?
        }
    })
}

/// Records the columns just applied to `table`.
pub async fn record_columns(conn: &mut Conn<'_>, table: &str, columns: &str) -> Result<(), Error> {
    const SQL: &str = "INSERT INTO model_tables (tablename, columns, updated_at) VALUES ($1, $2, $3) \
        ON CONFLICT (tablename) DO UPDATE SET columns = excluded.columns, updated_at = excluded.updated_at";
    let now: DateTime<Utc> = Utc::now();
    match conn {
        Conn::Sqlite(c) => {
            sqlx::query(SQL)
                .bind(table)
                .bind(columns)
                .bind(now)
                .execute(&mut **c)
                .await?;
        }
        Conn::Postgres(c) => {
            sqlx::query(SQL)
                .bind(table)
                .bind(columns)
                .bind(now)
                .execute(&mut **c)
                .await?;
        }
    }
    Ok(())
}

/// Whether a table of that name exists (in the current schema on PostgreSQL).
pub async fn table_exists(conn: &mut Conn<'_>, table: &str) -> Result<bool, Error> {
    Ok(match conn {
        Conn::Sqlite(c) => {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            )
            .bind(table)
            .fetch_one(&mut **c)
            .await?
                > 0
        }
        Conn::Postgres(c) => {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
            )
            .bind(table)
            .fetch_one(&mut **c)
            .await?
                > 0
        }
    })
}
