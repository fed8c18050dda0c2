//! One `api_call` request: the compiled templates, rendering them into a concrete request, and
//! sending it (redirects followed here, so that every hop is checked against
//! `http.allowed_hosts` and credentials never follow a redirect to another origin).

use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use super::super::StepCx;
use crate::config::HttpConfig;
use crate::engine::retry::parse_retry_after;
use crate::engine::{FailureKind, StepFailure, Template, TemplatedValue};

/// Redirect hops followed before giving up.
const MAX_REDIRECTS: usize = 10;

/// The request part of a compiled `api_call` step. No `Debug`: it holds credentials.
pub struct RequestTemplate {
    pub method: Method,
    pub url: Template,
    pub headers: Vec<(HeaderName, Template)>,
    pub query: Option<TemplatedValue>,
    pub body: BodyTemplate,
    pub auth: Option<AuthTemplate>,
}

pub enum BodyTemplate {
    None,
    /// `body:` — a string is sent as text, anything else as JSON.
    Body(TemplatedValue),
    /// `json:` — always sent as JSON.
    Json(TemplatedValue),
}

pub enum AuthTemplate {
    Bearer(Template),
    Basic {
        username: Template,
        password: Template,
    },
}

/// A rendered request, ready to send (and re-send on retries).
pub struct Prepared {
    pub method: Method,
    pub url: Url,
    headers: HeaderMap,
    body: Option<(Vec<u8>, &'static str)>,
    auth: Option<Auth>,
}

enum Auth {
    Bearer(String),
    Basic(String, String),
}

impl RequestTemplate {
    /// Renders every template against the run's context.
    pub fn render(&self, cx: &StepCx<'_>) -> Result<Prepared, StepFailure> {
        let raw_url = cx.render(&self.url)?;
        let mut url = Url::parse(raw_url.trim()).map_err(|e| {
            StepFailure::new(
                FailureKind::Connect,
                format!("invalid URL `{}`: {e}", redact(&raw_url)),
            )
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(StepFailure::new(
                FailureKind::Connect,
                format!("unsupported URL scheme `{}`", url.scheme()),
            ));
        }
        if let Some(q) = &self.query {
            append_query(&mut url, &cx.render_value(q)?)?;
        }
        let mut headers = HeaderMap::with_capacity(self.headers.len());
        for (name, value) in &self.headers {
            let text = cx.render(value)?;
            let mut v = HeaderValue::from_str(&text).map_err(|_| {
                StepFailure::new(
                    FailureKind::Template,
                    format!("header `{name}` rendered to a value HTTP does not allow"),
                )
            })?;
            // Keeps values out of debug output and HTTP/2 header compression tables.
            v.set_sensitive(true);
            headers.append(name.clone(), v);
        }
        let body = match &self.body {
            BodyTemplate::None => None,
            BodyTemplate::Body(t) => Some(match cx.render_value(t)? {
                Value::String(s) => (s.into_bytes(), "text/plain; charset=utf-8"),
                other => (other.to_string().into_bytes(), "application/json"),
            }),
            BodyTemplate::Json(t) => Some((
                cx.render_value(t)?.to_string().into_bytes(),
                "application/json",
            )),
        };
        let auth = match &self.auth {
            None => None,
            Some(AuthTemplate::Bearer(t)) => Some(Auth::Bearer(cx.render(t)?)),
            Some(AuthTemplate::Basic { username, password }) => {
                Some(Auth::Basic(cx.render(username)?, cx.render(password)?))
            }
        };
        Ok(Prepared {
            method: self.method.clone(),
            url,
            headers,
            body,
            auth,
        })
    }
}

/// `query:` values: null is left out, a list repeats the key, objects are sent as JSON text.
fn append_query(url: &mut Url, query: &Value) -> Result<(), StepFailure> {
    let Value::Object(map) = query else {
        return Err(StepFailure::new(
            FailureKind::Template,
            "`query` must render to a mapping",
        ));
    };
    let mut pairs = url.query_pairs_mut();
    for (k, v) in map {
        let items: &[Value] = match v {
            Value::Array(items) => items,
            one => std::slice::from_ref(one),
        };
        for item in items {
            match item {
                Value::Null => {}
                Value::String(s) => {
                    pairs.append_pair(k, s);
                }
                other => {
                    pairs.append_pair(k, &other.to_string());
                }
            }
        }
    }
    drop(pairs);
    if url.query() == Some("") {
        url.set_query(None);
    }
    Ok(())
}

/// A received response, body read and parsed.
pub struct Received {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The URL of the last hop.
    pub url: Url,
    pub body: Value,
    pub elapsed: Duration,
}

impl Received {
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(header::RETRY_AFTER)?
            .to_str()
            .ok()
            .and_then(parse_retry_after)
    }
}

/// Why an attempt produced no usable response.
pub struct SendError {
    pub failure: StepFailure,
    /// Worth another attempt (network trouble), unlike a refused host or an oversized body.
    pub retryable: bool,
    /// The status, when a response arrived but could not be used.
    pub status: Option<StatusCode>,
}

impl SendError {
    fn fatal(kind: FailureKind, message: String) -> Box<Self> {
        Box::new(SendError {
            failure: StepFailure::new(kind, message),
            retryable: false,
            status: None,
        })
    }
}

/// Limits that apply to every attempt.
pub struct Limits<'a> {
    pub timeout: Duration,
    pub http: &'a HttpConfig,
}

/// Sends `req` once (following redirects), within `limits.timeout` for the whole exchange.
pub async fn send(
    client: &reqwest::Client,
    req: &Prepared,
    limits: &Limits<'_>,
) -> Result<Received, Box<SendError>> {
    let started = Instant::now();
    match tokio::time::timeout(limits.timeout, exchange(client, req, limits.http, started)).await {
        Ok(r) => r,
        Err(_) => Err(Box::new(SendError {
            failure: StepFailure::new(
                FailureKind::Timeout,
                format!(
                    "{} {} timed out after {:?}",
                    req.method,
                    redact(req.url.as_str()),
                    limits.timeout
                ),
            ),
            retryable: true,
            status: None,
        })),
    }
}

async fn exchange(
    client: &reqwest::Client,
    req: &Prepared,
    http: &HttpConfig,
    started: Instant,
) -> Result<Received, Box<SendError>> {
    let mut url = req.url.clone();
    let mut method = req.method.clone();
    let mut keep_body = true;
    for _ in 0..=MAX_REDIRECTS {
        check_host(&url, http)?;
        let same_origin = url.origin() == req.url.origin();
        let resp = build(client, req, &method, &url, same_origin, keep_body)
            .send()
            .await
            .map_err(|e| transport_error(&method, &url, e))?;
        let status = resp.status();
        if let Some(next) = redirect_target(&resp, &url) {
            // 303, and 301/302 after a POST, continue as GET without a body (as browsers do).
            if status == StatusCode::SEE_OTHER
                || (method == Method::POST && matches!(status.as_u16(), 301 | 302))
            {
                if method != Method::HEAD {
                    method = Method::GET;
                }
                keep_body = false;
            }
            url = next;
            continue;
        }
        let headers = resp.headers().clone();
        let bytes = read_capped(resp, http.max_response_bytes.0, &method, &url).await?;
        let body = parse_body(&headers, &bytes);
        return Ok(Received {
            status,
            headers,
            url,
            body,
            elapsed: started.elapsed(),
        });
    }
    Err(SendError::fatal(
        FailureKind::Connect,
        format!(
            "{} {}: more than {MAX_REDIRECTS} redirects",
            req.method,
            redact(req.url.as_str())
        ),
    ))
}

fn build(
    client: &reqwest::Client,
    req: &Prepared,
    method: &Method,
    url: &Url,
    same_origin: bool,
    body: bool,
) -> reqwest::RequestBuilder {
    let mut headers = req.headers.clone();
    if !same_origin {
        // Credentials are for the origin the author wrote, never for where it redirects to.
        for h in [
            header::AUTHORIZATION,
            header::COOKIE,
            header::PROXY_AUTHORIZATION,
        ] {
            headers.remove(h);
        }
    }
    let mut b = client.request(method.clone(), url.clone());
    if let (Some((bytes, content_type)), true) = (&req.body, body) {
        if !headers.contains_key(header::CONTENT_TYPE) {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        b = b.body(bytes.clone());
    } else {
        headers.remove(header::CONTENT_TYPE);
    }
    b = b.headers(headers);
    match (&req.auth, same_origin) {
        (Some(Auth::Bearer(t)), true) => b.bearer_auth(t),
        (Some(Auth::Basic(u, p)), true) => b.basic_auth(u, Some(p)),
        _ => b,
    }
}

fn redirect_target(resp: &reqwest::Response, base: &Url) -> Option<Url> {
    if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = resp.headers().get(header::LOCATION)?.to_str().ok()?;
    base.join(location).ok()
}

fn check_host(url: &Url, http: &HttpConfig) -> Result<(), Box<SendError>> {
    let host = url.host_str().unwrap_or_default();
    if http.allows(host, url.port_or_known_default()) {
        return Ok(());
    }
    Err(SendError::fatal(
        FailureKind::Connect,
        format!(
            "host `{host}` is not in `http.allowed_hosts` (weft.yaml); the request was not sent"
        ),
    ))
}

/// Reads the body, refusing more than `max` bytes.
async fn read_capped(
    mut resp: reqwest::Response,
    max: u64,
    method: &Method,
    url: &Url,
) -> Result<Vec<u8>, Box<SendError>> {
    let status = resp.status();
    let too_big = || {
        Box::new(SendError {
            failure: StepFailure::new(
                FailureKind::Connect,
                format!(
                    "{method} {}: the response body exceeds {max} bytes (`http.max_response_bytes`)",
                    redact(url.as_str())
                ),
            ),
            retryable: false,
            status: Some(status),
        })
    };
    if resp.content_length().is_some_and(|n| n > max) {
        return Err(too_big());
    }
    let mut out = Vec::with_capacity(resp.content_length().unwrap_or(0).min(max) as usize);
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        let mut err = transport_error(method, url, e);
        err.status = Some(status);
        err
    })? {
        if out.len() as u64 + chunk.len() as u64 > max {
            return Err(too_big());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// JSON when the response says so (or looks like a JSON document); else text; empty is null.
fn parse_body(headers: &HeaderMap, bytes: &[u8]) -> Value {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Value::Null;
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let says_json = essence == "application/json" || essence.ends_with("+json");
    let looks_json = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['));
    if (says_json || looks_json)
        && let Ok(v) = serde_json::from_slice(bytes)
    {
        return v;
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

/// A network-level failure: connect (DNS, refused, TLS) or a broken exchange.
fn transport_error(method: &Method, url: &Url, e: reqwest::Error) -> Box<SendError> {
    let kind = if e.is_timeout() {
        FailureKind::Timeout
    } else {
        FailureKind::Connect
    };
    let what = if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // reqwest's messages name the full URL, query string included: leave it out.
    let detail = error_chain(&e.without_url());
    Box::new(SendError {
        failure: StepFailure::new(
            kind,
            format!("{method} {}: {what}: {detail}", redact(url.as_str())),
        ),
        retryable: true,
        status: None,
    })
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// A URL for messages: no credentials, no query string (either may hold a secret).
pub fn redact(raw: &str) -> String {
    match Url::parse(raw.trim()) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            let had_query = u.query().is_some();
            u.set_query(None);
            u.set_fragment(None);
            if had_query {
                format!("{u}?…")
            } else {
                u.to_string()
            }
        }
        Err(_) => "<invalid URL>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_parse_as_json_or_text() {
        let mut h = HeaderMap::new();
        assert_eq!(parse_body(&h, b"  "), Value::Null);
        assert_eq!(parse_body(&h, b"{\"a\":1}"), json!({"a": 1}));
        assert_eq!(parse_body(&h, b"123"), json!("123"));
        assert_eq!(parse_body(&h, b"{broken"), json!("{broken"));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json; charset=utf-8"),
        );
        assert_eq!(parse_body(&h, b"123"), json!(123));
    }

    #[test]
    fn query_values() {
        let mut u = Url::parse("http://h/p?x=1").unwrap();
        append_query(
            &mut u,
            &json!({"a": "b c", "n": 2, "skip": null, "list": [1, "two"]}),
        )
        .unwrap();
        assert_eq!(u.as_str(), "http://h/p?x=1&a=b+c&n=2&list=1&list=two");
    }

    #[test]
    fn redaction_hides_credentials_and_query() {
        assert_eq!(
            redact("https://user:pw@api.example.com/v1/x?key=secret"),
            "https://api.example.com/v1/x?…"
        );
        assert_eq!(redact("http://h/p"), "http://h/p");
        assert_eq!(redact("not a url"), "<invalid URL>");
    }
}
