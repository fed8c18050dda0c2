//! JSON ↔ SQL for one column, on both backends. JSON looks the same whatever the backend:
//! UUIDs as lowercase strings, dates `YYYY-MM-DD`, `timestamp` as `YYYY-MM-DDTHH:MM:SS.ffffff`,
//! `timestamptz` as RFC 3339 in UTC with microseconds (`…Z`). SQLite stores exactly those
//! strings (so text order is time order), booleans as 0/1 and JSON as text; PostgreSQL uses its
//! native types.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::query::Query;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::types::Json;

use super::types::{ColumnType, DATE_FORMAT, Field, NAIVE_FORMAT};

/// A value ready to bind for a column of type `ty`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bind {
    pub ty: ColumnType,
    pub value: SqlValue,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SqlValue {
    Null,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Uuid(uuid::Uuid),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
    Timestamptz(DateTime<Utc>),
    Json(Value),
}

/// Converts a JSON value for `f`'s column. The error is what was expected (for a validation
/// message).
pub fn to_sql(f: &Field, v: &Value) -> Result<Bind, String> {
    convert(f.ty, &f.enum_values, v)
}

/// [`to_sql`] for a type and its enum values.
pub fn convert(ty: ColumnType, enum_values: &[String], v: &Value) -> Result<Bind, String> {
    let expected = || ty.field_type(enum_values).to_string();
    let value = match (ty, v) {
        (_, Value::Null) => SqlValue::Null,
        (ColumnType::String | ColumnType::Text, Value::String(s)) => SqlValue::Text(s.clone()),
        (ColumnType::Enum, Value::String(s)) if enum_values.contains(s) => {
            SqlValue::Text(s.clone())
        }
        (ColumnType::Integer | ColumnType::BigInt, Value::Number(n)) if n.is_i64() => {
            SqlValue::Int(n.as_i64().unwrap_or_default())
        }
        (ColumnType::Float | ColumnType::Numeric, Value::Number(n)) => {
            SqlValue::Float(n.as_f64().unwrap_or_default())
        }
        (ColumnType::Boolean, Value::Bool(b)) => SqlValue::Bool(*b),
        (ColumnType::Uuid, Value::String(s)) => {
            SqlValue::Uuid(uuid::Uuid::parse_str(s).map_err(|_| expected())?)
        }
        (ColumnType::Date, Value::String(s)) => {
            SqlValue::Date(NaiveDate::parse_from_str(s, DATE_FORMAT).map_err(|_| expected())?)
        }
        (ColumnType::Timestamp, Value::String(s)) => {
            SqlValue::Timestamp(parse_time(s).ok_or_else(expected)?.naive_utc())
        }
        (ColumnType::Timestamptz, Value::String(s)) => {
            SqlValue::Timestamptz(parse_time(s).ok_or_else(expected)?)
        }
        (ColumnType::Json, v) => SqlValue::Json(v.clone()),
        (ColumnType::Integer | ColumnType::BigInt, _) => {
            return Err("an integer (64-bit)".into());
        }
        _ => return Err(expected()),
    };
    Ok(Bind { ty, value })
}

/// Reads a string the way a URL or template gives it (`"42"`, `"true"`) as `f`'s type; other
/// values pass through.
pub fn coerce(f: &Field, v: Value) -> Value {
    match (&v, f.ty) {
        (Value::String(_), ColumnType::String | ColumnType::Text | ColumnType::Json) => v,
        (Value::String(s), _) => f.field_type().coerce(s).unwrap_or(v),
        _ => v,
    }
}

/// RFC 3339 with any offset, or a date-time without one (read as UTC); truncated to
/// microseconds.
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let t = DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .iter()
                .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
                .map(|n| n.and_utc())
        })?;
    DateTime::from_timestamp_micros(t.timestamp_micros())
}

/// The text SQLite stores (and a literal in DDL).
pub fn canonical_text(v: &SqlValue) -> Option<String> {
    Some(match v {
        SqlValue::Null => return None,
        SqlValue::Text(s) => s.clone(),
        SqlValue::Int(i) => i.to_string(),
        SqlValue::Float(f) => f.to_string(),
        SqlValue::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        SqlValue::Uuid(u) => u.to_string(),
        SqlValue::Date(d) => d.format(DATE_FORMAT).to_string(),
        SqlValue::Timestamp(t) => t.format(NAIVE_FORMAT).to_string(),
        SqlValue::Timestamptz(t) => t.to_rfc3339_opts(SecondsFormat::Micros, true),
        SqlValue::Json(j) => j.to_string(),
    })
}

type SqliteQuery<'q> = Query<'q, sqlx::Sqlite, SqliteArguments>;
type PgQuery<'q> = Query<'q, sqlx::Postgres, PgArguments>;

pub fn bind_sqlite<'q>(q: SqliteQuery<'q>, b: &Bind) -> SqliteQuery<'q> {
    match &b.value {
        SqlValue::Int(i) => q.bind(*i),
        SqlValue::Float(f) => q.bind(*f),
        SqlValue::Bool(v) => q.bind(*v),
        other => q.bind(canonical_text(other)),
    }
}

pub fn bind_pg<'q>(q: PgQuery<'q>, b: &Bind) -> PgQuery<'q> {
    match &b.value {
        SqlValue::Null => bind_pg_null(q, b.ty),
        SqlValue::Text(s) => q.bind(s.clone()),
        SqlValue::Int(i) => q.bind(*i),
        SqlValue::Float(f) => q.bind(*f),
        SqlValue::Bool(v) => q.bind(*v),
        SqlValue::Uuid(u) => q.bind(*u),
        SqlValue::Date(d) => q.bind(*d),
        SqlValue::Timestamp(t) => q.bind(*t),
        SqlValue::Timestamptz(t) => q.bind(*t),
        SqlValue::Json(j) => q.bind(Json(j.clone())),
    }
}

/// PostgreSQL types every parameter: a NULL must carry its column's type.
fn bind_pg_null(q: PgQuery<'_>, ty: ColumnType) -> PgQuery<'_> {
    match ty {
        ColumnType::String | ColumnType::Text | ColumnType::Enum => q.bind(None::<String>),
        ColumnType::Integer | ColumnType::BigInt => q.bind(None::<i64>),
        ColumnType::Float | ColumnType::Numeric => q.bind(None::<f64>),
        ColumnType::Boolean => q.bind(None::<bool>),
        ColumnType::Uuid => q.bind(None::<uuid::Uuid>),
        ColumnType::Date => q.bind(None::<NaiveDate>),
        ColumnType::Timestamp => q.bind(None::<NaiveDateTime>),
        ColumnType::Timestamptz => q.bind(None::<DateTime<Utc>>),
        ColumnType::Json => q.bind(None::<Json<Value>>),
    }
}

fn float(f: Option<f64>) -> Value {
    f.and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

fn text(s: Option<String>) -> Value {
    s.map_or(Value::Null, Value::String)
}

/// Column `i` of a SQLite row as JSON.
pub fn decode_sqlite(row: &SqliteRow, i: usize, ty: ColumnType) -> Result<Value, sqlx::Error> {
    Ok(match ty {
        ColumnType::Integer | ColumnType::BigInt => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::from),
        ColumnType::Float | ColumnType::Numeric => float(row.try_get(i)?),
        ColumnType::Boolean => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, Value::Bool),
        ColumnType::Json => match row.try_get::<Option<String>, _>(i)? {
            Some(s) => serde_json::from_str(&s).unwrap_or(Value::String(s)),
            None => Value::Null,
        },
        _ => text(row.try_get(i)?),
    })
}

/// Column `i` of a PostgreSQL row as JSON (`numeric` columns are selected as `float8`).
pub fn decode_pg(row: &PgRow, i: usize, ty: ColumnType) -> Result<Value, sqlx::Error> {
    Ok(match ty {
        ColumnType::String | ColumnType::Text | ColumnType::Enum => text(row.try_get(i)?),
        ColumnType::Integer | ColumnType::BigInt => row
            .try_get::<Option<i64>, _>(i)?
            .map_or(Value::Null, Value::from),
        ColumnType::Float | ColumnType::Numeric => float(row.try_get(i)?),
        ColumnType::Boolean => row
            .try_get::<Option<bool>, _>(i)?
            .map_or(Value::Null, Value::Bool),
        ColumnType::Uuid => text(
            row.try_get::<Option<uuid::Uuid>, _>(i)?
                .map(|u| u.to_string()),
        ),
        ColumnType::Date => text(
            row.try_get::<Option<NaiveDate>, _>(i)?
                .map(|d| d.format(DATE_FORMAT).to_string()),
        ),
        ColumnType::Timestamp => text(
            row.try_get::<Option<NaiveDateTime>, _>(i)?
                .map(|t| t.format(NAIVE_FORMAT).to_string()),
        ),
        ColumnType::Timestamptz => text(
            row.try_get::<Option<DateTime<Utc>>, _>(i)?
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true)),
        ),
        ColumnType::Json => row
            .try_get::<Option<Json<Value>>, _>(i)?
            .map_or(Value::Null, |j| j.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Pos;
    use serde_json::json;

    fn field(ty: ColumnType) -> Field {
        Field {
            name: "f".into(),
            ty,
            enum_values: vec!["a".into(), "b".into()],
            primary_key: false,
            required: false,
            unique: false,
            index: false,
            secure: false,
            default: None,
            audit: None,
            description: None,
            pos: Pos::default(),
            path: String::new(),
            type_pos: Pos::default(),
        }
    }

    fn text_of(ty: ColumnType, v: Value) -> Option<String> {
        canonical_text(&to_sql(&field(ty), &v).expect("valid").value)
    }

    #[test]
    fn times_are_normalised_to_one_form() {
        assert_eq!(
            text_of(ColumnType::Timestamptz, json!("2026-01-02T03:04:05+01:00")).as_deref(),
            Some("2026-01-02T02:04:05.000000Z")
        );
        assert_eq!(
            text_of(ColumnType::Timestamptz, json!("2026-01-02 03:04:05.5")).as_deref(),
            Some("2026-01-02T03:04:05.500000Z")
        );
        assert_eq!(
            text_of(ColumnType::Timestamp, json!("2026-01-02T03:04:05Z")).as_deref(),
            Some("2026-01-02T03:04:05.000000")
        );
        assert_eq!(
            text_of(
                ColumnType::Uuid,
                json!("6F9619FF-8B86-D011-B42D-00C04FC964FF")
            )
            .as_deref(),
            Some("6f9619ff-8b86-d011-b42d-00c04fc964ff")
        );
    }

    #[test]
    fn wrong_values_name_what_was_expected() {
        assert_eq!(
            to_sql(&field(ColumnType::Enum), &json!("c")).unwrap_err(),
            "one of a, b"
        );
        assert!(to_sql(&field(ColumnType::Integer), &json!(1.5)).is_err());
        assert!(to_sql(&field(ColumnType::Date), &json!("2026-13-01")).is_err());
        assert_eq!(
            to_sql(&field(ColumnType::Json), &json!({"a": 1}))
                .unwrap()
                .value,
            SqlValue::Json(json!({"a": 1}))
        );
    }

    #[test]
    fn url_strings_are_coerced() {
        assert_eq!(coerce(&field(ColumnType::Integer), json!("42")), json!(42));
        assert_eq!(
            coerce(&field(ColumnType::Boolean), json!("true")),
            json!(true)
        );
        assert_eq!(coerce(&field(ColumnType::String), json!("42")), json!("42"));
    }
}
