//! The table each model needs. Versions of one model may share a table (the default
//! `tablename` is the same for all): the table then holds the union of their fields, a column
//! is NOT NULL only when every version requires it, and its type must agree across versions.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::registry::Models;
use super::types::{ColumnType, DefaultValue, Field, RelationKind};
use crate::spec::{Code, Diagnostic, Diagnostics, Pos};
use crate::versions::natural_cmp;

/// A column as weft applies and records it (`model_tables.columns`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// The storage class (`ColumnType::class`): what changes compare.
    #[serde(rename = "type")]
    pub class: String,
    /// The type as declared (`integer`, `string`…), for messages.
    #[serde(default)]
    pub declared: String,
    #[serde(default)]
    pub primary_key: bool,
    /// A database-numbered integer key.
    #[serde(default)]
    pub identity: bool,
    pub nullable: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub index: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
}

/// Where a column is declared, for diagnostics.
#[derive(Clone, Debug)]
pub struct Origin {
    /// `Candidate` version `v2`.
    pub model: String,
    pub file: PathBuf,
    pub pos: Pos,
    pub path: String,
}

/// A column weft wants, with its default (for adding it to a table that has rows).
#[derive(Clone, Debug)]
pub struct Wanted {
    pub column: Column,
    pub ty: ColumnType,
    pub default: Option<DefaultValue>,
    pub origin: Origin,
}

/// The table a model (and the versions sharing it) needs.
#[derive(Clone, Debug)]
pub struct TableDef {
    pub name: String,
    pub columns: Vec<Wanted>,
    /// The newest version using the table (named in diagnostics about dropped fields).
    pub owner: Origin,
}

impl TableDef {
    pub fn column(&self, name: &str) -> Option<&Wanted> {
        self.columns.iter().find(|w| w.column.name == name)
    }

    pub fn recorded(&self) -> Vec<Column> {
        self.columns.iter().map(|w| w.column.clone()).collect()
    }
}

/// Every table the models need, in a stable order.
pub fn definitions(models: &Models) -> Vec<TableDef> {
    let mut entries: Vec<_> = models.entries().iter().map(|e| &e.model).collect();
    entries.sort_by(|a, b| {
        a.table
            .cmp(&b.table)
            .then_with(|| natural_cmp(&a.version, &b.version))
    });
    let fk_indexed = foreign_keys(models);
    let mut tables: Vec<TableDef> = Vec::new();
    for group in entries.chunk_by(|a, b| a.table == b.table) {
        let mut def = TableDef {
            name: group[0].table.clone(),
            columns: Vec::new(),
            owner: origin_of_model(group[group.len() - 1]),
        };
        for (i, m) in group.iter().enumerate() {
            for f in &m.fields {
                let mut wanted = wanted(f, m);
                wanted.column.index |= fk_indexed.contains(&(m.table.as_str(), f.name.as_str()));
                match def.columns.iter_mut().find(|w| w.column.name == f.name) {
                    Some(w) => merge(w, wanted),
                    // A column earlier versions lack: they insert without it.
                    None if i > 0 => {
                        let fills = matches!(wanted.default, Some(DefaultValue::Literal(_)));
                        wanted.column.nullable |= !fills;
                        def.columns.push(wanted);
                    }
                    None => def.columns.push(wanted),
                }
            }
            // Columns this version lacks: it inserts without them.
            for w in &mut def.columns {
                let fills = matches!(w.default, Some(DefaultValue::Literal(_)));
                if m.field(&w.column.name).is_none() && !fills && !w.column.primary_key {
                    w.column.nullable = true;
                }
            }
        }
        tables.push(def);
    }
    tables
}

fn wanted(f: &Field, m: &super::Model) -> Wanted {
    Wanted {
        column: Column {
            name: f.name.clone(),
            class: f.ty.class().to_string(),
            declared: f.ty.name().to_string(),
            primary_key: f.primary_key,
            identity: f.identity(),
            nullable: f.nullable(),
            unique: f.unique,
            index: f.index,
            enum_values: f.enum_values.clone(),
        },
        ty: f.ty,
        default: f.default.clone(),
        origin: Origin {
            model: m.label(),
            file: m.doc.file.clone(),
            pos: f.pos,
            path: f.path.clone(),
        },
    }
}

/// Folds a later version's declaration of a column into the table's.
fn merge(into: &mut Wanted, later: Wanted) {
    let c = &mut into.column;
    c.nullable |= later.column.nullable;
    c.unique |= later.column.unique;
    c.index |= later.column.index;
    for v in later.column.enum_values {
        if !c.enum_values.contains(&v) {
            c.enum_values.push(v);
        }
    }
    if into.default.is_none() {
        into.default = later.default;
    }
    into.origin = later.origin;
}

fn origin_of_model(m: &super::Model) -> Origin {
    let fields = m.doc.node.get("spec").and_then(|s| s.get("fields"));
    Origin {
        model: m.label(),
        file: m.doc.file.clone(),
        pos: fields.map_or(m.doc.pos, |n| n.pos),
        path: "spec.fields".into(),
    }
}

/// (table, column) of every foreign key a relation reads by: indexed so `include` stays one
/// indexed query per relation.
fn foreign_keys(models: &Models) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for e in models.entries() {
        for r in &e.model.relations {
            let table = match r.kind {
                RelationKind::ManyToOne => Some(e.model.table.as_str()),
                RelationKind::OneToMany => models
                    .resolve(&r.model, r.version.as_deref())
                    .ok()
                    .map(|t| t.table.as_str()),
            };
            out.extend(table.map(|t| (t, r.foreign_key.as_str())));
        }
    }
    out
}

/// Load-time check: versions sharing a table agree on each column's type and on the key, and
/// no two different models share one table.
pub fn check_shared_tables(models: &Models, diags: &mut Diagnostics) {
    let mut first: HashMap<&str, &super::Model> = HashMap::new();
    let mut columns: HashMap<(&str, &str), (&Field, &super::Model)> = HashMap::new();
    let mut keys: HashMap<&str, (&Field, &super::Model)> = HashMap::new();
    let mut entries: Vec<_> = models.entries().iter().map(|e| &e.model).collect();
    entries.sort_by(|a, b| natural_cmp(&a.version, &b.version));
    for m in entries {
        let owner = *first.entry(m.table.as_str()).or_insert(m);
        if owner.name != m.name {
            diags.push(
                Diagnostic::error(
                    Code::ModelMigration,
                    format!("table `{}` is already used by model `{}`", m.table, owner.name),
                )
                .in_file(&m.doc.file)
                .at(m.doc.node.get("spec").and_then(|s| s.get("tablename")).map_or(m.doc.pos, |n| n.pos))
                .path("spec.tablename")
                .help("only versions of one model may share a table: give this model its own `tablename`"),
            );
            continue;
        }
        let key = m.primary_key();
        match keys.get(m.table.as_str()) {
            Some((k, earlier)) if k.name != key.name => diags.push(conflict(key, m, k, earlier)),
            Some(_) => {}
            None => {
                keys.insert(m.table.as_str(), (key, m));
            }
        }
        for f in &m.fields {
            match columns.get(&(m.table.as_str(), f.name.as_str())) {
                Some((g, earlier))
                    if g.ty.class() != f.ty.class() || g.primary_key != f.primary_key =>
                {
                    diags.push(conflict(f, m, g, earlier));
                }
                Some(_) => {}
                None => {
                    columns.insert((m.table.as_str(), f.name.as_str()), (f, m));
                }
            }
        }
    }
}

fn conflict(f: &Field, m: &super::Model, g: &Field, earlier: &super::Model) -> Diagnostic {
    let describe = |f: &Field| {
        if f.primary_key {
            format!("`{}` `{}` (primary key)", f.name, f.ty.name())
        } else {
            format!("`{}` `{}`", f.name, f.ty.name())
        }
    };
    Diagnostic::error(
        Code::ModelMigration,
        format!(
            "model {} declares {}, but version `{}` declares {}; both use table `{}`",
            m.label(),
            describe(f),
            earlier.version,
            describe(g),
            m.table
        ),
    )
    .in_file(&m.doc.file)
    .at(if f.name == g.name { f.type_pos } else { f.pos })
    .path(if f.name == g.name {
        format!("{}.type", f.path)
    } else {
        format!("{}.name", f.path)
    })
    .help(if f.name == g.name {
        format!(
            "keep the type of `{}`, or give version `{}` its own `tablename` and copy the data yourself",
            f.name, m.version
        )
    } else {
        format!(
            "keep `{}` as the key, or give version `{}` its own `tablename` and copy the data yourself",
            g.name, m.version
        )
    })
}
