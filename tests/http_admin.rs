//! The admin API over a real socket, on SQLite and on PostgreSQL: auth, listing, toggles (and
//! their persistence across restarts), forks, reloads, and concurrency.

mod common;

use std::path::Path;

use common::TestProject;
use common::db::{TestDb, backends};
use common::server::{Options, TestServer, state};
use serde_json::{Value, json};

const ORDERS: &str = r#"
kind: Workflow
metadata: { name: orders, schema_version: v1 }
spec:
  trigger: { path: "/api/orders/{id}" }
  steps:
    - { id: out, kind: response, mapping: { id: id, served_by: _version } }
---
# v2 is staged until an admin enables it.
kind: Workflow
metadata: { name: orders, schema_version: v2 }
enabled: false
spec:
  trigger: { path: "/api/orders/{oid}" }
  steps:
    - { id: out, kind: response, mapping: { id: oid, served_by: _version } }
"#;

const RIVAL: &str = r#"
kind: Workflow
metadata: { name: rival }
enabled: false
spec:
  trigger: { path: "/api/orders/{x}" }
  steps:
    - { id: out, kind: response, mapping: { rival: x } }
"#;

fn project() -> TestProject {
    TestProject::new()
        .workflow("orders", ORDERS)
        .workflow("rival", RIVAL)
}

async fn start(p: &TestProject, db: &TestDb, opts: Options) -> TestServer {
    TestServer::start(state(p.path(), &db.url, p.app.clone(), opts).await).await
}

struct Client {
    http: reqwest::Client,
    token: Option<String>,
}

impl Client {
    fn new(token: Option<&str>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            http: reqwest::Client::new(),
            token: token.map(str::to_string),
        }
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: String,
        body: Option<Value>,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        let mut req = self.http.request(method, url);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, body, headers)
    }

    async fn fork(
        &self,
        s: &TestServer,
        name: &str,
        version: &str,
        body: Value,
    ) -> (u16, Value, reqwest::header::HeaderMap) {
        self.send(
            reqwest::Method::POST,
            fork_url(s, name, version),
            Some(body),
        )
        .await
    }

    async fn get(&self, url: String) -> (u16, Value) {
        let (s, b, _) = self.send(reqwest::Method::GET, url, None).await;
        (s, b)
    }

    async fn toggle(&self, s: &TestServer, name: &str, version: &str) -> (u16, Value) {
        let (st, b, _) = self
            .send(
                reqwest::Method::PATCH,
                s.url(&format!("/admin/workflows/{name}/{version}/toggle")),
                None,
            )
            .await;
        (st, b)
    }

    async fn order(&self, s: &TestServer, id: &str) -> (u16, Value, Option<String>) {
        let (st, b, h) = self
            .send(
                reqwest::Method::POST,
                s.url(&format!("/api/orders/{id}")),
                Some(json!({})),
            )
            .await;
        (
            st,
            b,
            h.get("x-weft-version")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        )
    }
}

#[tokio::test]
async fn toggling_switches_the_served_version_and_survives_restarts() {
    for db in backends().await {
        let p = project();
        let c = Client::new(None);
        let s = start(&p, &db, Options::default()).await;
        assert_eq!(
            c.order(&s, "7").await,
            (
                200,
                json!({"id": "7", "served_by": "v1"}),
                Some("v1".into())
            ),
            "{}",
            db.name
        );

        // v2 on: the highest enabled version serves, with its own parameter names.
        assert_eq!(
            c.toggle(&s, "orders", "v2").await,
            (
                200,
                json!({"name": "orders", "schema_version": "v2", "enabled": true})
            )
        );
        assert_eq!(
            c.order(&s, "8").await.1,
            json!({"id": "8", "served_by": "v2"}),
            "{}",
            db.name
        );
        // v2 off, v1 off: the path answers 400 deactivated.
        assert_eq!(
            c.toggle(&s, "orders", "v2").await.1["enabled"],
            json!(false)
        );
        assert_eq!(
            c.toggle(&s, "orders", "v1").await.1["enabled"],
            json!(false)
        );
        let (status, body, version) = c.order(&s, "9").await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (400, json!("workflow_disabled")),
            "{}",
            db.name
        );
        assert_eq!(version, None);
        // Now only v2 on, then restart: the stored flags win over the YAML.
        c.toggle(&s, "orders", "v2").await;
        s.stop().await;
        let s = start(&p, &db, Options::default()).await;
        let (_, list) = c.get(s.url("/admin/workflows")).await;
        let versions = &list["orders"];
        assert_eq!(
            versions[0]["enabled"],
            json!(false),
            "{}: v1 stays off after restart",
            db.name
        );
        assert_eq!(
            versions[1]["enabled"],
            json!(true),
            "{}: v2 stays on after restart",
            db.name
        );
        assert_eq!(versions[1]["serving"], json!(true));
        assert_eq!(versions[1]["toggled"], json!(true));
        assert_eq!(c.order(&s, "10").await.1["served_by"], json!("v2"));

        // A YAML edit to a version's steps is picked up on reload; its stored flag is kept.
        p.write(
            "workflows/orders.yaml",
            &ORDERS.replace(
                "served_by: _version",
                "served_by: _version, edited: _workflow",
            ),
        );
        let (st, body, _) = c
            .send(reqwest::Method::POST, s.url("/admin/reload"), None)
            .await;
        assert_eq!(st, 200, "{body}");
        let (_, body, _) = c.order(&s, "11").await;
        assert_eq!(
            body,
            json!({"id": "11", "served_by": "v2", "edited": "orders"}),
            "{}",
            db.name
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn listing_and_not_found() {
    let p = project();
    let db = common::db::sqlite();
    let s = start(&p, &db, Options::default()).await;
    let c = Client::new(None);
    let (status, list) = c.get(s.url("/admin/workflows")).await;
    assert_eq!(status, 200);
    assert_eq!(
        list["orders"][0],
        json!({"schema_version": "v1", "enabled": true, "trigger_path": "/api/orders/{id}", "trigger_method": "POST",
               "description": null, "serving": true, "toggled": false, "file": "workflows/orders.yaml"})
    );
    assert_eq!(list["orders"][1]["serving"], json!(false));
    let (status, body) = c.toggle(&s, "orders", "v9").await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (404, json!("not_found"))
    );
}

#[tokio::test]
async fn a_toggle_that_would_clash_is_refused() {
    let p = project();
    let db = common::db::sqlite();
    let s = start(&p, &db, Options::default()).await;
    let c = Client::new(None);
    let (status, body) = c.toggle(&s, "rival", "v1").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], json!("conflict"));
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("`orders`"),
        "{body}"
    );
    // Free the path, then the rival may serve it.
    c.toggle(&s, "orders", "v1").await;
    assert_eq!(c.toggle(&s, "rival", "v1").await.0, 200);
    assert_eq!(c.order(&s, "3").await.1, json!({"rival": "3"}));
}

#[tokio::test]
async fn admin_auth() {
    let p = project();
    let db = common::db::sqlite();
    let s = start(
        &p,
        &db,
        Options {
            admin_token: Some("s3cret".into()),
            ..Default::default()
        },
    )
    .await;
    let (status, body, headers) = Client::new(None)
        .send(reqwest::Method::GET, s.url("/admin/workflows"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (401, json!("unauthorized"))
    );
    assert_eq!(headers.get("www-authenticate").unwrap(), "Bearer");
    assert_eq!(
        Client::new(Some("wrong"))
            .get(s.url("/admin/workflows"))
            .await
            .0,
        401
    );
    assert_eq!(
        Client::new(Some("s3cret"))
            .get(s.url("/admin/workflows"))
            .await
            .0,
        200
    );
    // Triggers need no token.
    assert_eq!(Client::new(None).order(&s, "1").await.0, 200);
    s.stop().await;

    // No token on a non-loopback bind: the admin API is off.
    let s = start(
        &p,
        &db,
        Options {
            loopback: false,
            ..Default::default()
        },
    )
    .await;
    let (status, body) = Client::new(None).get(s.url("/admin/workflows")).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (403, json!("admin_disabled"))
    );
}

fn fork_url(s: &TestServer, name: &str, version: &str) -> String {
    s.url(&format!("/admin/workflows/{name}/{version}/fork"))
}

#[tokio::test]
async fn fork_writes_a_valid_staged_file() {
    let p = project();
    let db = common::db::sqlite();
    let s = start(&p, &db, Options::default()).await;
    let c = Client::new(None);
    let (status, body, _) = c
        .fork(&s, "orders", "v1", json!({"new_version": "v3"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body,
        json!({"name": "orders", "source_version": "v1", "new_version": "v3", "file": "workflows/orders_v3.yaml"})
    );
    let text = std::fs::read_to_string(p.path().join("workflows/orders_v3.yaml")).unwrap();
    assert!(
        text.contains("schema_version: \"v3\"") && text.contains("enabled: false"),
        "{text}"
    );
    assert!(
        !text.contains("schema_version: v2"),
        "only the source document is copied"
    );

    // Registered at once, staged (disabled); toggling it on serves it.
    let (_, list) = c.get(s.url("/admin/workflows")).await;
    assert_eq!(list["orders"][2]["schema_version"], json!("v3"));
    assert_eq!(list["orders"][2]["enabled"], json!(false));
    assert_eq!(c.order(&s, "1").await.1["served_by"], json!("v1"));
    c.toggle(&s, "orders", "v3").await;
    assert_eq!(c.order(&s, "1").await.1["served_by"], json!("v3"));

    // The written file is a valid project file: `weft validate` accepts the project.
    assert_validates(p.path());

    // 409 on repeat (version exists), and for an existing file.
    let (status, body, _) = c
        .fork(&s, "orders", "v1", json!({"new_version": "v3"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (409, json!("conflict"))
    );
    std::fs::write(p.path().join("workflows/orders_v4.yaml"), "# squatter\n").unwrap();
    let (status, _, _) = c
        .fork(&s, "orders", "v1", json!({"new_version": "v4"}))
        .await;
    assert_eq!(status, 409);
    assert_eq!(
        std::fs::read_to_string(p.path().join("workflows/orders_v4.yaml")).unwrap(),
        "# squatter\n",
        "never overwritten"
    );
}

#[tokio::test]
async fn fork_rejects_unsafe_versions_and_bad_bodies() {
    let p = project();
    let db = common::db::sqlite();
    let s = start(&p, &db, Options::default()).await;
    let c = Client::new(None);
    for bad in ["../x", "a/b", "", "..", &"v".repeat(65)] {
        let (status, body, _) = c
            .fork(&s, "orders", "v1", json!({"new_version": bad}))
            .await;
        assert_eq!(
            (status, body["error"]["code"].clone()),
            (422, json!("validation_failed")),
            "{bad:?}"
        );
    }
    assert!(
        !p.path().join("x.yaml").exists() && !p.path().join("workflows/orders_...yaml").exists()
    );
    let (status, body, _) = c.fork(&s, "orders", "v1", json!({"version": "v3"})).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (422, json!("validation_failed"))
    );
    let resp = reqwest::Client::new()
        .post(fork_url(&s, "orders", "v1"))
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let (status, _, _) = c
        .fork(&s, "orders", "v7", json!({"new_version": "v8"}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn fork_keeps_env_references_unexpanded() {
    let p = TestProject::new().workflow(
        "secret",
        "kind: Workflow\nmetadata: { name: secret }\nspec:\n  steps:\n    - { id: a, kind: functional, runner: set, params: { key: \"${WEFT_TEST_FORK_SECRET:hunter2}\" } }\n",
    );
    let db = common::db::sqlite();
    let s = start(&p, &db, Options::default()).await;
    let (status, _, _) = Client::new(None)
        .fork(&s, "secret", "v1", json!({"new_version": "v2"}))
        .await;
    assert_eq!(status, 201);
    let text = std::fs::read_to_string(p.path().join("workflows/secret_v2.yaml")).unwrap();
    assert!(text.contains("${WEFT_TEST_FORK_SECRET:hunter2}"), "{text}");
}

#[tokio::test]
async fn reload_keeps_the_old_version_when_the_new_yaml_is_broken() {
    let p = project();
    let db = common::db::sqlite();
    let s = start(&p, &db, Options::default()).await;
    let c = Client::new(None);
    p.write("workflows/orders.yaml", "kind: Workflow\nmetadata: { name: orders }\nspec:\n  steps:\n    - { id: out, kind: respons }\n");
    let (status, body, _) = c
        .send(reqwest::Method::POST, s.url("/admin/reload"), None)
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (422, json!("project_invalid")),
        "{body}"
    );
    assert_eq!(body["error"]["details"][0]["code"], json!("W0006"));
    assert_eq!(
        c.order(&s, "5").await.1,
        json!({"id": "5", "served_by": "v1"}),
        "the previous version keeps serving"
    );
}

#[tokio::test]
async fn concurrent_toggles_and_requests_never_see_torn_state() {
    let p = project();
    let db = common::db::sqlite();
    let s = start(&p, &db, Options::default()).await;
    // Start with v2 on: requests are served by v1 or v2, never an error.
    Client::new(None).toggle(&s, "orders", "v2").await;
    let url = s.url("");
    let togglers = (0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for _ in 0..10 {
                let r = http
                    .patch(format!("{url}/admin/workflows/orders/v2/toggle"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        })
    });
    let readers = (0..4).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0..25 {
                let r = http
                    .post(format!("{url}/api/orders/{i}"))
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                let header = r.headers()["x-weft-version"].to_str().unwrap().to_string();
                let body: Value = r.json().await.unwrap();
                assert_eq!(
                    body["served_by"],
                    json!(header),
                    "header and body come from one version"
                );
                assert_eq!(body["id"], json!(i.to_string()));
            }
        })
    });
    for t in togglers.chain(readers) {
        t.await.unwrap();
    }
    // 40 toggles from "on": v2 ends on again, in the store and in memory alike.
    let (_, list) = Client::new(None).get(s.url("/admin/workflows")).await;
    assert_eq!(list["orders"][1]["enabled"], json!(true));
    let stored = s.state.registry.store().workflow_overrides().await.unwrap();
    assert_eq!(
        stored.get(&("orders".to_string(), "v2".to_string())),
        Some(&true)
    );
}

fn assert_validates(root: &Path) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["validate", "--project"])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
