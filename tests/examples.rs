//! Every example project loads cleanly, and the offline ones run with the results their READMEs
//! promise. (Examples that need a server — LLM, HTTP API, MCP — are run by their own test files
//! against servers those tests start.)

mod common;

use common::{TestProject, repo_root, run_in};
use serde_json::json;
use weft::{App, Project};

#[test]
fn every_example_project_loads_without_errors() {
    let _ = TestProject::new(); // installs the TLS provider
    let mut projects = vec![repo_root()];
    for entry in std::fs::read_dir(repo_root().join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            projects.push(path);
        }
    }
    assert!(
        projects.len() >= 3,
        "the bundled project and at least two examples"
    );
    for dir in projects {
        if let Err(e) = Project::load(&dir, &App::new()) {
            let only_custom = dir.ends_with("custom_nodes");
            let unknown_runner_only = e
                .diagnostics
                .iter()
                .all(|d| d.code == weft::spec::Code::UnknownRunner);
            // custom_nodes needs the Rust node its example binary registers (tested below).
            assert!(
                only_custom && unknown_runner_only,
                "{}:\n{}",
                dir.display(),
                e.diagnostics.render(&dir)
            );
        }
    }
}

#[tokio::test]
async fn bundled_project_orders() {
    let p = TestProject::copy_of(&repo_root());
    let project = p.load_ok();
    let big = run_in(
        &p.app,
        &project,
        "order_intake",
        json!({"order": {"id": "A1", "amount": 25000}}),
    )
    .await
    .unwrap();
    assert_eq!(
        big.body(),
        json!({"order_id": "A1", "decision": "manual_review", "reason": "amount 25000 needs a human"})
    );
    let bad = run_in(
        &p.app,
        &project,
        "order_intake",
        json!({"order": {"amount": -1}}),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 422);
    assert_eq!(bad.body()["decision"], json!("rejected"));
    let hello = run_in(&p.app, &project, "hello", json!({"name": "Ada"}))
        .await
        .unwrap();
    assert_eq!(hello.body(), json!({"message": "Hello, Ada!"}));
    // v2 is staged (enabled: false): the served version stays v1.
    assert_eq!(
        &*project.workflow("order_intake", None).unwrap().version,
        "v1"
    );
    let v2 = project.workflow("order_intake", Some("v2")).unwrap();
    let out = p
        .app
        .engine()
        .run(
            v2,
            common::object(json!({"order": {"id": "B", "amount": 120, "customer": "acme"}})),
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(out.body()["decision"], json!("approved"));
    assert_eq!(out.body()["version"], json!("v2"));
}

#[tokio::test]
async fn expenses_example() {
    let p = TestProject::copy_of(&repo_root().join("examples/expenses"));
    let project = p.load_ok();
    let out = run_in(
        &p.app,
        &project,
        "expense_approval",
        json!({"employee": " Ada ", "amount": "1500"}),
    )
    .await
    .unwrap();
    assert_eq!(out.status(), 201);
    assert_eq!(
        out.headers(),
        vec![("X-Expense-Outcome".to_string(), "approved".to_string())]
    );
    assert_eq!(
        out.body(),
        json!({"employee": "ada", "amount": 1500.0, "outcome": "approved", "approver": "manager of ada"})
    );
    let out = run_in(
        &p.app,
        &project,
        "expense_approval",
        json!({"employee": "b", "amount": 50000}),
    )
    .await
    .unwrap();
    assert_eq!(out.body()["outcome"], json!("manual_review"));
    let out = run_in(
        &p.app,
        &project,
        "expense_approval",
        json!({"employee": "b", "amount": 12}),
    )
    .await
    .unwrap();
    assert_eq!(out.body()["approver"], json!("automatic"));
    let out = run_in(
        &p.app,
        &project,
        "expense_approval",
        json!({"employee": "b", "amount": "lots"}),
    )
    .await
    .unwrap();
    assert_eq!(out.status(), 422);
    assert!(
        out.body()["error"]
            .as_str()
            .unwrap()
            .contains("amount must be a number")
    );
}

#[test]
fn custom_nodes_example_binary() {
    // `cargo test` builds examples next to the test binaries.
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("custom_nodes");
    assert!(
        bin.exists(),
        "example binary not built at {}",
        bin.display()
    );
    let out = std::process::Command::new(&bin)
        .args(["run", "make_slug", "--project"])
        .arg(repo_root().join("examples/custom_nodes"))
        .args(["--payload", r#"{"title": "Hello, Big World!"}"#])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body, json!({"slug": "hello-big-world"}));
    let out = std::process::Command::new(&bin)
        .args(["run", "make_slug", "--project"])
        .arg(repo_root().join("examples/custom_nodes"))
        .args(["--payload", r#"{"title": "!!!"}"#])
        .output()
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body, json!({"error": "the title has no letters or digits"}));
}
