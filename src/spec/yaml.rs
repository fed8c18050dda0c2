//! The YAML layer: text → a tree of [`Node`]s that remember where they came from.
//!
//! serde-saphyr parses the text (YAML 1.2 core schema, strict booleans, duplicate keys rejected) into
//! the node tree through its `Spanned` wrapper. Typed documents are then read out of the tree by
//! [`from_node`], a serde `Deserializer` that tracks the JSON path it is at and stamps every error
//! with the position of the innermost node that caused it. Because the tree outlives a failed
//! deserialization, each step can be read separately and a file with five broken steps reports five
//! problems.

use std::cell::RefCell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

pub use super::diagnostic::Pos;

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

// ---------------------------------------------------------------------------------------------
// Located<T>: a value with its position, for semantic checks after deserialization.

const LOCATED_MARKER: &str = "$weft::Located";
const LOCATED_FIELDS: &[&str] = &["$line", "$col", "$value"];
const NODE_MARKER: &str = "$weft::Node";
const NODE_SLOT: &str = "$weft::node-slot";

/// A deserialized value and where it was written. Only [`from_node`] fills the position; other
/// deserializers are not supported for this type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Located<T> {
    pub value: T,
    pub pos: Pos,
}

impl<T> Located<T> {
    pub fn new(value: T, pos: Pos) -> Self {
        Located { value, pos }
    }
}

impl<T> std::ops::Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Serialize> Serialize for Located<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Located<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a located value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Located<T>, A::Error> {
                let mut line = 0u32;
                let mut col = 0u32;
                let mut value = None;
                while let Some(key) = a.next_key::<String>()? {
                    match key.as_str() {
                        "$line" => line = a.next_value()?,
                        "$col" => col = a.next_value()?,
                        _ => value = Some(a.next_value()?),
                    }
                }
                let value =
                    value.ok_or_else(|| de::Error::custom("located value without value"))?;
                Ok(Located {
                    value,
                    pos: Pos::new(line, col),
                })
            }
        }
        d.deserialize_struct(LOCATED_MARKER, LOCATED_FIELDS, V(std::marker::PhantomData))
    }
}

/// A mapping read in the order written (serde maps into `Vec` need a sequence).
#[derive(Clone, Debug, PartialEq)]
pub struct Pairs<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Pairs<K, V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Pairs<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for Vis<K, V> {
            type Value = Pairs<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = a.next_key()? {
                    out.push((k, a.next_value()?));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(Vis(std::marker::PhantomData))
    }
}

thread_local! {
    /// Hands a whole subtree from the deserializer to `Node::deserialize` without copying it
    /// through serde's data model (which would drop positions).
    static NODE_HANDOFF: RefCell<Option<Node>> = const { RefCell::new(None) };
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Node, E> {
                if s == NODE_SLOT
                    && let Some(node) = NODE_HANDOFF.with(|h| h.borrow_mut().take())
                {
                    return Ok(node);
                }
                Ok(Node::new(Pos::default(), Value::Str(s.to_string())))
            }
        }
        d.deserialize_struct(NODE_MARKER, &[], V)
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// Why deserialization of a node failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Problem {
    Custom(String),
    InvalidType {
        expected: String,
        found: String,
    },
    InvalidValue {
        expected: String,
        found: String,
    },
    UnknownField {
        field: String,
        expected: &'static [&'static str],
    },
    UnknownVariant {
        variant: String,
        expected: &'static [&'static str],
    },
    MissingField(&'static str),
}

/// A deserialization error stamped with the position and path of the node that caused it.
#[derive(Clone, Debug, PartialEq)]
pub struct DeError {
    pub problem: Problem,
    pub pos: Option<Pos>,
    pub path: Option<String>,
}

impl DeError {
    fn new(problem: Problem) -> Self {
        DeError {
            problem,
            pos: None,
            path: None,
        }
    }

    /// Attaches a position and path unless a deeper node already did.
    fn at(mut self, pos: Pos, path: &Path<'_>) -> Self {
        if self.pos.is_none() {
            self.pos = Some(pos);
            self.path = Some(path.render());
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Custom(m) => f.write_str(m),
            Problem::InvalidType { expected, found } => {
                write!(f, "wrong type: expected {expected}, found {found}")
            }
            Problem::InvalidValue { expected, found } => {
                write!(f, "invalid value {found}: expected {expected}")
            }
            Problem::UnknownField { field, .. } => write!(f, "unknown key `{field}`"),
            Problem::UnknownVariant { variant, .. } => write!(f, "unknown value `{variant}`"),
            Problem::MissingField(name) => write!(f, "missing required key `{name}`"),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::new(Problem::Custom(msg.to_string()))
    }
    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(Problem::InvalidType {
            expected: describe_expected(exp),
            found: describe_unexpected(&unexp),
        })
    }
    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::new(Problem::InvalidValue {
            expected: describe_expected(exp),
            found: describe_unexpected(&unexp),
        })
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(Problem::UnknownField {
            field: field.to_string(),
            expected,
        })
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::new(Problem::UnknownVariant {
            variant: variant.to_string(),
            expected,
        })
    }
    fn missing_field(field: &'static str) -> Self {
        DeError::new(Problem::MissingField(field))
    }
}

/// What serde expected, in the words of a YAML author: serde's primitive visitors say `u32`, and
/// derived ones `struct Metadata`, Rust names a workflow author never wrote.
fn describe_expected(exp: &dyn de::Expected) -> String {
    let text = exp.to_string();
    let words = match text.as_str() {
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number (0 or more)",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "f32" | "f64" => "a number",
        "a sequence" => "a list",
        "a map" => "a mapping",
        t if t.starts_with("struct ") => "a mapping",
        t if t.starts_with("enum ") => "a string",
        _ => return text,
    };
    words.to_string()
}

fn describe_unexpected(u: &de::Unexpected<'_>) -> String {
    use de::Unexpected as U;
    match u {
        U::Bool(b) => format!("boolean `{b}`"),
        U::Unsigned(n) => format!("integer `{n}`"),
        U::Signed(n) => format!("integer `{n}`"),
        U::Float(n) => format!("number `{n}`"),
        U::Str(s) => format!("string `{}`", truncate(s, 40)),
        U::Unit | U::Option => "null".into(),
        U::Seq => "a list".into(),
        U::Map => "a mapping".into(),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// JSON paths

/// The path from a document root to a node, as a linked list on the stack.
#[derive(Clone, Copy)]
pub enum Path<'a> {
    Root(&'a str),
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl Path<'_> {
    pub fn render(&self) -> String {
        match self {
            Path::Root(prefix) => (*prefix).to_string(),
            Path::Key(parent, key) => {
                let p = parent.render();
                if p.is_empty() {
                    (*key).to_string()
                } else {
                    format!("{p}.{key}")
                }
            }
            Path::Index(parent, i) => format!("{}[{i}]", parent.render()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The deserializer

/// Deserializes `T` from `node`; `path` is the JSON path of `node` in its document (for messages).
pub fn from_node<'a, T: Deserialize<'a>>(node: &'a Node, path: &str) -> Result<T, DeError> {
    T::deserialize(NodeDe {
        node,
        path: Path::Root(path),
        skip: &[],
    })
}

/// Like [`from_node`] for a mapping, ignoring the keys in `skip` (read separately, e.g. a step's
/// common `id`/`kind`/`routes` before its kind-specific fields).
pub fn from_map_without<'a, T: Deserialize<'a>>(
    node: &'a Node,
    path: &str,
    skip: &'a [&'a str],
) -> Result<T, DeError> {
    T::deserialize(NodeDe {
        node,
        path: Path::Root(path),
        skip,
    })
}

struct NodeDe<'a, 'p> {
    node: &'a Node,
    path: Path<'p>,
    skip: &'a [&'a str],
}

impl<'a, 'p> NodeDe<'a, 'p> {
    fn invalid_type(&self, exp: &dyn de::Expected) -> DeError {
        DeError::new(Problem::InvalidType {
            expected: describe_expected(exp),
            found: self.node.describe(),
        })
        .at(self.node.pos, &self.path)
    }

    fn visit_map<V: Visitor<'a>>(
        self,
        entries: &'a [(Node, Node)],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let access = MapDe {
            entries: entries.iter(),
            pending: None,
            path: self.path,
            skip: self.skip,
        };
        visitor
            .visit_map(access)
            .map_err(|e| e.at(self.node.pos, &self.path))
    }

    fn visit_seq<V: Visitor<'a>>(self, items: &'a [Node], visitor: V) -> Result<V::Value, DeError> {
        let access = SeqDe {
            items: items.iter().enumerate(),
            path: self.path,
        };
        visitor
            .visit_seq(access)
            .map_err(|e| e.at(self.node.pos, &self.path))
    }

    fn wrap<R>(&self, r: Result<R, DeError>) -> Result<R, DeError> {
        r.map_err(|e| e.at(self.node.pos, &self.path))
    }

    fn plain_text(&self) -> Option<&'a str> {
        self.node.plain.as_deref()
    }
}

macro_rules! forward_int {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
            match &self.node.value {
                Value::Int(i) => self.wrap(visitor.visit_i64(*i)),
                _ => Err(self.invalid_type(&visitor)),
            }
        }
    )*};
}

impl<'a, 'p> Deserializer<'a> for NodeDe<'a, 'p> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.wrap(visitor.visit_unit()),
            Value::Bool(b) => self.wrap(visitor.visit_bool(*b)),
            Value::Int(i) => self.wrap(visitor.visit_i64(*i)),
            Value::Float(f) => self.wrap(visitor.visit_f64(*f)),
            Value::Str(s) => self.wrap(visitor.visit_borrowed_str(s)),
            Value::Seq(items) => self.visit_seq(items, visitor),
            Value::Map(entries) => self.visit_map(entries, visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Bool(b) => self.wrap(visitor.visit_bool(*b)),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    forward_int!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8
        deserialize_u16 deserialize_u32 deserialize_u64 deserialize_i128 deserialize_u128);

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Int(i) => self.wrap(visitor.visit_f64(*i as f64)),
            Value::Float(f) => self.wrap(visitor.visit_f64(*f)),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => self.wrap(visitor.visit_borrowed_str(s)),
            // A plain scalar read as a string keeps its verbatim text (`v: 1.10` → "1.10").
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => match self.plain_text() {
                Some(text) => self.wrap(visitor.visit_borrowed_str(text)),
                None => {
                    let text = self.node.scalar_text();
                    self.wrap(visitor.visit_string(text))
                }
            },
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.wrap(visitor.visit_none()),
            _ => {
                let (pos, path) = (self.node.pos, self.path);
                visitor.visit_some(self).map_err(|e| e.at(pos, &path))
            }
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.wrap(visitor.visit_unit()),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (pos, path) = (self.node.pos, self.path);
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.at(pos, &path))
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) => self.visit_seq(items, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(entries) => self.visit_map(entries, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == LOCATED_MARKER {
            let (pos, path) = (self.node.pos, self.path);
            let access = LocatedDe {
                de: Some(self),
                stage: 0,
            };
            return visitor.visit_map(access).map_err(|e| e.at(pos, &path));
        }
        if name == NODE_MARKER {
            NODE_HANDOFF.with(|h| *h.borrow_mut() = Some(self.node.clone()));
            return visitor.visit_str(NODE_SLOT);
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(_) | Value::Bool(_) | Value::Int(_) => {
                let tag = self.node.key_text().unwrap_or_default();
                let access = EnumDe {
                    tag,
                    value: None,
                    path: self.path,
                };
                self.wrap(visitor.visit_enum(access))
            }
            Value::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                let tag = k.key_text().unwrap_or_default();
                let access = EnumDe {
                    tag,
                    value: Some(v),
                    path: self.path,
                };
                self.wrap(visitor.visit_enum(access))
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.key_text() {
            Some(text) => self.wrap(visitor.visit_string(text)),
            None => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct MapDe<'a, 'p> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    pending: Option<(&'a Node, String)>,
    path: Path<'p>,
    skip: &'a [&'a str],
}

impl<'a, 'p> MapAccess<'a> for MapDe<'a, 'p> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for (k, v) in self.entries.by_ref() {
            let text = k.key_text().unwrap_or_default();
            if self.skip.contains(&text.as_str()) {
                continue;
            }
            let key_path = Path::Key(&self.path, &text);
            let key = seed
                .deserialize(KeyDe { node: k })
                .map_err(|e| e.at(k.pos, &key_path))?;
            self.pending = Some((v, text));
            return Ok(Some(key));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (node, key) = self
            .pending
            .take()
            .ok_or_else(|| de::Error::custom("value without key"))?;
        let path = Path::Key(&self.path, &key);
        seed.deserialize(NodeDe {
            node,
            path,
            skip: &[],
        })
    }
}

struct SeqDe<'a, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
    path: Path<'p>,
}

impl<'a, 'p> SeqAccess<'a> for SeqDe<'a, 'p> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some((i, node)) => {
                let path = Path::Index(&self.path, i);
                seed.deserialize(NodeDe {
                    node,
                    path,
                    skip: &[],
                })
                .map(Some)
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// Map keys: any scalar, read as its text (`true:` → "true", `404:` → "404").
struct KeyDe<'a> {
    node: &'a Node,
}

impl<'de> Deserializer<'de> for KeyDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.key_text() {
            Some(text) => visitor.visit_string(text),
            None => Err(DeError::new(Problem::InvalidType {
                expected: "a scalar key".into(),
                found: self.node.describe(),
            })),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == LOCATED_MARKER {
            // A located key: the key's position, the key's text.
            let text = self.node.key_text().unwrap_or_default();
            return visitor.visit_map(LocatedKeyDe {
                pos: self.node.pos,
                text: Some(text),
                stage: 0,
            });
        }
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Feeds `Located<T>`'s visitor: `$line`, `$col`, then `$value` (the node itself).
struct LocatedDe<'a, 'p> {
    de: Option<NodeDe<'a, 'p>>,
    stage: u8,
}

impl<'a, 'p> MapAccess<'a> for LocatedDe<'a, 'p> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let key = match LOCATED_FIELDS.get(self.stage as usize) {
            Some(k) => *k,
            None => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        self.stage += 1;
        let de = self
            .de
            .as_ref()
            .ok_or_else(|| de::Error::custom("located value read twice"))?;
        match self.stage {
            1 => seed.deserialize(de.node.pos.line.into_deserializer()),
            2 => seed.deserialize(de.node.pos.col.into_deserializer()),
            _ => {
                let de = self
                    .de
                    .take()
                    .ok_or_else(|| de::Error::custom("located value read twice"))?;
                seed.deserialize(de)
            }
        }
    }
}

/// Feeds `Located<String>` for a mapping key.
struct LocatedKeyDe {
    pos: Pos,
    text: Option<String>,
    stage: u8,
}

impl<'a> MapAccess<'a> for LocatedKeyDe {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match LOCATED_FIELDS.get(self.stage as usize) {
            Some(k) => seed.deserialize((*k).into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        self.stage += 1;
        match self.stage {
            1 => seed.deserialize(self.pos.line.into_deserializer()),
            2 => seed.deserialize(self.pos.col.into_deserializer()),
            _ => {
                let text: de::value::StringDeserializer<DeError> =
                    self.text.take().unwrap_or_default().into_deserializer();
                seed.deserialize(text)
            }
        }
    }
}

struct EnumDe<'a, 'p> {
    tag: String,
    value: Option<&'a Node>,
    path: Path<'p>,
}

impl<'a, 'p> EnumAccess<'a> for EnumDe<'a, 'p> {
    type Error = DeError;
    type Variant = VariantDe<'a, 'p>;

    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let tag: de::value::StringDeserializer<DeError> = self.tag.clone().into_deserializer();
        let v = seed.deserialize(tag)?;
        Ok((
            v,
            VariantDe {
                value: self.value,
                path: self.path,
                tag: self.tag,
            },
        ))
    }
}

struct VariantDe<'a, 'p> {
    value: Option<&'a Node>,
    path: Path<'p>,
    tag: String,
}

impl<'a, 'p> VariantDe<'a, 'p> {
    fn inner<R>(self, f: impl FnOnce(NodeDe<'a, '_>) -> Result<R, DeError>) -> Result<R, DeError> {
        let node = self
            .value
            .ok_or_else(|| de::Error::custom(format!("`{}` needs a value", self.tag)))?;
        let path = Path::Key(&self.path, &self.tag);
        f(NodeDe {
            node,
            path,
            skip: &[],
        })
    }
}

impl<'a, 'p> VariantAccess<'a> for VariantDe<'a, 'p> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            None
            | Some(Node {
                value: Value::Null, ..
            }) => Ok(()),
            Some(_) => Err(de::Error::custom(format!("`{}` takes no value", self.tag))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, DeError> {
        self.inner(|de| seed.deserialize(de))
    }

    fn tuple_variant<V: Visitor<'a>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.inner(|de| de.deserialize_seq(visitor))
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.inner(|de| de.deserialize_map(visitor))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn doc(text: &str) -> Node {
        parse_documents(text).unwrap().remove(0)
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Step {
        id: Located<String>,
        #[allow(dead_code)]
        kind: String,
        #[serde(default)]
        routes: BTreeMap<String, Located<String>>,
        #[serde(default)]
        #[allow(dead_code)]
        timeout: Option<u32>,
    }

    #[test]
    fn positions_and_plain_text_survive() {
        let n = doc("a: 1.10\nb: \"x\"\nc: NO\nd: 0123\n");
        assert_eq!(n.get("a").unwrap().plain.as_deref(), Some("1.10"));
        let s: String = from_node(n.get("a").unwrap(), "a").unwrap();
        assert_eq!(s, "1.10");
        assert_eq!(n.get("c").unwrap().value, Value::Str("NO".into()));
        assert_eq!(n.get("d").unwrap().value, Value::Str("0123".into()));
        assert_eq!(n.get("b").unwrap().pos, Pos::new(2, 4));
    }

    #[test]
    fn bool_and_int_keys_read_as_text() {
        let n = doc("id: s\nkind: router\nroutes:\n  true: a\n  404: b\n");
        let s: Step = from_node(&n, "").unwrap();
        assert_eq!(s.routes["true"].value, "a");
        assert_eq!(s.routes["404"].pos, Pos::new(5, 8));
        assert_eq!(s.id.pos, Pos::new(1, 5));
    }

    #[test]
    fn unknown_key_points_at_the_key() {
        let n = doc("id: s\nkind: router\nroutez: {}\n");
        let e = from_node::<Step>(&n, "spec.steps[2]").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(3, 1)));
        assert_eq!(e.path.as_deref(), Some("spec.steps[2].routez"));
        assert!(matches!(e.problem, Problem::UnknownField { ref field, .. } if field == "routez"));
    }

    #[test]
    fn wrong_type_points_at_the_value() {
        let n = doc("id: s\nkind: router\ntimeout: soon\n");
        let e = from_node::<Step>(&n, "x").unwrap_err();
        assert_eq!(e.pos, Some(Pos::new(3, 10)));
        assert_eq!(e.path.as_deref(), Some("x.timeout"));
        assert!(matches!(e.problem, Problem::InvalidType { .. }), "{e:?}");
    }

    #[test]
    fn expected_types_are_worded_for_authors() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            n: u32,
            inner: Option<Step>,
        }
        let e = from_node::<Outer>(&doc("n: lots\n"), "").unwrap_err();
        let want = "a whole number (0 or more)";
        assert!(
            matches!(e.problem, Problem::InvalidType { ref expected, .. } if expected == want),
            "{e:?}"
        );
        let e = from_node::<Outer>(&doc("n: 1\ninner: 5\n"), "").unwrap_err();
        assert!(
            matches!(e.problem, Problem::InvalidType { ref expected, .. } if expected == "a mapping"),
            "{e:?}"
        );
    }

    #[test]
    fn missing_field_points_at_the_map() {
        let n = doc("- kind: router\n");
        let e = from_node::<Vec<Step>>(&n, "steps").unwrap_err();
        assert_eq!(e.problem, Problem::MissingField("id"));
        assert_eq!(e.pos, Some(Pos::new(1, 3)));
        assert_eq!(e.path.as_deref(), Some("steps[0]"));
    }

    #[test]
    fn node_subtrees_keep_positions() {
        #[derive(Deserialize)]
        struct P {
            params: Node,
        }
        let n = doc("params:\n  a: \"{{ x }}\"\n");
        let p: P = from_node(&n, "").unwrap();
        assert_eq!(p.params.get("a").unwrap().pos, Pos::new(2, 6));
    }

    #[test]
    fn syntax_error_has_position() {
        // The parser gives up on line 3; the mistake is the `[` never closed on line 2.
        let e = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert_eq!(e.pos, Pos::new(2, 4));
        assert!(!e.message.contains('\n'));
        let e = parse_documents("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.pos, Pos::new(3, 1));
        assert!(!e.message.contains("Options"), "{}", e.message);
    }

    #[test]
    fn splits_documents_as_written() {
        let text = "# head\nkind: A\n---\n# two\nkind: B\n...\n";
        let docs = split_document_texts(text, 2).unwrap();
        assert_eq!(
            docs,
            vec![
                "# head\nkind: A\n".to_string(),
                "# two\nkind: B\n".to_string()
            ]
        );
    }

    #[test]
    fn infers_plain_scalars() {
        assert_eq!(infer_plain_scalar("8080"), Value::Int(8080));
        assert_eq!(infer_plain_scalar("0.5"), Value::Float(0.5));
        assert_eq!(infer_plain_scalar("true"), Value::Bool(true));
        assert_eq!(infer_plain_scalar("007"), Value::Str("007".into()));
        assert_eq!(infer_plain_scalar("e"), Value::Str("e".into()));
        assert_eq!(infer_plain_scalar(""), Value::Null);
    }
}
