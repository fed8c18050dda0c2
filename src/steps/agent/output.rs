//! What an agent step does with a reply: parse it in the requested format, validate it, write it
//! into the context and pick the signal. A reply that does not fit is a `parse_error`; nothing
//! is guessed, and a failed attempt writes nothing.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{Extracted, extract_json};
use crate::engine::context::lookup_path;
use crate::engine::{Context, FailureKind, StepFailure};
use crate::graph::Routes;
use crate::steps::{DEFAULT, Signal};

/// `output.format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Json,
    Text,
    Signal,
}

/// A compiled `output.schema`.
pub struct Schema {
    pub json: Value,
    pub validator: jsonschema::Validator,
}

/// The compiled `output` section.
pub struct Output {
    pub format: Format,
    /// LLM path → context path, both dot paths.
    pub map: Vec<(String, String)>,
    pub signal_from: Option<String>,
    /// Where the whole reply goes (text: always, with a default; JSON: when set).
    pub output_key: Option<String>,
    pub schema: Option<Schema>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Output")
            .field("format", &self.format)
            .field("map", &self.map)
            .field("signal_from", &self.signal_from)
            .field("output_key", &self.output_key)
            .field("schema", &self.schema.as_ref().map(|s| &s.json))
            .finish()
    }
}

fn parse_error(message: impl Into<String>) -> StepFailure {
    StepFailure::new(FailureKind::ParseError, message)
}

impl Output {
    /// Applies `reply` to `ctx` and returns the signal. On failure `ctx` is left untouched.
    pub fn apply(
        &self,
        reply: &str,
        ctx: &mut Context,
        routes: &Routes,
    ) -> Result<Signal, StepFailure> {
        if self.format == Format::Signal {
            return signal_reply(reply, routes);
        }
        // Work on a copy so that a reply failing late (schema, `signal_from`) leaves no trace.
        let mut next = ctx.clone();
        match self.format {
            // Compilation always gives text output a key (`<step_id>_result` by default).
            // Surrounding whitespace is formatting, not content.
            Format::Text => {
                if let Some(key) = &self.output_key {
                    next.set_path(key, Value::String(reply.trim().to_string()));
                }
            }
            _ => self.write_json(self.parse_json(reply)?, &mut next)?,
        }
        let signal = match &self.signal_from {
            Some(key) => signal_from(key, &next, routes)?,
            None => DEFAULT,
        };
        *ctx = next;
        Ok(signal)
    }

    fn parse_json(&self, reply: &str) -> Result<Value, StepFailure> {
        let value = match extract_json(reply) {
            Extracted::One(v) => v,
            Extracted::None => {
                return Err(parse_error(format!(
                    "the reply is not JSON: {}",
                    excerpt(reply)
                )));
            }
            Extracted::Ambiguous(n) => {
                return Err(parse_error(format!(
                    "the reply holds {n} different JSON values; expected exactly one: {}",
                    excerpt(reply)
                )));
            }
        };
        if let Some(schema) = &self.schema {
            validate(schema, &value)?;
        }
        Ok(value)
    }

    /// Merges the object's keys (reserved `_` keys are ignored), then applies `map`, then
    /// `output_key`, so the keys the author named win over what the reply merged.
    fn write_json(&self, value: Value, ctx: &mut Context) -> Result<(), StepFailure> {
        match &value {
            Value::Object(map) => ctx.merge(map.clone()),
            _ if self.output_key.is_none() => {
                return Err(parse_error(format!(
                    "expected a JSON object, the reply is {}",
                    kind_of(&value)
                )));
            }
            _ => {}
        }
        for (from, to) in &self.map {
            if let Some(v) = lookup_path(&value, from) {
                ctx.set_path(to, v.clone());
            }
        }
        if let Some(key) = &self.output_key {
            ctx.set_path(key, value);
        }
        Ok(())
    }
}

/// A schema violation is a `parse_error`; `details` lists where and why (at most 10 entries).
fn validate(schema: &Schema, value: &Value) -> Result<(), StepFailure> {
    let errors: Vec<Value> = schema
        .validator
        .iter_errors(value)
        .take(10)
        .map(|e| json!({"path": e.instance_path().as_str(), "message": e.to_string()}))
        .collect();
    let Some(first) = errors.first() else {
        return Ok(());
    };
    let at = first["path"]
        .as_str()
        .filter(|p| !p.is_empty())
        .unwrap_or("/");
    let message = format!(
        "the reply does not match `output.schema`: {} (at {at})",
        first["message"].as_str().unwrap_or_default()
    );
    Err(parse_error(message).with_details(json!({ "schema_errors": errors })))
}

/// The route keys an LLM may choose: not `default`, `error` or a failure kind.
fn choices(routes: &Routes) -> impl Iterator<Item = &str> {
    routes
        .signals()
        .filter(|k| *k != "default" && *k != "error" && FailureKind::parse(k).is_none())
}

/// The route key `text` names, ignoring case.
fn route_named<'r>(text: &str, routes: &'r Routes) -> Option<&'r str> {
    choices(routes).find(|k| k.eq_ignore_ascii_case(text))
}

/// `format: signal`: the reply, trimmed, without surrounding quotes or a final period, names a
/// route (any case). A reply naming none is a `parse_error` unless the step has `default`.
fn signal_reply(reply: &str, routes: &Routes) -> Result<Signal, StepFailure> {
    let text = normalize_signal(reply);
    if let Some(key) = route_named(text, routes) {
        return Ok(Cow::Owned(key.to_string()));
    }
    if routes.has("default") && !text.is_empty() {
        return Ok(Cow::Owned(text.to_string()));
    }
    let expected: Vec<String> = choices(routes).map(|k| format!("`{k}`")).collect();
    Err(parse_error(format!(
        "the reply {} names no route; expected one of {}",
        excerpt(reply),
        expected.join(", ")
    )))
}

pub fn normalize_signal(reply: &str) -> &str {
    let t = reply.trim();
    let t = ['"', '\'', '`']
        .iter()
        .find_map(|q| t.strip_prefix(*q).and_then(|r| r.strip_suffix(*q)))
        .unwrap_or(t)
        .trim();
    t.strip_suffix('.').unwrap_or(t).trim()
}

/// `signal_from`: the context value at `key` is the signal (matched to a route ignoring case;
/// otherwise used as is, so the usual `default` / next-step rules apply).
fn signal_from(key: &str, ctx: &Context, routes: &Routes) -> Result<Signal, StepFailure> {
    let text = match ctx.lookup(key) {
        None | Some(Value::Null) => {
            return Err(parse_error(format!(
                "`output.signal_from`: the reply gave no `{key}`"
            )));
        }
        Some(Value::String(s)) => s.trim().to_string(),
        Some(v @ (Value::Bool(_) | Value::Number(_))) => v.to_string(),
        Some(v) => {
            return Err(parse_error(format!(
                "`output.signal_from`: `{key}` is {}, not a value to route on",
                kind_of(v)
            )));
        }
    };
    Ok(Cow::Owned(
        route_named(&text, routes).map_or(text, str::to_string),
    ))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The start of a reply, quoted, for messages.
fn excerpt(reply: &str) -> String {
    format!("`{}`", crate::llm::error::shorten(reply.trim(), 200))
}

#[cfg(test)]
mod tests;
