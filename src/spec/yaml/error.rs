//! Deserialization errors stamped with the position and JSON path of the node that caused them.

use std::fmt;

use serde::de;

use super::{Pos, truncate};

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
    pub(super) fn new(problem: Problem) -> Self {
        DeError {
            problem,
            pos: None,
            path: None,
        }
    }

    /// Attaches a position and path unless a deeper node already did.
    pub(super) fn at(mut self, pos: Pos, path: &Path<'_>) -> Self {
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
pub(super) fn describe_expected(exp: &dyn de::Expected) -> String {
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
