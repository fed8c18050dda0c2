//! HTTP load driver: a 3-step workflow (built-in `set` node → router → response, no database
//! write per request) served by weft, against a bare axum handler answering the same JSON.
//!
//! Server and client each get a one-thread runtime (one core each on a 2-core machine), the
//! client keeps `CONCURRENCY` keep-alive connections busy for `DURATION`, and the driver reports
//! requests/s and latency percentiles.
//!
//! `cargo bench --bench http_load` (environment: `LOAD_SECONDS`, `LOAD_CONCURRENCY`)

#[path = "load/driver.rs"]
mod driver;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Json;
use axum::routing::post;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use weft::App;
use weft::http::AppState;
use weft::versions::Registry;

use driver::{Target, drive, report, runtime};

const WORKFLOW: &str = r#"
kind: Workflow
metadata: { name: bench }
spec:
  trigger: { path: /api/bench }
  steps:
    - id: enrich
      kind: functional
      runner: set
      params: { greeting: "hello {{ name }}", doubled: "{{ amount * 2 }}" }
    - id: check
      kind: router
      condition: { field: amount, operator: gte, value: 100 }
      routes: { "true": big, "false": small }
    - { id: big, kind: response, mapping: { greeting: greeting, size: amount, doubled: doubled }, routes: { default: END } }
    - { id: small, kind: response, mapping: { greeting: greeting, size: amount, doubled: doubled } }
"#;

fn main() {
    let driver::Settings {
        smoke,
        seconds,
        concurrency,
    } = driver::Settings::from_env();
    let server_rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workflows")).unwrap();
    std::fs::write(dir.path().join("workflows/bench.yaml"), WORKFLOW).unwrap();
    let shutdown = CancellationToken::new();

    let weft_addr = server_rt.block_on(start_weft(dir.path(), shutdown.clone()));
    let bare_addr = server_rt.block_on(start_bare(shutdown.clone()));

    let client_rt = runtime();
    let body = json!({"name": "ada", "amount": 150});
    let expected = json!({"greeting": "hello ada", "size": 150, "doubled": 300});
    let check = |v: &Value| v == &expected;
    let bare_target = Target {
        addr: bare_addr,
        path: "/bare",
        body: &body,
        check: &check,
    };
    let weft_target = Target {
        addr: weft_addr,
        path: "/api/bench",
        body: &body,
        check: &check,
    };
    println!(
        "{seconds} s per target, {concurrency} connections, server and client on one thread each\n"
    );
    // Interleaved, best of two each: order effects (caches, CPU frequency) cancel out.
    let mut bare = client_rt.block_on(drive(&bare_target, seconds, concurrency));
    let mut weft = client_rt.block_on(drive(&weft_target, seconds, concurrency));
    if !smoke {
        let bare2 = client_rt.block_on(drive(&bare_target, seconds, concurrency));
        let weft2 = client_rt.block_on(drive(&weft_target, seconds, concurrency));
        bare = if bare2.rps > bare.rps { bare2 } else { bare };
        weft = if weft2.rps > weft.rps { weft2 } else { weft };
    }
    report("bare axum JSON handler", &bare);
    report("weft 3-step workflow", &weft);
    println!(
        "\nweft / bare throughput: {:.0} %",
        100.0 * weft.rps / bare.rps
    );
    shutdown.cancel();
}

async fn start_weft(root: &std::path::Path, shutdown: CancellationToken) -> SocketAddr {
    let url = format!("sqlite://{}", root.join(".weft/weft.db").display());
    let (registry, app, _) = Registry::start(root, &url, App::new())
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

/// The same answer with no engine at all: the ceiling for this machine and driver.
async fn start_bare(shutdown: CancellationToken) -> SocketAddr {
    async fn handler(Json(v): Json<Value>) -> Json<Value> {
        let name = v["name"].as_str().unwrap_or_default();
        let amount = v["amount"].as_i64().unwrap_or_default();
        Json(json!({"greeting": format!("hello {name}"), "size": amount, "doubled": amount * 2}))
    }
    let app = axum::Router::new().route("/bare", post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown.cancelled_owned())
            .await
    });
    addr
}
