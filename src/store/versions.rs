//! The `workflow_versions` table: every (workflow, version) loaded, its document as written, and
//! the admin's enabled override (NULL until an admin toggles it).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;

use super::{Error, Store, with_pool};

/// One row of `workflow_versions`.
#[derive(Clone, Debug, PartialEq)]
pub struct VersionRow {
    pub name: String,
    pub schema_version: String,
    pub yaml_enabled: bool,
    pub enabled_override: Option<bool>,
    /// The document as written (`${VAR}` unexpanded).
    pub config: String,
    pub source_file: String,
    pub trigger_method: Option<String>,
    pub trigger_path: Option<String>,
}

/// (name, schema_version) → the admin's override.
pub type Overrides = HashMap<(String, String), bool>;

const UPSERT: &str = "INSERT INTO workflow_versions \
    (name, schema_version, yaml_enabled, config, source_file, trigger_method, trigger_path, created_at, updated_at) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
    ON CONFLICT (name, schema_version) DO UPDATE SET \
    yaml_enabled = excluded.yaml_enabled, config = excluded.config, source_file = excluded.source_file, \
    trigger_method = excluded.trigger_method, trigger_path = excluded.trigger_path, updated_at = excluded.updated_at";

/// The tables of versioned documents whose `enabled` an admin may override.
#[derive(Clone, Copy, Debug)]
pub(super) enum Versioned {
    Workflow,
    Model,
}

impl Versioned {
    fn overrides_sql(self) -> &'static str {
        match self {
            Versioned::Workflow => {
                "SELECT name, schema_version, enabled_override FROM workflow_versions WHERE enabled_override IS NOT NULL"
            }
            Versioned::Model => {
                "SELECT name, schema_version, enabled_override FROM model_versions WHERE enabled_override IS NOT NULL"
            }
        }
    }

    fn set_enabled_sql(self) -> &'static str {
        match self {
            Versioned::Workflow => {
                "UPDATE workflow_versions SET enabled_override = $1, updated_at = $2 WHERE name = $3 AND schema_version = $4"
            }
            Versioned::Model => {
                "UPDATE model_versions SET enabled_override = $1, updated_at = $2 WHERE name = $3 AND schema_version = $4"
            }
        }
    }
}

impl Store {
    /// Records what was just loaded (everything but the override, which only admins change) and
    /// returns every stored override. One transaction.
    pub async fn sync_workflow_versions(&self, rows: &[VersionRow]) -> Result<Overrides, Error> {
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
                    .bind(&r.trigger_method)
                    .bind(&r.trigger_path)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        self.workflow_overrides().await
    }

    /// Every stored override.
    pub async fn workflow_overrides(&self) -> Result<Overrides, Error> {
        self.overrides(Versioned::Workflow).await
    }

    /// Stores an admin's toggle. Returns false when no such version was ever recorded.
    pub async fn set_workflow_enabled(
        &self,
        name: &str,
        version: &str,
        enabled: bool,
    ) -> Result<bool, Error> {
        self.set_enabled(Versioned::Workflow, name, version, enabled)
            .await
    }

    pub(super) async fn overrides(&self, of: Versioned) -> Result<Overrides, Error> {
        with_pool!(self, pool => {
            let rows = sqlx::query(of.overrides_sql()).fetch_all(pool).await?;
            rows.iter()
                .map(|row| Ok(((row.try_get("name")?, row.try_get("schema_version")?), row.try_get("enabled_override")?)))
                .collect::<Result<Overrides, sqlx::Error>>()
                .map_err(Error::from)
        })
    }

    pub(super) async fn set_enabled(
        &self,
        of: Versioned,
        name: &str,
        version: &str,
        enabled: bool,
    ) -> Result<bool, Error> {
        let now: DateTime<Utc> = Utc::now();
        with_pool!(self, pool => {
            let done = sqlx::query(of.set_enabled_sql()).bind(enabled).bind(now).bind(name).bind(version).execute(pool).await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Every recorded version.
    pub async fn workflow_versions(&self) -> Result<Vec<VersionRow>, Error> {
        const SQL: &str = "SELECT name, schema_version, yaml_enabled, enabled_override, config, source_file, \
            trigger_method, trigger_path FROM workflow_versions ORDER BY name, schema_version";
        with_pool!(self, pool => {
            let rows = sqlx::query(SQL).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    Ok(VersionRow {
                        name: row.try_get("name")?,
                        schema_version: row.try_get("schema_version")?,
                        yaml_enabled: row.try_get("yaml_enabled")?,
                        enabled_override: row.try_get("enabled_override")?,
                        config: row.try_get("config")?,
                        source_file: row.try_get("source_file")?,
                        trigger_method: row.try_get("trigger_method")?,
                        trigger_path: row.try_get("trigger_path")?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(Error::from)
        })
    }
}
