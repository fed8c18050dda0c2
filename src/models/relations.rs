//! `include`: related records loaded for a batch of records with ONE query per relation (keys
//! collected, `WHERE column IN (…)`, rows grouped back), never one per record.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::crud::db_error;
use super::exec::Db;
use super::sql::{self, types};
use super::types::{Field, Relation, RelationKind};
use super::value::{Bind, to_sql};
use super::{Error, Model};

/// A relation to load, with the model version it points at (resolved at load time).
#[derive(Clone, Debug)]
pub struct Include {
    pub relation: Relation,
    pub target: Arc<Model>,
}

/// Adds each included relation to every record: a list for `one_to_many`, a record (or null)
/// for `many_to_one`.
pub async fn load(
    db: &mut Db<'_>,
    m: &Model,
    records: &mut [Map<String, Value>],
    includes: &[Include],
) -> Result<(), Error> {
    if records.is_empty() {
        return Ok(());
    }
    for inc in includes {
        let t = &inc.target;
        let r = &inc.relation;
        // (column of the record holding the key, column of the target matched against it)
        let (ours, theirs) = match r.kind {
            RelationKind::OneToMany => (Some(m.primary_key()), t.field(&r.foreign_key)),
            RelationKind::ManyToOne => (m.field(&r.foreign_key), Some(t.primary_key())),
        };
        let (Some(ours), Some(theirs)) = (ours, theirs) else {
            return Err(Error::Database(format!(
                "relation `{}`: no foreign key field `{}`",
                r.name, r.foreign_key
            )));
        };
        let keys = distinct_keys(records, ours, theirs);
        let grouped = if keys.is_empty() {
            HashMap::new()
        } else {
            fetch_grouped(db, t, theirs, &keys).await?
        };
        for rec in records.iter_mut() {
            let k = rec.get(&ours.name).map(Value::to_string);
            let found = k.and_then(|k| grouped.get(&k));
            let value = match r.kind {
                RelationKind::OneToMany => Value::Array(found.cloned().unwrap_or_default()),
                RelationKind::ManyToOne => found
                    .and_then(|v| v.first().cloned())
                    .unwrap_or(Value::Null),
            };
            rec.insert(r.name.clone(), value);
        }
    }
    Ok(())
}

/// The distinct non-null values of `ours` in the records, bound as `theirs`' type.
fn distinct_keys(records: &[Map<String, Value>], ours: &Field, theirs: &Field) -> Vec<Bind> {
    let mut seen = std::collections::HashSet::new();
    records
        .iter()
        .filter_map(|r| r.get(&ours.name))
        .filter(|v| !v.is_null() && seen.insert(v.to_string()))
        .filter_map(|v| to_sql(theirs, v).ok())
        .collect()
}

/// Target records whose `column` is one of `keys`, grouped by that column's value (as JSON
/// text).
async fn fetch_grouped(
    db: &mut Db<'_>,
    t: &Model,
    column: &Field,
    keys: &[Bind],
) -> Result<HashMap<String, Vec<Value>>, Error> {
    let mut returning: Vec<&Field> = t.readable().collect();
    let hidden = column.secure;
    if hidden {
        returning.push(column);
    }
    let sql = sql::related(t, column, &returning, keys.len(), db.backend());
    let rows = db
        .fetch(&sql, keys, &types(&returning))
        .await
        .map_err(|e| db_error(t, e))?;
    let at = returning
        .iter()
        .position(|f| f.name == column.name)
        .unwrap_or_default();
    let mut out: HashMap<String, Vec<Value>> = HashMap::new();
    for row in rows {
        let key = row.get(at).map(Value::to_string).unwrap_or_default();
        let mut obj: Map<String, Value> =
            returning.iter().map(|f| f.name.clone()).zip(row).collect();
        if hidden {
            obj.remove(&column.name);
        }
        out.entry(key).or_default().push(Value::Object(obj));
    }
    Ok(out)
}
