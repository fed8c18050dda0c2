//! `kind: response` — shapes the HTTP reply. `source: key` exposes one context value as the body;
//! `mapping: {out: dot.path}` projects fields. The body goes to `_response`; optional `status`
//! (default 200) and `headers` (templated) go to `_response_status` / `_response_headers`.
//! Missing paths yield null.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{CompileCx, DEFAULT, Outcome, StepCx};
use crate::engine::{StepFailure, Template, context::keys};
use crate::spec::yaml::Pairs;
use crate::spec::{Code, Diagnostic, Located, StepSpec};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    #[serde(default)]
    source: Option<Located<String>>,
    #[serde(default)]
    mapping: Option<Pairs<Located<String>, Located<String>>>,
    #[serde(default)]
    status: Option<Located<u16>>,
    #[serde(default)]
    headers: Option<Pairs<Located<String>, Located<String>>>,
}

#[derive(Debug)]
enum Body {
    Source(String),
    Mapping(Vec<(String, String)>),
}

#[derive(Debug)]
pub struct Response {
    body: Body,
    status: Option<u16>,
    headers: Vec<(String, Template)>,
}

impl Response {
    pub fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Self> {
        let spec: Spec = cx.spec(step)?;
        let body = match (spec.source, spec.mapping) {
            (Some(s), None) => Body::Source(s.value),
            (None, Some(m)) => {
                Body::Mapping(m.0.into_iter().map(|(k, v)| (k.value, v.value)).collect())
            }
            (Some(s), Some(_)) => {
                cx.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        "a response step takes `source` or `mapping`, not both",
                    )
                    .at(s.pos)
                    .path(format!("{}.source", step.path)),
                );
                return None;
            }
            (None, None) => {
                cx.error(
                    Diagnostic::error(
                        Code::MissingField,
                        "a response step needs `source` or `mapping`",
                    )
                    .at(step.id.pos)
                    .path(step.path.clone())
                    .expected("`source: <context key>` or `mapping: {field: dot.path}`"),
                );
                return None;
            }
        };
        if let Some(s) = &spec.status
            && !(100..=599).contains(&s.value)
        {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not an HTTP status", s.value),
                )
                .at(s.pos)
                .path(format!("{}.status", step.path))
                .expected("a status code between 100 and 599"),
            );
            return None;
        }
        let mut headers = Vec::new();
        for (name, value) in spec.headers.unwrap_or_default().0 {
            let path = format!("{}.headers.{}", step.path, name.value);
            headers.push((name.value, cx.template(&value.value, value.pos, &path)?));
        }
        Some(Response {
            body,
            status: spec.status.map(|s| s.value),
            headers,
        })
    }

    pub fn run(&self, cx: &mut StepCx<'_>) -> Result<Outcome, StepFailure> {
        let body = match &self.body {
            Body::Source(key) => cx.ctx.lookup(key).cloned().unwrap_or(Value::Null),
            Body::Mapping(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(out, path)| {
                        (
                            out.clone(),
                            cx.ctx.lookup(path).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .collect(),
            ),
        };
        let mut headers = Map::new();
        for (name, t) in &self.headers {
            headers.insert(name.clone(), Value::String(cx.render(t)?));
        }
        cx.ctx.set_reserved(keys::RESPONSE, body);
        if let Some(status) = self.status {
            cx.ctx
                .set_reserved(keys::RESPONSE_STATUS, Value::from(status));
        }
        if !headers.is_empty() {
            cx.ctx
                .set_reserved(keys::RESPONSE_HEADERS, Value::Object(headers));
        }
        Ok(Outcome::Signal(DEFAULT))
    }
}
