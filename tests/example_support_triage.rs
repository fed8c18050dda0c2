//! `examples/support_triage` runs against the fake OpenAI-compatible server, configured the way a
//! user points it at any endpoint: `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `TRIAGE_MODEL`.

mod common;

use std::collections::HashMap;

use common::fake_llm::{FakeLlm, Reply};
use common::{TestProject, repo_root, run_in};
use serde_json::json;
use weft::Project;

fn load(p: &TestProject, llm: &FakeLlm) -> Project {
    let env: HashMap<String, String> = [
        ("OPENAI_BASE_URL", llm.openai_base()),
        ("OPENAI_API_KEY", "sk-example".to_string()),
        ("TRIAGE_MODEL", "local-model".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    match Project::load_with_env(p.path(), &p.app, &env) {
        Ok((project, warnings)) => {
            assert!(warnings.is_empty(), "{}", warnings.render(p.path()));
            project
        }
        Err(e) => panic!("{}", e.diagnostics.render(p.path())),
    }
}

#[tokio::test]
async fn the_example_routes_each_category() {
    let llm = FakeLlm::start().await;
    let p = TestProject::copy_of(&repo_root().join("examples/support_triage"));
    let project = load(&p, &llm);
    let cases = [
        (
            "urgent",
            json!({"category": "urgent", "queue": "on_call", "priority": "high"}),
        ),
        (
            "normal",
            json!({"category": "normal", "queue": "support", "priority": "normal"}),
        ),
        (
            "spam",
            json!({"category": "spam", "queue": "none", "priority": "none"}),
        ),
    ];
    for (category, want) in cases {
        llm.push(Reply::text(&format!(
            "Here you go:\n```json\n{{\"category\": \"{category}\"}}\n```"
        )));
        let out = run_in(
            &p.app,
            &project,
            "support_triage",
            json!({"message": "hello"}),
        )
        .await
        .expect("run");
        assert_eq!(out.body(), want);
    }
    let sent = &llm.requests()[0];
    assert_eq!(sent.body["model"], json!("local-model"));
    assert_eq!(sent.body["temperature"], json!(0.0));
    assert_eq!(sent.headers["authorization"], "Bearer sk-example");
    assert_eq!(
        sent.body["response_format"]["json_schema"]["schema"]["required"],
        json!(["category"])
    );
}

#[tokio::test]
async fn an_unusable_model_ends_with_a_human() {
    let llm = FakeLlm::start().await;
    llm.push(Reply::json(json!({"category": "billing"})));
    llm.push(Reply::text("Not sure."));
    llm.push(Reply::json(json!({"label": "urgent"})));
    let p = TestProject::copy_of(&repo_root().join("examples/support_triage"));
    let project = load(&p, &llm);
    let out = run_in(&p.app, &project, "support_triage", json!({"message": "?"}))
        .await
        .expect("run");
    assert_eq!(llm.requests().len(), 3, "three attempts");
    let body = out.body();
    assert_eq!(
        (body["queue"].as_str(), body["priority"].as_str()),
        (Some("triage"), Some("unknown"))
    );
    let reason = body["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("parse_error: ") && reason.contains("output.schema"),
        "{reason}"
    );
}

/// The reference's classifier end to end over HTTP: `weft serve` on the example, pointed at the
/// fake OpenAI-compatible server through the environment, as a user would run it.
#[tokio::test]
async fn the_example_over_http() {
    let llm = FakeLlm::start().await;
    let p = TestProject::copy_of(&repo_root().join("examples/support_triage"));
    let base = llm.openai_base();
    let s = common::served::serve(
        p.path(),
        &["--addr", "127.0.0.1:0"],
        &[
            ("OPENAI_BASE_URL", base.as_str()),
            ("OPENAI_API_KEY", "sk-example"),
            ("TRIAGE_MODEL", "local-model"),
        ],
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    for (category, queue) in [
        ("urgent", "on_call"),
        ("normal", "support"),
        ("spam", "none"),
    ] {
        llm.push(Reply::text(&format!("{{\"category\": \"{category}\"}}")));
        let resp = http
            .post(format!("{}/api/support/triage", s.base))
            .json(&json!({"message": "the site is down"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["x-weft-version"], "v1");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["category"], json!(category), "{body}");
        assert_eq!(body["queue"], json!(queue), "{body}");
    }
    // The model name reached the wire without its provider prefix, with the message in the prompt.
    let last = llm.requests().pop().unwrap();
    assert_eq!(last.body["model"], json!("local-model"));
    assert!(
        last.messages()
            .iter()
            .any(|(_, c)| c.contains("the site is down"))
    );
    // Invalid input never reaches the model.
    let before = llm.requests().len();
    let resp = http
        .post(format!("{}/api/support/triage", s.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    assert_eq!(llm.requests().len(), before);
}
