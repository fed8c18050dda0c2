//! Schema management between starts, on SQLite and on PostgreSQL: additive changes are applied
//! (data kept), destructive or incompatible ones stop the start with a W0025 diagnostic naming
//! the model, the field and the fix — and change nothing. A reload obeys the same rules.

use crate::common::TestProject;
use crate::common::db::{TestDb, backends};
use crate::support::{Started, start, try_start};
use serde_json::{Value, json};
use weft::App;
use weft::spec::Code;
use weft::versions::StartError;

const V1: &str = r#"
kind: ModelDefinition
metadata: { name: Person }
spec:
  tablename: people
  fields:
    - { name: id, type: uuid, primary_key: true }
    - { name: email, type: string, required: true }
    - { name: age, type: integer }
    - { name: kind, type: enum, enum_values: [a, b] }
"#;

const WORKFLOWS: &str = r#"
kind: Workflow
metadata: { name: create_person }
spec:
  context: Person
  steps:
    - { id: create, kind: model-op, model: Person, operation: create, payload: "{{ person }}", output: person }
---
kind: Workflow
metadata: { name: people }
spec:
  context: Person
  steps:
    - { id: list, kind: model-op, model: Person, operation: list, order_by: email, output: people }
"#;

fn project() -> TestProject {
    TestProject::new()
        .file("models/person.yaml", V1)
        .workflow("people", WORKFLOWS)
}

/// V1 with `old` replaced by `new`.
fn edited(old: &str, new: &str) -> String {
    assert!(V1.contains(old), "{old}");
    V1.replace(old, new)
}

async fn people(s: &Started) -> Value {
    s.value("people", json!({}), "people").await
}

/// Starts with `models`, expecting a refusal; returns the W0025 diagnostics, rendered.
async fn refused(p: &TestProject, db: &TestDb, models: &str) -> String {
    p.write("models/person.yaml", models);
    match try_start(p.path(), &db.url, App::new()).await {
        Ok(_) => panic!("{}: the start should be refused for:\n{models}", db.name),
        Err(StartError::Load(e)) => {
            assert!(
                e.diagnostics.iter().all(|d| d.code == Code::ModelMigration),
                "{}",
                e.diagnostics.render(p.path())
            );
            e.diagnostics.render(p.path())
        }
        Err(e) => panic!("{}: {e}", db.name),
    }
}

#[tokio::test]
async fn additive_changes_are_applied_on_restart_and_keep_the_data() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        s.value(
            "create_person",
            json!({"person": {"email": "old@x.org", "age": 40, "kind": "a"}}),
            "person",
        )
        .await;
        s.stop().await;

        let v2 = edited(
            "    - { name: email, type: string, required: true }\n",
            "    - { name: email, type: string, index: true }\n    - { name: phone, type: string, unique: true }\n",
        )
        .replace("enum_values: [a, b]", "enum_values: [a, b, c]")
            + "    - { name: level, type: integer, required: true, default: 1 }\n"
            + "    - { name: joined, type: timestamptz, required: true, default: now }\n"
            + "    - { name: tag, type: uuid, required: true, default: uuid4 }\n";
        p.write("models/person.yaml", &v2);
        let s = start(p.path(), &db.url).await;
        let all = people(&s).await;
        let old = &all[0];
        assert_eq!(old["email"], "old@x.org", "{}", db.name);
        assert_eq!(old["age"], 40);
        assert_eq!(old["phone"], Value::Null);
        assert_eq!(
            old["level"], 1,
            "{}: existing rows get the default",
            db.name
        );
        assert!(
            old["joined"].as_str().is_some_and(|t| t.ends_with('Z')),
            "{old}"
        );
        assert!(
            old["tag"]
                .as_str()
                .is_some_and(|t| uuid::Uuid::parse_str(t).is_ok()),
            "{old}"
        );
        // The new enum value, the now-optional email, the new unique field.
        let p2 = s
            .value(
                "create_person",
                json!({"person": {"kind": "c", "phone": "555"}}),
                "person",
            )
            .await;
        assert_eq!(
            (p2["kind"].clone(), p2["email"].clone()),
            (json!("c"), Value::Null)
        );
        let dup = s
            .failure("create_person", json!({"person": {"phone": "555"}}))
            .await;
        assert_eq!(
            dup.failure.unwrap().kind,
            weft::engine::FailureKind::Conflict,
            "{}",
            db.name
        );
        assert!(has_index(&s, "people_email_idx").await, "{}", db.name);
        s.stop().await;

        // Starting again with the same models changes nothing.
        let s = start(p.path(), &db.url).await;
        assert_eq!(people(&s).await.as_array().unwrap().len(), 2);
        s.stop().await;
    }
}

async fn has_index(s: &Started, name: &str) -> bool {
    let store = s.registry.store();
    let n: i64 = match store {
        weft::store::Store::Sqlite(pool) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = $1",
        )
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap(),
        weft::store::Store::Postgres(pool) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_indexes WHERE indexname = $1")
                .bind(name)
                .fetch_one(pool)
                .await
                .unwrap()
        }
    };
    n == 1
}

#[tokio::test]
async fn destructive_changes_are_refused_naming_model_field_and_fix() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        s.value(
            "create_person",
            json!({"person": {"email": "keep@x.org", "age": 3, "kind": "b"}}),
            "person",
        )
        .await;
        s.stop().await;

        let cases = [
            (
                edited(
                    "{ name: age, type: integer }",
                    "{ name: age, type: string }",
                ),
                "field `age` changed type from `integer` to `string`",
                "keep the type `integer`",
            ),
            (
                edited("    - { name: age, type: integer }\n", ""),
                "field `age` is no longer declared, but table `people` still has the column",
                "ALTER TABLE \"people\" DROP COLUMN \"age\"",
            ),
            (
                format!("{V1}    - {{ name: country, type: string, required: true }}\n"),
                "new required field `country` has no default",
                "give the field a `default`",
            ),
            (
                edited(
                    "{ name: age, type: integer }",
                    "{ name: age, type: integer, required: true }",
                ),
                "field `age` became required",
                "keep it optional",
            ),
            (
                edited("enum_values: [a, b]", "enum_values: [a]"),
                "enum field `kind` lost the value(s) `b`",
                "keep the values",
            ),
            (
                edited(
                    "{ name: id, type: uuid, primary_key: true }",
                    "{ name: id, type: uuid }\n    - { name: code, type: string, primary_key: true }",
                ),
                "the primary key of table `people` changed",
                "its own `tablename`",
            ),
        ];
        for (models, message, help) in cases {
            let rendered = refused(&p, &db, &models).await;
            assert!(
                rendered.contains("error[W0025]: model `Person` version `v1`"),
                "{}:\n{rendered}",
                db.name
            );
            assert!(
                rendered.contains(message),
                "{}: want {message:?} in\n{rendered}",
                db.name
            );
            assert!(
                rendered.contains(help),
                "{}: want {help:?} in\n{rendered}",
                db.name
            );
            assert!(rendered.contains("--> models/person.yaml:"), "{rendered}");
        }
        // Nothing changed: the original models start, with the data.
        p.write("models/person.yaml", V1);
        let s = start(p.path(), &db.url).await;
        let all = people(&s).await;
        assert_eq!(all[0]["email"], "keep@x.org");
        assert_eq!(all[0]["age"], 3);
        s.stop().await;
    }
}

#[tokio::test]
async fn a_dropped_field_points_at_the_fields_list() {
    let db = crate::common::db::sqlite();
    let p = project();
    start(p.path(), &db.url).await.stop().await;
    let rendered = refused(
        &p,
        &db,
        &edited(
            "    - { name: kind, type: enum, enum_values: [a, b] }\n",
            "",
        ),
    )
    .await;
    assert_eq!(
        rendered.lines().take(5).collect::<Vec<_>>().join("\n"),
        "error[W0025]: model `Person` version `v1`: field `kind` is no longer declared, but table `people` still has the column and its data\n --> models/person.yaml:7:5\n  |\n7 |     - { name: id, type: uuid, primary_key: true }\n  |     ^^^^^^^^",
    );
}

#[tokio::test]
async fn a_table_weft_did_not_create_is_left_alone() {
    for db in backends().await {
        let store = weft::store::Store::connect(&db.url).await.unwrap();
        weft::with_pool!(&store, pool => {
            sqlx::query("CREATE TABLE people (id TEXT PRIMARY KEY, email TEXT)").execute(pool).await.unwrap();
        });
        store.close().await;
        let p = project();
        let rendered = refused(&p, &db, V1).await;
        assert!(
            rendered.contains("table `people` already exists, and weft did not create it"),
            "{rendered}"
        );
    }
}

#[tokio::test]
async fn a_reload_applies_additive_changes_and_rejects_destructive_ones() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        s.value(
            "create_person",
            json!({"person": {"email": "r@x.org"}}),
            "person",
        )
        .await;
        p.write(
            "models/person.yaml",
            &format!("{V1}    - {{ name: note, type: text }}\n"),
        );
        s.registry.reload().await.unwrap();
        let note = s
            .value(
                "create_person",
                json!({"person": {"email": "n@x.org", "note": "hi"}}),
                "person",
            )
            .await;
        assert_eq!(note["note"], "hi", "{}", db.name);
        p.write("models/person.yaml", V1);
        match s.registry.reload().await {
            Err(weft::versions::Error::Load(d)) => {
                assert!(
                    d.iter()
                        .any(|d| d.code == Code::ModelMigration && d.message.contains("`note`"))
                );
            }
            other => panic!("{}: {other:?}", db.name),
        }
        // The previous state keeps serving.
        let again = s
            .value(
                "create_person",
                json!({"person": {"email": "m@x.org", "note": "still"}}),
                "person",
            )
            .await;
        assert_eq!(again["note"], "still");
        s.stop().await;
    }
}

#[tokio::test]
async fn a_change_the_rows_do_not_allow_is_refused_and_rolled_back() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        for _ in 0..2 {
            s.value(
                "create_person",
                json!({"person": {"email": "twice@x.org"}}),
                "person",
            )
            .await;
        }
        s.stop().await;
        // `unique` on a column holding duplicates: the index cannot be built.
        let models = edited(
            "{ name: email, type: string, required: true }",
            "{ name: email, type: string, required: true, unique: true }",
        ) + "    - { name: extra, type: text }\n";
        let rendered = refused(&p, &db, &models).await;
        assert!(
            rendered.contains("changing table `people` failed"),
            "{}: {rendered}",
            db.name
        );
        // Nothing was applied: not even the new column that came before it.
        p.write("models/person.yaml", V1);
        let s = start(p.path(), &db.url).await;
        let all = people(&s).await;
        assert_eq!(all.as_array().unwrap().len(), 2);
        assert!(all[0].get("extra").is_none(), "{}", all[0]);
        s.stop().await;
    }
}
