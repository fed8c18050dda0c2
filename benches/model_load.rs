//! HTTP load driver for data models: a workflow doing one `create` and one `read` of a declared
//! model per request, served by weft on SQLite and on PostgreSQL (PostgreSQL from
//! `WEFT_TEST_POSTGRES_URL` when set: a fresh database, dropped afterwards).
//!
//! Server and client each get a one-thread runtime; the client keeps `LOAD_CONCURRENCY`
//! keep-alive connections busy for `LOAD_SECONDS` per backend, best of two runs.
//!
//! `cargo bench --bench model_load`

#[path = "load/driver.rs"]
mod driver;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use sqlx::Connection as _;
use tokio_util::sync::CancellationToken;
use weft::App;
use weft::http::AppState;
use weft::versions::Registry;

use driver::{Target, drive, report, runtime};

const MODEL: &str = r#"
kind: ModelDefinition
metadata: { name: Applicant }
spec:
  tablename: applicants
  fields:
    - { name: id, type: uuid, primary_key: true }
    - { name: name, type: string, required: true }
    - { name: score, type: float }
    - { name: status, type: enum, enum_values: [new, done], default: new }
    - { name: created_at, type: timestamptz }
"#;

const WORKFLOW: &str = r#"
kind: Workflow
metadata: { name: apply }
spec:
  trigger: { path: /api/apply, input_schema: context }
  context: Applicant
  steps:
    - { id: create, kind: model-op, model: Applicant, operation: create, output: created }
    - { id: read, kind: model-op, model: Applicant, operation: read, record_id: "{{ created.id }}", output: applicant }
    - { id: respond, kind: response, source: applicant }
"#;

fn main() {
    let driver::Settings {
        smoke,
        seconds,
        concurrency,
    } = driver::Settings::from_env();
    let server_rt = runtime();
    let client_rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    for (file, text) in [
        ("models/applicant.yaml", MODEL),
        ("workflows/apply.yaml", WORKFLOW),
    ] {
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    println!(
        "one create + one read per request; {seconds} s per backend, {concurrency} connections, server and client on one thread each\n"
    );
    let sqlite = format!("sqlite://{}", dir.path().join(".weft/weft.db").display());
    let mut backends = vec![("sqlite", sqlite, None)];
    match std::env::var("WEFT_TEST_POSTGRES_URL") {
        Ok(admin) if !admin.is_empty() => {
            let (url, name) = server_rt.block_on(fresh_database(&admin));
            backends.push(("postgres", url, Some((admin, name))));
        }
        _ => println!("WEFT_TEST_POSTGRES_URL is not set: SQLite only\n"),
    }
    let body = json!({"name": "ada", "score": 7.5});
    let check = |v: &Value| {
        v["name"] == "ada" && v["score"] == 7.5 && v["status"] == "new" && v["id"].is_string()
    };
    for (name, url, cleanup) in backends {
        let shutdown = CancellationToken::new();
        let addr = server_rt.block_on(start(dir.path(), &url, shutdown.clone()));
        let target = Target {
            addr,
            path: "/api/apply",
            body: &body,
            check: &check,
        };
        let mut best = client_rt.block_on(drive(&target, seconds, concurrency));
        if !smoke {
            let again = client_rt.block_on(drive(&target, seconds, concurrency));
            if again.rps > best.rps {
                best = again;
            }
        }
        report(&format!("create+read ({name})"), &best);
        shutdown.cancel();
        if let Some((admin, database)) = cleanup {
            server_rt.block_on(drop_database(&admin, &database));
        }
    }
}

async fn start(root: &Path, url: &str, shutdown: CancellationToken) -> SocketAddr {
    let (registry, app, _) = Registry::start(root, url, App::new())
        .await
        .expect("bench project starts");
    let state = AppState {
        registry: Arc::new(registry),
        engine: app.engine(),
        body_limit: 1 << 20,
        admin_token: None,
        loopback: true,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(weft::http::serve_on(listener, state, shutdown));
    addr
}

/// A new database on the server of `admin_url`: (its URL, its name).
async fn fresh_database(admin_url: &str) -> (String, String) {
    let name = format!("weft_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(admin_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .unwrap();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url, String::new()),
    };
    let host_end = base
        .rfind('/')
        .filter(|&i| i > base.find("://").map_or(0, |s| s + 2));
    let url = format!("{}/{name}{query}", &base[..host_end.unwrap_or(base.len())]);
    (url, name)
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut conn) = sqlx::PgConnection::connect(admin_url).await {
        let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
        let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await;
    }
}
