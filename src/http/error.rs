//! The one place errors become HTTP: every error is JSON
//! `{"error": {"code", "message", "step", "run_id", "details"}}` (fields without a value omitted)
//! with a stable code. Never HTML, never text/plain.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// An error answer. Boxed: it travels in every handler's `Result`, which should stay small.
#[derive(Debug)]
pub struct ApiError(Box<Parts>);

#[derive(Debug)]
struct Parts {
    status: StatusCode,
    code: &'static str,
    message: String,
    step: Option<String>,
    run_id: Option<String>,
    details: Option<Value>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    run_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<&'a Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError(Box::new(Parts {
            status,
            code,
            message: message.into(),
            step: None,
            run_id: None,
            details: None,
            headers: Vec::new(),
        }))
    }

    pub fn details(mut self, details: Value) -> Self {
        self.0.details = Some(details);
        self
    }

    pub fn step(mut self, step: impl Into<String>) -> Self {
        self.0.step = Some(step.into());
        self
    }

    pub fn run_id(mut self, id: impl Into<String>) -> Self {
        self.0.run_id = Some(id.into());
        self
    }

    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.0.headers.push((name, v));
        }
        self
    }

    pub fn invalid_json(e: impl std::fmt::Display) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {e}"),
        )
    }

    pub fn disabled(what: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "workflow_disabled",
            format!("{what} is deactivated"),
        )
    }

    pub fn unauthorized() -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong bearer token",
        )
        .header(header::WWW_AUTHENTICATE, "Bearer")
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn too_large(limit: u64) -> Self {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {limit} bytes"),
        )
    }

    /// 422 naming every bad field: `details: [{field, expected, found}]`.
    pub fn validation(message: impl Into<String>, details: Value) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        )
        .details(details)
    }

    pub fn internal(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let Parts {
            status,
            code,
            message,
            step,
            run_id,
            details,
            headers,
        } = *self.0;
        let body = Body {
            error: Inner {
                code,
                message: &message,
                step: step.as_deref(),
                run_id: run_id.as_deref(),
                details: details.as_ref(),
            },
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_else(|_| {
            br#"{"error":{"code":"internal","message":"unencodable error"}}"#.to_vec()
        });
        let mut resp = (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            bytes,
        )
            .into_response();
        for (k, v) in headers {
            resp.headers_mut().append(k, v);
        }
        resp
    }
}

impl From<crate::versions::Error> for ApiError {
    fn from(e: crate::versions::Error) -> Self {
        use crate::versions::Error as E;
        match e {
            E::NotFound { .. } => ApiError::not_found(e.to_string()),
            E::Conflict(m) => ApiError::conflict(m),
            E::InvalidVersion(m) => ApiError::validation(
                m.clone(),
                serde_json::json!([{"field": "new_version", "expected": "1 to 64 of A-Z a-z 0-9 . _ -", "found": m}]),
            ),
            E::Load(diags) => {
                let details =
                    serde_json::to_value(diags.iter().collect::<Vec<_>>()).unwrap_or(Value::Null);
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "project_invalid",
                    format!(
                        "the project has {} error(s); nothing changed",
                        diags.error_count()
                    ),
                )
                .details(details)
            }
            E::Route(r) => ApiError::conflict(r.to_string()),
            E::Store(s) => ApiError::internal("store_error", s.to_string()),
            E::Io(m) => ApiError::internal("io_error", m),
        }
    }
}
