//! `kind: api_call` — an HTTP request with templated parts, retries, and the response copied into
//! the context.
//!
//! The response body goes to `response.output_key` (default `api_response`): parsed JSON when it
//! is JSON, else the text. `_api_status_code` is always set (null when no response arrived).
//! Outcomes: `default` on 2xx; with `status_routes: true`, the exact status (`"404"`) or its class
//! (`"4xx"`) when a route names it; otherwise a failure of kind `http_status`, `timeout` or
//! `connect` (after `retries`), or `extract` when a required path is missing.

mod request;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderName;
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::extract::{Extract, ExtractSpec};
use super::{CompileCx, DEFAULT, Outcome, StepCx};
use crate::config::HttpConfig;
use crate::engine::context::{is_reserved, keys};
use crate::engine::retry::Backoff;
use crate::engine::{FailureKind, RunEvent, StepFailure, Template};
use crate::spec::yaml::Pairs;
use crate::spec::{Code, Diagnostic, Located, Node, Seconds, StepSpec};
use request::{AuthTemplate, BodyTemplate, Limits, Prepared, Received, RequestTemplate, SendError};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_BACKOFF: Duration = Duration::from_millis(500);
pub const DEFAULT_RETRY_STATUSES: &[u16] = &[429, 500, 502, 503, 504];
pub const DEFAULT_OUTPUT_KEY: &str = "api_response";
const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    http: HttpSpec,
    #[serde(default)]
    response: ResponseSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSpec {
    url: Located<String>,
    #[serde(default)]
    method: Option<Located<String>>,
    #[serde(default)]
    headers: Pairs<Located<String>, Located<String>>,
    #[serde(default)]
    query: Option<Node>,
    #[serde(default)]
    body: Option<Node>,
    #[serde(default)]
    json: Option<Node>,
    #[serde(default)]
    timeout: Option<Located<Seconds>>,
    #[serde(default)]
    retries: u32,
    #[serde(default)]
    retry_statuses: Option<Vec<Located<u16>>>,
    #[serde(default)]
    retry_backoff: Option<Seconds>,
    #[serde(default)]
    auth: Option<Located<AuthSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuthSpec {
    #[serde(default)]
    bearer: Option<Located<String>>,
    #[serde(default)]
    basic: Option<BasicSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BasicSpec {
    username: Located<String>,
    password: Located<String>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseSpec {
    #[serde(default)]
    output_key: Option<Located<String>>,
    #[serde(default)]
    include_meta: bool,
    #[serde(default)]
    extract: Vec<ExtractSpec>,
    #[serde(default)]
    status_routes: bool,
}

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
        let spec: Spec = cx.spec(step)?;
        let path = format!("{}.http", step.path);
        let HttpSpec {
            url,
            method,
            headers,
            query,
            body,
            json,
            timeout,
            retries,
            retry_statuses,
            retry_backoff,
            auth,
        } = spec.http;
        let parts = RequestParts {
            url,
            method,
            headers,
            query,
            body,
            json,
            auth,
        };
        let request = compile_request(parts, &path, cx);
        let timeout = positive_timeout(timeout.as_ref(), &path, cx);
        let retry_statuses = compile_statuses(retry_statuses.as_deref(), &path, cx);
        let response = compile_response(spec.response, &step.path, cx);
        let (request, timeout, retry_statuses, (output_key, meta_key, extract, status_routes)) =
            (request?, timeout?, retry_statuses?, response?);
        Some(ApiCall {
            request,
            timeout,
            retries,
            retry_statuses,
            backoff: Backoff {
                base: retry_backoff.map_or(DEFAULT_BACKOFF, Seconds::get),
                cap: timeout,
            },
            http: Arc::new(cx.config().http.clone()),
            output_key,
            meta_key,
            extract,
            status_routes,
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

/// The parts of `http:` that become the request template.
struct RequestParts {
    url: Located<String>,
    method: Option<Located<String>>,
    headers: Pairs<Located<String>, Located<String>>,
    query: Option<Node>,
    body: Option<Node>,
    json: Option<Node>,
    auth: Option<Located<AuthSpec>>,
}

fn compile_request(
    p: RequestParts,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<RequestTemplate> {
    let method = compile_method(p.method.as_ref(), path, cx);
    let url = cx.template(&p.url.value, p.url.pos, &format!("{path}.url"));
    let headers = compile_headers(&p.headers, path, cx);
    let query = match &p.query {
        Some(q) if q.as_map().is_none() => {
            cx.error(wrong_type(
                "`query` must be a mapping",
                q,
                &format!("{path}.query"),
            ));
            None
        }
        Some(q) => cx.templated_value(q, &format!("{path}.query")).map(Some),
        None => Some(None),
    };
    let body = match (&p.body, &p.json) {
        (Some(b), Some(_)) => {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    "an api_call takes `body` or `json`, not both",
                )
                .at(b.pos)
                .path(format!("{path}.body"))
                .help("use `json:` for a JSON body, `body:` for text (or a value sent as JSON)"),
            );
            None
        }
        (Some(b), None) => cx
            .templated_value(b, &format!("{path}.body"))
            .map(BodyTemplate::Body),
        (None, Some(j)) => cx
            .templated_value(j, &format!("{path}.json"))
            .map(BodyTemplate::Json),
        (None, None) => Some(BodyTemplate::None),
    };
    let auth = match &p.auth {
        Some(a) => compile_auth(a, &format!("{path}.auth"), cx).map(Some),
        None => Some(None),
    };
    Some(RequestTemplate {
        method: method?,
        url: url?,
        headers: headers?,
        query: query?,
        body: body?,
        auth: auth?,
    })
}

fn compile_method(
    m: Option<&Located<String>>,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Method> {
    let Some(m) = m else { return Some(Method::GET) };
    let upper = m.value.trim().to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        return Method::from_bytes(upper.as_bytes()).ok();
    }
    cx.error(
        Diagnostic::error(
            Code::InvalidValue,
            format!("unknown HTTP method `{}`", m.value),
        )
        .at(m.pos)
        .path(format!("{path}.method"))
        .expected(format!("one of {}", crate::spec::quote_list(METHODS)))
        .found(format!("`{}`", m.value)),
    );
    None
}

fn compile_headers(
    headers: &Pairs<Located<String>, Located<String>>,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Vec<(HeaderName, Template)>> {
    let mut out = Vec::with_capacity(headers.0.len());
    let mut ok = true;
    for (name, value) in &headers.0 {
        let Ok(header) = HeaderName::from_bytes(name.value.trim().as_bytes()) else {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not a valid HTTP header name", name.value),
                )
                .at(name.pos)
                .path(format!("{path}.headers")),
            );
            ok = false;
            continue;
        };
        match cx.template(
            &value.value,
            value.pos,
            &format!("{path}.headers.{}", name.value),
        ) {
            Some(t) => out.push((header, t)),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

fn compile_auth(
    a: &Located<AuthSpec>,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<AuthTemplate> {
    match (&a.value.bearer, &a.value.basic) {
        (Some(token), None) => cx
            .template(&token.value, token.pos, &format!("{path}.bearer"))
            .map(AuthTemplate::Bearer),
        (None, Some(b)) => {
            let username = cx.template(
                &b.username.value,
                b.username.pos,
                &format!("{path}.basic.username"),
            );
            let password = cx.template(
                &b.password.value,
                b.password.pos,
                &format!("{path}.basic.password"),
            );
            Some(AuthTemplate::Basic {
                username: username?,
                password: password?,
            })
        }
        _ => {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    "`auth` takes exactly one of `bearer` or `basic`",
                )
                .at(a.pos)
                .path(path.to_string())
                .expected("`{bearer: \"...\"}` or `{basic: {username: ..., password: ...}}`"),
            );
            None
        }
    }
}

fn positive_timeout(
    t: Option<&Located<Seconds>>,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Duration> {
    match t {
        None => Some(DEFAULT_TIMEOUT),
        Some(t) if t.value.get().is_zero() => {
            cx.error(
                Diagnostic::error(Code::InvalidValue, "`timeout` must be greater than zero")
                    .at(t.pos)
                    .path(format!("{path}.timeout")),
            );
            None
        }
        Some(t) => Some(t.value.get()),
    }
}

fn compile_statuses(
    list: Option<&[Located<u16>]>,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Box<[u16]>> {
    let Some(list) = list else {
        return Some(DEFAULT_RETRY_STATUSES.into());
    };
    let mut ok = true;
    for s in list.iter().filter(|s| !(100..=599).contains(&s.value)) {
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`{}` is not an HTTP status code", s.value),
            )
            .at(s.pos)
            .path(format!("{path}.retry_statuses"))
            .expected("a status between 100 and 599"),
        );
        ok = false;
    }
    ok.then(|| list.iter().map(|s| s.value).collect())
}

type ResponseParts = (String, Option<String>, Extract, bool);

fn compile_response(
    r: ResponseSpec,
    step_path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<ResponseParts> {
    let path = format!("{step_path}.response");
    let output_key = output_key(r.output_key.as_ref(), DEFAULT_OUTPUT_KEY, &path, cx);
    let extract = Extract::compile(r.extract, &format!("{path}.extract"), cx);
    let output_key = output_key?;
    let meta_key = r.include_meta.then(|| format!("{output_key}_meta"));
    Some((output_key, meta_key, extract?, r.status_routes))
}

/// `response.output_key`, checked: a non-empty key that is not reserved.
pub(super) fn output_key(
    key: Option<&Located<String>>,
    default: &str,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<String> {
    let Some(key) = key else {
        return Some(default.to_string());
    };
    let k = key.value.trim();
    if k.is_empty() || is_reserved(k) || k.split('.').any(str::is_empty) {
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`output_key: {}` is not a usable context key", key.value),
            )
            .at(key.pos)
            .path(format!("{path}.output_key"))
            .expected("a context key that does not start with `_` (reserved for the engine)"),
        );
        return None;
    }
    Some(k.to_string())
}

fn wrong_type(message: &str, node: &Node, path: &str) -> Diagnostic {
    Diagnostic::error(Code::WrongType, message)
        .at(node.pos)
        .path(path.to_string())
        .expected("a mapping")
        .found(node.describe())
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
