//! The `model-op` step on SQLite and on PostgreSQL (same bodies, both backends): every
//! operation, every type and default, the read variant (secure fields never returned), and every
//! failure kind with its route. Relations and lists are in `lists.rs`.

use crate::common::db::backends;
use crate::fixtures::project;
use crate::support::{Started, start};
use serde_json::{Value, json};
use weft::engine::FailureKind;

/// A candidate with every field set.
fn full_candidate(email: &str) -> Value {
    json!({
        "email": email,
        "name": "Ada Lovelace",
        "status": "screening",
        "score": 8.5,
        "rating": 4.25,
        "years": 12,
        "big": 9_007_199_254_740_993_i64,
        "active": false,
        "profile": {"skills": ["math", "engines"], "remote": true, "level": null},
        "ref_code": "6F9619FF-8B86-D011-B42D-00C04FC964FF",
        "token": "t-1",
        "birthday": "1815-12-10",
        "applied_on": "2026-01-05",
        "seen_at": "2026-01-05T10:11:12.5",
        "interview_at": "2026-02-01T09:30:00+01:00",
        "ssn": "123-45-6789"
    })
}

pub async fn create(s: &Started, candidate: Value) -> Value {
    s.value(
        "create_candidate",
        json!({"candidate": candidate}),
        "candidate",
    )
    .await
}

fn is_uuid(v: &Value) -> bool {
    v.as_str()
        .is_some_and(|s| uuid::Uuid::parse_str(s).is_ok() && s == s.to_lowercase())
}

#[tokio::test]
async fn create_returns_the_read_variant_with_every_type_in_one_shape() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let c = create(&s, full_candidate("ada@example.com")).await;
        let mut fixed = c.clone();
        for generated in ["id", "created_at", "updated_at"] {
            fixed.as_object_mut().unwrap().remove(generated);
        }
        assert_eq!(
            fixed,
            json!({
                "email": "ada@example.com",
                "name": "Ada Lovelace",
                "status": "screening",
                "score": 8.5,
                "rating": 4.25,
                "years": 12,
                "big": 9_007_199_254_740_993_i64,
                "active": false,
                "profile": {"skills": ["math", "engines"], "remote": true, "level": null},
                "ref_code": "6f9619ff-8b86-d011-b42d-00c04fc964ff",
                "token": "t-1",
                "birthday": "1815-12-10",
                "applied_on": "2026-01-05",
                "seen_at": "2026-01-05T10:11:12.500000",
                "interview_at": "2026-02-01T08:30:00.000000Z"
            }),
            "{}",
            db.name
        );
        assert!(is_uuid(&c["id"]), "{}: {c}", db.name);
        let version = uuid::Uuid::parse_str(c["id"].as_str().unwrap())
            .unwrap()
            .get_version_num();
        assert_eq!(version, 7, "generated keys are time-ordered v7");
        let created = c["created_at"].as_str().unwrap();
        assert!(created.ends_with('Z') && created.len() == 27, "{created}");
        assert_eq!(c["created_at"], c["updated_at"]);
        // Read back: the same record, the same shape.
        let read = s
            .value("read_candidate", json!({"id": c["id"]}), "candidate")
            .await;
        assert_eq!(read, c, "{}", db.name);
        s.stop().await;
    }
}

#[tokio::test]
async fn defaults_fill_what_a_create_leaves_out() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let today = chrono::Utc::now().date_naive().to_string();
        let c = create(&s, json!({"email": "min@example.com"})).await;
        assert_eq!(c["status"], "new", "{}", db.name);
        assert_eq!(c["years"], 0);
        assert_eq!(c["active"], true);
        assert!(is_uuid(&c["ref_code"]), "{c}");
        assert_eq!(
            uuid::Uuid::parse_str(c["ref_code"].as_str().unwrap())
                .unwrap()
                .get_version_num(),
            4,
            "uuid4 defaults are random v4"
        );
        assert!(
            is_uuid(&c["token"]),
            "a string field with `uuid4` gets one too"
        );
        assert_eq!(c["applied_on"], json!(today));
        let seen = c["seen_at"].as_str().unwrap();
        assert!(seen.starts_with(&today) && !seen.ends_with('Z'), "{seen}");
        for absent in [
            "name",
            "score",
            "rating",
            "big",
            "profile",
            "birthday",
            "interview_at",
        ] {
            assert_eq!(c[absent], Value::Null, "{absent}");
        }
        // An explicit null takes the default too.
        let c = create(&s, json!({"email": "nul@example.com", "status": null})).await;
        assert_eq!(c["status"], "new");
        s.stop().await;
    }
}

#[tokio::test]
async fn secure_fields_are_written_but_never_returned() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let c = create(&s, full_candidate("s@example.com")).await;
        assert!(c.get("ssn").is_none(), "{}: {c}", db.name);
        let read = s
            .value("read_candidate", json!({"id": c["id"]}), "candidate")
            .await;
        assert!(read.get("ssn").is_none());
        // The value is stored: a secure field still takes part in updates.
        let updated = s
            .value(
                "update_candidate",
                json!({"id": c["id"], "changes": {"ssn": "987-65-4321"}}),
                "candidate",
            )
            .await;
        assert!(updated.get("ssn").is_none());
        // A bad secure value is named, never shown.
        let e = s
            .failure(
                "update_candidate",
                json!({"id": c["id"], "changes": {"ssn": 123456789}}),
            )
            .await;
        let f = e.failure.unwrap();
        assert_eq!(f.kind, FailureKind::Validation);
        let details = f.details.unwrap().to_string();
        assert!(
            details.contains("ssn") && !details.contains("123456789"),
            "{details}"
        );
        assert!(!f.message.contains("123456789"), "{}", f.message);
        s.stop().await;
    }
}

#[tokio::test]
async fn update_changes_only_what_the_payload_names() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let c = create(&s, full_candidate("u@example.com")).await;
        let updated = s
            .value(
                "update_candidate",
                json!({"id": c["id"], "changes": {"status": "hired", "score": 9.0, "name": null}}),
                "candidate",
            )
            .await;
        assert_eq!(updated["status"], "hired", "{}", db.name);
        assert_eq!(updated["score"], 9.0);
        assert_eq!(updated["name"], Value::Null);
        assert_eq!(updated["email"], c["email"]);
        assert_eq!(updated["created_at"], c["created_at"]);
        assert!(
            updated["updated_at"].as_str() >= c["updated_at"].as_str(),
            "updated_at moves forward"
        );
        // The key and audit fields in a payload are ignored: a read record can be sent back.
        let mut whole = updated.clone();
        whole["years"] = json!(13);
        whole["created_at"] = json!("2000-01-01T00:00:00Z");
        let again = s
            .value(
                "update_candidate",
                json!({"id": c["id"], "changes": whole}),
                "candidate",
            )
            .await;
        assert_eq!(again["years"], 13);
        assert_eq!(again["created_at"], c["created_at"]);
        assert_eq!(again["id"], c["id"]);
        s.stop().await;
    }
}

#[tokio::test]
async fn delete_then_every_operation_reports_not_found() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let c = create(&s, json!({"email": "d@example.com"})).await;
        // Upper-case input: the id comes back canonical.
        let upper = c["id"].as_str().unwrap().to_uppercase();
        let out = s
            .value("delete_candidate", json!({"id": upper}), "delete_result")
            .await;
        assert_eq!(out, json!({"deleted": true, "id": c["id"]}), "{}", db.name);
        for (wf, input) in [
            ("read_candidate", json!({"id": c["id"]})),
            ("delete_candidate", json!({"id": c["id"]})),
            (
                "update_candidate",
                json!({"id": c["id"], "changes": {"name": "x"}}),
            ),
        ] {
            let f = s.failure(wf, input).await.failure.unwrap();
            assert_eq!(f.kind, FailureKind::NotFound, "{wf}: {}", f.message);
            assert!(
                f.message.contains(c["id"].as_str().unwrap()),
                "{}",
                f.message
            );
        }
        s.stop().await;
    }
}

#[tokio::test]
async fn payloads_are_checked_against_the_model_naming_every_field() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let bad = json!({
            "status": "fired",
            "score": "high",
            "years": 1.5,
            "birthday": "10/12/1815",
            "nickname": "x"
        });
        let f = s
            .failure("create_candidate", json!({"candidate": bad}))
            .await
            .failure
            .unwrap();
        assert_eq!(f.kind, FailureKind::Validation, "{}", db.name);
        let details = f.details.unwrap();
        let fields: Vec<&str> = details
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["nickname", "email", "status", "score", "years", "birthday"],
            "{details}"
        );
        let status = &details[2];
        assert_eq!(status["expected"], "one of new, screening, hired");
        assert_eq!(status["found"], "string \"fired\"");
        assert_eq!(details[1]["found"], "nothing (the field is required)");
        assert!(f.message.contains("`email`"), "{}", f.message);
        // A payload that is not an object, and a key of the wrong type.
        let f = s
            .failure("create_candidate", json!({"candidate": [1, 2]}))
            .await
            .failure
            .unwrap();
        assert_eq!(f.kind, FailureKind::Validation);
        let f = s
            .failure("read_candidate", json!({"id": "not-a-uuid"}))
            .await
            .failure
            .unwrap();
        assert_eq!(f.kind, FailureKind::Validation);
        assert_eq!(f.details.unwrap()[0]["field"], "record_id");
        s.stop().await;
    }
}

#[tokio::test]
async fn unique_violations_are_conflicts_routed_by_kind() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        create(&s, json!({"email": "dup@example.com", "ssn": "111"})).await;
        let f = s
            .failure(
                "create_candidate",
                json!({"candidate": {"email": "dup@example.com"}}),
            )
            .await
            .failure
            .unwrap();
        assert_eq!(f.kind, FailureKind::Conflict, "{}: {}", db.name, f.message);
        assert_eq!(f.details, Some(json!({"fields": ["email"]})));
        assert!(!f.message.contains("dup@example.com"), "{}", f.message);
        // Routed: `conflict` is taken before `error`; other failures take `error`.
        let out = s
            .run(
                "create_routed",
                json!({"candidate": {"email": "dup@example.com"}}),
            )
            .await
            .unwrap();
        assert_eq!(out.context.get("outcome"), Some(&json!("duplicate")));
        assert_eq!(out.context.get("kind"), Some(&json!("conflict")));
        let out = s
            .run("create_routed", json!({"candidate": {"email": 5}}))
            .await
            .unwrap();
        assert_eq!(out.context.get("outcome"), Some(&json!("other")));
        assert_eq!(out.context.get("kind"), Some(&json!("validation")));
        let out = s
            .run(
                "create_routed",
                json!({"candidate": {"email": "new@example.com"}}),
            )
            .await
            .unwrap();
        assert_eq!(out.context.get("outcome"), Some(&json!("created")));
        // The same key twice is a conflict on the key.
        let c = create(&s, json!({"email": "k1@example.com"})).await;
        let f = s
            .failure(
                "create_candidate",
                json!({"candidate": {"id": c["id"], "email": "k2@example.com"}}),
            )
            .await
            .failure
            .unwrap();
        assert_eq!(f.kind, FailureKind::Conflict);
        assert_eq!(f.details, Some(json!({"fields": ["id"]})));
        s.stop().await;
    }
}

#[tokio::test]
async fn a_database_error_is_a_database_failure() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        // The table disappears behind weft's back.
        weft::with_pool!(s.registry.store(), pool => {
            sqlx::query("DROP TABLE candidates").execute(pool).await.unwrap();
        });
        let f = s
            .failure("read_candidate", json!({"id": uuid::Uuid::new_v4()}))
            .await
            .failure
            .unwrap();
        assert_eq!(f.kind, FailureKind::Database, "{}: {}", db.name, f.message);
        assert!(f.message.contains("candidates"), "{}", f.message);
        s.stop().await;
    }
}

#[tokio::test]
async fn without_a_store_a_model_op_fails_with_database() {
    let p = project();
    let out = p
        .run("read_candidate", json!({"id": uuid::Uuid::new_v4()}))
        .await
        .unwrap_err();
    let f = out.failure.unwrap();
    assert_eq!(f.kind, FailureKind::Database);
    assert!(f.message.contains("no database"), "{}", f.message);
}
