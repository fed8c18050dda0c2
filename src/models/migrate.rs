//! Schema management at start: each model table is compared with what weft last applied to it
//! (`model_tables`), and the difference is either applied or refused.
//!
//! Applied automatically (nothing is lost): a new table; a new nullable field; a new required
//! field with a default (existing rows get it); a new or dropped `unique`/`index`; new enum
//! values; a required field becoming optional. Refused with a W0025 diagnostic naming the
//! model, the field and the fix: a type change, a dropped field, a new required field without
//! default, an optional field becoming required, removed enum values, a changed primary key, and
//! a table weft did not create. All of it runs in one transaction under a lock, so a refusal
//! changes nothing and two processes starting together apply changes once.
//!
//! SQLite cannot alter a column's constraints in place; for those changes (a CHECK, NOT NULL,
//! a generated fill) the table is rebuilt: created anew, rows copied, swapped in.

use super::ddl::{self, create_index, index_of, quote};
use super::registry::Models;
use super::table::{Column, Origin, TableDef, Wanted, definitions};
use super::types::{DefaultValue, now_micros};
use crate::spec::{Code, Diagnostic, Diagnostics};
use crate::store::model_versions::{applied_columns, record_columns, table_exists};
use crate::store::{self, Backend, Conn, Store};

/// The advisory lock serialising model schema changes on PostgreSQL ("weftmdl").
const LOCK_KEY: i64 = 0x0077_6566_746d_646c;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Changes weft will not apply; nothing was changed.
    #[error("{} model schema change(s) refused", .0.error_count())]
    Refused(Diagnostics),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// What to do to one table.
#[derive(Debug, Default, PartialEq)]
pub struct Plan {
    pub statements: Vec<String>,
    /// One line per change, for the log.
    pub changes: Vec<String>,
}

/// Brings every model table up to date, or changes nothing and returns the refusals. Returns
/// the changes made.
pub async fn apply(store: &Store, models: &Models) -> Result<Vec<String>, Error> {
    let defs = definitions(models);
    if defs.is_empty() {
        return Ok(Vec::new());
    }
    let backend = store.backend();
    let mut tx = store.begin_exclusive(LOCK_KEY).await?;
    let mut refusals = Diagnostics::default();
    let mut plans = Vec::with_capacity(defs.len());
    for def in &defs {
        let mut conn = tx.conn();
        let exists = table_exists(&mut conn, &def.name).await?;
        let applied = applied_columns(&mut conn, &def.name).await?;
        match plan(def, exists, applied.as_deref(), backend) {
            Ok(p) => plans.push((def, p)),
            Err(d) => refusals.extend(d),
        }
    }
    if refusals.has_errors() {
        tx.rollback().await?;
        refusals.sort();
        return Err(Error::Refused(refusals));
    }
    let mut changes = Vec::new();
    for (def, p) in plans {
        let mut conn = tx.conn();
        for sql in &p.statements {
            // E.g. a new `unique` on a column whose rows hold duplicates: refused like the rest
            // (the transaction rolls back when dropped).
            if let Err(e) = execute(&mut conn, sql).await {
                let d = refusal(
                    &def.owner,
                    format!("changing table `{}` failed: {e}", def.name),
                    "fix the rows the database complains about, or revert the change to the model",
                );
                let mut diags = Diagnostics::default();
                diags.push(d);
                return Err(Error::Refused(diags));
            }
        }
        let columns = serde_json::to_string(&def.recorded()).unwrap_or_default();
        record_columns(&mut conn, &def.name, &columns).await?;
        changes.extend(p.changes);
    }
    tx.commit().await?;
    Ok(changes)
}

async fn execute(conn: &mut Conn<'_>, sql: &str) -> Result<(), store::Error> {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    match conn {
        Conn::Sqlite(c) => sqlx::query(sql).execute(&mut **c).await.map(|_| ())?,
        Conn::Postgres(c) => sqlx::query(sql).execute(&mut **c).await.map(|_| ())?,
    }
    Ok(())
}

/// The plan for one table, given whether it exists and the columns last recorded for it.
pub fn plan(
    def: &TableDef,
    exists: bool,
    applied: Option<&str>,
    backend: Backend,
) -> Result<Plan, Vec<Diagnostic>> {
    let old: Vec<Column> = match (exists, applied) {
        (false, _) => {
            let mut statements = vec![ddl::create_table(def, &def.name, backend)];
            statements.extend(ddl::create_indexes(def));
            return Ok(Plan {
                statements,
                changes: vec![format!("created table `{}`", def.name)],
            });
        }
        (true, None) => return Err(vec![foreign_table(def)]),
        (true, Some(text)) => serde_json::from_str(text).map_err(|e| {
            vec![refusal(
                &def.owner,
                format!("weft's record of table `{}` is unreadable: {e}", def.name),
                "restore the `model_tables` row, or give the model another `tablename`",
            )]
        })?,
    };
    diff(def, &old, backend)
}

/// What changed between the recorded columns and the wanted ones.
fn diff(def: &TableDef, old: &[Column], backend: Backend) -> Result<Plan, Vec<Diagnostic>> {
    let mut refusals: Vec<Diagnostic> = old
        .iter()
        .filter(|o| def.column(&o.name).is_none())
        .map(|o| dropped(def, o))
        .collect();
    let mut plan = Plan::default();
    let mut rebuild = false;
    let t = &def.name;
    for w in &def.columns {
        let c = &w.column;
        let Some(o) = old.iter().find(|o| o.name == c.name) else {
            match added(def, w, backend) {
                Ok(Added::Statement(sql)) => plan.statements.push(sql),
                Ok(Added::Rebuild) => rebuild = true,
                Err(d) => refusals.push(*d),
            }
            plan.changes
                .push(format!("added column `{}` to `{t}`", c.name));
            plan.statements.extend(index_change(t, None, c));
            continue;
        };
        match incompatible(def, w, o) {
            Some(d) => refusals.push(d),
            None => rebuild |= widen(t, o, c, backend, &mut plan),
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    if rebuild {
        plan.statements = rebuild_sqlite(def, old);
        plan.changes.push(format!(
            "rebuilt `{t}` (SQLite cannot alter constraints in place)"
        ));
    }
    Ok(plan)
}

/// Loosens an existing column (NOT NULL dropped, enum values added, indexes changed); true
/// when SQLite needs the table rebuilt for it.
fn widen(t: &str, o: &Column, c: &Column, backend: Backend, plan: &mut Plan) -> bool {
    if o.primary_key {
        return false;
    }
    let mut rebuild = false;
    if !o.nullable && c.nullable {
        plan.changes
            .push(format!("`{t}`.`{}` is now optional", c.name));
        match backend {
            Backend::Postgres => plan.statements.push(format!(
                "ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL",
                quote(t),
                quote(&c.name)
            )),
            Backend::Sqlite => rebuild = true,
        }
    }
    if c.enum_values != o.enum_values {
        plan.changes
            .push(format!("`{t}`.`{}` accepts new values", c.name));
        match (backend, ddl::check_constraint(t, c)) {
            (Backend::Postgres, Some((name, check))) => plan.statements.push(format!(
                "ALTER TABLE {0} DROP CONSTRAINT IF EXISTS {1}, ADD CONSTRAINT {1} {check}",
                quote(t),
                quote(&name)
            )),
            _ => rebuild = true,
        }
    }
    let index = index_change(t, Some(o), c);
    if !index.is_empty() {
        plan.changes
            .push(format!("`{t}`.`{}`: indexes changed", c.name));
        plan.statements.extend(index);
    }
    rebuild
}

enum Added {
    Statement(String),
    Rebuild,
}

/// A column the table lacks: added when existing rows can get a value (NULL, or the default).
fn added(def: &TableDef, w: &Wanted, backend: Backend) -> Result<Added, Box<Diagnostic>> {
    let c = &w.column;
    if c.primary_key {
        return Err(Box::new(key_changed(def, w)));
    }
    let generated = matches!(
        w.default,
        Some(DefaultValue::Uuid4 | DefaultValue::Now | DefaultValue::Today)
    );
    let add = || {
        Added::Statement(format!(
            "ALTER TABLE {} ADD COLUMN {}",
            quote(&def.name),
            ddl::column_def(&def.name, w, backend, true)
        ))
    };
    match (c.nullable, &w.default, backend) {
        (true, _, _) | (false, Some(DefaultValue::Literal(_)), _) => Ok(add()),
        (false, Some(_), Backend::Postgres) if generated => Ok(add()),
        (false, Some(_), Backend::Sqlite) => Ok(Added::Rebuild),
        (false, _, _) => Err(Box::new(refusal(
            &w.origin,
            format!(
                "new required field `{}` has no default, and table `{}` may already have rows",
                c.name, def.name
            ),
            "give the field a `default`, or make it optional (remove `required: true`)",
        ))),
    }
}

/// A change to an existing column that could lose or invalidate data.
fn incompatible(def: &TableDef, w: &Wanted, o: &Column) -> Option<Diagnostic> {
    let c = &w.column;
    let t = &def.name;
    if c.primary_key != o.primary_key || (c.primary_key && c.identity != o.identity) {
        return Some(key_changed(def, w));
    }
    if c.class != o.class {
        let was = if o.declared.is_empty() {
            &o.class
        } else {
            &o.declared
        };
        return Some(refusal(
            &w.origin,
            format!(
                "field `{}` changed type from `{was}` to `{}`, but table `{t}` holds values of the old type",
                c.name, c.declared
            ),
            &format!(
                "keep the type `{was}`; or add a new field with the new type and copy the data yourself; or give this version its own `tablename`"
            ),
        ));
    }
    if o.nullable && !c.nullable {
        return Some(refusal(
            &w.origin,
            format!(
                "field `{}` became required, but table `{t}` may hold rows without a value",
                c.name
            ),
            "keep it optional, or give this version its own `tablename` and copy the data yourself",
        ));
    }
    let lost: Vec<&str> = o
        .enum_values
        .iter()
        .filter(|v| !c.enum_values.contains(v))
        .map(String::as_str)
        .collect();
    if !lost.is_empty() {
        return Some(refusal(
            &w.origin,
            format!(
                "enum field `{}` lost the value(s) `{}`, which rows of `{t}` may hold",
                c.name,
                lost.join("`, `")
            ),
            "keep the values in `enum_values` (workflows may stop writing them), or update those rows yourself first",
        ));
    }
    None
}

/// Index statements turning `old`'s index into `new`'s.
fn index_change(table: &str, old: Option<&Column>, new: &Column) -> Vec<String> {
    let before = old.and_then(|o| index_of(table, o));
    let after = index_of(table, new);
    if before == after {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some((name, _)) = before {
        out.push(format!("DROP INDEX IF EXISTS {}", quote(&name)));
    }
    if let Some((name, unique)) = after {
        out.push(create_index(table, &new.name, &name, unique));
    }
    out
}

/// SQLite: the table created anew under a temporary name, rows copied (new columns filled),
/// the old table dropped, the new one renamed, the indexes created.
fn rebuild_sqlite(def: &TableDef, old: &[Column]) -> Vec<String> {
    let temp = format!("_weft_rebuild_{}", def.name);
    let now = now_micros();
    let (names, exprs): (Vec<String>, Vec<String>) = def
        .columns
        .iter()
        .map(|w| {
            let name = quote(&w.column.name);
            let expr = if old.iter().any(|o| o.name == w.column.name) {
                name.clone()
            } else {
                ddl::fill_expr(w, Backend::Sqlite, now).unwrap_or_else(|| "NULL".into())
            };
            (name, expr)
        })
        .unzip();
    let mut out = vec![
        ddl::create_table(def, &temp, Backend::Sqlite),
        format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            quote(&temp),
            names.join(", "),
            exprs.join(", "),
            quote(&def.name)
        ),
        format!("DROP TABLE {}", quote(&def.name)),
        format!(
            "ALTER TABLE {} RENAME TO {}",
            quote(&temp),
            quote(&def.name)
        ),
    ];
    out.extend(ddl::create_indexes(def));
    out
}

fn refusal(origin: &Origin, message: String, help: &str) -> Diagnostic {
    Diagnostic::error(
        Code::ModelMigration,
        format!("model {}: {message}", origin.model),
    )
    .in_file(&origin.file)
    .at(origin.pos)
    .path(origin.path.clone())
    .help(help.to_string())
}

fn dropped(def: &TableDef, o: &Column) -> Diagnostic {
    refusal(
        &def.owner,
        format!(
            "field `{}` is no longer declared, but table `{}` still has the column and its data",
            o.name, def.name
        ),
        &format!(
            "put the field back (an optional field costs nothing), or drop the column yourself if its data can go: ALTER TABLE {} DROP COLUMN {}",
            quote(&def.name),
            quote(&o.name)
        ),
    )
}

fn key_changed(def: &TableDef, w: &Wanted) -> Diagnostic {
    refusal(
        &w.origin,
        format!(
            "the primary key of table `{}` changed (to `{}`)",
            def.name, w.column.name
        ),
        "keep the key as it was, or give this version its own `tablename`",
    )
}

fn foreign_table(def: &TableDef) -> Diagnostic {
    refusal(
        &def.owner,
        format!(
            "table `{}` already exists, and weft did not create it",
            def.name
        ),
        "give the model another `tablename`, or rename or drop the existing table",
    )
}

#[cfg(test)]
mod tests;
