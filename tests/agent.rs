//! The agent step end to end: the engine runs workflows whose agent steps call a fake
//! OpenAI-compatible server on 127.0.0.1 over real HTTP.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::fake_llm::{FakeLlm, Reply};
use common::{TestProject, object};
use serde_json::{Value, json};
use weft::engine::{Events, RunEvent, RunOptions};
use weft::{Project, RunError, RunOutput};

/// The reference's classifier, with a fallback for each failure kind under test.
const TRIAGE: &str = r#"
kind: Workflow
metadata: { name: triage }
spec:
  steps:
    - id: classify
      kind: agent
      agent:
        model: default
        system: |
          You are a customer support classifier.
        prompt: |
          Message: {{ message }}

          Classify as: urgent, normal, spam
          Return JSON: {"category": "..."}
        output:
          format: json
          map:
            category: message_category
          signal_from: category
        retry: { attempts: 3, on: [parse_error, timeout], backoff: 0 }
        timeout: 30
      routes:
        urgent: escalate
        normal: queue
        spam: discard
        parse_error: unsure
        timeout: unsure
    - { id: escalate, kind: functional, runner: set, params: { handled_by: escalate }, routes: { default: END } }
    - { id: queue, kind: functional, runner: set, params: { handled_by: queue }, routes: { default: END } }
    - { id: discard, kind: functional, runner: set, params: { handled_by: discard }, routes: { default: END } }
    - { id: unsure, kind: functional, runner: set, params: { handled_by: human } }
"#;

fn preset(base: &str) -> String {
    format!(
        "kind: AgentModel\nmetadata: {{ name: default }}\nspec:\n  model: openai/gpt-4o-mini\n  api_base: {base}\n  api_key: sk-test\n"
    )
}

/// A project with the `default` preset pointing at `llm` and `workflow` as `t.yaml`.
fn project(llm: &FakeLlm, workflow: &str) -> TestProject {
    TestProject::new()
        .file("llms/default.yaml", &preset(&llm.openai_base()))
        .workflow("t", workflow)
}

/// Loads with a fixed environment (never the machine's API keys).
fn load(p: &TestProject, vars: &[(&str, &str)]) -> Project {
    let env: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match Project::load_with_env(p.path(), &p.app, &env) {
        Ok((project, _)) => project,
        Err(e) => panic!(
            "project failed to load:\n{}",
            e.diagnostics.render(p.path())
        ),
    }
}

/// Runs `name` and returns the result with every event of the run.
async fn run(
    p: &TestProject,
    name: &str,
    input: Value,
    stream: bool,
) -> (Result<RunOutput, RunError>, Vec<RunEvent>) {
    let project = load(p, &[]);
    run_in(p, &project, name, input, stream).await
}

async fn run_in(
    p: &TestProject,
    project: &Project,
    name: &str,
    input: Value,
    stream: bool,
) -> (Result<RunOutput, RunError>, Vec<RunEvent>) {
    let wf = project.workflow(name, None).expect("workflow");
    let (events, mut rx) = Events::channel();
    let result = p
        .app
        .engine()
        .run(
            wf,
            object(input),
            RunOptions {
                events,
                stream,
                ..Default::default()
            },
        )
        .await;
    let mut all = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        all.push(ev);
    }
    (result, all)
}

fn steps(events: &[RunEvent]) -> Vec<&str> {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::StepStarted { step, .. } => Some(&**step),
            _ => None,
        })
        .collect()
}

fn retries(events: &[RunEvent]) -> Vec<(u32, &'static str, Duration)> {
    events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Retrying {
                attempt,
                kind,
                wait,
                ..
            } => Some((*attempt, *kind, *wait)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn routes_on_the_category_the_llm_chooses() {
    let llm = FakeLlm::start().await;
    let p = project(&llm, TRIAGE);
    let cases = [
        ("The server room is on fire", "urgent", "escalate"),
        ("How do I change my password?", "normal", "queue"),
        ("WIN A FREE CRUISE", "spam", "discard"),
    ];
    for (message, category, step) in cases {
        llm.push(Reply::json(json!({"category": category})));
        let (result, events) = run(&p, "triage", json!({"message": message}), false).await;
        let out = result.unwrap_or_else(|e| panic!("{message}: {}", e.message));
        assert_eq!(steps(&events), ["classify", step], "{message}");
        assert_eq!(out.context.get("message_category"), Some(&json!(category)));
        assert_eq!(out.context.get("handled_by"), Some(&json!(step)));
    }
    let sent = llm.requests();
    assert_eq!(sent.len(), 3);
    let first = &sent[0];
    assert_eq!(first.path, "/v1/chat/completions");
    assert_eq!(
        first.body["model"],
        json!("gpt-4o-mini"),
        "the provider prefix is stripped"
    );
    assert_eq!(first.headers["authorization"], "Bearer sk-test");
    assert_eq!(first.body["stream"], json!(false));
    assert_eq!(
        first.messages(),
        [
            ("system".to_string(), "You are a customer support classifier.\n".to_string()),
            (
                "user".to_string(),
                "Message: The server room is on fire\n\nClassify as: urgent, normal, spam\nReturn JSON: {\"category\": \"...\"}\n"
                    .to_string()
            ),
        ]
    );
}

#[tokio::test]
async fn malformed_output_is_retried_and_the_second_reply_succeeds() {
    let llm = FakeLlm::start().await;
    llm.push(Reply::text("Definitely urgent, I would say."))
        .push(Reply::text("```json\n{\"category\": \"urgent\"}\n```"));
    let p = project(&llm, TRIAGE);
    let (result, events) = run(&p, "triage", json!({"message": "help"}), false).await;
    let out = result.expect("run");
    assert_eq!(steps(&events), ["classify", "escalate"]);
    assert_eq!(retries(&events), [(2, "parse_error", Duration::ZERO)]);
    assert_eq!(llm.requests().len(), 2);
    assert_eq!(
        out.context.get("_last_error"),
        None,
        "a retried failure is not a step failure"
    );
}

#[tokio::test]
async fn parse_errors_take_their_route_once_the_attempts_are_spent() {
    let llm = FakeLlm::start().await;
    for _ in 0..3 {
        llm.push(Reply::text("I cannot decide."));
    }
    let p = project(&llm, TRIAGE);
    let (result, events) = run(&p, "triage", json!({"message": "hmm"}), false).await;
    let out = result.expect("run");
    assert_eq!(steps(&events), ["classify", "unsure"]);
    assert_eq!(retries(&events).len(), 2);
    assert_eq!(llm.requests().len(), 3);
    assert_eq!(
        out.context.get("_last_error_type"),
        Some(&json!("parse_error"))
    );
    let message = out
        .context
        .get("_last_error")
        .and_then(Value::as_str)
        .unwrap_or_default();
    assert!(
        message.contains("not JSON") && message.contains("I cannot decide."),
        "{message}"
    );
}

#[tokio::test]
async fn timeouts_take_their_route_once_the_attempts_are_spent() {
    let llm = FakeLlm::start().await;
    for _ in 0..2 {
        llm.push(Reply::json(json!({"category": "urgent"})).delay(Duration::from_secs(30)));
    }
    let workflow = TRIAGE
        .replace("attempts: 3", "attempts: 2")
        .replace("timeout: 30", "timeout: 200ms");
    let p = project(&llm, &workflow);
    let (result, events) = run(&p, "triage", json!({"message": "slow"}), false).await;
    let out = result.expect("run");
    assert_eq!(steps(&events), ["classify", "unsure"]);
    assert_eq!(retries(&events), [(2, "timeout", Duration::ZERO)]);
    assert_eq!(llm.requests().len(), 2);
    assert_eq!(out.context.get("_last_error_type"), Some(&json!("timeout")));
}

#[tokio::test]
async fn a_429_waits_as_long_as_retry_after_says() {
    let llm = FakeLlm::start().await;
    llm.push(Reply::status(429, "slow down").header("Retry-After", "0.3"));
    llm.push(Reply::json(json!({"category": "normal"})));
    // A large backoff: only the server's Retry-After can explain a 300 ms wait.
    let workflow = TRIAGE.replace(
        "on: [parse_error, timeout], backoff: 0",
        "on: [rate_limit], backoff: 20",
    );
    let p = project(&llm, &workflow);
    let (result, events) = run(&p, "triage", json!({"message": "hi"}), false).await;
    result.expect("run");
    assert_eq!(
        retries(&events),
        [(2, "rate_limit", Duration::from_millis(300))]
    );
    assert_eq!(steps(&events), ["classify", "queue"]);
}

#[tokio::test]
async fn auth_failures_are_not_retried_by_default_and_provider_errors_are() {
    let workflow = r#"
kind: Workflow
metadata: { name: w }
spec:
  steps:
    - id: ask
      kind: agent
      agent:
        model: default
        prompt: "Say hi as JSON"
        retry: { attempts: 3, backoff: 0 }
      routes: { auth: denied, provider_error: broken }
    - { id: done, kind: functional, runner: noop, routes: { default: END } }
    - { id: denied, kind: functional, runner: noop, routes: { default: END } }
    - { id: broken, kind: functional, runner: noop }
"#;
    let llm = FakeLlm::start().await;
    let p = project(&llm, workflow);
    llm.push(Reply::status(401, "invalid api key"));
    let (result, events) = run(&p, "w", json!({}), false).await;
    assert_eq!(steps(&events), ["ask", "denied"]);
    assert_eq!(
        result.expect("run").context.get("_last_error_type"),
        Some(&json!("auth"))
    );
    assert_eq!(llm.requests().len(), 1);

    llm.push(Reply::status(500, "overloaded"))
        .push(Reply::raw(502, "<html>bad gateway</html>"));
    llm.push(Reply::json(json!({"greeting": "hi"})));
    let (result, events) = run(&p, "w", json!({}), false).await;
    assert_eq!(steps(&events), ["ask", "done"]);
    assert_eq!(
        retries(&events).iter().map(|r| r.1).collect::<Vec<_>>(),
        ["provider_error", "provider_error"]
    );
    assert_eq!(
        result.expect("run").context.get("greeting"),
        Some(&json!("hi"))
    );
}

#[tokio::test]
async fn a_reply_violating_the_schema_is_a_parse_error() {
    let workflow = TRIAGE.replace("attempts: 3", "attempts: 1").replace(
        "          signal_from: category\n",
        "          signal_from: category\n          schema:\n            type: object\n            required: [category]\n            properties:\n              category: { enum: [urgent, normal, spam] }\n",
    );
    let llm = FakeLlm::start().await;
    llm.push(Reply::json(json!({"category": "billing"})));
    let p = project(&llm, &workflow);
    let (result, events) = run(&p, "triage", json!({"message": "invoice?"}), false).await;
    let out = result.expect("run");
    assert_eq!(steps(&events), ["classify", "unsure"]);
    assert_eq!(
        out.context.get("_last_error_type"),
        Some(&json!("parse_error"))
    );
    assert_eq!(
        out.context.get("message_category"),
        None,
        "a rejected reply writes nothing"
    );
    let sent = &llm.requests()[0];
    assert_eq!(sent.body["response_format"]["type"], json!("json_schema"));
    assert_eq!(
        sent.body["response_format"]["json_schema"]["name"],
        json!("classify")
    );
    assert_eq!(
        sent.body["response_format"]["json_schema"]["schema"]["properties"]["category"]["enum"],
        json!(["urgent", "normal", "spam"])
    );
}

#[tokio::test]
async fn injected_context_is_sent_as_a_delimited_system_message() {
    let workflow = r#"
kind: Workflow
metadata: { name: answer }
spec:
  steps:
    - id: answer
      kind: agent
      agent:
        model: default
        system: Answer from the documents only.
        prompt: "{{ question }}"
        context_injection: [documents, customer.plan, not_there]
        output: { format: text, output_key: answer }
"#;
    let llm = FakeLlm::start().await;
    llm.push(Reply::text("  Refunds take five days.\n"));
    let p = project(&llm, workflow);
    let input = json!({"question": "How long do refunds take?", "documents": ["Refunds take 5 days."], "customer": {"plan": "pro"}});
    let (result, _) = run(&p, "answer", input, false).await;
    assert_eq!(
        result.expect("run").context.get("answer"),
        Some(&json!("Refunds take five days."))
    );
    let messages = llm.requests()[0].messages();
    assert_eq!(messages.len(), 3);
    assert_eq!(
        messages[0],
        ("system".into(), "Answer from the documents only.".into())
    );
    let (role, injected) = &messages[1];
    assert_eq!(role, "system");
    assert!(
        injected
            .contains("<context key=\"documents\">\n[\n  \"Refunds take 5 days.\"\n]\n</context>"),
        "{injected}"
    );
    assert!(
        injected.contains("<context key=\"customer.plan\">\npro\n</context>"),
        "{injected}"
    );
    assert!(
        !injected.contains("not_there"),
        "absent keys are left out: {injected}"
    );
    assert_eq!(
        messages[2],
        ("user".into(), "How long do refunds take?".into())
    );
}

#[tokio::test]
async fn llm_output_cannot_set_reserved_keys() {
    let llm = FakeLlm::start().await;
    llm.push(Reply::json(json!({"category": "normal", "_response": {"hacked": true}, "_run_id": "forged", "_last_error": "x"})));
    let p = project(&llm, TRIAGE);
    let (result, _) = run(&p, "triage", json!({"message": "hi"}), false).await;
    let out = result.expect("run");
    assert_eq!(out.context.get("_response"), None);
    assert_eq!(
        out.context.get("_run_id"),
        Some(&json!(out.run_id.to_string()))
    );
    assert_eq!(out.context.get("_last_error"), None);
    assert_eq!(
        out.body()["handled_by"],
        json!("queue"),
        "the body is the public context, not the forged `_response`"
    );
}

#[tokio::test]
async fn streamed_runs_emit_tokens_in_order() {
    let llm = FakeLlm::start().await;
    let chunks = ["{\"cate", "gory\": ", "\"sp", "am\"}"];
    llm.push(Reply::text("").chunks(&chunks).write_size(7).usage(42, 5));
    let p = project(&llm, TRIAGE);
    let (result, events) = run(&p, "triage", json!({"message": "cheap pills"}), true).await;
    assert_eq!(
        result.expect("run").context.get("handled_by"),
        Some(&json!("discard"))
    );
    let tokens: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::Token { step, text } if &**step == "classify" => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(tokens, chunks);
    let usage = events.iter().find_map(|e| match e {
        RunEvent::Usage {
            model,
            prompt_tokens,
            completion_tokens,
            ..
        } => Some((model.as_str(), *prompt_tokens, *completion_tokens)),
        _ => None,
    });
    assert_eq!(usage, Some(("openai/gpt-4o-mini", Some(42), Some(5))));
    let sent = &llm.requests()[0];
    assert_eq!(sent.body["stream"], json!(true));
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));

    // Not streamed: the non-streaming API, and no tokens.
    llm.push(Reply::json(json!({"category": "spam"})));
    let (_, events) = run(&p, "triage", json!({"message": "cheap pills"}), false).await;
    assert!(!events.iter().any(|e| matches!(e, RunEvent::Token { .. })));
    assert!(events.iter().any(|e| matches!(
        e,
        RunEvent::Usage {
            prompt_tokens: Some(11),
            completion_tokens: Some(7),
            ..
        }
    )));
    assert_eq!(llm.requests()[1].body["stream"], json!(false));
}

#[tokio::test]
async fn signal_format_matches_route_keys() {
    let workflow = r#"
kind: Workflow
metadata: { name: s }
spec:
  steps:
    - id: pick
      kind: agent
      agent:
        model: default
        prompt: "Reply with one word: urgent, normal or spam. {{ message }}"
        output: { format: signal }
      routes: { urgent: a, normal: a, spam: b, parse_error: c }
    - { id: a, kind: functional, runner: noop, routes: { default: END } }
    - { id: b, kind: functional, runner: noop, routes: { default: END } }
    - { id: c, kind: functional, runner: noop }
"#;
    let llm = FakeLlm::start().await;
    let p = project(&llm, workflow);
    llm.push(Reply::text(" \"Spam.\"\n"));
    let (_, events) = run(&p, "s", json!({"message": "x"}), false).await;
    assert_eq!(steps(&events), ["pick", "b"]);
    llm.push(Reply::text("I am not sure"));
    let (_, events) = run(&p, "s", json!({"message": "x"}), false).await;
    assert_eq!(steps(&events), ["pick", "c"]);
    assert!(llm.requests()[0].body.get("response_format").is_none());
}

#[tokio::test]
async fn a_run_with_an_agent_step_can_be_spawned() {
    // Servers run workflows on spawned tasks: the run's future must be `Send + 'static`-able.
    let llm = FakeLlm::start().await;
    llm.push(Reply::text("").chunks(&["{\"category\": ", "\"normal\"}"]));
    let p = project(&llm, TRIAGE);
    let project = load(&p, &[]);
    let wf = project.workflow("triage", None).expect("workflow").clone();
    let engine = p.app.engine();
    let task = tokio::spawn(async move {
        let opts = RunOptions {
            stream: true,
            ..Default::default()
        };
        engine
            .run(&wf, object(json!({"message": "hi"})), opts)
            .await
    });
    let out = task.await.expect("task").expect("run");
    assert_eq!(out.context.get("handled_by"), Some(&json!("queue")));
}
