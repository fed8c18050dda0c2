//! Create, read, list, update, delete on one model, on a [`Db`] connection. Records come back
//! as the read variant (every field but the secure ones); relations named in `include` are
//! loaded with one query per relation, whatever the number of records.

use serde_json::{Map, Value, json};
use sqlx::error::ErrorKind;

use super::exec::Db;
use super::relations::{self, Include};
use super::sql::{self, Filter, ListSql, types};
use super::types::Field;
use super::validate;
use super::value::{Bind, SqlValue, canonical_text};
use super::{Error, Model};

/// A list query, its values already rendered.
pub struct ListQuery<'m> {
    /// Equality filters (a null value means `IS NULL`).
    pub filters: Vec<(&'m Field, Value)>,
    /// Field and descending.
    pub order: Option<(&'m Field, bool)>,
    pub limit: u32,
    pub offset: u64,
}

pub async fn create(
    db: &mut Db<'_>,
    m: &Model,
    payload: &Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let values = validate::for_create(m, payload).map_err(Error::Validation)?;
    let (cols, binds): (Vec<&Field>, Vec<Bind>) = values.into_iter().unzip();
    let returning: Vec<&Field> = m.readable().collect();
    let sql = sql::insert(m, &cols, &returning, db.backend());
    let rows = db
        .fetch(&sql, &binds, &types(&returning))
        .await
        .map_err(|e| db_error(m, e))?;
    one(rows, &returning).ok_or_else(|| Error::Database("the insert returned no row".into()))
}

pub async fn read(
    db: &mut Db<'_>,
    m: &Model,
    id: Value,
    include: &[Include],
) -> Result<Map<String, Value>, Error> {
    let key = validate::key(m, id).map_err(|e| Error::Validation(vec![e]))?;
    let returning: Vec<&Field> = m.readable().collect();
    let sql = sql::by_key(m, &returning, db.backend());
    let rows = db
        .fetch(&sql, std::slice::from_ref(&key), &types(&returning))
        .await
        .map_err(|e| db_error(m, e))?;
    let record = one(rows, &returning).ok_or_else(|| not_found(m, &key))?;
    let mut records = vec![record];
    relations::load(db, m, &mut records, include).await?;
    Ok(records.pop().unwrap_or_default())
}

pub async fn list(
    db: &mut Db<'_>,
    m: &Model,
    q: ListQuery<'_>,
    include: &[Include],
) -> Result<Vec<Map<String, Value>>, Error> {
    let mut filters = Vec::with_capacity(q.filters.len());
    let mut binds = Vec::with_capacity(q.filters.len());
    let mut errors = Vec::new();
    for (f, v) in q.filters {
        if v.is_null() {
            filters.push(Filter {
                field: f,
                is_null: true,
            });
            continue;
        }
        match validate::filter(f, v) {
            Ok(b) => {
                filters.push(Filter {
                    field: f,
                    is_null: false,
                });
                binds.push(b);
            }
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let returning: Vec<&Field> = m.readable().collect();
    let shape = ListSql {
        filters: &filters,
        order: q.order,
        limit: q.limit,
        offset: q.offset,
    };
    let sql = sql::list(m, &returning, &shape, db.backend());
    let rows = db
        .fetch(&sql, &binds, &types(&returning))
        .await
        .map_err(|e| db_error(m, e))?;
    let mut records: Vec<Map<String, Value>> =
        rows.into_iter().map(|r| object(&returning, r)).collect();
    relations::load(db, m, &mut records, include).await?;
    Ok(records)
}

pub async fn update(
    db: &mut Db<'_>,
    m: &Model,
    id: Value,
    payload: &Map<String, Value>,
) -> Result<Map<String, Value>, Error> {
    let key = validate::key(m, id.clone()).map_err(|e| Error::Validation(vec![e]))?;
    let values = validate::for_update(m, payload).map_err(Error::Validation)?;
    if values.is_empty() {
        return read(db, m, id, &[]).await;
    }
    let (cols, mut binds): (Vec<&Field>, Vec<Bind>) = values.into_iter().unzip();
    binds.push(key.clone());
    let returning: Vec<&Field> = m.readable().collect();
    let sql = sql::update(m, &cols, &returning, db.backend());
    let rows = db
        .fetch(&sql, &binds, &types(&returning))
        .await
        .map_err(|e| db_error(m, e))?;
    one(rows, &returning).ok_or_else(|| not_found(m, &key))
}

/// Deletes one record: `{"deleted": true, "id": …}`.
pub async fn delete(db: &mut Db<'_>, m: &Model, id: Value) -> Result<Value, Error> {
    let key = validate::key(m, id).map_err(|e| Error::Validation(vec![e]))?;
    let n = db
        .execute(&sql::delete(m), std::slice::from_ref(&key))
        .await
        .map_err(|e| db_error(m, e))?;
    if n == 0 {
        return Err(not_found(m, &key));
    }
    Ok(json!({"deleted": true, "id": key_json(&key)}))
}

fn object(fields: &[&Field], row: Vec<Value>) -> Map<String, Value> {
    fields.iter().map(|f| f.name.clone()).zip(row).collect()
}

fn one(rows: Vec<Vec<Value>>, fields: &[&Field]) -> Option<Map<String, Value>> {
    rows.into_iter().next().map(|r| object(fields, r))
}

/// The key as JSON, in its canonical form (a UUID lower-cased, an integer as a number).
fn key_json(key: &Bind) -> Value {
    match &key.value {
        SqlValue::Int(i) => Value::from(*i),
        other => canonical_text(other).map_or(Value::Null, Value::String),
    }
}

fn not_found(m: &Model, key: &Bind) -> Error {
    let id = match key_json(key) {
        Value::String(s) => s,
        other => other.to_string(),
    };
    Error::NotFound(format!("no `{}` record with id `{id}`", m.name))
}

/// A database error as the layer's error: a unique violation is a conflict naming the fields
/// (never the values, which may be secure).
pub fn db_error(m: &Model, e: sqlx::Error) -> Error {
    let Some(d) = e.as_database_error() else {
        return Error::Database(e.to_string());
    };
    match d.kind() {
        ErrorKind::UniqueViolation => {
            let fields = conflicting_fields(m, d.constraint(), d.message());
            Error::Conflict {
                message: format!(
                    "a `{}` record with the same {} already exists",
                    m.name,
                    fields
                        .iter()
                        .map(|f| format!("`{f}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                fields,
            }
        }
        _ => Error::Database(d.message().to_string()),
    }
}

/// Which fields a unique violation is about: PostgreSQL names the index (or `<table>_pkey`),
/// SQLite says `UNIQUE constraint failed: table.column, …`.
fn conflicting_fields(m: &Model, constraint: Option<&str>, message: &str) -> Vec<String> {
    if let Some(c) = constraint {
        if c == format!("{}_pkey", m.table) {
            return vec![m.primary_key().name.clone()];
        }
        let hit = m
            .fields
            .iter()
            .find(|f| super::ddl::object_name(&m.table, &f.name, "key") == c);
        return hit.map_or_else(|| vec![c.to_string()], |f| vec![f.name.clone()]);
    }
    message
        .split_once(": ")
        .map(|(_, cols)| {
            cols.split(", ")
                .map(|c| c.rsplit('.').next().unwrap_or(c).to_string())
                .collect()
        })
        .unwrap_or_default()
}
