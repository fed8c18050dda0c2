//! The `weft serve` binary: start-up, option precedence, refusal on a broken project, graceful
//! shutdown, hot reload.

mod common;

use std::process::Command;
use std::time::Duration;

use common::TestProject;
use common::served::serve;
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

const SLOW: &str = r#"
kind: Workflow
metadata: { name: slow }
spec:
  trigger: { path: /api/slow }
  steps:
    - { id: wait, kind: functional, runner: wait }
    - { id: out, kind: response, mapping: { done: done } }
"#;

#[tokio::test]
async fn serves_logs_triggers_and_drains_on_sigterm() {
    let p = TestProject::new()
        .workflow("slow", SLOW)
        .file(
            "nodes/wait.sh",
            "cat >/dev/null\nsleep 1\necho '{\"done\": true}'\n",
        )
        .file("weft.yaml", "server:\n  addr: 127.0.0.1:0\n");
    let mut s = serve(p.path(), &[], &[]);
    let earlier = s.lines_so_far();
    assert!(
        earlier
            .iter()
            .any(|l| l.contains("POST /api/slow → slow v1")),
        "one line per trigger: {earlier:?}"
    );
    assert!(
        p.path().join(".weft/weft.db").exists(),
        "the default store is created on first start"
    );

    // A request in flight when SIGTERM arrives still gets its answer.
    let url = format!("{}/api/slow", s.base);
    let in_flight = tokio::spawn(async move { client().post(url).json(&json!({})).send().await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(s.child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let resp = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({"done": true}));
    let status = tokio::task::spawn_blocking(move || {
        let st = s.child.wait();
        (st, s)
    })
    .await
    .unwrap();
    assert!(status.0.unwrap().success(), "a graceful shutdown exits 0");
}

#[test]
fn refuses_to_start_with_a_broken_project() {
    let p = TestProject::new().workflow("bad", "kind: Workflow\nmetadata: { name: bad }\nspec:\n  steps:\n    - { id: a, kind: functional, runer: x }\n");
    let out = Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["serve", "--addr", "127.0.0.1:0", "--project"])
        .arg(p.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[W0004]: unknown key `runer`") && err.contains("refusing to start"),
        "{err}"
    );
}

#[tokio::test]
async fn options_precedence_cli_over_env_over_weft_yaml() {
    let p = TestProject::new()
        .workflow("slow", SLOW)
        .file("nodes/wait.sh", "cat >/dev/null\necho '{\"done\": 1}'\n");
    let yaml_db = p.path().join("from-yaml.db");
    let env_db = p.path().join("from-env.db");
    let cli_db = p.path().join("from-cli.db");
    p.write(
        "weft.yaml",
        &format!(
            "server:\n  addr: 127.0.0.1:1\ndatabase:\n  url: sqlite://{}\n",
            yaml_db.display()
        ),
    );
    // env beats weft.yaml (the addr 127.0.0.1:1 would not bind).
    let env_url = format!("sqlite://{}", env_db.display());
    let s = serve(
        p.path(),
        &[],
        &[
            ("WEFT_ADDR", "127.0.0.1:0"),
            ("WEFT_DATABASE_URL", &env_url),
        ],
    );
    assert!(env_db.exists() && !yaml_db.exists());
    drop(s);
    // CLI beats env.
    let cli_url = format!("sqlite://{}", cli_db.display());
    let s = serve(
        p.path(),
        &["--database", &cli_url, "--addr", "127.0.0.1:0"],
        &[
            ("WEFT_ADDR", "127.0.0.1:1"),
            ("WEFT_DATABASE_URL", &env_url),
        ],
    );
    assert!(cli_db.exists());
    let r = client()
        .post(format!("{}/api/slow", s.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn watch_reloads_on_change_and_keeps_serving_on_errors() {
    let p = TestProject::new().workflow(
        "w",
        "kind: Workflow\nmetadata: { name: w }\nspec:\n  trigger: { path: /api/w }\n  steps:\n    - { id: out, kind: response, mapping: { n: one } }\n",
    );
    let mut s = serve(p.path(), &["--watch", "--addr", "127.0.0.1:0"], &[]);
    let url = format!("{}/api/w", s.base);
    let http = client();
    let body = |r: reqwest::Response| async move { r.json::<Value>().await.unwrap() };
    assert_eq!(
        body(
            http.post(&url)
                .json(&json!({"one": 1}))
                .send()
                .await
                .unwrap()
        )
        .await,
        json!({"n": 1})
    );

    p.write("workflows/w.yaml", "kind: Workflow\nmetadata: { name: w }\nspec:\n  trigger: { path: /api/w }\n  steps:\n    - { id: out, kind: response, mapping: { n: two } }\n");
    s.wait_for("reloaded");
    assert_eq!(
        body(
            http.post(&url)
                .json(&json!({"one": 1, "two": 2}))
                .send()
                .await
                .unwrap()
        )
        .await,
        json!({"n": 2})
    );

    p.write("workflows/w.yaml", "kind: Workflow\nmetadata: { name: w }\nspec:\n  trigger: { path: /api/w }\n  steps:\n    - { id: out, kind: respons }\n");
    s.wait_for("the previous version keeps serving");
    assert_eq!(
        body(
            http.post(&url)
                .json(&json!({"two": 2}))
                .send()
                .await
                .unwrap()
        )
        .await,
        json!({"n": 2})
    );
}
