//! `mcp` steps against real MCP server processes: weft's test server (stdio and streamable HTTP)
//! and `@modelcontextprotocol/server-everything` (stdio, legacy SSE and streamable HTTP).

mod common;
#[path = "support/docs.rs"]
mod docs;
#[path = "support/mcp_servers.rs"]
mod servers;

use common::TestProject;
use serde_json::{Value, json};
use servers::{Listening, everything, process_exists, test_server_bin};
use weft::{RunError, RunOutput};

/// weft.yaml declaring the stdio test server as `local`.
fn stdio_config() -> String {
    format!(
        "mcp_servers:\n  local:\n    command: \"{}\"\n    args: [stdio]\n",
        test_server_bin().display()
    )
}

/// A workflow `name` whose steps are `steps` (YAML list items, 4-space indented).
fn workflow(steps: &str) -> String {
    format!("kind: Workflow\nmetadata: {{ name: t }}\nspec:\n  steps:\n{steps}")
}

fn project(config: &str, workflows: &[(&str, &str)]) -> TestProject {
    let mut p = TestProject::new().file("weft.yaml", config);
    for (name, steps) in workflows {
        p = p.workflow(
            name,
            &workflow(steps).replace("name: t", &format!("name: {name}")),
        );
    }
    p
}

async fn run(
    p: &TestProject,
    project: &weft::Project,
    name: &str,
    input: Value,
) -> Result<RunOutput, RunError> {
    common::run_in(&p.app, project, name, input).await
}

async fn run_ok(p: &TestProject, project: &weft::Project, name: &str, input: Value) -> RunOutput {
    run(p, project, name, input)
        .await
        .unwrap_or_else(|e| panic!("run `{name}` failed: {}", e.message))
}

fn get<'a>(out: &'a RunOutput, key: &str) -> &'a Value {
    out.context.get(key).unwrap_or(&Value::Null)
}

/// A step that records that an error route was taken.
const CAUGHT: &str =
    "    - { id: caught, kind: functional, runner: set, params: { caught: true } }\n";

#[tokio::test]
async fn stdio_tools_results_and_extraction() {
    let steps = r#"
    - id: echo
      kind: mcp
      mcp: { server: local, tool: echo, arguments: { message: "hi {{ who }}" } }
      response: { output_key: echoed }
    - id: add
      kind: mcp
      mcp: { server: local, tool: add, arguments: { a: "{{ n }}", b: 0.5 } }
      response: { output_key: sum, extract: [{ path: sum, as: total }] }
    - id: search
      kind: mcp
      mcp: { server: local, tool: search, arguments: { query: rust } }
      response:
        output_key: search_results
        extract: [{ path: "0.title", as: first_result_title }, { path: "$[*].title", as: titles }]
    - id: mixed
      kind: mcp
      mcp: { server: local, tool: mixed }
"#;
    let p = project(&stdio_config(), &[("t", steps)]);
    let loaded = p.load_ok();
    let out = run_ok(&p, &loaded, "t", json!({"who": "Ada", "n": 2})).await;
    assert_eq!(get(&out, "echoed"), &json!("echo: hi Ada"));
    assert_eq!(
        get(&out, "sum"),
        &json!({"sum": 2.5}),
        "structured content wins"
    );
    assert_eq!(get(&out, "total"), &json!(2.5));
    assert_eq!(get(&out, "first_result_title"), &json!("rust one"));
    assert_eq!(get(&out, "titles"), &json!(["rust one", "rust two"]));
    let mixed = get(&out, "mcp_result");
    assert_eq!(mixed[0], json!({"type": "text", "text": "caption"}));
    assert_eq!(mixed[1]["type"], json!("image"));
    p.app.services().shutdown().await;
}

#[tokio::test]
async fn sessions_are_shared_by_runs_and_reaped_on_shutdown() {
    let pid = "    - { id: pid, kind: mcp, mcp: { server: local, tool: pid } }\n";
    let p = project(&stdio_config(), &[("pid", pid)]);
    let loaded = p.load_ok();
    let runs =
        futures::future::join_all((0..4).map(|_| run_ok(&p, &loaded, "pid", json!({})))).await;
    let pids: Vec<&Value> = runs.iter().map(|o| get(o, "mcp_result")).collect();
    assert!(
        pids.iter().all(|p| *p == pids[0]),
        "one process served every run: {pids:?}"
    );
    let again = run_ok(&p, &p.load_ok(), "pid", json!({})).await;
    assert_eq!(
        get(&again, "mcp_result"),
        pids[0],
        "a reload keeps the session"
    );
    let server_pid = pids[0].as_u64().expect("pid") as u32;
    assert!(process_exists(server_pid));
    p.app.services().shutdown().await;
    assert!(
        !process_exists(server_pid),
        "the child is reaped on shutdown"
    );
    let after = run(&p, &loaded, "pid", json!({}))
        .await
        .expect_err("no sessions after shutdown");
    assert_eq!(after.failure.map(|f| f.kind.as_str()), Some("transport"));
}

#[tokio::test]
async fn templated_env_selects_the_session() {
    let step = format!(
        r#"
    - id: env
      kind: mcp
      mcp: {{ command: "{}", args: [stdio], env: {{ GREETING: "{{{{ greeting }}}}" }}, tool: env, arguments: {{ name: GREETING }} }}
    - {{ id: pid, kind: mcp, mcp: {{ command: "{}", args: [stdio], env: {{ GREETING: "{{{{ greeting }}}}" }}, tool: pid }}, response: {{ output_key: pid }} }}
"#,
        test_server_bin().display(),
        test_server_bin().display()
    );
    let p = project("", &[("t", &step)]);
    let loaded = p.load_ok();
    let hello = run_ok(&p, &loaded, "t", json!({"greeting": "hello"})).await;
    let bonjour = run_ok(&p, &loaded, "t", json!({"greeting": "bonjour"})).await;
    let hello_again = run_ok(&p, &loaded, "t", json!({"greeting": "hello"})).await;
    assert_eq!(get(&hello, "mcp_result"), &json!("hello"));
    assert_eq!(get(&bonjour, "mcp_result"), &json!("bonjour"));
    assert_ne!(
        get(&hello, "pid"),
        get(&bonjour, "pid"),
        "different env, different process"
    );
    assert_eq!(
        get(&hello, "pid"),
        get(&hello_again, "pid"),
        "same env, same process"
    );
    p.app.services().shutdown().await;
}

#[tokio::test]
async fn tool_errors_unknown_tools_and_timeouts_route_by_kind() {
    let steps = |tool: &str, args: &str, routes: &str| {
        format!(
            "    - {{ id: call, kind: mcp, mcp: {{ server: local, tool: {tool}, arguments: {args}, timeout: 0.5 }}, routes: {routes} }}\n{CAUGHT}"
        )
    };
    let fail = steps(
        "fail",
        "{ message: \"disk full\" }",
        "{ tool_error: caught, default: END }",
    );
    let unknown = steps("nope", "{}", "{ unknown_tool: caught, default: END }");
    let slow = steps(
        "sleep",
        "{ ms: 10000 }",
        "{ timeout: caught, default: END }",
    );
    let echo = steps("echo", "{ message: still-here }", "{ default: END }");
    let p = project(
        &stdio_config(),
        &[
            ("fail", &fail),
            ("unknown", &unknown),
            ("slow", &slow),
            ("echo", &echo),
        ],
    );
    let loaded = p.load_ok();
    let out = run_ok(&p, &loaded, "fail", json!({})).await;
    assert_eq!(get(&out, "_last_error_type"), &json!("tool_error"));
    assert!(
        get(&out, "_last_error")
            .as_str()
            .unwrap_or_default()
            .contains("disk full")
    );
    let out = run_ok(&p, &loaded, "unknown", json!({})).await;
    assert_eq!(get(&out, "_last_error_type"), &json!("unknown_tool"));
    let message = get(&out, "_last_error").as_str().unwrap_or_default();
    assert!(
        message.contains("`nope`") && message.contains("echo"),
        "{message}"
    );
    let out = run_ok(&p, &loaded, "slow", json!({})).await;
    assert_eq!(get(&out, "_last_error_type"), &json!("timeout"));
    let out = run_ok(&p, &loaded, "echo", json!({})).await;
    assert_eq!(
        get(&out, "mcp_result"),
        &json!("echo: still-here"),
        "the session outlives a timed-out call"
    );
    p.app.services().shutdown().await;
}

#[tokio::test]
async fn a_server_that_crashes_mid_run_is_restarted_for_the_next_run() {
    let pid = "    - { id: pid, kind: mcp, mcp: { server: local, tool: pid } }\n";
    let crash = format!(
        "    - {{ id: crash, kind: mcp, mcp: {{ server: local, tool: crash }}, routes: {{ transport: caught }} }}\n{CAUGHT}"
    );
    let p = project(&stdio_config(), &[("pid", pid), ("crash", &crash)]);
    let loaded = p.load_ok();
    let first = run_ok(&p, &loaded, "pid", json!({})).await;
    let out = run_ok(&p, &loaded, "crash", json!({})).await;
    assert_eq!(get(&out, "caught"), &json!(true));
    assert_eq!(get(&out, "_last_error_type"), &json!("transport"));
    let second = run_ok(&p, &loaded, "pid", json!({})).await;
    assert_ne!(
        get(&first, "mcp_result"),
        get(&second, "mcp_result"),
        "a new process serves the next run"
    );
    let third = run_ok(&p, &loaded, "pid", json!({})).await;
    assert_eq!(get(&second, "mcp_result"), get(&third, "mcp_result"));
    p.app.services().shutdown().await;
}

#[tokio::test]
async fn streamable_http_test_server_with_headers() {
    let server = Listening::test_server().await;
    let config = format!(
        "mcp_servers:\n  remote:\n    transport: streamable-http\n    url: {}/mcp\n    headers: {{ X-Weft-Test: \"yes {{{{ tag }}}}\" }}\n",
        server.base
    );
    let steps = r#"
    - { id: header, kind: mcp, mcp: { server: remote, tool: header, arguments: { name: x-weft-test } }, response: { output_key: header } }
    - { id: add, kind: mcp, mcp: { server: remote, tool: add, arguments: { a: 1, b: 2 } } }
"#;
    let p = project(&config, &[("t", steps)]);
    let loaded = p.load_ok();
    let out = run_ok(&p, &loaded, "t", json!({"tag": "x1"})).await;
    assert_eq!(get(&out, "header"), &json!("yes x1"));
    assert_eq!(get(&out, "mcp_result"), &json!({"sum": 3.0}));
    p.app.services().shutdown().await;
}

/// Calls three of server-everything's tools through `transport`/`where`.
async fn check_everything(server: &str) {
    let config = format!("mcp_servers:\n  everything:\n{server}");
    let steps = r#"
    - { id: echo, kind: mcp, mcp: { server: everything, tool: echo, arguments: { message: "{{ msg }}" } }, response: { output_key: echo } }
    - id: weather
      kind: mcp
      mcp: { server: everything, tool: get-structured-content, arguments: { location: Chicago } }
      response: { output_key: weather, extract: [{ path: conditions, as: conditions }] }
    - { id: missing, kind: mcp, mcp: { server: everything, tool: no-such-tool }, routes: { unknown_tool: caught } }
    - { id: caught, kind: functional, runner: set, params: { caught: true } }
"#;
    let p = project(&config, &[("t", steps)]);
    let loaded = p.load_ok();
    let out = run_ok(&p, &loaded, "t", json!({"msg": "hello from weft"})).await;
    assert_eq!(
        get(&out, "echo"),
        &json!("Echo: hello from weft"),
        "{server}"
    );
    assert_eq!(get(&out, "weather")["temperature"], json!(36), "{server}");
    assert_eq!(
        get(&out, "conditions"),
        &json!("Light rain / drizzle"),
        "{server}"
    );
    assert_eq!(get(&out, "caught"), &json!(true), "{server}");
    p.app.services().shutdown().await;
}

#[tokio::test]
async fn server_everything_over_stdio() {
    let Some(entry) = everything() else { return };
    check_everything(&format!(
        "    command: node\n    args: [\"{}\", stdio]\n",
        entry.display()
    ))
    .await;
}

#[tokio::test]
async fn server_everything_over_legacy_sse() {
    let Some(entry) = everything() else { return };
    let server = Listening::everything(&entry, "sse").await;
    check_everything(&format!(
        "    transport: sse\n    url: {}/sse\n",
        server.base
    ))
    .await;
}

#[tokio::test]
async fn server_everything_over_streamable_http() {
    let Some(entry) = everything() else { return };
    let server = Listening::everything(&entry, "streamableHttp").await;
    check_everything(&format!(
        "    transport: http\n    url: {}/mcp\n",
        server.base
    ))
    .await;
}

#[test]
fn bad_mcp_specs_are_load_errors() {
    let config = "mcp_servers:\n  github: { command: npx }\n  nourl: { transport: sse }\n";
    let steps = r#"
    - { id: a, kind: mcp, mcp: { server: githb, tool: x } }
    - { id: b, kind: mcp, mcp: { server: github, command: other, tool: x } }
    - { id: c, kind: mcp, mcp: { transport: stdio, tool: x } }
    - { id: d, kind: mcp, mcp: { server: nourl, tool: x } }
    - { id: e, kind: mcp, mcp: { command: x, url: "http://h/sse", tool: x } }
    - { id: f, kind: mcp, mcp: { tool: x } }
    - { id: g, kind: mcp, mcp: { transport: websocket, url: "http://h", tool: x } }
"#;
    let err = project(config, &[("t", steps)]).load().expect_err("errors");
    let found: Vec<String> = err
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code.id(), d.message))
        .collect();
    let expected = [
        "W0024 unknown MCP server `githb`",
        "cannot also define one",
        "a stdio MCP server needs `command`",
        "an sse MCP server needs `url`",
        "`url` does not apply to a stdio MCP server",
        "an mcp step needs a server",
        "unknown value `websocket`",
    ];
    for want in expected {
        assert!(
            found.iter().any(|m| m.contains(want)),
            "missing `{want}` in {found:#?}"
        );
    }
    let help = err
        .diagnostics
        .iter()
        .find_map(|d| d.help.clone().filter(|h| h.contains("github")));
    assert_eq!(help.as_deref(), Some("did you mean `github`?"));
    let in_config = err
        .diagnostics
        .iter()
        .find(|d| d.message.contains("needs `url`"))
        .expect("diagnostic");
    assert_eq!(
        in_config.file.as_deref(),
        Some(std::path::Path::new("weft.yaml"))
    );
}

#[test]
fn validate_connect_lists_tools_and_flags_unknown_names() {
    let steps = r#"
    - { id: a, kind: mcp, mcp: { server: local, tool: echo, arguments: { message: x } } }
    - { id: b, kind: mcp, mcp: { server: local, tool: ehco } }
"#;
    let p = project(&stdio_config(), &[("t", steps)]);
    let validate = |connect: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weft"));
        cmd.arg("validate").arg("--project").arg(p.path());
        if connect {
            cmd.arg("--connect");
        }
        let out = cmd.output().expect("run weft validate");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, _) = validate(false);
    assert_eq!(code, Some(0), "without --connect nothing is started");
    let (code, stdout) = validate(true);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("error[W0026]: MCP server local has no tool `ehco`"),
        "{stdout}"
    );
    assert!(stdout.contains("help: did you mean `echo`?"), "{stdout}");
    assert!(stdout.contains("--> workflows/t.yaml:7:55"), "{stdout}");
    assert!(
        stdout.contains("MCP server local: 10 tool(s): "),
        "{stdout}"
    );
    p.write(
        "workflows/t.yaml",
        &workflow(&steps.replace("ehco", "echo")),
    );
    let (code, stdout) = validate(true);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.contains("MCP server local: 10 tool(s): "),
        "{stdout}"
    );
}

/// `examples/mcp`, with server-everything from tests/support/npm.
#[tokio::test]
async fn example_project_runs() {
    let Some(entry) = everything() else { return };
    let p = TestProject::copy_of(&common::repo_root().join("examples/mcp"));
    let env: std::collections::HashMap<String, String> =
        [("EVERYTHING_JS".to_string(), entry.display().to_string())].into();
    let project = match weft::Project::load_with_env(p.path(), &p.app, &env) {
        Ok((project, _)) => project,
        Err(e) => panic!("{}", e.diagnostics.render(p.path())),
    };
    let out = run_ok(
        &p,
        &project,
        "mcp_demo",
        json!({"message": "hi", "city": "Chicago"}),
    )
    .await;
    assert_eq!(
        out.body(),
        json!({"echoed": "Echo: hi", "temperature": 36, "conditions": "Light rain / drizzle"})
    );
    let failed = run_ok(
        &p,
        &project,
        "mcp_demo",
        json!({"message": "hi", "city": "Paris"}),
    )
    .await;
    assert_eq!(failed.status(), 502);
    assert_eq!(
        failed.body()["kind"],
        json!("tool_error"),
        "{}",
        failed.body()
    );
    p.app.services().shutdown().await;
}

#[test]
fn docs_examples_load() {
    docs::check_page("docs/steps/mcp.md");
}

#[tokio::test]
async fn unreachable_servers_are_transport_failures() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let servers = [
        "command: ./no-such-server".to_string(),
        format!("transport: sse, url: \"http://127.0.0.1:{closed}/sse\""),
        format!("transport: streamable_http, url: \"http://127.0.0.1:{closed}/mcp\""),
    ];
    for server in servers {
        let steps = format!(
            "    - {{ id: call, kind: mcp, mcp: {{ {server}, tool: echo, timeout: 20 }}, routes: {{ transport: caught }} }}\n{CAUGHT}"
        );
        let p = project("", &[("t", &steps)]);
        let loaded = p.load_ok();
        let out = run_ok(&p, &loaded, "t", json!({})).await;
        assert_eq!(
            get(&out, "_last_error_type"),
            &json!("transport"),
            "{server}"
        );
        assert!(
            get(&out, "_last_error")
                .as_str()
                .unwrap_or_default()
                .contains("cannot start MCP server"),
            "{server}"
        );
    }
}
