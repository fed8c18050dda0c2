//! `kind: api_call` — an HTTP request with templated parts, retries, and the response copied into
//! the context.
//!
//! The response body goes to `response.output_key` (default `api_response`): parsed JSON when it
//! is JSON, else the text. `_api_status_code` is always set (null when no response arrived).
//! Outcomes: `default` on 2xx; with `status_routes: true`, the exact status (`"404"`) or its class
//! (`"4xx"`) when a route names it; otherwise a failure of kind `http_status`, `timeout` or
//! `connect` (after `retries`), or `extract` when a required path is missing.

mod request;
mod spec;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Map, Value, json};

use super::extract::Extract;
use super::{CompileCx, DEFAULT, Outcome, StepCx};
use crate::config::HttpConfig;
use crate::engine::context::keys;
use crate::engine::retry::Backoff;
use crate::engine::{FailureKind, RunEvent, StepFailure};
use crate::spec::StepSpec;
use request::{Limits, Prepared, Received, RequestTemplate, SendError};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
pub const DEFAULT_RETRY_STATUSES: &[u16] = &[429, 500, 502, 503, 504];
pub const DEFAULT_OUTPUT_KEY: &str = "api_response";

pub struct ApiCall {
    request: RequestTemplate,
    timeout: Duration,
    retries: u32,
    retry_statuses: Box<[u16]>,
    backoff: Backoff,
    http: Arc<HttpConfig>,
    output_key: String,
    meta_key: Option<String>,
    extract: Extract,
    status_routes: bool,
}

impl std::fmt::Debug for ApiCall {
    // Templates may hold literal credentials (expanded `${VAR}`s): print neither URL nor headers.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiCall")
            .field("method", &self.request.method)
            .finish_non_exhaustive()
    }
}

impl ApiCall {
    pub fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Self> {
        let p = spec::compile(step, cx)?;
        Some(ApiCall {
            request: p.request,
            timeout: p.timeout,
            retries: p.retries,
            retry_statuses: p.retry_statuses,
            backoff: Backoff {
                base: p.retry_backoff,
                cap: p.timeout,
            },
            http: Arc::new(cx.config().http.clone()),
            output_key: p.output_key,
            meta_key: p.meta_key,
            extract: p.extract,
            status_routes: p.status_routes,
        })
    }

    pub async fn run(&self, cx: &mut StepCx<'_>) -> Result<Outcome, StepFailure> {
        let prepared = self.request.render(cx)?;
        let result = self.send_with_retries(&prepared, cx).await;
        match result {
            Err(e) => {
                let code = e.status.map_or(Value::Null, |s| json!(s.as_u16()));
                cx.ctx.set_reserved(keys::API_STATUS_CODE, code);
                Err(e.failure)
            }
            Ok(resp) => self.finish(&prepared, resp, cx),
        }
    }

    /// Sends until a response is final: not retryable, or out of attempts.
    async fn send_with_retries(
        &self,
        req: &Prepared,
        cx: &StepCx<'_>,
    ) -> Result<Received, Box<SendError>> {
        let limits = Limits {
            timeout: self.timeout,
            http: &self.http,
        };
        let client = &cx.services.http_direct;
        let mut attempt = 1u32;
        loop {
            let result = request::send(client, req, &limits).await;
            let (retry, kind, retry_after) = match &result {
                Ok(r) => (
                    self.retry_statuses.contains(&r.status.as_u16()),
                    FailureKind::HttpStatus,
                    r.retry_after(),
                ),
                Err(e) => (e.retryable, e.failure.kind, None),
            };
            if !retry || attempt > self.retries {
                return result;
            }
            attempt += 1;
            let wait = self.backoff.wait_before(attempt, retry_after);
            cx.events.emit(|| RunEvent::Retrying {
                step: cx.step_id.clone(),
                attempt,
                kind: kind.as_str(),
                wait,
            });
            tokio::time::sleep(wait).await;
        }
    }

    /// Stores the response and picks the outcome.
    fn finish(
        &self,
        req: &Prepared,
        resp: Received,
        cx: &mut StepCx<'_>,
    ) -> Result<Outcome, StepFailure> {
        let status = resp.status;
        cx.ctx
            .set_reserved(keys::API_STATUS_CODE, json!(status.as_u16()));
        if let Some(meta_key) = &self.meta_key {
            cx.ctx.set_path(meta_key, meta(&resp));
        }
        let retry_after = resp.retry_after();
        if status.is_success() {
            self.extract.store(resp.body, &self.output_key, cx.ctx)?;
        } else {
            // An error body is kept for the error route; extraction is for successful answers.
            cx.ctx.set_path(&self.output_key, resp.body);
        }
        if self.status_routes
            && let Some(signal) = status_signal(status, |s| cx.routes.has(s))
        {
            return Ok(Outcome::Signal(signal));
        }
        if status.is_success() {
            return Ok(Outcome::Signal(DEFAULT));
        }
        let reason = status
            .canonical_reason()
            .map(|r| format!(" {r}"))
            .unwrap_or_default();
        Err(StepFailure::new(
            FailureKind::HttpStatus,
            format!(
                "{} {} returned {}{reason}",
                req.method,
                request::redact(req.url.as_str()),
                status.as_u16()
            ),
        )
        .with_retry_after(retry_after))
    }
}

/// `"404"` when a route names it, else `"4xx"` when a route names that.
fn status_signal(
    status: StatusCode,
    has_route: impl Fn(&str) -> bool,
) -> Option<Cow<'static, str>> {
    let exact = status.as_u16().to_string();
    if has_route(&exact) {
        return Some(Cow::Owned(exact));
    }
    let class = format!("{}xx", status.as_u16() / 100);
    has_route(&class).then_some(Cow::Owned(class))
}

/// `<output_key>_meta`: what the response looked like besides its body.
fn meta(resp: &Received) -> Value {
    let mut headers = Map::new();
    for (name, value) in &resp.headers {
        let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match headers.get_mut(name.as_str()) {
            Some(Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&text);
            }
            _ => {
                headers.insert(name.as_str().to_string(), Value::String(text));
            }
        }
    }
    let mut url = resp.url.clone();
    let _ = url.set_password(None);
    let _ = url.set_username("");
    json!({
        "status_code": resp.status.as_u16(),
        "ok": resp.status.is_success(),
        "headers": headers,
        "url": url.as_str(),
        "elapsed_ms": resp.elapsed.as_millis() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_signals_prefer_the_exact_code() {
        let routes = ["404", "5xx", "2xx"];
        let has = |s: &str| routes.contains(&s);
        assert_eq!(
            status_signal(StatusCode::NOT_FOUND, has).as_deref(),
            Some("404")
        );
        assert_eq!(
            status_signal(StatusCode::BAD_GATEWAY, has).as_deref(),
            Some("5xx")
        );
        assert_eq!(status_signal(StatusCode::OK, has).as_deref(), Some("2xx"));
        assert_eq!(status_signal(StatusCode::FORBIDDEN, has), None);
    }
}
