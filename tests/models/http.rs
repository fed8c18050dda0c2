//! Models over HTTP, on SQLite and on PostgreSQL: triggers whose schemas come from models
//! (`"context"`, `"Model.variant"`), model versions pinned with the dict context form, and the
//! admin API for model versions (list, toggle, fork) with the workflow API's guard and codes.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::common::TestProject;
use crate::common::db::backends;
use crate::common::server::{Options, json_request, oneshot, request, state};

const MODELS: &str = r#"
kind: ModelDefinition
metadata: { name: Candidate, schema_version: v1 }
spec:
  tablename: candidates
  fields:
    - { name: id, type: uuid, primary_key: true }
    - { name: email, type: string, required: true, unique: true }
    - { name: status, type: enum, enum_values: [new, screening, hired], default: new }
    - { name: ssn, type: string, secure: true }
    - { name: created_at, type: timestamptz }
---
# v2 shares the table and adds a field; staged until an admin enables it.
kind: ModelDefinition
metadata: { name: Candidate, schema_version: v2 }
enabled: false
spec:
  tablename: candidates
  fields:
    - { name: id, type: uuid, primary_key: true }
    - { name: email, type: string, required: true, unique: true }
    - { name: status, type: enum, enum_values: [new, screening, hired], default: new }
    - { name: ssn, type: string, secure: true }
    - { name: created_at, type: timestamptz }
    - { name: nick, type: string }
---
kind: ModelDefinition
metadata: { name: Job }
spec:
  fields:
    - { name: id, type: integer, primary_key: true }
    - { name: title, type: string, required: true }
"#;

const WORKFLOWS: &str = r#"
kind: Workflow
metadata: { name: apply }
spec:
  trigger: { path: /api/candidates, input_schema: context, response_schema: context }
  context: Candidate
  steps:
    - { id: create, kind: model-op, model: Candidate, operation: create, output: candidate }
    - { id: respond, kind: response, source: candidate, status: 201 }
---
kind: Workflow
metadata: { name: apply_explicit }
spec:
  trigger: { path: /api/explicit, input_schema: Candidate.create, response_schema: Candidate.read }
  context: [Candidate, Job]
  steps:
    - { id: create, kind: model-op, model: Candidate, operation: create, output: candidate }
    - { id: respond, kind: response, source: candidate }
---
kind: Workflow
metadata: { name: get_candidate }
spec:
  trigger: { path: "/api/candidates/{id}", method: GET, response_schema: Candidate.expanded }
  context: Candidate
  steps:
    - { id: read, kind: model-op, model: Candidate, operation: read, record_id: "{{ id }}", output: candidate }
    - { id: respond, kind: response, source: candidate }
---
kind: Workflow
metadata: { name: update_candidate }
spec:
  trigger:
    path: "/api/candidates/{id}"
    method: PATCH
    input_schema: Candidate.update
    additional_fields: reject
    response_schema: Candidate.read
  context: Candidate
  steps:
    - { id: update, kind: model-op, model: Candidate, operation: update, record_id: "{{ id }}", output: candidate }
    - { id: respond, kind: response, source: candidate }
---
kind: Workflow
metadata: { name: apply_unchecked }
spec:
  trigger: { path: /api/unchecked }
  context: Candidate
  steps:
    - { id: create, kind: model-op, model: Candidate, operation: create, payload: "{{ candidate }}" }
---
kind: Workflow
metadata: { name: apply_v2 }
spec:
  trigger: { path: /api/v2/candidates, input_schema: context }
  context:
    models:
      - { name: Candidate, version: v2 }
  steps:
    - { id: create, kind: model-op, model: Candidate, operation: create, output: candidate }
    - { id: respond, kind: response, source: candidate }
"#;

fn project() -> TestProject {
    TestProject::new()
        .file("models/candidate.yaml", MODELS)
        .workflow("candidates", WORKFLOWS)
}

#[tokio::test]
async fn context_schemas_validate_input_and_shape_the_response() {
    for db in backends().await {
        let p = project();
        let st = state(p.path(), &db.url, p.app.clone(), Options::default()).await;
        let body = json!({"email": "ada@x.org", "ssn": "123", "extra": "dropped"});
        let r = oneshot(&st, json_request("POST", "/api/candidates", &body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", db.name, r.text);
        assert_eq!(r.body["email"], "ada@x.org");
        assert_eq!(r.body["status"], "new");
        assert!(
            r.body.get("ssn").is_none() && r.body.get("extra").is_none(),
            "{}",
            r.text
        );
        let id = r.body["id"].as_str().unwrap().to_string();

        // The create variant rejects a bad enum value and a missing required field: 422.
        let r = oneshot(
            &st,
            json_request("POST", "/api/candidates", &json!({"status": "fired"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.code(), "validation_failed");
        let fields: Vec<&str> = r.body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["email", "status"]);

        // A secure field of the wrong type is named, its value never echoed.
        let bad = json!({"email": "eve@x.org", "ssn": 123456789});
        let r = oneshot(&st, json_request("POST", "/api/candidates", &bad)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.body["error"]["details"][0]["field"], "ssn");
        assert!(!r.text.contains("123456789"), "{}", r.text);

        // "Model.variant" forms; the expanded variant reads the record back.
        let r = oneshot(
            &st,
            json_request("POST", "/api/explicit", &json!({"email": "bob@x.org"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        let r = oneshot(&st, request("GET", &format!("/api/candidates/{id}"), "")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["email"], "ada@x.org");
        assert!(r.body.get("ssn").is_none());

        // The update variant, with the `{id}` path parameter it does not declare.
        let path = format!("/api/candidates/{id}");
        let r = oneshot(
            &st,
            json_request("PATCH", &path, &json!({"status": "hired"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{}: {}", db.name, r.text);
        assert_eq!(
            (r.body["status"].clone(), r.body["email"].clone()),
            (json!("hired"), json!("ada@x.org"))
        );
        let r = oneshot(
            &st,
            json_request("PATCH", &path, &json!({"status": "fired", "x": 1})),
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        let fields: Vec<&str> = r.body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["status", "x"]);

        // A conflict nobody routes is the documented 500 step_failed, naming the kind.
        let r = oneshot(
            &st,
            json_request("POST", "/api/candidates", &json!({"email": "ada@x.org"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.code(), "step_failed");
        assert_eq!(r.body["error"]["details"]["kind"], "conflict");
        st.registry.store().close().await;
    }
}

#[tokio::test]
async fn unrouted_model_failures_answer_step_failed() {
    for db in backends().await {
        let p = project();
        let st = state(p.path(), &db.url, p.app.clone(), Options::default()).await;
        let r = oneshot(
            &st,
            json_request(
                "POST",
                "/api/unchecked",
                &json!({"candidate": {"status": "fired"}}),
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{}", r.text);
        assert_eq!(r.code(), "step_failed");
        assert_eq!(r.body["error"]["step"], "create");
        assert_eq!(r.body["error"]["details"]["kind"], "validation");
        let fields: Vec<&str> = r.body["error"]["details"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["email", "status"], "{}", db.name);
        let r = oneshot(
            &st,
            request(
                "GET",
                &format!("/api/candidates/{}", uuid::Uuid::new_v4()),
                "",
            ),
        )
        .await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(r.body["error"]["details"]["kind"], "not_found");
        st.registry.store().close().await;
    }
}

fn versions(list: &Value, name: &str) -> Vec<(String, bool, bool)> {
    list[name]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["schema_version"].as_str().unwrap().to_string(),
                v["enabled"].as_bool().unwrap(),
                v["active"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn model_versions_are_pinned_toggled_and_listed() {
    for db in backends().await {
        let p = project();
        let st = state(p.path(), &db.url, p.app.clone(), Options::default()).await;
        let list = oneshot(&st, request("GET", "/admin/models", "")).await;
        assert_eq!(list.status, StatusCode::OK);
        assert_eq!(
            versions(&list.body, "Candidate"),
            [("v1".into(), true, true), ("v2".into(), false, false)],
            "{}",
            db.name
        );
        assert_eq!(list.body["Candidate"][1]["tablename"], "candidates");
        assert_eq!(list.body["Job"][0]["fields"], json!(["id", "title"]));

        // Pinned to v2 (disabled, but a pin is explicit): `nick` is part of its create variant.
        let body = json!({"email": "p@x.org", "nick": "pp"});
        let r = oneshot(&st, json_request("POST", "/api/v2/candidates", &body)).await;
        assert_eq!(r.body["nick"], "pp", "{}: {}", db.name, r.text);
        // Unpinned: v1, which has no `nick` (dropped by the input schema).
        let r = oneshot(
            &st,
            json_request(
                "POST",
                "/api/candidates",
                &json!({"email": "u@x.org", "nick": "uu"}),
            ),
        )
        .await;
        assert!(r.body.get("nick").is_none(), "{}", r.text);

        // Enable v2: the highest enabled version serves unpinned references from now on.
        let t = oneshot(
            &st,
            request("PATCH", "/admin/models/Candidate/v2/toggle", ""),
        )
        .await;
        assert_eq!(t.status, StatusCode::OK, "{}", t.text);
        assert_eq!(
            t.body,
            json!({"name": "Candidate", "schema_version": "v2", "enabled": true})
        );
        let r = oneshot(
            &st,
            json_request(
                "POST",
                "/api/candidates",
                &json!({"email": "w@x.org", "nick": "ww"}),
            ),
        )
        .await;
        assert_eq!(r.body["nick"], "ww", "{}", r.text);
        let list = oneshot(&st, request("GET", "/admin/models", "")).await;
        assert_eq!(
            versions(&list.body, "Candidate"),
            [("v1".into(), true, false), ("v2".into(), true, true)]
        );
        assert_eq!(list.body["Candidate"][1]["toggled"], true);
        st.registry.store().close().await;

        // The flag survives a restart.
        let st = state(p.path(), &db.url, p.app.clone(), Options::default()).await;
        let list = oneshot(&st, request("GET", "/admin/models", "")).await;
        assert_eq!(
            versions(&list.body, "Candidate")[1],
            ("v2".into(), true, true),
            "{}",
            db.name
        );
        st.registry.store().close().await;
    }
}

#[tokio::test]
async fn toggles_that_break_the_project_change_nothing() {
    for db in backends().await {
        let p = project();
        let st = state(p.path(), &db.url, p.app.clone(), Options::default()).await;
        // `apply_explicit` declares Job: disabling its only version leaves it unresolved.
        let r = oneshot(&st, request("PATCH", "/admin/models/Job/v1/toggle", "")).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}: {}",
            db.name,
            r.text
        );
        assert_eq!(r.code(), "project_invalid");
        let details = r.body["error"]["details"].to_string();
        assert!(
            details.contains("W0022") && details.contains("no enabled version"),
            "{details}"
        );
        let list = oneshot(&st, request("GET", "/admin/models", "")).await;
        assert_eq!(versions(&list.body, "Job"), [("v1".into(), true, true)]);
        let r = oneshot(&st, request("PATCH", "/admin/models/Job/v9/toggle", "")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert_eq!(r.code(), "not_found");
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no model `Job` version `v9`")
        );
        st.registry.store().close().await;
    }
}

#[tokio::test]
async fn forks_write_a_staged_copy_sharing_the_table() {
    for db in backends().await {
        let p = project();
        let st = state(p.path(), &db.url, p.app.clone(), Options::default()).await;
        let fork = |from: &str, to: &str| {
            json_request(
                "POST",
                &format!("/admin/models/Candidate/{from}/fork"),
                &json!({"new_version": to}),
            )
        };
        let r = oneshot(&st, fork("v2", "v3")).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}: {}", db.name, r.text);
        assert_eq!(
            r.body,
            json!({"name": "Candidate", "source_version": "v2", "new_version": "v3", "file": "models/Candidate_v3.yaml"})
        );
        let text = std::fs::read_to_string(p.path().join("models/Candidate_v3.yaml")).unwrap();
        assert!(
            text.contains("schema_version: \"v3\"") && text.contains("enabled: false"),
            "{text}"
        );
        assert!(
            text.contains("# v2 shares the table"),
            "comments are kept: {text}"
        );
        let list = oneshot(&st, request("GET", "/admin/models", "")).await;
        let v3 = &list.body["Candidate"][2];
        assert_eq!(
            (v3["schema_version"].clone(), v3["enabled"].clone()),
            (json!("v3"), json!(false))
        );
        assert_eq!(v3["tablename"], "candidates");

        let r = oneshot(&st, fork("v2", "v3")).await;
        assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "conflict"));
        let r = oneshot(&st, fork("v2", "../x")).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );
        let r = oneshot(&st, fork("v7", "v8")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        st.registry.store().close().await;
    }
}

#[tokio::test]
async fn the_model_admin_api_has_the_same_guard() {
    let db = crate::common::db::sqlite();
    let p = project();
    let opts = Options {
        admin_token: Some("s3cret".into()),
        ..Options::default()
    };
    let st = state(p.path(), &db.url, p.app.clone(), opts).await;
    for (method, path) in [
        ("GET", "/admin/models"),
        ("PATCH", "/admin/models/Candidate/v2/toggle"),
        ("POST", "/admin/models/Candidate/v1/fork"),
    ] {
        let r = oneshot(&st, request(method, path, "")).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNAUTHORIZED, "unauthorized"),
            "{path}"
        );
    }
    let mut req = request("GET", "/admin/models", "");
    req.headers_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    assert_eq!(oneshot(&st, req).await.status, StatusCode::OK);
}
