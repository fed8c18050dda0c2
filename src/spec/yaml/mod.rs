//! The YAML layer: text → a tree of [`Node`]s that remember where they came from.
//!
//! serde-saphyr parses the text (YAML 1.2 core schema, strict booleans, duplicate keys rejected) into
//! the node tree through its `Spanned` wrapper. Typed documents are then read out of the tree by
//! [`from_node`], a serde `Deserializer` that tracks the JSON path it is at and stamps every error
//! with the position of the innermost node that caused it. Because the tree outlives a failed
//! deserialization, each step can be read separately and a file with five broken steps reports five
//! problems.

mod access;
mod de;
mod error;
mod located;
#[cfg(test)]
mod tests;

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

pub use super::diagnostic::Pos;
pub use de::{from_map_without, from_node};
pub use error::{DeError, Path, Problem};
pub use located::{Located, Pairs};

/// One YAML value with its source position.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
    /// Verbatim source text of a plain (unquoted) scalar, so `schema_version: 1.10` read as a
    /// string stays `"1.10"` rather than the float's `"1.1"`.
    pub plain: Option<Box<str>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    pub fn new(pos: Pos, value: Value) -> Self {
        Node {
            pos,
            value,
            plain: None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Looks up a key in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.key_text().as_deref() == Some(key))
            .map(|(_, v)| v)
    }

    /// The text of a scalar used as a mapping key: `true:` → `"true"`, `404:` → `"404"`.
    pub fn key_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Null => Some(self.plain.as_deref().unwrap_or("null").to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(_) | Value::Float(_) => Some(match &self.plain {
                Some(p) => p.to_string(),
                None => self.scalar_text(),
            }),
            Value::Seq(_) | Value::Map(_) => None,
        }
    }

    fn scalar_text(&self) -> String {
        match &self.value {
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => "null".into(),
            Value::Str(s) => s.clone(),
            _ => String::new(),
        }
    }

    /// A short description for "found" in diagnostics.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Null => "null".into(),
            Value::Bool(b) => format!("boolean `{b}`"),
            Value::Int(i) => format!("integer `{i}`"),
            Value::Float(f) => format!("number `{f}`"),
            Value::Str(s) => format!("string `{}`", truncate(s, 40)),
            Value::Seq(_) => "a list".into(),
            Value::Map(_) => "a mapping".into(),
        }
    }

    /// The node as plain JSON (positions dropped).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .filter_map(|(k, v)| Some((k.key_text()?, v.to_json())))
                    .collect(),
            ),
        }
    }

    /// Calls `f` on every string scalar (not keys), depth first.
    pub fn for_each_str_mut(&mut self, f: &mut impl FnMut(&mut Node)) {
        match &mut self.value {
            Value::Str(_) => f(self),
            Value::Seq(items) => items.iter_mut().for_each(|n| n.for_each_str_mut(f)),
            Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| v.for_each_str_mut(f)),
            _ => {}
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

/// A YAML syntax error with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses a (possibly multi-document) YAML text into one node per document.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
    };
    let docs: Vec<Spanned<Raw>> = serde_saphyr::from_str_multiple_with_options(text, options)
        .map_err(|e| {
            let pos = e
                .location()
                .map(|l| Pos::new(l.line() as u32, l.column() as u32))
                .unwrap_or_default();
            let err = SyntaxError {
                pos,
                message: syntax_message(&e),
            };
            super::syntax::refine(text, err)
        })?;
    Ok(docs.into_iter().map(|d| to_node(text, d)).collect())
}

/// The message alone (we render our own snippet), worded for authors: serde-saphyr's default
/// formatter addresses developers ("set DuplicateKeyPolicy in Options if acceptable").
fn syntax_message(e: &serde_saphyr::Error) -> String {
    use serde_saphyr::MessageFormatter;
    let message = serde_saphyr::UserMessageFormatter.format_message(e);
    let line = message.lines().next().unwrap_or_default().trim();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// The intermediate tree serde-saphyr fills (via `deserialize_any`).
enum Raw {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Raw>>),
    Map(Vec<(Spanned<Raw>, Spanned<Raw>)>),
}

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Raw, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_none<E>(self) -> Result<Raw, E> {
                Ok(Raw::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
                Raw::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Raw, E> {
                Ok(Raw::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Raw, E> {
                Ok(Raw::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Raw, E> {
                Ok(Raw::UInt(u))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Raw, E> {
                Ok(Raw::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<Raw, E> {
                Ok(Raw::Str(s.to_string()))
            }
            fn visit_string<E>(self, s: String) -> Result<Raw, E> {
                Ok(Raw::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut items = Vec::new();
                while let Some(x) = a.next_element()? {
                    items.push(x);
                }
                Ok(Raw::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut entries = Vec::new();
                while let Some(k) = a.next_key()? {
                    entries.push((k, a.next_value()?));
                }
                Ok(Raw::Map(entries))
            }
        }
        d.deserialize_any(V)
    }
}

fn to_node(text: &str, raw: Spanned<Raw>) -> Node {
    let loc = raw.referenced;
    let pos = Pos::new(loc.line() as u32, loc.column() as u32);
    let source = || {
        let span = loc.span();
        let (off, len) = (span.byte_offset()? as usize, span.byte_len()? as usize);
        text.get(off..off + len).map(Into::into)
    };
    let (value, plain) = match raw.value {
        Raw::Null => (Value::Null, source()),
        Raw::Bool(b) => (Value::Bool(b), source()),
        Raw::Int(i) => (Value::Int(i), source()),
        Raw::UInt(u) => match i64::try_from(u) {
            Ok(i) => (Value::Int(i), source()),
            Err(_) => (Value::Float(u as f64), source()),
        },
        Raw::Float(f) => (Value::Float(f), source()),
        Raw::Str(s) => {
            let src: Option<Box<str>> = source();
            let plain = src.filter(|t| !t.starts_with(['"', '\'']) && **t == *s);
            (Value::Str(s), plain)
        }
        Raw::Seq(items) => (
            Value::Seq(items.into_iter().map(|n| to_node(text, n)).collect()),
            None,
        ),
        Raw::Map(entries) => (
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (to_node(text, k), to_node(text, v)))
                    .collect(),
            ),
            None,
        ),
    };
    Node { pos, value, plain }
}

/// Re-reads a plain scalar's text with YAML core-schema typing (used after `${VAR}` expansion,
/// so `port: ${PORT:8080}` is a number). Quoted scalars stay strings.
pub fn infer_plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let leading_zero = {
        let digits = text.trim_start_matches(['-', '+']);
        digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
    };
    if !leading_zero {
        if let Ok(i) = text.parse::<i64>() {
            return Value::Int(i);
        }
        let numeric = text.bytes().any(|b| b.is_ascii_digit())
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
        if numeric && let Ok(f) = text.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text.to_string())
}

/// Splits a multi-document text into each document's source text, as written (comments kept).
/// Returns `None` when the split does not match `expected` documents (exotic `---` placement),
/// in which case callers fall back to re-serialising the unexpanded node tree.
pub fn split_document_texts(text: &str, expected: usize) -> Option<Vec<String>> {
    let mut docs: Vec<String> = vec![String::new()];
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end();
        let is_marker = |m: &str| {
            trimmed == m
                || trimmed.starts_with(&format!("{m} #"))
                || trimmed.starts_with(&format!("{m}\t"))
        };
        if is_marker("---") || is_marker("...") {
            docs.push(String::new());
        } else if trimmed.starts_with("--- ") {
            // `--- value` on the marker line: too unusual to split by text.
            return None;
        } else if let Some(cur) = docs.last_mut() {
            cur.push_str(line);
        }
    }
    let has_content = |d: &String| {
        d.lines().any(|l| {
            !l.trim().is_empty() && !l.trim_start().starts_with('#') && !l.starts_with('%')
        })
    };
    let docs: Vec<String> = docs.into_iter().filter(has_content).collect();
    (docs.len() == expected).then_some(docs)
}
