//! Transactions on SQLite and on PostgreSQL: each step commits its own writes by default;
//! `spec.transaction: run` commits a run's writes together, and rolls them all back when the run
//! fails. A failed step inside a run transaction (routed) leaves it usable.

use crate::common::TestProject;
use crate::common::db::backends;
use crate::fixtures::MODELS;
use crate::support::{Started, start};
use serde_json::{Value, json};

fn workflow(name: &str, transaction: &str) -> String {
    format!(
        r#"
kind: Workflow
metadata: {{ name: {name} }}
spec:
  context: Candidate
  {transaction}
  steps:
    - {{ id: first, kind: model-op, model: Candidate, operation: create, payload: {{ email: "{{{{ a }}}}" }}, output: first }}
    - {{ id: reread, kind: model-op, model: Candidate, operation: read, record_id: "{{{{ first.id }}}}", output: seen }}
    - id: second
      kind: model-op
      model: Candidate
      operation: create
      payload: {{ email: "{{{{ b }}}}" }}
      routes: {{ conflict: recover }}
    - {{ id: check, kind: router, condition: {{ field: fail, operator: eq, value: true }}, routes: {{ "true": boom, "false": END }} }}
    - {{ id: boom, kind: functional, runner: fail, params: {{ message: "a later step fails" }} }}
    - {{ id: recover, kind: model-op, model: Candidate, operation: create, payload: {{ email: "{{{{ b }}}}.recovered" }}, routes: {{ default: check }} }}
"#
    )
}

fn project() -> TestProject {
    TestProject::new()
        .file("models/candidate.yaml", MODELS)
        .workflow("atomic", &workflow("atomic", "transaction: run"))
        .workflow("per_step", &workflow("per_step", ""))
        .workflow(
            "emails",
            "kind: Workflow\nmetadata: { name: emails }\nspec:\n  context: Candidate\n  steps:\n    - { id: list, kind: model-op, model: Candidate, operation: list, order_by: email, output: all }\n",
        )
}

async fn emails(s: &Started) -> Vec<String> {
    let all = s.value("emails", json!({}), "all").await;
    all.as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["email"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn input(a: &str, b: &str, fail: bool) -> Value {
    json!({"a": a, "b": b, "fail": fail})
}

#[tokio::test]
async fn a_failing_run_rolls_back_every_write_of_the_run() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let e = s.failure("atomic", input("a@x.org", "b@x.org", true)).await;
        assert_eq!(e.step.as_deref(), Some("boom"), "{}", db.name);
        assert_eq!(
            emails(&s).await,
            Vec::<String>::new(),
            "{}: nothing stays",
            db.name
        );
        // The same steps without `transaction: run`: each step committed on its own.
        s.failure("per_step", input("a@x.org", "b@x.org", true))
            .await;
        assert_eq!(emails(&s).await, ["a@x.org", "b@x.org"], "{}", db.name);
        s.stop().await;
    }
}

#[tokio::test]
async fn a_successful_run_commits_its_writes_together_and_reads_its_own_writes() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        let out = s
            .run("atomic", input("a@x.org", "b@x.org", false))
            .await
            .unwrap();
        // A read inside the transaction sees the run's own create.
        assert_eq!(
            out.context.get("seen"),
            out.context.get("first"),
            "{}",
            db.name
        );
        assert_eq!(emails(&s).await, ["a@x.org", "b@x.org"], "{}", db.name);
        s.stop().await;
    }
}

#[tokio::test]
async fn a_routed_failure_inside_the_transaction_keeps_it_usable() {
    for db in backends().await {
        let p = project();
        let s = start(p.path(), &db.url).await;
        s.run("per_step", input("taken@x.org", "other@x.org", false))
            .await
            .unwrap();
        // `second` conflicts (its savepoint rolls back), `recover` writes, the run commits.
        let out = s
            .run("atomic", input("new@x.org", "taken@x.org", false))
            .await
            .unwrap();
        assert_eq!(
            out.context.get("_last_error_type"),
            Some(&json!("conflict")),
            "{}",
            db.name
        );
        assert_eq!(
            emails(&s).await,
            [
                "new@x.org",
                "other@x.org",
                "taken@x.org",
                "taken@x.org.recovered"
            ],
            "{}",
            db.name
        );
        // The same path, then a later step fails: `first` and `recover` roll back with the run.
        let e = s
            .failure("atomic", input("new2@x.org", "other@x.org", true))
            .await;
        assert_eq!(e.step.as_deref(), Some("boom"));
        assert_eq!(
            emails(&s).await,
            [
                "new@x.org",
                "other@x.org",
                "taken@x.org",
                "taken@x.org.recovered"
            ],
            "{}",
            db.name
        );
        s.stop().await;
    }
}

#[tokio::test]
async fn concurrent_run_transactions_each_commit_their_own_writes() {
    for db in backends().await {
        let p = project();
        let s = std::sync::Arc::new(start(p.path(), &db.url).await);
        let runs = (0..8).map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let fail = i % 2 == 1;
                let r = s
                    .run(
                        "atomic",
                        input(&format!("a{i}@x.org"), &format!("b{i}@x.org"), fail),
                    )
                    .await;
                (i, r.is_ok())
            })
        });
        for r in futures::future::join_all(runs).await {
            let (i, ok) = r.unwrap();
            assert_eq!(ok, i % 2 == 0, "{}: run {i}", db.name);
        }
        let mut want: Vec<String> = (0..8)
            .step_by(2)
            .flat_map(|i| [format!("a{i}@x.org"), format!("b{i}@x.org")])
            .collect();
        want.sort();
        assert_eq!(emails(&s).await, want, "{}", db.name);
    }
}
