//! The text of CRUD statements. Identifiers are validated at load and quoted here; values are
//! always bound (`$1`, `$2`, … work on both backends), never spliced.

use std::fmt::Write as _;

use super::Model;
use super::ddl::quote;
use super::types::{ColumnType, Field};
use crate::store::Backend;

/// `"a", "b"` — PostgreSQL `numeric` is read as `float8` (JSON numbers are doubles anyway).
pub fn select_list(fields: &[&Field], backend: Backend) -> String {
    let mut out = String::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let name = quote(&f.name);
        if backend == Backend::Postgres && f.ty == ColumnType::Numeric {
            let _ = write!(out, "{name}::float8 AS {name}");
        } else {
            out.push_str(&name);
        }
    }
    out
}

pub fn types(fields: &[&Field]) -> Vec<ColumnType> {
    fields.iter().map(|f| f.ty).collect()
}

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `INSERT … RETURNING` the readable columns.
pub fn insert(m: &Model, cols: &[&Field], returning: &[&Field], backend: Backend) -> String {
    let ret = select_list(returning, backend);
    if cols.is_empty() {
        return format!(
            "INSERT INTO {} DEFAULT VALUES RETURNING {ret}",
            quote(&m.table)
        );
    }
    let names: Vec<String> = cols.iter().map(|f| quote(&f.name)).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) RETURNING {ret}",
        quote(&m.table),
        names.join(", "),
        placeholders(1, cols.len())
    )
}

/// One record by key (`$1`).
pub fn by_key(m: &Model, returning: &[&Field], backend: Backend) -> String {
    format!(
        "SELECT {} FROM {} WHERE {} = $1",
        select_list(returning, backend),
        quote(&m.table),
        quote(&m.primary_key().name)
    )
}

/// An equality filter: the field, and whether the value is NULL (`IS NULL`, nothing bound).
pub struct Filter<'m> {
    pub field: &'m Field,
    pub is_null: bool,
}

pub struct ListSql<'a, 'm> {
    pub filters: &'a [Filter<'m>],
    /// Field and descending; the key is appended as a tie-breaker.
    pub order: Option<(&'m Field, bool)>,
    pub limit: u32,
    pub offset: u64,
}

pub fn list(m: &Model, returning: &[&Field], q: &ListSql<'_, '_>, backend: Backend) -> String {
    let mut sql = format!(
        "SELECT {} FROM {}",
        select_list(returning, backend),
        quote(&m.table)
    );
    let mut n = 0;
    for (i, f) in q.filters.iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE " } else { " AND " });
        if f.is_null {
            let _ = write!(sql, "{} IS NULL", quote(&f.field.name));
        } else {
            n += 1;
            let _ = write!(sql, "{} = ${n}", quote(&f.field.name));
        }
    }
    let key = quote(&m.primary_key().name);
    match q.order {
        Some((f, desc)) if f.name != m.primary_key().name => {
            let dir = if desc { "DESC" } else { "ASC" };
            let _ = write!(sql, " ORDER BY {} {dir}, {key} {dir}", quote(&f.name));
        }
        Some((_, true)) => {
            let _ = write!(sql, " ORDER BY {key} DESC");
        }
        _ => {
            let _ = write!(sql, " ORDER BY {key} ASC");
        }
    }
    let _ = write!(sql, " LIMIT {} OFFSET {}", q.limit, q.offset);
    sql
}

/// `UPDATE … SET … WHERE key = $n RETURNING` the readable columns.
pub fn update(m: &Model, set: &[&Field], returning: &[&Field], backend: Backend) -> String {
    let assignments: Vec<String> = set
        .iter()
        .enumerate()
        .map(|(i, f)| format!("{} = ${}", quote(&f.name), i + 1))
        .collect();
    format!(
        "UPDATE {} SET {} WHERE {} = ${} RETURNING {}",
        quote(&m.table),
        assignments.join(", "),
        quote(&m.primary_key().name),
        set.len() + 1,
        select_list(returning, backend)
    )
}

pub fn delete(m: &Model) -> String {
    format!(
        "DELETE FROM {} WHERE {} = $1",
        quote(&m.table),
        quote(&m.primary_key().name)
    )
}

/// The records of `m` whose `column` is one of `n` bound keys.
pub fn related(
    m: &Model,
    column: &Field,
    returning: &[&Field],
    n: usize,
    backend: Backend,
) -> String {
    format!(
        "SELECT {} FROM {} WHERE {} IN ({}) ORDER BY {} ASC",
        select_list(returning, backend),
        quote(&m.table),
        quote(&column.name),
        placeholders(1, n),
        quote(&m.primary_key().name)
    )
}
