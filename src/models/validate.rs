//! Payloads checked against a model before any SQL runs: every bad field is reported (name,
//! expected, found), and the value of a secure field never appears in a message.

use serde_json::{Map, Value};

use super::Model;
use super::model::{writable_on_create, writable_on_update};
use super::types::{Audit, Field, now_micros, time_value};
use super::value::{Bind, coerce, to_sql};
use crate::schema::{FieldError, describe};

/// Column values for an INSERT, in declaration order. Audit fields and generated keys are
/// filled; defaults apply to missing (or null) fields.
pub fn for_create<'m>(
    m: &'m Model,
    payload: &Map<String, Value>,
) -> Result<Vec<(&'m Field, Bind)>, Vec<FieldError>> {
    let now = now_micros();
    let mut out = Vec::with_capacity(m.fields.len());
    let mut errors = unknown_keys(m, payload);
    for f in &m.fields {
        let given = payload.get(&f.name).filter(|v| !v.is_null());
        let value = match given {
            Some(v) if writable_on_create(f) => v.clone(),
            _ => match f.fill(now) {
                Some(v) => v,
                None if f.identity() || f.nullable() => continue,
                None => {
                    errors.push(FieldError {
                        field: f.name.clone(),
                        expected: f.field_type().to_string(),
                        found: "nothing (the field is required)".into(),
                    });
                    continue;
                }
            },
        };
        match to_sql(f, &value) {
            Ok(b) => out.push((f, b)),
            Err(expected) => errors.push(bad(f, expected, &value)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Column values for an UPDATE, in payload order, plus `updated_at`. The key and audit fields
/// in a payload are ignored (a record read earlier can be sent back whole).
pub fn for_update<'m>(
    m: &'m Model,
    payload: &Map<String, Value>,
) -> Result<Vec<(&'m Field, Bind)>, Vec<FieldError>> {
    let mut out = Vec::with_capacity(payload.len() + 1);
    let mut errors = unknown_keys(m, payload);
    for (k, v) in payload {
        let Some(f) = m.field(k).filter(|f| writable_on_update(f)) else {
            continue;
        };
        if v.is_null() && !f.nullable() {
            errors.push(FieldError {
                field: f.name.clone(),
                expected: f.field_type().to_string(),
                found: "null (the field is required)".into(),
            });
            continue;
        }
        match to_sql(f, v) {
            Ok(b) => out.push((f, b)),
            Err(expected) => errors.push(bad(f, expected, v)),
        }
    }
    let now = now_micros();
    for f in m.fields.iter().filter(|f| f.audit == Some(Audit::Updated)) {
        if let Ok(b) = to_sql(f, &time_value(f.ty, now)) {
            out.push((f, b));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A record id (from a template: strings such as `"42"` are read as the key's type).
pub fn key(m: &Model, id: Value) -> Result<Bind, FieldError> {
    let f = m.primary_key();
    let v = coerce(f, id);
    if v.is_null() {
        return Err(FieldError {
            field: "record_id".into(),
            expected: f.field_type().to_string(),
            found: "null".into(),
        });
    }
    to_sql(f, &v).map_err(|expected| FieldError {
        field: "record_id".into(),
        expected,
        found: describe(&v),
    })
}

/// A filter value for `f` (strings from URLs coerced).
pub fn filter(f: &Field, v: Value) -> Result<Bind, FieldError> {
    let v = coerce(f, v);
    to_sql(f, &v).map_err(|expected| bad(f, expected, &v))
}

fn unknown_keys(m: &Model, payload: &Map<String, Value>) -> Vec<FieldError> {
    payload
        .iter()
        .filter(|(k, _)| m.field(k).is_none())
        .map(|(k, v)| FieldError {
            field: k.clone(),
            expected: format!("no such field in model `{}`", m.name),
            found: describe(v),
        })
        .collect()
}

fn bad(f: &Field, expected: String, v: &Value) -> FieldError {
    FieldError {
        field: f.name.clone(),
        expected,
        found: found(f, v),
    }
}

/// What a message may say about a value: nothing, for a secure field.
pub fn found(f: &Field, v: &Value) -> String {
    if f.secure {
        "a value that is not shown (secure field)".into()
    } else {
        describe(v)
    }
}
