//! Liveness, readiness and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::AppState;
use super::error::ApiError;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: the store answers.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.registry.store().ping().await {
        Ok(()) => Ok(Json(json!({"status": "ready"}))),
        Err(e) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("the store does not answer: {e}"),
        )),
    }
}

/// `GET /openapi.json`: every trigger currently served, with its input and response schemas.
pub async fn openapi(State(state): State<AppState>) -> Json<Value> {
    let snap = state.registry.snapshot();
    let mut paths: Map<String, Value> = Map::new();
    for e in snap.entries() {
        let w = &e.workflow;
        let Some(t) = &w.trigger else { continue };
        if !snap.is_serving(&w.name, &w.version) {
            continue;
        }
        let mut op = json!({
            "operationId": format!("{}_{}", w.name, w.version),
            "summary": w.description.clone().unwrap_or_else(|| format!("Run workflow {}", w.name)),
            "x-weft-workflow": &*w.name,
            "x-weft-version": &*w.version,
            "parameters": t.params.iter().map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}})).collect::<Vec<_>>(),
            "responses": {
                "200": {"description": "The workflow's result", "content": {"application/json": {"schema": t.response.as_ref().map_or(json!({"type": "object"}), |s| s.json_schema())}}},
                "400": {"description": "invalid_json or workflow_disabled", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "422": {"description": "validation_failed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                "500": {"description": "step_failed, max_steps_exceeded, response_schema_violation", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            }
        });
        let input = t
            .input
            .as_ref()
            .map_or(json!({"type": "object"}), |s| s.json_schema());
        if matches!(t.method.as_str(), "GET" | "DELETE") {
            if let Some(s) = &t.input {
                let params = op["parameters"].as_array_mut().expect("built above");
                for f in &s.fields {
                    params.push(json!({"name": f.name, "in": "query", "required": f.required && f.default.is_none(), "schema": f.ty.json_schema()}));
                }
            }
        } else {
            op["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": input}}});
        }
        let item = paths.entry(t.path.clone()).or_insert_with(|| json!({}));
        item[t.method.to_ascii_lowercase()] = op;
    }
    Json(json!({
        "openapi": "3.1.0",
        "info": {"title": "weft workflows", "version": env!("CARGO_PKG_VERSION")},
        "paths": paths,
        "components": {"schemas": {"Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string"}, "message": {"type": "string"}, "step": {"type": "string"},
                "run_id": {"type": "string"}, "details": {}
            }}}
        }}}
    }))
}
