//! What a declared model is made of: column types, defaults, fields, relations.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde_json::Value;

use crate::schema::FieldType;
use crate::spec::Pos;

/// A field's declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    String,
    Text,
    Integer,
    BigInt,
    Float,
    Numeric,
    Boolean,
    Uuid,
    Date,
    Timestamp,
    Timestamptz,
    Json,
    Enum,
}

impl ColumnType {
    /// Every spelling accepted in `type:` (canonical names first).
    pub const NAMES: &'static [&'static str] = &[
        "string",
        "text",
        "integer",
        "bigint",
        "float",
        "numeric",
        "boolean",
        "uuid",
        "date",
        "timestamp",
        "timestamptz",
        "json",
        "jsonb",
        "enum",
    ];

    pub fn parse(name: &str) -> Option<ColumnType> {
        Some(match name {
            "string" | "str" => ColumnType::String,
            "text" => ColumnType::Text,
            "integer" | "int" => ColumnType::Integer,
            "bigint" => ColumnType::BigInt,
            "float" | "double" => ColumnType::Float,
            "numeric" | "decimal" => ColumnType::Numeric,
            "boolean" | "bool" => ColumnType::Boolean,
            "uuid" => ColumnType::Uuid,
            "date" => ColumnType::Date,
            "timestamp" => ColumnType::Timestamp,
            "timestamptz" => ColumnType::Timestamptz,
            "json" | "jsonb" => ColumnType::Json,
            "enum" => ColumnType::Enum,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Text => "text",
            ColumnType::Integer => "integer",
            ColumnType::BigInt => "bigint",
            ColumnType::Float => "float",
            ColumnType::Numeric => "numeric",
            ColumnType::Boolean => "boolean",
            ColumnType::Uuid => "uuid",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
            ColumnType::Timestamptz => "timestamptz",
            ColumnType::Json => "json",
            ColumnType::Enum => "enum",
        }
    }

    /// The storage class: two types with the same class share one column type on both
    /// backends (`string`/`text`, `integer`/`bigint`), so switching between them is no change.
    pub fn class(self) -> &'static str {
        match self {
            ColumnType::String | ColumnType::Text => "text",
            ColumnType::Integer | ColumnType::BigInt => "bigint",
            other => other.name(),
        }
    }

    /// The JSON-level type (for schemas and validation).
    pub fn field_type(self, enum_values: &[String]) -> FieldType {
        match self {
            ColumnType::String | ColumnType::Text => FieldType::String,
            ColumnType::Integer | ColumnType::BigInt => FieldType::Integer,
            ColumnType::Float | ColumnType::Numeric => FieldType::Number,
            ColumnType::Boolean => FieldType::Boolean,
            ColumnType::Uuid => FieldType::Uuid,
            ColumnType::Date => FieldType::Date,
            ColumnType::Timestamp | ColumnType::Timestamptz => FieldType::DateTime,
            ColumnType::Json => FieldType::Json,
            ColumnType::Enum => FieldType::Enum(enum_values.to_vec()),
        }
    }
}

/// A field's default, applied by weft when a create leaves the field out.
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    Literal(Value),
    /// A random UUID (v4).
    Uuid4,
    /// The current time.
    Now,
    /// The current date (UTC).
    Today,
}

/// Audit fields weft fills itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audit {
    /// `created_at`: set on create.
    Created,
    /// `updated_at`: set on create and on every update.
    Updated,
}

/// One declared field.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: ColumnType,
    /// The allowed values of an `enum` field.
    pub enum_values: Vec<String>,
    pub primary_key: bool,
    pub required: bool,
    pub unique: bool,
    pub index: bool,
    /// Written, never returned (left out of the read variant), masked in messages.
    pub secure: bool,
    pub default: Option<DefaultValue>,
    pub audit: Option<Audit>,
    pub description: Option<String>,
    /// Where the field's name is written, and its JSON path (`spec.fields[2]`).
    pub pos: Pos,
    pub path: String,
    /// Where its `type` is written.
    pub type_pos: Pos,
}

impl Field {
    /// NULL allowed in the column.
    pub fn nullable(&self) -> bool {
        !(self.primary_key || self.required)
    }

    /// A primary key weft generates when a create does not give one: UUID v7 (time-ordered, so
    /// default ordering is creation order), or the database's identity for integer keys.
    pub fn generated_key(&self) -> bool {
        self.primary_key
            && self.default.is_none()
            && matches!(
                self.ty,
                ColumnType::Uuid | ColumnType::Integer | ColumnType::BigInt
            )
    }

    /// An integer key the database numbers itself.
    pub fn identity(&self) -> bool {
        self.generated_key() && matches!(self.ty, ColumnType::Integer | ColumnType::BigInt)
    }

    pub fn field_type(&self) -> FieldType {
        self.ty.field_type(&self.enum_values)
    }

    /// The value a create gets when the payload leaves this field out, if any.
    pub fn fill(&self, now: DateTime<Utc>) -> Option<Value> {
        if self.audit.is_some() {
            return Some(time_value(self.ty, now));
        }
        if self.generated_key() && self.ty == ColumnType::Uuid {
            return Some(Value::String(uuid::Uuid::now_v7().to_string()));
        }
        Some(match self.default.as_ref()? {
            DefaultValue::Literal(v) => v.clone(),
            DefaultValue::Uuid4 => Value::String(uuid::Uuid::new_v4().to_string()),
            DefaultValue::Now | DefaultValue::Today => time_value(self.ty, now),
        })
    }
}

/// `now` as this type's JSON form.
pub fn time_value(ty: ColumnType, now: DateTime<Utc>) -> Value {
    Value::String(match ty {
        ColumnType::Date => now.date_naive().format(DATE_FORMAT).to_string(),
        ColumnType::Timestamp => now.naive_utc().format(NAIVE_FORMAT).to_string(),
        _ => now.to_rfc3339_opts(SecondsFormat::Micros, true),
    })
}

/// The canonical text forms (what SQLite stores and both backends return).
pub const DATE_FORMAT: &str = "%Y-%m-%d";
pub const NAIVE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6f";

/// The current time at the databases' precision (microseconds).
pub fn now_micros() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// How two models are related.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// The other model's `foreign_key` holds this model's key: `include` yields a list.
    OneToMany,
    /// This model's `foreign_key` holds the other model's key: `include` yields one record.
    ManyToOne,
}

/// A declared relation.
#[derive(Clone, Debug, PartialEq)]
pub struct Relation {
    pub name: String,
    pub kind: RelationKind,
    /// The related model's name.
    pub model: String,
    /// A pinned version of the related model (else the workflow's pin, else the enabled one).
    pub version: Option<String>,
    pub foreign_key: String,
    pub pos: Pos,
    pub model_pos: Pos,
    pub foreign_key_pos: Pos,
    /// JSON path in the document, e.g. `spec.relations[0]`.
    pub path: String,
}

/// Whether `s` can be a table, column or model name: `[A-Za-z_][A-Za-z0-9_]*`, at most 63
/// bytes (PostgreSQL's identifier limit).
pub fn valid_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 63
}

/// `JobApplication` → `job_application`.
pub fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
            if prev_lower || (prev_upper && next_lower) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_from_model_names() {
        assert_eq!(snake_case("Candidate"), "candidate");
        assert_eq!(snake_case("JobApplication"), "job_application");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("already_snake"), "already_snake");
    }

    #[test]
    fn identifiers() {
        assert!(valid_identifier("candidates"));
        assert!(valid_identifier("_x1"));
        for bad in ["", "1x", "a-b", "a b", "a\"b", &"x".repeat(64)] {
            assert!(!valid_identifier(bad), "{bad:?}");
        }
    }

    #[test]
    fn time_values_have_one_canonical_form() {
        let t = DateTime::parse_from_rfc3339("2026-03-04T05:06:07.123456789+02:00")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            time_value(ColumnType::Timestamptz, t),
            "2026-03-04T03:06:07.123456Z"
        );
        assert_eq!(
            time_value(ColumnType::Timestamp, t),
            "2026-03-04T03:06:07.123456"
        );
        assert_eq!(time_value(ColumnType::Date, t), "2026-03-04");
    }
}
