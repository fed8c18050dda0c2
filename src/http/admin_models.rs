//! The admin API for model versions, mirroring the workflow one (same guard, same error codes):
//! list, toggle, fork.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use super::AppState;
use super::error::ApiError;
use crate::versions::natural_cmp;

#[derive(Serialize)]
pub struct ModelVersionInfo {
    schema_version: String,
    enabled: bool,
    /// The version unpinned references (`context: Candidate`) resolve to now.
    active: bool,
    /// The flag comes from an admin toggle rather than the YAML.
    toggled: bool,
    tablename: String,
    description: Option<String>,
    fields: Vec<String>,
    relations: Vec<String>,
    file: String,
}

/// `GET /admin/models`: `{name: [{schema_version, enabled, active, …}]}`, versions in order.
pub async fn list(State(state): State<AppState>) -> Json<BTreeMap<String, Vec<ModelVersionInfo>>> {
    let project = state.registry.project();
    let models = &project.models;
    let mut out: BTreeMap<String, Vec<ModelVersionInfo>> = BTreeMap::new();
    for e in models.entries() {
        let m = &e.model;
        out.entry(m.name.clone())
            .or_default()
            .push(ModelVersionInfo {
                schema_version: m.version.clone(),
                enabled: e.enabled,
                active: models.is_active(&m.name, &m.version),
                toggled: e.overridden,
                tablename: m.table.clone(),
                description: m.description.clone(),
                fields: m.fields.iter().map(|f| f.name.clone()).collect(),
                relations: m.relations.iter().map(|r| r.name.clone()).collect(),
                file: m.doc.file.display().to_string(),
            });
    }
    for versions in out.values_mut() {
        versions.sort_by(|a, b| natural_cmp(&a.schema_version, &b.schema_version));
    }
    Json(out)
}

/// `PATCH /admin/models/{name}/{version}/toggle`.
pub async fn toggle(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let enabled = state.registry.toggle_model(&name, &version).await?;
    tracing::info!(model = %name, version = %version, enabled, "model toggled");
    Ok(super::admin::toggled(&name, &version, enabled))
}

/// `POST /admin/models/{name}/{version}/fork` with `{"new_version": "v3"}`.
pub async fn fork(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new_version = super::admin::fork_request(&body)?;
    let done = state
        .registry
        .fork_model(&name, &version, &new_version)
        .await?;
    tracing::info!(model = %name, from = %version, to = %new_version, file = %done.file.display(), "model forked (staged, disabled)");
    Ok(super::admin::forked(
        &name,
        &version,
        &new_version,
        &done.file,
    ))
}
