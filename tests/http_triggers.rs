//! Triggers over HTTP: inputs, schemas, status codes and error shapes, through the router.

mod common;

use axum::http::StatusCode;
use common::TestProject;
use common::server::{Options, json_request, oneshot, request, state};
use serde_json::{Value, json};
use weft::http::AppState;

const PROJECT: &[(&str, &str)] = &[
    (
        "workflows/greet.yaml",
        r#"
kind: Workflow
metadata: { name: greet, schema_version: v1 }
spec:
  trigger:
    path: /api/greet
    input_schema:
      - { name: name, type: string, required: true }
      - { name: times, type: integer, default: 1 }
    response_schema:
      - { name: message, type: string, required: true }
  steps:
    - id: say
      kind: functional
      runner: set
      params: { message: "{{ ('hi ' ~ name ~ ' ') * times }}" }
    - { id: out, kind: response, mapping: { message: message } }
---
kind: Workflow
metadata: { name: greet, schema_version: v2 }
enabled: false
spec:
  trigger: { path: /api/greet }
  steps:
    - { id: out, kind: response, status: 201, mapping: { message: name, version: _version } }
"#,
    ),
    (
        "workflows/items.yaml",
        r#"
kind: Workflow
metadata: { name: item }
spec:
  trigger:
    path: /api/items/{id}
    method: GET
    input_schema:
      - { name: id, type: integer, required: true }
      - { name: verbose, type: boolean }
      - { name: tags, type: array }
  steps:
    - { id: big, kind: router, condition: { field: id, operator: gt, value: 100 }, routes: { "true": large } }
    - { id: small, kind: response, mapping: { id: id, size: verbose, tags: tags }, routes: { default: END } }
    - { id: large, kind: response, headers: { X-Size: large }, mapping: { id: id } }
"#,
    ),
    (
        "workflows/failures.yaml",
        r#"
kind: Workflow
metadata: { name: boom }
spec:
  trigger: { path: /api/boom }
  steps:
    - { id: explode, kind: functional, runner: fail, params: { message: "kaboom" } }
---
kind: Workflow
metadata: { name: spin }
spec:
  trigger: { path: /api/spin }
  max_steps: 5
  steps:
    - { id: a, kind: functional, runner: noop, routes: { default: a } }
---
kind: Workflow
metadata: { name: later }
spec:
  trigger: { path: /api/later }
  steps:
    - { id: review, kind: HumanInTheLoop }
---
kind: Workflow
metadata: { name: badresp }
spec:
  trigger:
    path: /api/badresp
    response_schema:
      - { name: id, type: integer, required: true }
  steps:
    - { id: out, kind: response, mapping: { id: name } }
---
kind: Workflow
metadata: { name: off }
enabled: false
spec:
  trigger: { path: /api/off }
  steps:
    - { id: a, kind: functional, runner: noop }
"#,
    ),
    (
        "workflows/misc.yaml",
        r#"
kind: Workflow
metadata: { name: strict }
spec:
  trigger:
    path: /api/strict
    additional_fields: reject
    input_schema:
      - { name: a, type: string }
  steps:
    - { id: a, kind: functional, runner: noop }
---
kind: Workflow
metadata: { name: echo }
spec:
  trigger: { path: "/api/echo/{id}", method: PUT }
  steps:
    - { id: out, kind: response, mapping: { id: id, query: _query, body: body } }
---
kind: Workflow
metadata: { name: internal }
spec:
  steps:
    - { id: out, kind: response, mapping: { got: x } }
"#,
    ),
];

async fn server() -> (TestProject, common::db::TestDb, AppState) {
    let mut p = TestProject::new();
    for (file, text) in PROJECT {
        p = p.file(file, text);
    }
    let db = common::db::sqlite();
    let st = state(
        p.path(),
        &db.url,
        p.app.clone(),
        Options {
            body_limit: 4096,
            ..Default::default()
        },
    )
    .await;
    (p, db, st)
}

fn assert_error(r: &common::server::Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text);
    assert_eq!(r.code(), code, "{}", r.text);
    assert_eq!(
        r.header("content-type"),
        Some("application/json"),
        "errors are JSON"
    );
    assert!(
        r.body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn success_has_run_id_version_and_body() {
    let (_p, _db, st) = server().await;
    let r = oneshot(
        &st,
        json_request("POST", "/api/greet", &json!({"name": "ada", "times": 2})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!({"message": "hi ada hi ada "}));
    assert_eq!(r.header("x-weft-version"), Some("v1"));
    let run_id = uuid::Uuid::parse_str(r.header("x-weft-run-id").unwrap()).unwrap();
    assert_eq!(run_id.get_version_num(), 7, "run ids are UUID v7");
}

#[tokio::test]
async fn input_validation_names_every_bad_field() {
    let (_p, _db, st) = server().await;
    let r = oneshot(
        &st,
        json_request("POST", "/api/greet", &json!({"times": "two", "extra": 1})),
    )
    .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let details = r.body["error"]["details"].as_array().unwrap();
    let fields: Vec<&str> = details
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "times"]);
    assert_eq!(details[1]["expected"], json!("integer"));
    assert_eq!(details[1]["found"], json!("string \"two\""));
    assert_eq!(r.header("x-weft-version"), Some("v1"));

    // Undeclared fields are dropped by default, rejected when the trigger says so.
    let r = oneshot(
        &st,
        json_request("POST", "/api/greet", &json!({"name": "x", "extra": 1})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = oneshot(
        &st,
        json_request("POST", "/api/strict", &json!({"a": "x", "zz": 1})),
    )
    .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(r.body["error"]["details"][0]["field"], json!("zz"));
}

#[tokio::test]
async fn body_must_be_a_json_object_whatever_the_content_type() {
    let (_p, _db, st) = server().await;
    let r = oneshot(&st, request("POST", "/api/greet", "name=ada")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "invalid_json");
    let r = oneshot(&st, request("POST", "/api/greet", "[1, 2]")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/api/greet")
        .header("content-type", "text/plain")
        .body(axum::body::Body::from(r#"{"name": "typed-as-text"}"#))
        .unwrap();
    let r = oneshot(&st, req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

#[tokio::test]
async fn get_query_and_path_parameters_are_coerced() {
    let (_p, _db, st) = server().await;
    let r = oneshot(
        &st,
        request("GET", "/api/items/7?verbose=true&tags=a&tags=b", ""),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!({"id": 7, "size": true, "tags": ["a", "b"]}));
    let r = oneshot(&st, request("GET", "/api/items/8?tags=solo", "")).await;
    assert_eq!(
        r.body["tags"],
        json!(["solo"]),
        "one value for a list field is a list: {}",
        r.text
    );
    let r = oneshot(&st, request("GET", "/api/items/500", "")).await;
    assert_eq!(r.body, json!({"id": 500}));
    assert_eq!(r.header("x-size"), Some("large"));
    let r = oneshot(&st, request("GET", "/api/items/seven", "")).await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(r.body["error"]["details"][0]["field"], json!("id"));
}

#[tokio::test]
async fn path_wins_over_body_and_query_is_under_underscore_query() {
    let (_p, _db, st) = server().await;
    let r = oneshot(
        &st,
        json_request(
            "PUT",
            "/api/echo/a%20b?x=1",
            &json!({"id": "from-body", "body": true}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"id": "a b", "query": {"x": "1"}, "body": true})
    );
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let (_p, _db, st) = server().await;
    let r = oneshot(&st, request("POST", "/api/nope", "{}")).await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
    let r = oneshot(&st, request("DELETE", "/api/greet", "")).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(r.header("allow"), Some("POST"));
    let r = oneshot(&st, request("DELETE", "/healthz", "")).await;
    assert_error(&r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn disabled_workflows_answer_400() {
    let (_p, _db, st) = server().await;
    let r = oneshot(&st, request("POST", "/api/off", "{}")).await;
    assert_error(&r, StatusCode::BAD_REQUEST, "workflow_disabled");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deactivated")
    );
}

#[tokio::test]
async fn run_failures_are_500_with_step_and_kind() {
    let (_p, _db, st) = server().await;
    let r = oneshot(&st, request("POST", "/api/boom", "{}")).await;
    assert_error(&r, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
    assert_eq!(r.body["error"]["step"], json!("explode"));
    assert_eq!(r.body["error"]["details"]["kind"], json!("node_error"));
    assert!(r.body["error"]["run_id"].is_string());
    assert_eq!(
        r.header("x-weft-run-id"),
        r.body["error"]["run_id"].as_str()
    );

    let r = oneshot(&st, request("POST", "/api/spin", "{}")).await;
    assert_error(&r, StatusCode::INTERNAL_SERVER_ERROR, "max_steps_exceeded");
    let r = oneshot(&st, request("POST", "/api/later", "{}")).await;
    assert_error(&r, StatusCode::INTERNAL_SERVER_ERROR, "not_implemented");
    let r = oneshot(
        &st,
        json_request("POST", "/api/badresp", &json!({"name": "not-a-number"})),
    )
    .await;
    assert_error(
        &r,
        StatusCode::INTERNAL_SERVER_ERROR,
        "response_schema_violation",
    );
    assert_eq!(r.body["error"]["details"][0]["field"], json!("id"));
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let (_p, _db, st) = server().await;
    let big = json!({"name": "x".repeat(10_000)});
    let r = oneshot(&st, json_request("POST", "/api/greet", &big)).await;
    assert_error(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[tokio::test]
async fn pinned_runs() {
    let (_p, _db, st) = server().await;
    let r = oneshot(
        &st,
        json_request(
            "POST",
            "/workflows/internal/versions/v1/run",
            &json!({"x": 42}),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body, json!({"got": 42}));
    assert_eq!(r.header("x-weft-version"), Some("v1"));
    // Same validation as the trigger.
    let r = oneshot(
        &st,
        json_request("POST", "/workflows/greet/versions/v1/run", &json!({})),
    )
    .await;
    assert_error(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let r = oneshot(
        &st,
        json_request(
            "POST",
            "/workflows/greet/versions/v2/run",
            &json!({"name": "x"}),
        ),
    )
    .await;
    assert_error(&r, StatusCode::BAD_REQUEST, "workflow_disabled");
    assert_eq!(r.header("x-weft-version"), Some("v2"));
    let r = oneshot(
        &st,
        json_request("POST", "/workflows/greet/versions/v9/run", &json!({})),
    )
    .await;
    assert_error(&r, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn health_readiness_and_openapi() {
    let (_p, _db, st) = server().await;
    let r = oneshot(&st, request("GET", "/healthz", "")).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::OK, json!({"status": "ok"}))
    );
    let r = oneshot(&st, request("GET", "/readyz", "")).await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::OK, json!({"status": "ready"}))
    );
    let r = oneshot(&st, request("GET", "/openapi.json", "")).await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = &r.body;
    assert_eq!(doc["openapi"], json!("3.1.0"));
    let greet = &doc["paths"]["/api/greet"]["post"];
    assert_eq!(greet["x-weft-version"], json!("v1"));
    assert_eq!(
        greet["requestBody"]["content"]["application/json"]["schema"]["required"],
        json!(["name"])
    );
    let item = &doc["paths"]["/api/items/{id}"]["get"];
    let params: Vec<&Value> = item["parameters"].as_array().unwrap().iter().collect();
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "id" && p["in"] == "path")
    );
    assert!(
        params
            .iter()
            .any(|p| p["name"] == "verbose" && p["in"] == "query")
    );
    assert!(
        doc["paths"].get("/api/off").is_none(),
        "disabled triggers are not documented"
    );
}
