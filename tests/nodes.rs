//! Functional nodes: external programs (Python, shell, JS, any executable) over the stdin/stdout
//! protocol, their failure modes, and Rust-registered nodes.

mod common;

use common::TestProject;
use serde_json::json;
use weft::engine::RunErrorCode;
use weft::{App, NodeOutput};

fn one_step(runner: &str, extra: &str) -> String {
    format!(
        "kind: Workflow\nmetadata: {{ name: t }}\nspec:\n  steps:\n    - id: call\n      kind: functional\n      runner: {runner}\n{extra}\n    - id: after\n      kind: functional\n      runner: noop\n"
    )
}

fn err_of(r: Result<weft::RunOutput, weft::RunError>) -> weft::RunError {
    match r {
        Ok(out) => panic!("expected a failure, got {}", out.body()),
        Err(e) => e,
    }
}

#[tokio::test]
async fn python_node_three_return_forms() {
    let p = TestProject::new()
        .file(
            "nodes/classify.py",
            r#"import json, sys
call = json.load(sys.stdin)
ctx = call["context"]
mode = call["params"]["mode"]
if mode == "signal":
    print(json.dumps("picked"))
elif mode == "context":
    print(json.dumps({"doubled": ctx["n"] * 2}))
else:
    ctx["step"] = call["step_id"]
    print(json.dumps([ctx, "both"]))
"#,
        )
        .workflow(
            "t",
            r#"kind: Workflow
metadata: { name: t }
spec:
  steps:
    - id: call
      kind: functional
      runner: classify
      params: { mode: "{{ mode }}" }
      routes: { picked: END, both: END }
"#,
        );
    let out = p.run("t", json!({"n": 2, "mode": "signal"})).await.unwrap();
    assert_eq!(
        out.body(),
        json!({"n": 2, "mode": "signal"}),
        "a signal leaves the context unchanged"
    );

    let out = p
        .run("t", json!({"n": 2, "mode": "context"}))
        .await
        .unwrap();
    assert_eq!(
        out.body(),
        json!({"doubled": 4}),
        "an object replaces the public context"
    );

    let out = p.run("t", json!({"n": 2, "mode": "pair"})).await.unwrap();
    assert_eq!(out.body()["step"], json!("call"));
    assert_eq!(out.body()["n"], json!(2));
}

#[tokio::test]
async fn shell_js_and_executable_nodes() {
    let p = TestProject::new()
        .file(
            "nodes/shout.sh",
            "#!/usr/bin/env bash\ncat >/dev/null\necho '{\"said\": \"hi from bash\"}'\n",
        )
        .executable(
            "nodes/plain",
            "#!/bin/sh\ncat >/dev/null\necho '\"custom\"'\n",
        )
        .workflow(
            "t",
            r#"kind: Workflow
metadata: { name: t }
spec:
  steps:
    - { id: a, kind: functional, runner: plain, routes: { custom: b } }
    - { id: never, kind: functional, runner: fail }
    - { id: b, kind: functional, runner: shout }
"#,
        );
    assert_eq!(
        p.run("t", json!({})).await.unwrap().body(),
        json!({"said": "hi from bash"})
    );

    if which("node") {
        let p = TestProject::new()
            .file(
                "nodes/js.js",
                "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const c=JSON.parse(s);console.log(JSON.stringify({js: c.params.x + 1}))});\n",
            )
            .workflow("t", &one_step("js", "      params: { x: 41 }"));
        assert_eq!(
            p.run("t", json!({})).await.unwrap().body(),
            json!({"js": 42})
        );
    }
}

#[tokio::test]
async fn crashing_node_is_a_node_error_with_stderr() {
    let p = TestProject::new()
        .file("nodes/crash.py", "import sys\nsys.stdin.read()\nsys.stderr.write('Traceback: database exploded\\n')\nsys.exit(3)\n")
        .workflow("t", &one_step("crash", ""));
    let e = err_of(p.run("t", json!({})).await);
    assert_eq!(e.code, RunErrorCode::StepFailed);
    assert_eq!(e.step.as_deref(), Some("call"));
    let f = e.failure.expect("failure");
    assert_eq!(f.kind.as_str(), "node_error");
    assert!(f.message.contains("exited with 3"), "{}", f.message);
    assert!(
        f.message.contains("database exploded"),
        "stderr tail kept: {}",
        f.message
    );
    assert_eq!(
        e.context.get("_last_error_type"),
        Some(&json!("node_error"))
    );
}

#[tokio::test]
async fn garbage_output_is_a_node_error_and_routes_to_error() {
    let p = TestProject::new()
        .file(
            "nodes/garbage.sh",
            "cat >/dev/null\necho 'this is not json {'\n",
        )
        .workflow(
            "t",
            r#"kind: Workflow
metadata: { name: t }
spec:
  steps:
    - { id: call, kind: functional, runner: garbage, routes: { error: recover } }
    - { id: never, kind: functional, runner: fail }
    - { id: recover, kind: response, mapping: { error: _last_error, kind: _last_error_type } }
"#,
        );
    let body = p.run("t", json!({})).await.unwrap().body();
    assert_eq!(body["kind"], json!("node_error"));
    assert!(
        body["error"].as_str().unwrap().contains("invalid JSON"),
        "{body}"
    );
}

#[tokio::test]
async fn hanging_node_times_out_and_its_children_die() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("child.pid");
    let script = format!(
        "#!/usr/bin/env bash\nsleep 300 &\necho $! > {}\nsleep 300\n",
        pid_file.display()
    );
    let p = TestProject::new().file("nodes/hang.sh", &script).workflow(
        "t",
        &one_step(
            "hang",
            "      timeout: 500ms\n      routes: { timeout: after }",
        ),
    );
    let out = p.run("t", json!({})).await.expect("timeout is routed");
    assert_eq!(out.context.get("_last_error_type"), Some(&json!("timeout")));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        wait_until_gone(pid).await,
        "the node's child process {pid} must be killed with its group"
    );
}

#[tokio::test]
async fn large_contexts_do_not_deadlock() {
    // Far beyond a pipe buffer in both directions: the node echoes everything back.
    let big: String = "x".repeat(4 * 1024 * 1024);
    let p = TestProject::new()
        .file("nodes/echo.py", "import json, sys\nc = json.load(sys.stdin)['context']\nc['len'] = len(c['blob'])\nprint(json.dumps(c))\n")
        .workflow("t", &one_step("echo", ""));
    let out = p.run("t", json!({"blob": big})).await.unwrap();
    assert_eq!(out.body()["len"], json!(4 * 1024 * 1024));
}

#[tokio::test]
async fn nodes_cannot_change_reserved_keys() {
    let p = TestProject::new()
        .file(
            "nodes/sneaky.py",
            "import json, sys\nc = json.load(sys.stdin)['context']\nassert c['_run_id']\nprint(json.dumps({'_run_id': 'forged', '_response': 'forged', 'ok': True}))\n",
        )
        .workflow("t", &one_step("sneaky", ""));
    let out = p.run("t", json!({})).await.unwrap();
    assert_eq!(out.body(), json!({"ok": true}));
    assert_eq!(
        out.context.get("_run_id"),
        Some(&json!(out.run_id.to_string())),
        "the engine's run id survives"
    );
}

#[tokio::test]
async fn a_node_signal_named_error_takes_the_error_route() {
    let p = TestProject::new()
        .file("nodes/says_error.sh", "cat >/dev/null\necho '\"error\"'\n")
        .workflow(
            "t",
            r#"kind: Workflow
metadata: { name: t }
spec:
  steps:
    - { id: a, kind: functional, runner: says_error, routes: { error: b } }
    - { id: never, kind: functional, runner: fail }
    - { id: b, kind: functional, runner: set, params: { went: b } }
"#,
        );
    assert_eq!(
        p.run("t", json!({})).await.unwrap().body(),
        json!({"went": "b"})
    );
}

#[tokio::test]
async fn rust_nodes_win_over_files_and_builtins() {
    let app = App::new().node("noop", |call| async move {
        let mut m = serde_json::Map::new();
        m.insert("from".into(), json!(format!("rust:{}", call.step_id)));
        Ok(NodeOutput::merge(m).with_signal("done"))
    });
    let p = TestProject::new()
        .with_app(app)
        .file("nodes/noop.sh", "echo '{\"from\": \"file\"}'\n")
        .workflow("t", &one_step("noop", "      routes: { done: END }"));
    assert_eq!(
        p.run("t", json!({})).await.unwrap().body(),
        json!({"from": "rust:call"})
    );

    let p = TestProject::new()
        .file(
            "nodes/noop.sh",
            "cat >/dev/null\necho '{\"from\": \"file\"}'\n",
        )
        .workflow("t", &one_step("noop", ""));
    assert_eq!(
        p.run("t", json!({})).await.unwrap().body(),
        json!({"from": "file"}),
        "a nodes/ file wins over a built-in"
    );
}

#[tokio::test]
async fn rust_node_timeout() {
    let app = App::new().node("slow", |_| async move {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        Ok(NodeOutput::unchanged())
    });
    let p = TestProject::new()
        .with_app(app)
        .workflow("t", &one_step("slow", "      timeout: 0.05"));
    let e = err_of(p.run("t", json!({})).await);
    assert_eq!(e.failure.unwrap().kind.as_str(), "timeout");
}

#[tokio::test]
async fn set_renders_params_with_types() {
    let p = TestProject::new().workflow(
        "t",
        &one_step("set", "      params: { total: \"{{ price * qty }}\", label: \"{{ name | upper }}-{{ qty }}\", copy: \"{{ order }}\" }"),
    );
    let out = p
        .run(
            "t",
            json!({"price": 2.5, "qty": 4, "name": "ab", "order": {"id": 1}}),
        )
        .await
        .unwrap();
    let body = out.body();
    assert_eq!(body["total"], json!(10.0));
    assert_eq!(body["label"], json!("AB-4"));
    assert_eq!(body["copy"], json!({"id": 1}));
}

fn which(cmd: &str) -> bool {
    std::process::Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Polls (signal 0) until the process no longer exists, for up to 5 s.
async fn wait_until_gone(pid: i32) -> bool {
    let pid = nix::unistd::Pid::from_raw(pid);
    for _ in 0..100 {
        if nix::sys::signal::kill(pid, None).is_err() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}
