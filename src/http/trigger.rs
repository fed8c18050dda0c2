//! Workflow endpoints: every trigger (served from one fallback handler that looks the path up in
//! the current registry snapshot, so toggles, forks and reloads never rebuild the router) and the
//! pinned `POST /workflows/{name}/versions/{version}/run`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::AppState;
use super::error::ApiError;
use crate::engine::{RunError, RunErrorCode, RunOptions, RunOutput, context::keys};
use crate::graph::Workflow;
use crate::versions::Lookup;

pub const VERSION_HEADER: &str = "x-weft-version";
pub const RUN_ID_HEADER: &str = "x-weft-run-id";

/// The fallback: a trigger path, or a JSON 404/405.
pub async fn dispatch(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let snapshot = state.registry.snapshot();
    let (workflow, params) = match snapshot.lookup(method.as_str(), uri.path()) {
        Lookup::Serve(entry, params) => (entry.workflow.clone(), params),
        Lookup::Disabled(names) => {
            return ApiError::disabled(&format!(
                "workflow `{}` (every version of `{} {}`)",
                names.join("`, `"),
                method,
                uri.path()
            ))
            .into_response();
        }
        Lookup::MethodNotAllowed(allowed) => {
            return ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!("`{}` does not accept {method}", uri.path()),
            )
            .header(header::ALLOW, &allowed.join(", "))
            .into_response();
        }
        Lookup::NotFound => {
            return ApiError::not_found(format!("nothing is served at `{method} {}`", uri.path()))
                .into_response();
        }
    };
    drop(snapshot);
    let version = workflow.version.clone();
    let result = async {
        let raw = read_input(&state, &method, &uri, &headers, body).await?;
        run(&state, &workflow, raw, params).await
    }
    .await;
    with_version(result.unwrap_or_else(IntoResponse::into_response), &version)
}

/// `POST /workflows/{name}/versions/{version}/run`: any enabled version, pinned.
pub async fn pinned(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let workflow = {
        let snapshot = state.registry.snapshot();
        match snapshot.get(&name, &version) {
            None => {
                return ApiError::not_found(format!("no workflow `{name}` version `{version}`"))
                    .into_response();
            }
            Some(e) if !e.enabled => {
                return with_version(
                    ApiError::disabled(&format!("workflow `{name}` version `{version}`"))
                        .into_response(),
                    &version,
                );
            }
            Some(e) => e.workflow.clone(),
        }
    };
    let result = async {
        let raw = read_input(&state, &Method::POST, &uri, &headers, body).await?;
        run(&state, &workflow, raw, Vec::new()).await
    }
    .await;
    with_version(result.unwrap_or_else(IntoResponse::into_response), &version)
}

/// The request's raw input: the JSON body for body methods, the query for GET/DELETE.
struct RawInput {
    fields: Map<String, Value>,
    /// Keys whose values came from the URL as strings (coerced to the schema's types).
    from_url: Vec<String>,
    /// Query parameters of a body method, exposed as `_query`.
    query: Option<Map<String, Value>>,
}

async fn read_input(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<RawInput, ApiError> {
    let query = parse_query(uri.query().unwrap_or(""));
    if matches!(*method, Method::GET | Method::DELETE | Method::HEAD) {
        let from_url = query.keys().cloned().collect();
        return Ok(RawInput {
            fields: query,
            from_url,
            query: None,
        });
    }
    let limit = state.body_limit;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, limit as usize)
        .await
        .map_err(|_| ApiError::too_large(limit))?;
    let fields = if bytes.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => m,
            Ok(other) => {
                return Err(ApiError::validation(
                    "the body must be a JSON object",
                    json!([{"field": "(body)", "expected": "a JSON object", "found": crate::schema::describe(&other)}]),
                ));
            }
            Err(e) => return Err(ApiError::invalid_json(e)),
        }
    };
    Ok(RawInput {
        fields,
        from_url: Vec::new(),
        query: Some(query),
    })
}

/// Query string → object; a repeated key becomes an array of its values.
fn parse_query(q: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in form_urlencoded::parse(q.as_bytes()) {
        let v = Value::String(v.into_owned());
        match out.get_mut(k.as_ref()) {
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => *existing = Value::Array(vec![existing.take(), v]),
            None => {
                out.insert(k.into_owned(), v);
            }
        }
    }
    out
}

async fn run(
    state: &AppState,
    workflow: &Arc<Workflow>,
    raw: RawInput,
    params: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    let RawInput {
        mut fields,
        mut from_url,
        query,
    } = raw;
    // Path parameters win over body or query fields of the same name.
    for (k, v) in params {
        let decoded = percent_encoding::percent_decode_str(&v)
            .decode_utf8_lossy()
            .into_owned();
        fields.insert(k.clone(), Value::String(decoded));
        from_url.push(k);
    }
    let trigger = workflow.trigger.as_ref();
    let input = match trigger.and_then(|t| t.input.as_ref().map(|s| (t, s))) {
        Some((t, schema)) => {
            schema
                .validate_input(fields, t.extra, &from_url)
                .map_err(|errors| {
                    let n = errors.len();
                    ApiError::validation(
                        format!("{n} invalid input field(s)"),
                        serde_json::to_value(errors).unwrap_or(Value::Null),
                    )
                })?
        }
        None => fields,
    };
    let mut opts = RunOptions::default();
    if let Some(q) = query {
        opts.reserved
            .insert(keys::QUERY.to_string(), Value::Object(q));
    }
    match state.engine.run(workflow, input, opts).await {
        Ok(out) => success(workflow, out),
        Err(e) => Err(failure(e)),
    }
}

fn success(workflow: &Workflow, out: RunOutput) -> Result<Response, ApiError> {
    let body = out.body();
    let status = StatusCode::from_u16(out.status()).unwrap_or(StatusCode::OK);
    if status.is_success()
        && let Some(schema) = workflow.trigger.as_ref().and_then(|t| t.response.as_ref())
        && let Err(errors) = schema.check_output(&body)
    {
        return Err(ApiError::internal(
            "response_schema_violation",
            "the workflow's result does not match its response_schema",
        )
        .run_id(out.run_id.to_string())
        .details(serde_json::to_value(errors).unwrap_or(Value::Null)));
    }
    let bytes =
        serde_json::to_vec(&body).map_err(|e| ApiError::internal("internal", e.to_string()))?;
    let mut resp = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response();
    let h = resp.headers_mut();
    for (name, value) in out.headers() {
        match (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(n), Ok(v)) => {
                h.insert(n, v);
            }
            _ => {
                tracing::warn!(workflow = %workflow.name, header = %name, "response step set an invalid header; dropped")
            }
        }
    }
    if let Ok(v) = HeaderValue::try_from(out.run_id.to_string()) {
        h.insert(RUN_ID_HEADER, v);
    }
    Ok(resp)
}

fn failure(e: RunError) -> ApiError {
    let code = match e.code {
        RunErrorCode::StepFailed => "step_failed",
        RunErrorCode::MaxStepsExceeded => "max_steps_exceeded",
        RunErrorCode::NotImplemented => "not_implemented",
    };
    let mut err = ApiError::internal(code, e.message).run_id(e.run_id.to_string());
    if let Some(step) = &e.step {
        err = err.step(step.to_string());
    }
    if let Some(f) = &e.failure {
        let mut details = json!({"kind": f.kind.as_str()});
        if let Some(d) = &f.details {
            details["details"] = d.clone();
        }
        err = err.details(details);
    }
    err.header(
        HeaderName::from_static(RUN_ID_HEADER),
        &e.run_id.to_string(),
    )
}

fn with_version(mut resp: Response, version: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(version) {
        resp.headers_mut().insert(VERSION_HEADER, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_query_keys_become_arrays() {
        let q = parse_query("a=1&b=x%20y&a=2&a=3");
        assert_eq!(Value::Object(q), json!({"a": ["1", "2", "3"], "b": "x y"}));
    }
}
