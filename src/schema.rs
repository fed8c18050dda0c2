//! Input and response schemas of triggers: inline field lists, `"context"` and `"Model.variant"`.
//!
//! A [`Schema`] is a flat list of typed fields. Triggers validate request input against one
//! (422 naming every bad field) and check successful results against another. Model-backed
//! schemas come through [`ModelSchemas`], which the data-models layer implements.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A field's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldType {
    String,
    Integer,
    Number,
    Boolean,
    Object,
    Array,
    /// Any JSON value.
    Json,
    Uuid,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339 date-time.
    DateTime,
    Enum(Vec<String>),
}

impl FieldType {
    /// The inline-schema spellings.
    pub fn parse(name: &str) -> Option<FieldType> {
        Some(match name {
            "string" | "str" | "text" => FieldType::String,
            "integer" | "int" | "bigint" => FieldType::Integer,
            "float" | "number" | "numeric" => FieldType::Number,
            "boolean" | "bool" => FieldType::Boolean,
            "object" | "dict" => FieldType::Object,
            "array" | "list" => FieldType::Array,
            "json" | "jsonb" | "any" => FieldType::Json,
            _ => return None,
        })
    }

    pub const INLINE_NAMES: &'static [&'static str] = &[
        "string", "integer", "float", "number", "boolean", "object", "array", "json",
    ];

    /// Whether `v` has this type.
    pub fn accepts(&self, v: &Value) -> bool {
        match (self, v) {
            (FieldType::Json, _) => true,
            (FieldType::String, Value::String(_)) => true,
            (FieldType::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (FieldType::Number, Value::Number(_)) => true,
            (FieldType::Boolean, Value::Bool(_)) => true,
            (FieldType::Object, Value::Object(_)) => true,
            (FieldType::Array, Value::Array(_)) => true,
            (FieldType::Uuid, Value::String(s)) => uuid::Uuid::parse_str(s).is_ok(),
            (FieldType::Date, Value::String(s)) => {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
            }
            (FieldType::DateTime, Value::String(s)) => {
                chrono::DateTime::parse_from_rfc3339(s).is_ok()
                    || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
            }
            (FieldType::Enum(values), Value::String(s)) => values.iter().any(|v| v == s),
            _ => false,
        }
    }

    /// Reads a string (query or path parameter) as this type.
    pub fn coerce(&self, s: &str) -> Option<Value> {
        let v = match self {
            FieldType::Integer => Value::from(s.trim().parse::<i64>().ok()?),
            FieldType::Number => {
                serde_json::Number::from_f64(s.trim().parse::<f64>().ok()?).map(Value::Number)?
            }
            FieldType::Boolean => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Value::Bool(true),
                "false" | "0" | "no" | "off" => Value::Bool(false),
                _ => return None,
            },
            // A single query value for a list field is a one-element list.
            FieldType::Array => match serde_json::from_str(s) {
                Ok(v @ Value::Array(_)) => v,
                _ => Value::Array(vec![Value::String(s.to_string())]),
            },
            FieldType::Object | FieldType::Json => serde_json::from_str(s).ok()?,
            _ => Value::String(s.to_string()),
        };
        self.accepts(&v).then_some(v)
    }

    /// The JSON Schema of this type (for OpenAPI).
    pub fn json_schema(&self) -> Value {
        match self {
            FieldType::String => json!({"type": "string"}),
            FieldType::Integer => json!({"type": "integer"}),
            FieldType::Number => json!({"type": "number"}),
            FieldType::Boolean => json!({"type": "boolean"}),
            FieldType::Object => json!({"type": "object"}),
            FieldType::Array => json!({"type": "array"}),
            FieldType::Json => json!({}),
            FieldType::Uuid => json!({"type": "string", "format": "uuid"}),
            FieldType::Date => json!({"type": "string", "format": "date"}),
            FieldType::DateTime => json!({"type": "string", "format": "date-time"}),
            FieldType::Enum(values) => json!({"type": "string", "enum": values}),
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldType::String => f.write_str("string"),
            FieldType::Integer => f.write_str("integer"),
            FieldType::Number => f.write_str("number"),
            FieldType::Boolean => f.write_str("boolean"),
            FieldType::Object => f.write_str("object"),
            FieldType::Array => f.write_str("array"),
            FieldType::Json => f.write_str("any JSON value"),
            FieldType::Uuid => f.write_str("a UUID string"),
            FieldType::Date => f.write_str("a date (YYYY-MM-DD)"),
            FieldType::DateTime => f.write_str("an RFC 3339 date-time"),
            FieldType::Enum(v) => write!(f, "one of {}", v.join(", ")),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: FieldType,
    pub required: bool,
    pub default: Option<Value>,
    pub description: Option<String>,
    /// A secret (a model's `secure` field): its value never appears in error details.
    pub secure: bool,
}

/// A named list of fields.
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// e.g. `Candidate.create`, or `<workflow>.input` for inline schemas (names OpenAPI components).
    pub name: String,
    pub fields: Vec<Field>,
}

/// One problem with one field, as reported in a 422's `details`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub expected: String,
    pub found: String,
}

/// What to do with input fields a schema does not declare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Extra {
    #[default]
    Drop,
    Reject,
}

impl Field {
    /// `found` for an error about this field: the value, unless the field is secure.
    fn describe(&self, v: &Value) -> String {
        if self.secure {
            "a value (hidden: the field is secure)".into()
        } else {
            describe(v)
        }
    }
}

impl Schema {
    /// Validates request input: defaults filled, undeclared fields dropped or rejected, strings
    /// coerced to the declared types for the keys in `coerce` (query and path parameters).
    pub fn validate_input(
        &self,
        mut input: Map<String, Value>,
        extra: Extra,
        coerce: &[String],
    ) -> Result<Map<String, Value>, Vec<FieldError>> {
        let mut out = Map::new();
        let mut errors = Vec::new();
        for field in &self.fields {
            let value = input.remove(&field.name);
            match value {
                None | Some(Value::Null) if field.default.is_some() => {
                    out.insert(
                        field.name.clone(),
                        field.default.clone().unwrap_or(Value::Null),
                    );
                }
                None if field.required => errors.push(FieldError {
                    field: field.name.clone(),
                    expected: field.ty.to_string(),
                    found: "nothing (the field is required)".into(),
                }),
                None => {}
                Some(Value::Null) if !field.required => {
                    out.insert(field.name.clone(), Value::Null);
                }
                Some(v) => {
                    let v = match (&v, coerce.contains(&field.name)) {
                        (Value::String(s), true) => field.ty.coerce(s).unwrap_or(v),
                        _ => v,
                    };
                    if field.ty.accepts(&v) {
                        out.insert(field.name.clone(), v);
                    } else {
                        errors.push(FieldError {
                            field: field.name.clone(),
                            expected: field.ty.to_string(),
                            found: field.describe(&v),
                        });
                    }
                }
            }
        }
        if extra == Extra::Reject {
            for (k, v) in &input {
                errors.push(FieldError {
                    field: k.clone(),
                    expected: "no such field".into(),
                    found: describe(v),
                });
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Checks a successful result: an object whose declared fields have their types.
    pub fn check_output(&self, body: &Value) -> Result<(), Vec<FieldError>> {
        let Value::Object(map) = body else {
            return Err(vec![FieldError {
                field: "(body)".into(),
                expected: "an object".into(),
                found: describe(body),
            }]);
        };
        let errors: Vec<FieldError> = self
            .fields
            .iter()
            .filter_map(|f| match map.get(&f.name) {
                None if f.required => Some(FieldError {
                    field: f.name.clone(),
                    expected: f.ty.to_string(),
                    found: "nothing".into(),
                }),
                None | Some(Value::Null) if !f.required => None,
                Some(v) if !f.ty.accepts(v) => Some(FieldError {
                    field: f.name.clone(),
                    expected: f.ty.to_string(),
                    found: f.describe(v),
                }),
                _ => None,
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The JSON Schema of the object (for OpenAPI).
    pub fn json_schema(&self) -> Value {
        let mut props = Map::new();
        for f in &self.fields {
            let mut s = f.ty.json_schema();
            if let Some(d) = &f.description {
                s["description"] = json!(d);
            }
            if let Some(d) = &f.default {
                s["default"] = d.clone();
            }
            props.insert(f.name.clone(), s);
        }
        let required: Vec<&str> = self
            .fields
            .iter()
            .filter(|f| f.required && f.default.is_none())
            .map(|f| f.name.as_str())
            .collect();
        json!({"type": "object", "properties": props, "required": required})
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A short description of a JSON value for error details.
pub fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) if s.chars().count() > 40 => {
            format!("string \"{}…\"", s.chars().take(40).collect::<String>())
        }
        Value::String(s) => format!("string \"{s}\""),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// Which variant of a model a schema reference names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    Create,
    Read,
    Update,
    Expanded,
}

impl Variant {
    pub const NAMES: &'static [&'static str] = &["create", "read", "update", "expanded"];

    pub fn parse(s: &str) -> Option<Variant> {
        Some(match s {
            "create" => Variant::Create,
            "read" => Variant::Read,
            "update" => Variant::Update,
            "expanded" => Variant::Expanded,
            _ => return None,
        })
    }
}

/// Where `"context"` and `"Model.variant"` schemas come from: the project's declared data models.
pub trait ModelSchemas: Send + Sync {
    /// The schema of `model`'s `variant`; `version` pins a `schema_version` (else the enabled one).
    fn schema(&self, model: &str, version: Option<&str>, variant: Variant) -> Option<Arc<Schema>>;
    /// Every declared model name (for suggestions).
    fn model_names(&self) -> Vec<String>;
}

/// A project without data models.
pub struct NoModels;

impl ModelSchemas for NoModels {
    fn schema(&self, _: &str, _: Option<&str>, _: Variant) -> Option<Arc<Schema>> {
        None
    }
    fn model_names(&self) -> Vec<String> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema {
            name: "t".into(),
            fields: vec![
                Field {
                    secure: false,
                    name: "name".into(),
                    ty: FieldType::String,
                    required: true,
                    default: None,
                    description: None,
                },
                Field {
                    secure: false,
                    name: "age".into(),
                    ty: FieldType::Integer,
                    required: false,
                    default: None,
                    description: None,
                },
                Field {
                    secure: false,
                    name: "tier".into(),
                    ty: FieldType::String,
                    required: false,
                    default: Some(json!("free")),
                    description: None,
                },
                Field {
                    secure: false,
                    name: "vip".into(),
                    ty: FieldType::Boolean,
                    required: false,
                    default: None,
                    description: None,
                },
            ],
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn fills_defaults_and_drops_extras() {
        let out = schema()
            .validate_input(obj(json!({"name": "a", "x": 1})), Extra::Drop, &[])
            .unwrap();
        assert_eq!(Value::Object(out), json!({"name": "a", "tier": "free"}));
    }

    #[test]
    fn reports_every_bad_field() {
        let errs = schema()
            .validate_input(
                obj(json!({"age": "x", "vip": 3, "zzz": 1})),
                Extra::Reject,
                &[],
            )
            .unwrap_err();
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "age", "vip", "zzz"]);
        assert_eq!(errs[1].expected, "integer");
        assert_eq!(errs[1].found, "string \"x\"");
    }

    #[test]
    fn coerces_query_strings() {
        let coerce = vec!["age".to_string(), "vip".to_string()];
        let out = schema()
            .validate_input(
                obj(json!({"name": "a", "age": "42", "vip": "true"})),
                Extra::Drop,
                &coerce,
            )
            .unwrap();
        assert_eq!(out["age"], json!(42));
        assert_eq!(out["vip"], json!(true));
        let errs = schema()
            .validate_input(
                obj(json!({"name": "a", "age": "old"})),
                Extra::Drop,
                &coerce,
            )
            .unwrap_err();
        assert_eq!(errs[0].field, "age");
    }

    #[test]
    fn output_check() {
        assert!(
            schema()
                .check_output(&json!({"name": "a", "age": 3, "other": true}))
                .is_ok()
        );
        assert_eq!(
            schema().check_output(&json!({"age": 3})).unwrap_err()[0].field,
            "name"
        );
        assert!(schema().check_output(&json!([1])).is_err());
    }
}
