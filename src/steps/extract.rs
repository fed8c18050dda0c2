//! `response.extract` — copying parts of a step's result into the context, shared by `api_call`
//! and `mcp`.
//!
//! A path that starts with `$` is a JSONPath (RFC 9535, via jsonpath-rust), anything else a dot
//! path (`current.condition.text`, `items.0.title`). Dot paths are mapped to a JSON Pointer, so a
//! segment `0` indexes an array and names a key in an object, and `temp-c` needs no quoting.
//! Both are parsed once, at load time.
//!
//! Results: a dot path or a *singular* JSONPath (only names and indices, `$.a.b[0]`) yields the
//! value or nothing; any other JSONPath (`$.items[*].id`, filters, `..`) yields the list of every
//! match. Nothing found gives `null`, or an `extract` failure when the entry is `required`.

use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use serde::Deserialize;
use serde_json::Value;

use super::CompileCx;
use crate::engine::context::is_reserved;
use crate::engine::{Context, FailureKind, StepFailure};
use crate::spec::{Code, Diagnostic, Located};

/// One `extract` entry as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractSpec {
    path: Located<String>,
    #[serde(rename = "as")]
    target: Located<String>,
    #[serde(default)]
    required: bool,
}

/// Compiled `extract` entries.
#[derive(Debug, Default)]
pub struct Extract {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    path: PathExpr,
    /// The path as written, for messages.
    source: String,
    /// The context key (a dot path) that receives the value.
    target: String,
    required: bool,
}

#[derive(Debug)]
enum PathExpr {
    Pointer(String),
    JsonPath { query: JpQuery, singular: bool },
}

impl Extract {
    /// Compiles the entries; reports every bad one. `path` is the JSON path of the list.
    pub fn compile(
        specs: Vec<ExtractSpec>,
        path: &str,
        cx: &mut CompileCx<'_, '_>,
    ) -> Option<Self> {
        let mut entries = Vec::with_capacity(specs.len());
        let mut ok = true;
        for (i, spec) in specs.into_iter().enumerate() {
            match compile_entry(spec, &format!("{path}[{i}]"), cx) {
                Some(e) => entries.push(e),
                None => ok = false,
            }
        }
        ok.then_some(Extract { entries })
    }

    /// Stores `body` under `output_key`, then each extracted value under its `as`. The body is
    /// stored even when a required path is missing, so an error route can look at it.
    pub fn store(
        &self,
        body: Value,
        output_key: &str,
        ctx: &mut Context,
    ) -> Result<(), StepFailure> {
        let mut found = Vec::with_capacity(self.entries.len());
        let mut missing = None;
        for e in &self.entries {
            match e.path.find(&body) {
                Some(v) => found.push((e.target.as_str(), v)),
                None if e.required => {
                    missing = Some(e);
                    break;
                }
                None => found.push((e.target.as_str(), Value::Null)),
            }
        }
        ctx.set_path(output_key, body);
        if let Some(e) = missing {
            return Err(StepFailure::new(
                FailureKind::Extract,
                format!(
                    "required path `{}` (for `{}`) is not in the result",
                    e.source, e.target
                ),
            ));
        }
        for (target, v) in found {
            ctx.set_path(target, v);
        }
        Ok(())
    }
}

/// `response.output_key`, checked: a non-empty key that is not reserved.
pub fn output_key(
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

fn compile_entry(spec: ExtractSpec, path: &str, cx: &mut CompileCx<'_, '_>) -> Option<Entry> {
    let target = spec.target.value.trim();
    if target.is_empty() || is_reserved(target) || target.split('.').any(str::is_empty) {
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`as: {}` is not a usable context key", spec.target.value),
            )
            .at(spec.target.pos)
            .path(format!("{path}.as"))
            .expected(
                "a context key or dot path that does not start with `_` (reserved for the engine)",
            )
            .found(format!("`{}`", spec.target.value)),
        );
        return None;
    }
    let parsed = match parse_path(&spec.path.value) {
        Ok(p) => p,
        Err(message) => {
            cx.error(
                Diagnostic::error(Code::InvalidValue, format!("invalid extract path `{}`: {message}", spec.path.value))
                    .at(spec.path.pos)
                    .path(format!("{path}.path"))
                    .expected("a dot path (`items.0.title`) or a JSONPath starting with `$` (`$.items[*].id`)"),
            );
            return None;
        }
    };
    Some(Entry {
        path: parsed,
        source: spec.path.value,
        target: target.to_string(),
        required: spec.required,
    })
}

/// Parses an extract path; the error is one line.
fn parse_path(text: &str) -> Result<PathExpr, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the path is empty".into());
    }
    if text.starts_with('$') {
        let query =
            jsonpath_rust::parser::parse_json_path(text).map_err(|e| first_line(&e.to_string()))?;
        let singular = is_singular(&query);
        return Ok(PathExpr::JsonPath { query, singular });
    }
    if text.split('.').any(str::is_empty) {
        return Err("a dot path has an empty segment".into());
    }
    Ok(PathExpr::Pointer(dot_to_pointer(text)))
}

/// `a.b~c.0` → `/a/b~0c/0` (RFC 6901 escaping).
fn dot_to_pointer(path: &str) -> String {
    path.split('.')
        .fold(String::with_capacity(path.len() + 1), |mut out, seg| {
            out.push('/');
            out.push_str(&seg.replace('~', "~0").replace('/', "~1"));
            out
        })
}

/// A query of names and indices only selects at most one node.
fn is_singular(q: &JpQuery) -> bool {
    let one = |s: &Selector| matches!(s, Selector::Name(_) | Selector::Index(_));
    q.segments.iter().all(|seg| match seg {
        Segment::Selector(s) => one(s),
        Segment::Selectors(list) => list.len() == 1 && one(&list[0]),
        Segment::Descendant(_) => false,
    })
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("parse error")
        .to_string()
}

impl PathExpr {
    fn find(&self, body: &Value) -> Option<Value> {
        match self {
            PathExpr::Pointer(p) => body.pointer(p).cloned(),
            PathExpr::JsonPath { query, singular } => {
                let found = jsonpath_rust::query::js_path_process(query, body).ok()?;
                if *singular {
                    found.into_iter().next().map(|r| r.val().clone())
                } else if found.is_empty() {
                    None
                } else {
                    Some(Value::Array(
                        found.into_iter().map(|r| r.val().clone()).collect(),
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn find(path: &str, body: &Value) -> Option<Value> {
        parse_path(path).unwrap().find(body)
    }

    #[test]
    fn dot_paths_index_arrays_and_objects() {
        let body = json!({
            "current": {"temp-c": 21.5, "condition": {"text": "Sunny"}, "0": "zero"},
            "items": [{"title": "a"}, {"title": "b"}],
            "a/b": {"c~d": 1}
        });
        let cases = [
            ("current.condition.text", Some(json!("Sunny"))),
            ("current.temp-c", Some(json!(21.5))),
            ("current.0", Some(json!("zero"))),
            ("items.1.title", Some(json!("b"))),
            ("items.2.title", None),
            ("a/b.c~d", Some(json!(1))),
            ("nope", None),
        ];
        for (path, want) in cases {
            assert_eq!(find(path, &body), want, "{path}");
        }
        assert_eq!(
            find("0.title", &json!([{"title": "first"}])),
            Some(json!("first"))
        );
    }

    #[test]
    fn jsonpath_singular_and_lists() {
        let body = json!({"items": [{"id": 1, "n": 5}, {"id": 2, "n": 1}], "meta": {"total": 2}});
        let cases = [
            ("$.meta.total", Some(json!(2))),
            ("$.items[0].id", Some(json!(1))),
            ("$.items[*].id", Some(json!([1, 2]))),
            ("$.items[?@.n > 2].id", Some(json!([1]))),
            ("$..total", Some(json!([2]))),
            ("$.items[*].missing", None),
            ("$.nope", None),
        ];
        for (path, want) in cases {
            assert_eq!(find(path, &body), want, "{path}");
        }
    }

    #[test]
    fn bad_paths_are_load_errors() {
        assert!(parse_path("").is_err());
        assert!(parse_path("a..b").is_err());
        let e = parse_path("$.items[").err().unwrap();
        assert!(!e.contains('\n'), "{e}");
    }
}
