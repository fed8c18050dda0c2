//! `api_call` against a real HTTP server on 127.0.0.1 (tests/support/http_server.rs).

mod common;
#[path = "support/docs.rs"]
mod docs;
#[path = "support/http_server.rs"]
mod http_server;

use common::TestProject;
use http_server::HttpServer;
use serde_json::{Value, json};
use weft::engine::{Events, RunEvent, RunOptions};
use weft::{RunError, RunOutput};

/// A project with one workflow `t` made of `steps` (YAML list items, 4-space indented) and an
/// optional `weft.yaml`.
fn project(steps: &str, weft_yaml: Option<&str>) -> TestProject {
    let p = TestProject::new().workflow(
        "t",
        &format!("kind: Workflow\nmetadata: {{ name: t }}\nspec:\n  steps:\n{steps}"),
    );
    match weft_yaml {
        Some(y) => p.file("weft.yaml", y),
        None => p,
    }
}

async fn run(p: &TestProject, input: Value) -> Result<RunOutput, RunError> {
    p.run("t", input).await
}

async fn run_ok(p: &TestProject, input: Value) -> RunOutput {
    match run(p, input).await {
        Ok(out) => out,
        Err(e) => panic!("run failed: {}", e.message),
    }
}

/// Runs and collects the `Retrying` events.
async fn run_with_retries(p: &TestProject) -> (Result<RunOutput, RunError>, Vec<(u32, String)>) {
    let project = p.load_ok();
    let wf = project.workflow("t", None).expect("workflow t");
    let (events, mut rx) = Events::channel();
    let result = p
        .app
        .engine()
        .run(
            wf,
            Default::default(),
            RunOptions {
                events,
                ..Default::default()
            },
        )
        .await;
    let mut retries = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let RunEvent::Retrying { attempt, kind, .. } = ev {
            retries.push((attempt, kind.to_string()));
        }
    }
    (result, retries)
}

fn get<'a>(out: &'a RunOutput, key: &str) -> &'a Value {
    out.context.get(key).unwrap_or(&Value::Null)
}

/// The step an error route leads to: records where the run went.
const CAUGHT: &str = r#"
    - { id: caught, kind: functional, runner: set, params: { caught: true } }
"#;

#[tokio::test]
async fn methods_headers_query_and_templated_nested_json() {
    let s = HttpServer::start().await;
    let steps = format!(
        r#"
    - id: call
      kind: api_call
      http:
        url: "{}/echo"
        method: post
        headers: {{ X-Trace: "t-{{{{ trace }}}}" }}
        query: {{ q: "{{{{ term }}}}", tags: [a, b], none: null }}
        json:
          user: {{ name: "{{{{ user.name }}}}", skills: "{{{{ user.skills }}}}", first: "{{{{ user.skills.0 }}}}" }}
          count: "{{{{ n }}}}"
          fixed: [1, true]
"#,
        s.base()
    );
    let p = project(&steps, None);
    let input = json!({"trace": 7, "term": "a b", "n": 3, "user": {"name": "Ada", "skills": ["rust", "ml"]}});
    let out = run_ok(&p, input).await;
    let echo = get(&out, "api_response");
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["headers"]["x-trace"], "t-7");
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["query"], json!({"q": "a b", "tags": ["a", "b"]}));
    assert_eq!(
        echo["body"],
        json!({"user": {"name": "Ada", "skills": ["rust", "ml"], "first": "rust"}, "count": 3, "fixed": [1, true]})
    );
    assert_eq!(get(&out, "_api_status_code"), &json!(200));
}

#[tokio::test]
async fn every_method_and_text_bodies() {
    let s = HttpServer::start().await;
    for method in ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"] {
        let steps = format!(
            r#"
    - id: call
      kind: api_call
      http: {{ url: "{}/echo", method: {method}, body: "plain {{{{ word }}}}" }}
"#,
            s.base()
        );
        let out = run_ok(&project(&steps, None), json!({"word": "text"})).await;
        let echo = get(&out, "api_response");
        assert_eq!(echo["method"], method);
        assert_eq!(echo["body"], "plain text", "{method}");
        assert_eq!(
            echo["headers"]["content-type"], "text/plain; charset=utf-8",
            "{method}"
        );
    }
    let steps = format!(
        "    - {{ id: call, kind: api_call, http: {{ url: \"{}/echo\", method: HEAD }} }}\n",
        s.base()
    );
    let out = run_ok(&project(&steps, None), json!({})).await;
    assert_eq!(get(&out, "api_response"), &Value::Null, "HEAD has no body");
}

#[tokio::test]
async fn extraction_dot_paths_indices_and_jsonpath() {
    let s = HttpServer::start().await;
    let steps = format!(
        r#"
    - id: call
      kind: api_call
      http: {{ url: "{}/weather" }}
      response:
        output_key: weather_raw
        extract:
          - {{ path: current.temp_c, as: temperature }}
          - {{ path: current.condition.text, as: conditions }}
          - {{ path: items.1.title, as: second_title }}
          - {{ path: "$.items[*].id", as: ids }}
          - {{ path: "$.items[?@.score > 2].title", as: good }}
          - {{ path: "$.items[0].score", as: summary.first_score }}
          - {{ path: current.humidity, as: humidity }}
"#,
        s.base()
    );
    let out = run_ok(&project(&steps, None), json!({})).await;
    let want = [
        ("temperature", json!(21.5)),
        ("conditions", json!("Sunny")),
        ("second_title", json!("second")),
        ("ids", json!([1, 2])),
        ("good", json!(["first"])),
        ("summary", json!({"first_score": 5})),
        ("humidity", Value::Null),
    ];
    for (key, value) in want {
        assert_eq!(get(&out, key), &value, "{key}");
    }
    assert_eq!(get(&out, "weather_raw")["current"]["temp_c"], json!(21.5));
}

#[tokio::test]
async fn a_missing_required_path_is_an_extract_failure() {
    let s = HttpServer::start().await;
    let steps = format!(
        r#"
    - id: call
      kind: api_call
      http: {{ url: "{}/weather" }}
      response:
        extract: [{{ path: current.pressure, as: pressure, required: true }}]
      routes: {{ extract: caught, default: END }}
{CAUGHT}"#,
        s.base()
    );
    let out = run_ok(&project(&steps, None), json!({})).await;
    assert_eq!(get(&out, "caught"), &json!(true));
    assert_eq!(get(&out, "_last_error_type"), &json!("extract"));
    assert!(
        get(&out, "_last_error")
            .as_str()
            .unwrap_or_default()
            .contains("current.pressure")
    );
    assert_eq!(
        get(&out, "api_response")["current"]["temp_c"],
        json!(21.5),
        "the body is kept for the error route"
    );
}

#[tokio::test]
async fn retries_on_503_then_succeeds() {
    let s = HttpServer::start().await;
    let steps = format!(
        "    - {{ id: call, kind: api_call, http: {{ url: \"{}/flaky/a/2\", retries: 3, retry_backoff: 0.01 }} }}\n",
        s.base()
    );
    let (result, retries) = run_with_retries(&project(&steps, None)).await;
    let out = result.unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(get(&out, "api_response"), &json!({"ok": true, "hits": 3}));
    assert_eq!(get(&out, "_api_status_code"), &json!(200));
    assert_eq!(s.hits("path:/flaky/a/2"), 3);
    assert_eq!(
        retries,
        vec![
            (2, "http_status".to_string()),
            (3, "http_status".to_string())
        ]
    );
}

#[tokio::test]
async fn exhausted_retries_take_the_error_route_with_the_status() {
    let s = HttpServer::start().await;
    let steps = format!(
        r#"
    - id: call
      kind: api_call
      http: {{ url: "{}/flaky/b/10", retries: 1, retry_backoff: 0 }}
      routes: {{ error: caught, default: END }}
{CAUGHT}"#,
        s.base()
    );
    let out = run_ok(&project(&steps, None), json!({})).await;
    assert_eq!(get(&out, "caught"), &json!(true));
    assert_eq!(get(&out, "_api_status_code"), &json!(503));
    assert_eq!(get(&out, "_last_error_type"), &json!("http_status"));
    assert_eq!(
        get(&out, "api_response"),
        &json!({"busy": true}),
        "the error body is kept"
    );
    assert_eq!(s.hits("path:/flaky/b/10"), 2);
}

#[tokio::test]
async fn a_non_retryable_status_fails_at_once_and_fails_the_run_without_a_route() {
    let s = HttpServer::start().await;
    let steps = format!(
        "    - {{ id: call, kind: api_call, http: {{ url: \"{}/status/404\", retries: 3 }} }}\n",
        s.base()
    );
    let e = run(&project(&steps, None), json!({}))
        .await
        .expect_err("404 without a route fails the run");
    assert_eq!(
        e.failure.as_ref().map(|f| f.kind.as_str()),
        Some("http_status")
    );
    assert!(e.message.contains("404"), "{}", e.message);
    assert_eq!(e.context.get("_api_status_code"), Some(&json!(404)));
    assert_eq!(s.hits("path:/status/404"), 1);
}

#[tokio::test]
async fn timeouts_route_by_kind() {
    let s = HttpServer::start().await;
    let steps = format!(
        r#"
    - id: call
      kind: api_call
      http: {{ url: "{}/slow/5000", timeout: 0.2 }}
      routes: {{ timeout: caught, error: END }}
{CAUGHT}"#,
        s.base()
    );
    let out = run_ok(&project(&steps, None), json!({})).await;
    assert_eq!(get(&out, "caught"), &json!(true));
    assert_eq!(get(&out, "_last_error_type"), &json!("timeout"));
    assert_eq!(get(&out, "_api_status_code"), &Value::Null);
}

#[tokio::test]
async fn connection_refused_is_a_connect_failure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let steps = format!(
        "    - {{ id: call, kind: api_call, http: {{ url: \"http://127.0.0.1:{port}/x?key=s3cret\" }}, routes: {{ connect: caught }} }}\n{CAUGHT}"
    );
    let out = run_ok(&project(&steps, None), json!({})).await;
    assert_eq!(get(&out, "_last_error_type"), &json!("connect"));
    let message = get(&out, "_last_error").as_str().unwrap_or_default();
    assert!(
        !message.contains("s3cret"),
        "secrets stay out of messages: {message}"
    );
}

#[tokio::test]
async fn response_bodies_are_capped() {
    let s = HttpServer::start().await;
    let config = Some("http:\n  max_response_bytes: 1000\n");
    for (path, fits) in [
        ("/big/1000", true),
        ("/big/1001", false),
        ("/big-stream/5000", false),
    ] {
        let steps = format!(
            "    - {{ id: call, kind: api_call, http: {{ url: \"{}{path}\" }}, routes: {{ error: caught, default: END }} }}\n{CAUGHT}",
            s.base()
        );
        let out = run_ok(&project(&steps, config), json!({})).await;
        assert_eq!(get(&out, "caught") == &json!(true), !fits, "{path}");
        if !fits {
            assert!(
                get(&out, "_last_error")
                    .as_str()
                    .unwrap_or_default()
                    .contains("exceeds 1000 bytes"),
                "{path}"
            );
            assert_eq!(get(&out, "_api_status_code"), &json!(200), "{path}");
        }
    }
}

#[tokio::test]
async fn status_routes_emit_the_code_or_its_class() {
    let s = HttpServer::start().await;
    let routes = r#"{ "404": not_found, "4xx": client, "2xx": fine, error: caught }"#;
    let cases = [
        ("404", "not_found"),
        ("418", "client"),
        ("201", "fine"),
        ("500", "caught"),
    ];
    for (code, went) in cases {
        let steps = format!(
            r#"
    - {{ id: call, kind: api_call, http: {{ url: "{}/status/{code}" }}, response: {{ status_routes: true }}, routes: {routes} }}
    - {{ id: not_found, kind: functional, runner: set, params: {{ went: not_found }}, routes: {{ default: END }} }}
    - {{ id: client, kind: functional, runner: set, params: {{ went: client }}, routes: {{ default: END }} }}
    - {{ id: fine, kind: functional, runner: set, params: {{ went: fine }}, routes: {{ default: END }} }}
    - {{ id: caught, kind: functional, runner: set, params: {{ went: caught }} }}
"#,
            s.base()
        );
        let out = run_ok(&project(&steps, None), json!({})).await;
        assert_eq!(get(&out, "went"), &json!(went), "status {code}");
        assert_eq!(
            get(&out, "api_response"),
            &json!({"code": code.parse::<u16>().unwrap()})
        );
    }
}

#[tokio::test]
async fn bearer_and_basic_auth() {
    let s = HttpServer::start().await;
    let cases = [
        (r#"{ bearer: "{{ token }}" }"#, "Bearer tok-1"),
        (
            r#"{ basic: { username: "{{ user }}", password: "p@ss" } }"#,
            "Basic YWRhOnBAc3M=",
        ),
    ];
    for (auth, want) in cases {
        let steps = format!(
            "    - {{ id: call, kind: api_call, http: {{ url: \"{}/echo\", auth: {auth} }} }}\n",
            s.base()
        );
        let out = run_ok(
            &project(&steps, None),
            json!({"token": "tok-1", "user": "ada"}),
        )
        .await;
        assert_eq!(
            get(&out, "api_response")["headers"]["authorization"],
            json!(want)
        );
    }
}

#[tokio::test]
async fn allowlist_blocks_hosts_and_redirect_hops_and_credentials_stay_home() {
    let s = HttpServer::start().await;
    let port = s.port;
    let call = |url: String| {
        format!(
            "    - {{ id: call, kind: api_call, http: {{ url: \"{url}\", auth: {{ bearer: secret-token }} }}, routes: {{ connect: caught, default: END }} }}\n{CAUGHT}"
        )
    };
    let only_ip = Some("http:\n  allowed_hosts: [\"127.0.0.1\"]\n");
    // Allowed host: the call goes through.
    let out = run_ok(
        &project(&call(format!("{}/echo", s.base())), only_ip),
        json!({}),
    )
    .await;
    assert_eq!(
        get(&out, "api_response")["headers"]["authorization"],
        json!("Bearer secret-token")
    );
    // Not allowed: refused before anything is sent.
    let out = run_ok(
        &project(&call(format!("http://localhost:{port}/echo")), only_ip),
        json!({}),
    )
    .await;
    assert_eq!(get(&out, "_last_error_type"), &json!("connect"));
    assert!(
        get(&out, "_last_error")
            .as_str()
            .unwrap_or_default()
            .contains("allowed_hosts")
    );
    assert_eq!(s.hits("path:/echo"), 1);
    // A redirect to a host outside the list is refused at that hop.
    let hop = format!("{}/redirect?to=http://localhost:{port}/echo", s.base());
    let out = run_ok(&project(&call(hop.clone()), only_ip), json!({})).await;
    assert_eq!(get(&out, "_last_error_type"), &json!("connect"));
    assert_eq!(s.hits("path:/echo"), 1);
    // Without a list the redirect is followed, but the credentials stay with their origin.
    let out = run_ok(&project(&call(hop), None), json!({})).await;
    assert_eq!(get(&out, "api_response")["path"], json!("/echo"));
    assert_eq!(
        get(&out, "api_response")["headers"].get("authorization"),
        None
    );
    // A same-origin 307 keeps the method, body and credentials.
    let same = format!("{}/redirect?to=/echo&status=307", s.base());
    let out = run_ok(&project(&call(same), None), json!({})).await;
    assert_eq!(
        get(&out, "api_response")["headers"]["authorization"],
        json!("Bearer secret-token")
    );
}

#[tokio::test]
async fn text_bodies_and_response_meta() {
    let s = HttpServer::start().await;
    let steps = format!(
        "    - {{ id: call, kind: api_call, http: {{ url: \"{}/text\" }}, response: {{ output_key: page, include_meta: true }} }}\n",
        s.base()
    );
    let out = run_ok(&project(&steps, None), json!({})).await;
    assert_eq!(get(&out, "page"), &json!("hello"));
    let meta = get(&out, "page_meta");
    assert_eq!(meta["status_code"], json!(200));
    assert_eq!(meta["ok"], json!(true));
    assert_eq!(meta["headers"]["content-type"], json!("text/plain"));
    assert_eq!(meta["url"], json!(format!("{}/text", s.base())));
    assert!(meta["elapsed_ms"].is_u64());
}

#[test]
fn bad_api_call_specs_are_load_errors() {
    let steps = r#"
    - id: a
      kind: api_call
      http: { url: "http://x/{{ a }}", method: FETCH, body: "x", json: { a: 1 }, retry_statuses: [700], timeout: 0 }
      response:
        output_key: _secret
        extract: [{ path: "$.items[", as: x }, { path: a, as: _b }]
    - { id: b, kind: api_call, http: { url: "http://x", auth: { bearer: t, basic: { username: u, password: p } } } }
"#;
    let err = project(steps, None)
        .load()
        .expect_err("the project has errors");
    let messages: Vec<String> = err.diagnostics.iter().map(|d| d.message.clone()).collect();
    let expected = [
        "unknown HTTP method `FETCH`",
        "not both",
        "`700` is not an HTTP status code",
        "`timeout` must be greater than zero",
        "`output_key: _secret`",
        "invalid extract path `$.items[`",
        "`as: _b`",
        "exactly one of `bearer` or `basic`",
    ];
    for want in expected {
        assert!(
            messages.iter().any(|m| m.contains(want)),
            "missing `{want}` in {messages:#?}"
        );
    }
    let bad_config = project(
        "    - { id: a, kind: functional, runner: noop }\n",
        Some("http:\n  allowed_hosts: [\"http://x\"]\n"),
    );
    let err = bad_config.load().expect_err("bad allowlist entry");
    assert!(
        err.diagnostics
            .iter()
            .any(|d| d.message.contains("write the host only (`x`)")),
        "{:?}",
        err.diagnostics
    );
}

/// `examples/api_call`, pointed at the local server through `WEATHER_API_BASE`.
#[tokio::test]
async fn example_project_runs() {
    let s = HttpServer::start().await;
    let p = TestProject::copy_of(&common::repo_root().join("examples/api_call"));
    let env: std::collections::HashMap<String, String> =
        [("WEATHER_API_BASE".to_string(), s.base())].into();
    let project = match weft::Project::load_with_env(p.path(), &p.app, &env) {
        Ok((project, _)) => project,
        Err(e) => panic!("{}", e.diagnostics.render(p.path())),
    };
    let out = common::run_in(
        &p.app,
        &project,
        "weather",
        json!({"latitude": 52.52, "longitude": 13.41}),
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(
        out.body(),
        json!({"temperature": 3.4, "unit": "°C", "wind_speed": 11.2})
    );
    let failed = common::run_in(
        &p.app,
        &project,
        "weather",
        json!({"latitude": 0, "longitude": 0}),
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(failed.status(), 502);
    assert_eq!(failed.body()["upstream_status"], json!(503));
    assert_eq!(failed.body()["kind"], json!("http_status"));
    assert_eq!(
        s.hits("path:/v1/forecast"),
        1 + 3,
        "the failing call was retried twice"
    );
}

#[test]
fn docs_examples_load() {
    docs::check_page("docs/steps/api_call.md");
}
