//! The `weft` binary: exit codes, output streams and formats.

mod common;

use std::process::{Command, Output};

use common::{TestProject, repo_root};
use serde_json::{Value, json};

fn weft(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(args)
        .env_remove("WEFT_PROJECT")
        // A private store: the repository's own .weft/ (and its admin toggles) never matter.
        .env("WEFT_DATABASE_URL", "sqlite::memory:")
        .output()
        .expect("run weft")
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn validate_clean_project_exits_zero() {
    let root = repo_root();
    let out = weft(&["validate", "--project", root.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("workflow version(s) OK"));
}

#[test]
fn validate_broken_project_exits_one_and_renders_every_problem() {
    let p = TestProject::new().workflow(
        "bad",
        "kind: Workflow\nmetadata: { name: bad }\nspec:\n  steps:\n    - { id: a, kind: functional, runer: noop }\n    - { id: b, kind: routr }\n",
    );
    let out = weft(&["validate", "--project", p.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("error[W0004]: unknown key `runer`"), "{text}");
    assert!(text.contains("--> workflows/bad.yaml:5:34"), "{text}");
    assert!(text.contains("help: did you mean `runner`?"), "{text}");
    assert!(
        text.contains("error[W0006]: unknown step kind `routr`"),
        "{text}"
    );
    assert!(text.contains("2 error(s)"), "{text}");

    let out = weft(&[
        "validate",
        "--json",
        "--project",
        p.path().to_str().unwrap(),
    ]);
    let diags = stdout_json(&out);
    assert_eq!(diags[0]["code"], json!("W0004"));
    assert_eq!(diags[0]["pos"], json!({"line": 5, "col": 34}));
    assert_eq!(diags[0]["path"], json!("spec.steps[0].runer"));
}

#[test]
fn run_prints_result_json() {
    let root = repo_root();
    let out = weft(&[
        "run",
        "hello",
        "--project",
        root.to_str().unwrap(),
        "--payload",
        r#"{"name": "CLI"}"#,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_json(&out), json!({"message": "Hello, CLI!"}));
}

#[test]
fn run_with_version_and_payload_file() {
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("in.json");
    std::fs::write(
        &file,
        r#"{"order": {"id": "Z", "amount": 10, "customer": "acme"}}"#,
    )
    .unwrap();
    let out = weft(&[
        "run",
        "order_intake",
        "--version",
        "v2",
        "--project",
        root.to_str().unwrap(),
        "--payload-file",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_json(&out)["reason"], json!("express lane for acme"));
}

#[test]
fn run_failure_exits_one_with_the_step() {
    let p = TestProject::new().workflow(
        "t",
        "kind: Workflow\nmetadata: { name: t }\nspec:\n  steps:\n    - { id: boom, kind: functional, runner: fail, params: { message: kaput } }\n",
    );
    let out = weft(&["run", "t", "--project", p.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = &stdout_json(&out)["error"];
    assert_eq!(err["code"], json!("step_failed"));
    assert_eq!(err["step"], json!("boom"));
    assert_eq!(err["details"]["kind"], json!("node_error"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kaput"));
}

#[test]
fn trace_prints_steps_signals_and_durations_to_stderr() {
    let root = repo_root();
    let out = weft(&[
        "run",
        "order_intake",
        "--trace",
        "--project",
        root.to_str().unwrap(),
        "--payload",
        r#"{"order": {"id": "A", "amount": 5}}"#,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    for line in [
        "→ validate (functional)",
        "← validate: valid [",
        "← check_amount: false [",
        "→ auto_approve",
        "done: 4 step(s)",
    ] {
        assert!(err.contains(line), "missing `{line}` in:\n{err}");
    }
    assert_eq!(
        stdout_json(&out)["decision"],
        json!("approved"),
        "stdout stays pure JSON"
    );
}

#[test]
fn bad_payloads_and_unknown_workflows_are_clear() {
    let root = repo_root();
    let root = root.to_str().unwrap();
    let out = weft(&["run", "hello", "--project", root, "--payload", "[1]"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be a JSON object"));
    let out = weft(&["run", "hello", "--project", root, "--payload", "{oops"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not valid JSON"));
    let out = weft(&["run", "nope", "--project", root]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no enabled workflow `nope`"));
}
