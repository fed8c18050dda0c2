//! Presets, precedence, provider wire formats (OpenAI-compatible, Anthropic, Ollama) and the
//! load-time checks of agent steps. Every provider call goes over HTTP to a fake server.

mod common;

use std::collections::HashMap;

use common::fake_llm::{FakeLlm, Recorded, Reply};
use common::{TestProject, object};
use serde_json::{Value, json};
use weft::engine::{Events, RunEvent, RunOptions};
use weft::spec::Code;
use weft::{LoadError, Project, RunOutput};

fn env(vars: &[(&str, &str)]) -> HashMap<String, String> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(p: &TestProject, vars: &[(&str, &str)]) -> Result<Project, LoadError> {
    Project::load_with_env(p.path(), &p.app, &env(vars)).map(|(project, _)| project)
}

/// A one-step workflow `w` whose agent has the given `agent:` body (8-space indented lines).
fn agent_workflow(agent: &str) -> String {
    format!(
        "kind: Workflow\nmetadata: {{ name: w }}\nspec:\n  steps:\n    - id: ask\n      kind: agent\n      agent:\n{agent}"
    )
}

/// Runs `w`; returns the output and the text of the streamed tokens.
async fn run(
    p: &TestProject,
    project: &Project,
    input: Value,
    stream: bool,
) -> (RunOutput, String) {
    let wf = project.workflow("w", None).expect("workflow w");
    let (events, mut rx) = Events::channel();
    let out = p
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
    let out = out.unwrap_or_else(|e| panic!("run failed: {}", e.message));
    let mut tokens = String::new();
    while let Ok(ev) = rx.try_recv() {
        if let RunEvent::Token { text, .. } = ev {
            tokens.push_str(&text);
        }
    }
    (out, tokens)
}

fn only_request(llm: &FakeLlm) -> Recorded {
    let mut sent = llm.requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    sent.remove(0)
}

#[tokio::test]
async fn step_settings_win_over_the_preset_which_wins_over_the_provider() {
    let llm = FakeLlm::start().await;
    let preset = "kind: AgentModel
metadata: { name: tuned }
spec:
  model: openai/gpt-4o-mini
  api_base: ${LLM_URL}
  api_key: ${LLM_KEY:}
  temperature: 0.2
  max_tokens: 256
  timeout: 20
  headers: { X-Team: support }
";
    let steps = "        model: tuned\n        prompt: Hi\n        temperature: 0.7\n        output: { format: text }\n";
    let p = TestProject::new()
        .file("llms/tuned.yaml", preset)
        .workflow("w", &agent_workflow(steps));
    let project = load(
        &p,
        &[("LLM_URL", &llm.openai_base()), ("LLM_KEY", "sk-preset")],
    )
    .expect("load");
    llm.push(Reply::text("hello"));
    let (out, _) = run(&p, &project, json!({}), false).await;
    assert_eq!(
        out.context.get("ask_result"),
        Some(&json!("hello")),
        "text goes to `<step_id>_result` by default"
    );
    let sent = only_request(&llm);
    assert_eq!(
        sent.body["temperature"],
        json!(0.7),
        "the step's temperature wins"
    );
    assert_eq!(
        sent.body["max_tokens"],
        json!(256),
        "the preset's max_tokens applies"
    );
    assert_eq!(sent.headers["authorization"], "Bearer sk-preset");
    assert_eq!(sent.headers["x-team"], "support");
}

#[tokio::test]
async fn a_provider_string_uses_the_provider_environment() {
    let llm = FakeLlm::start().await;
    let steps =
        "        model: openai/gpt-4o\n        prompt: Hi\n        output: { format: text }\n";
    let p = TestProject::new().workflow("w", &agent_workflow(steps));
    let project = load(
        &p,
        &[
            ("OPENAI_BASE_URL", &llm.openai_base()),
            ("OPENAI_API_KEY", "sk-env"),
        ],
    )
    .expect("load");
    llm.push(Reply::text("ok"));
    run(&p, &project, json!({}), false).await;
    let sent = only_request(&llm);
    assert_eq!(sent.body["model"], json!("gpt-4o"));
    assert_eq!(sent.headers["authorization"], "Bearer sk-env");
    assert!(
        sent.body.get("temperature").is_none() && sent.body.get("max_tokens").is_none(),
        "unset settings are not sent"
    );
}

#[tokio::test]
async fn anthropic_messages_wire_format() {
    let llm = FakeLlm::start().await;
    let steps = "        model: anthropic/claude-test\n        system: Be brief.\n        prompt: \"Classify {{ message }}\"\n        context_injection: [kb]\n        temperature: 0.1\n";
    let p = TestProject::new().workflow("w", &agent_workflow(steps));
    let vars = [
        ("ANTHROPIC_BASE_URL", llm.base()),
        ("ANTHROPIC_API_KEY", "ak-test".to_string()),
    ];
    let project = load(
        &p,
        &vars
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    )
    .expect("load");

    llm.push(Reply::json(json!({"category": "spam"})));
    let (out, _) = run(
        &p,
        &project,
        json!({"message": "free money", "kb": "Spam offers money."}),
        false,
    )
    .await;
    assert_eq!(out.context.get("category"), Some(&json!("spam")));
    let sent = only_request(&llm);
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.headers["x-api-key"], "ak-test");
    assert_eq!(sent.headers["anthropic-version"], "2023-06-01");
    assert!(!sent.headers.contains_key("authorization"));
    assert_eq!(sent.body["model"], json!("claude-test"));
    assert_eq!(
        sent.body["max_tokens"],
        json!(1024),
        "the provider default fills the required field"
    );
    assert_eq!(sent.body["temperature"], json!(0.1));
    let system = sent.body["system"].as_str().unwrap_or_default();
    assert!(
        system.starts_with("Be brief.\n\n")
            && system.contains("<context key=\"kb\">\nSpam offers money.\n</context>"),
        "{system}"
    );
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": "Classify free money"}])
    );

    llm.push(
        Reply::text("")
            .chunks(&["{\"category\"", ": \"urg", "ent\"}"])
            .write_size(11),
    );
    let (out, tokens) = run(&p, &project, json!({"message": "fire", "kb": ""}), true).await;
    assert_eq!(tokens, "{\"category\": \"urgent\"}");
    assert_eq!(out.context.get("category"), Some(&json!("urgent")));
    assert_eq!(llm.requests()[1].body["stream"], json!(true));
}

#[tokio::test]
async fn ollama_chat_wire_format() {
    let llm = FakeLlm::start().await;
    let steps = "        model: ollama/llama3\n        prompt: Hi\n        max_tokens: 50\n        output:\n          schema: { type: object, required: [mood] }\n";
    let p = TestProject::new().workflow("w", &agent_workflow(steps));
    let project = load(&p, &[("OLLAMA_BASE_URL", &llm.base())]).expect("load");

    llm.push(Reply::json(json!({"mood": "calm"})));
    let (out, _) = run(&p, &project, json!({}), false).await;
    assert_eq!(out.context.get("mood"), Some(&json!("calm")));
    let sent = only_request(&llm);
    assert_eq!(sent.path, "/api/chat");
    assert_eq!(sent.body["model"], json!("llama3"));
    assert_eq!(
        sent.body["stream"],
        json!(false),
        "Ollama streams unless told not to"
    );
    assert_eq!(
        sent.body["format"],
        json!({"type": "object", "required": ["mood"]})
    );
    assert_eq!(sent.body["options"], json!({"num_predict": 50}));
    assert!(!sent.headers.contains_key("authorization"));

    llm.push(
        Reply::text("")
            .chunks(&["{\"mo", "od\": \"sun", "ny\"}"])
            .write_size(9),
    );
    let (out, tokens) = run(&p, &project, json!({}), true).await;
    assert_eq!(tokens, "{\"mood\": \"sunny\"}");
    assert_eq!(out.context.get("mood"), Some(&json!("sunny")));
    assert_eq!(llm.requests()[1].body["stream"], json!(true));
}

/// (code, line) of each error, sorted as weft reports them.
fn errors(result: Result<Project, LoadError>) -> Vec<(Code, String, u32)> {
    let Err(e) = result else {
        panic!("the project loaded")
    };
    e.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            (
                d.code,
                d.file
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_default(),
                d.pos.map_or(0, |p| p.line),
            )
        })
        .collect()
}

#[test]
fn unusable_models_are_load_time_errors() {
    let disabled =
        "kind: AgentModel\nmetadata: { name: old }\nenabled: false\nspec: { model: gpt-4 }\n";
    let broken = "kind: AgentModel\nmetadata: { name: broken }\nspec:\n  model: gpt-4o\n  temperature: hot\n";
    let workflow = "kind: Workflow
metadata: { name: w }
spec:
  steps:
    - { id: a, kind: agent, agent: { model: old, prompt: x } }
    - { id: b, kind: agent, agent: { model: mistral/large, prompt: x } }
    - { id: c, kind: agent, agent: { model: broken, prompt: x } }
";
    let p = TestProject::new()
        .file("llms/old.yaml", disabled)
        .file("llms/broken.yaml", broken)
        .workflow("w", workflow);
    let found = errors(load(&p, &[]));
    assert_eq!(
        found,
        [
            (Code::WrongType, "llms/broken.yaml".to_string(), 5),
            (Code::UnknownLlmPreset, "workflows/w.yaml".to_string(), 5),
            (Code::UnknownLlmPreset, "workflows/w.yaml".to_string(), 6),
        ]
    );
    let Err(e) = load(&p, &[]) else {
        unreachable!()
    };
    let text = e.diagnostics.render(p.path());
    assert!(
        text.contains("LLM preset `old` is disabled (llms/old.yaml:2:19)"),
        "{text}"
    );
    assert!(
        text.contains("unknown LLM provider `mistral` in model `mistral/large`"),
        "{text}"
    );
}

#[test]
fn agent_options_are_checked_at_load_time() {
    let workflow = "kind: Workflow
metadata: { name: w }
spec:
  steps:
    - id: a
      kind: agent
      agent:
        model: gpt-4o-mini
        prompt: \"{{ unclosed\"
        temperature: 3
        retry: { attempts: 0, on: [parse_eror] }
        output:
          map: { category: _response }
          schema: { type: nope }
    - id: b
      kind: agent
      agent:
        model: gpt-4o-mini
        prompt: x
        output: { format: signal, output_key: y }
        context_injection: ['']
      routes: { error: END }
";
    let p = TestProject::new().workflow("w", workflow);
    let codes: Vec<(Code, u32)> = errors(load(&p, &[]))
        .into_iter()
        .map(|(c, _, l)| (c, l))
        .collect();
    assert_eq!(
        codes,
        [
            (Code::TemplateSyntax, 9),
            (Code::InvalidValue, 10),
            (Code::InvalidValue, 11),
            (Code::InvalidValue, 11),
            (Code::InvalidValue, 13),
            (Code::InvalidValue, 14),
            (Code::InvalidValue, 20),
            (Code::InvalidValue, 20),
            (Code::InvalidValue, 21),
        ]
    );
}

#[test]
fn a_misspelt_preset_name_warns() {
    let preset = "kind: AgentModel\nmetadata: { name: default }\nspec: { model: gpt-4o-mini }\n";
    let workflow = "kind: Workflow\nmetadata: { name: w }\nspec:\n  steps:\n    - { id: a, kind: agent, agent: { model: defualt, prompt: x } }\n";
    let p = TestProject::new()
        .file("llms/default.yaml", preset)
        .workflow("w", workflow);
    let (_, warnings) = Project::load_with_env(p.path(), &p.app, &env(&[])).expect("warnings only");
    let w = warnings
        .iter()
        .find(|d| d.code == Code::UnknownLlmPreset)
        .expect("a warning");
    assert_eq!(w.help.as_deref(), Some("did you mean `default`?"));
}

#[tokio::test]
async fn a_server_that_ignores_stream_true_still_works() {
    let llm = FakeLlm::start().await;
    let steps = "        model: openai/local\n        prompt: Hi\n";
    let p = TestProject::new().workflow("w", &agent_workflow(steps));
    let project = load(&p, &[("OPENAI_BASE_URL", &llm.openai_base())]).expect("load");
    llm.push(Reply::json(json!({"ok": true})).ignore_stream());
    let (out, tokens) = run(&p, &project, json!({}), true).await;
    assert_eq!(llm.requests()[0].body["stream"], json!(true));
    assert_eq!(
        tokens, r#"{"ok":true}"#,
        "the whole reply arrives as one token"
    );
    assert_eq!(out.context.get("ok"), Some(&json!(true)));
}
