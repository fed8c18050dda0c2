//! The migration plan for one table, without a database.

use super::*;
use crate::models::types::ColumnType;
use crate::spec::Pos;

fn wanted(name: &str, ty: ColumnType, nullable: bool, default: Option<DefaultValue>) -> Wanted {
    Wanted {
        column: Column {
            name: name.into(),
            class: ty.class().into(),
            declared: ty.name().into(),
            primary_key: name == "id",
            identity: false,
            nullable,
            unique: false,
            index: false,
            enum_values: Vec::new(),
        },
        ty,
        default,
        origin: Origin {
            model: "`T` version `v1`".into(),
            file: "models/t.yaml".into(),
            pos: Pos::new(1, 1),
            path: "spec.fields".into(),
        },
    }
}

fn table(columns: Vec<Wanted>) -> TableDef {
    let owner = columns[0].origin.clone();
    TableDef {
        name: "t".into(),
        columns,
        owner,
    }
}

fn recorded(def: &TableDef) -> String {
    serde_json::to_string(&def.recorded()).unwrap()
}

#[test]
fn a_new_table_is_created_and_an_unchanged_one_left_alone() {
    let def = table(vec![wanted("id", ColumnType::Uuid, false, None)]);
    let p = plan(&def, false, None, Backend::Postgres).unwrap();
    assert_eq!(
        p.statements,
        ["CREATE TABLE \"t\" (\n  \"id\" UUID PRIMARY KEY NOT NULL\n)"]
    );
    assert_eq!(
        plan(&def, true, Some(&recorded(&def)), Backend::Sqlite).unwrap(),
        Plan::default()
    );
}

#[test]
fn additive_changes_per_backend() {
    let old = table(vec![wanted("id", ColumnType::Uuid, false, None)]);
    let new = table(vec![
        wanted("id", ColumnType::Uuid, false, None),
        wanted("note", ColumnType::Text, true, None),
        wanted(
            "level",
            ColumnType::Integer,
            false,
            Some(DefaultValue::Literal(1.into())),
        ),
        wanted(
            "at",
            ColumnType::Timestamptz,
            false,
            Some(DefaultValue::Now),
        ),
    ]);
    let pg = plan(&new, true, Some(&recorded(&old)), Backend::Postgres).unwrap();
    assert_eq!(
        pg.statements[0],
        "ALTER TABLE \"t\" ADD COLUMN \"note\" TEXT"
    );
    assert_eq!(
        pg.statements[1],
        "ALTER TABLE \"t\" ADD COLUMN \"level\" BIGINT NOT NULL DEFAULT 1"
    );
    assert!(
        pg.statements[2]
            .starts_with("ALTER TABLE \"t\" ADD COLUMN \"at\" TIMESTAMPTZ NOT NULL DEFAULT '")
    );
    // SQLite cannot add a NOT NULL column filled by a generator: the table is rebuilt.
    let lite = plan(&new, true, Some(&recorded(&old)), Backend::Sqlite).unwrap();
    assert!(
        lite.statements[0].starts_with("CREATE TABLE \"_weft_rebuild_t\""),
        "{lite:?}"
    );
    assert!(
        lite.statements[1].contains("SELECT \"id\", NULL, 1, '"),
        "{lite:?}"
    );
}

#[test]
fn destructive_changes_are_refused_together() {
    let old = table(vec![
        wanted("id", ColumnType::Uuid, false, None),
        wanted("age", ColumnType::Integer, true, None),
        wanted("gone", ColumnType::Text, true, None),
    ]);
    let new = table(vec![
        wanted("id", ColumnType::Uuid, false, None),
        wanted("age", ColumnType::Text, true, None),
        wanted("must", ColumnType::Text, false, None),
    ]);
    let refused = plan(&new, true, Some(&recorded(&old)), Backend::Postgres).unwrap_err();
    let messages: Vec<&str> = refused.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(refused.len(), 3, "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`gone` is no longer declared"))
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`age` changed type from `integer` to `text`"))
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("new required field `must` has no default"))
    );
    assert!(refused.iter().all(|d| d.code == Code::ModelMigration));
}
