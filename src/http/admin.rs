//! The admin API, guarded by a bearer token (`WEFT_ADMIN_TOKEN`). Without a token it answers on a
//! loopback bind only (403 `admin_disabled` elsewhere).

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiError;
use crate::versions::natural_cmp;

/// Rejects requests without the admin token (or from a non-loopback bind without one).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match &state.admin_token {
        Some(token) => {
            let given = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if !given.is_some_and(|g| constant_time_eq(g.as_bytes(), token.as_bytes())) {
                return ApiError::unauthorized().into_response();
            }
        }
        None if !state.loopback => {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "admin_disabled",
                "the admin API is off: set WEFT_ADMIN_TOKEN to use it on a non-loopback address",
            )
            .into_response();
        }
        None => {}
    }
    next.run(req).await
}

/// Compares without an early exit on the first differing byte, so timing does not reveal how
/// much of a guess was right (the length may leak; that is accepted practice).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[derive(Serialize)]
pub struct VersionInfo {
    schema_version: String,
    enabled: bool,
    trigger_path: Option<String>,
    trigger_method: Option<String>,
    description: Option<String>,
    /// This version is the one its trigger path is served by now.
    serving: bool,
    /// The flag comes from an admin toggle rather than the YAML.
    toggled: bool,
    file: String,
}

/// `GET /admin/workflows`: `{name: [{schema_version, enabled, …, serving}]}`, versions in order.
pub async fn list(State(state): State<AppState>) -> Json<BTreeMap<String, Vec<VersionInfo>>> {
    let snap = state.registry.snapshot();
    let mut out: BTreeMap<String, Vec<VersionInfo>> = BTreeMap::new();
    for e in snap.entries() {
        let w = &e.workflow;
        out.entry(w.name.to_string())
            .or_default()
            .push(VersionInfo {
                schema_version: w.version.to_string(),
                enabled: e.enabled,
                trigger_path: w.trigger.as_ref().map(|t| t.path.clone()),
                trigger_method: w.trigger.as_ref().map(|t| t.method.clone()),
                description: w.description.clone(),
                serving: snap.is_serving(&w.name, &w.version),
                toggled: e.overridden,
                file: w.doc.file.display().to_string(),
            });
    }
    for versions in out.values_mut() {
        versions.sort_by(|a, b| natural_cmp(&a.schema_version, &b.schema_version));
    }
    Json(out)
}

/// `PATCH /admin/workflows/{name}/{version}/toggle`.
pub async fn toggle(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let enabled = state.registry.toggle(&name, &version).await?;
    tracing::info!(workflow = %name, version = %version, enabled, "toggled");
    Ok(toggled(&name, &version, enabled))
}

/// The answer to a toggle (workflows and models alike).
pub(super) fn toggled(name: &str, version: &str, enabled: bool) -> Json<Value> {
    Json(json!({"name": name, "schema_version": version, "enabled": enabled}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForkBody {
    new_version: String,
}

/// Reads `{"new_version": "v3"}` (workflows and models alike).
pub(super) fn fork_request(body: &Bytes) -> Result<String, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(ApiError::invalid_json)?;
    let req: ForkBody = serde_json::from_value(value).map_err(|e| {
        ApiError::validation(
            format!("invalid fork request: {e}"),
            json!([{"field": "new_version", "expected": "a string like \"v3\"", "found": e.to_string()}]),
        )
    })?;
    Ok(req.new_version)
}

/// The answer to a fork: 201 with what was created.
pub(super) fn forked(
    name: &str,
    source: &str,
    new_version: &str,
    file: &std::path::Path,
) -> (StatusCode, Json<Value>) {
    let body = json!({"name": name, "source_version": source, "new_version": new_version, "file": file.display().to_string()});
    (StatusCode::CREATED, Json(body))
}

/// `POST /admin/workflows/{name}/{version}/fork` with `{"new_version": "v3"}`.
pub async fn fork(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new_version = fork_request(&body)?;
    let done = state.registry.fork(&name, &version, &new_version).await?;
    tracing::info!(workflow = %name, from = %version, to = %new_version, file = %done.file.display(), "forked (staged, disabled)");
    Ok(forked(&name, &version, &new_version, &done.file))
}

/// `POST /admin/reload`: re-reads the project; on errors the previous state keeps serving.
pub async fn reload(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.registry.reload().await {
        Ok(r) => {
            tracing::info!(
                versions = r.versions,
                warnings = r.warnings.len(),
                "reloaded"
            );
            Ok(Json(
                json!({"versions": r.versions, "warnings": r.warnings.iter().collect::<Vec<_>>()}),
            ))
        }
        Err(e) => {
            if let crate::versions::Error::Load(d) = &e {
                tracing::error!(
                    "reload rejected, the previous version keeps serving:\n{}",
                    d.render(state.registry.root())
                );
            }
            Err(e.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn token_comparison() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
