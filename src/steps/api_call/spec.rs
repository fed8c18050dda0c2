//! The YAML of an `api_call` step and its checks, compiled into the parts of [`super::ApiCall`].

use std::time::Duration;

use reqwest::Method;
use reqwest::header::HeaderName;
use serde::Deserialize;

use super::super::CompileCx;
use super::super::extract::{Extract, ExtractSpec, output_key};
use super::request::{AuthTemplate, BodyTemplate, RequestTemplate};
use super::{DEFAULT_BACKOFF, DEFAULT_OUTPUT_KEY, DEFAULT_RETRY_STATUSES, DEFAULT_TIMEOUT};
use crate::engine::Template;
use crate::spec::yaml::Pairs;
use crate::spec::{Code, Diagnostic, Located, Node, Seconds, StepSpec};

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

/// A checked `api_call` step.
pub struct Parts {
    pub request: RequestTemplate,
    pub timeout: Duration,
    pub retries: u32,
    pub retry_statuses: Box<[u16]>,
    pub retry_backoff: Duration,
    pub output_key: String,
    pub meta_key: Option<String>,
    pub extract: Extract,
    pub status_routes: bool,
}

/// Reads and checks the step; every problem is reported.
pub fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Parts> {
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
    let request = compile_request(
        RequestParts {
            url,
            method,
            headers,
            query,
            body,
            json,
            auth,
        },
        &path,
        cx,
    );
    let timeout = positive_timeout(timeout.as_ref(), &path, cx);
    let retry_statuses = compile_statuses(retry_statuses.as_deref(), &path, cx);
    let response = compile_response(spec.response, &step.path, cx);
    let (output_key, meta_key, extract, status_routes) = response?;
    Some(Parts {
        request: request?,
        timeout: timeout?,
        retries,
        retry_statuses: retry_statuses?,
        retry_backoff: retry_backoff.map_or(DEFAULT_BACKOFF, Seconds::get),
        output_key,
        meta_key,
        extract,
        status_routes,
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

fn wrong_type(message: &str, node: &Node, path: &str) -> Diagnostic {
    Diagnostic::error(Code::WrongType, message)
        .at(node.pos)
        .path(path.to_string())
        .expected("a mapping")
        .found(node.describe())
}
