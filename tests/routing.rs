//! Every routing rule of the interpreter, as data: a workflow, an input, the steps it must run
//! and how it must end.

mod common;

use common::{TestProject, trace};
use serde_json::{Value, json};
use weft::engine::RunErrorCode;

/// How a case must end.
enum End {
    Ok(Value),
    Fails(RunErrorCode, &'static str),
}

struct Case {
    name: &'static str,
    steps: &'static str,
    input: Value,
    trace: &'static [&'static str],
    end: End,
}

/// Wraps `steps` (YAML list items, 4-space indented) in a workflow named `t`.
fn workflow(steps: &str) -> String {
    format!("kind: Workflow\nmetadata: {{ name: t }}\nspec:\n  steps:\n{steps}")
}

async fn check(case: Case) {
    let p = TestProject::new().workflow("t", &workflow(case.steps));
    let project = p.load_ok();
    let (steps, result) = trace(&p.app, &project, "t", case.input).await;
    assert_eq!(steps, case.trace, "case `{}`: executed steps", case.name);
    match (case.end, result) {
        (End::Ok(want), Ok(out)) => assert_eq!(out.body(), want, "case `{}`: result", case.name),
        (End::Fails(code, step), Err(e)) => {
            assert_eq!(e.code, code, "case `{}`: {}", case.name, e.message);
            assert_eq!(
                e.step.as_deref(),
                Some(step),
                "case `{}`: failing step",
                case.name
            );
        }
        (End::Ok(_), Err(e)) => panic!("case `{}` failed: {}", case.name, e.message),
        (End::Fails(..), Ok(out)) => panic!("case `{}` succeeded: {}", case.name, out.body()),
    }
}

#[tokio::test]
async fn routing_rules() {
    let cases = [
        Case {
            name: "falls through to the next step, END after the last",
            steps: r#"
    - { id: a, kind: functional, runner: set, params: { x: 1 } }
    - { id: b, kind: functional, runner: noop }
"#,
            input: json!({}),
            trace: &["a", "b"],
            end: End::Ok(json!({"x": 1})),
        },
        Case {
            name: "a named signal takes its route",
            steps: r#"
    - { id: a, kind: router, condition: { field: n, operator: gt, value: 1 }, routes: { "true": c, "false": b } }
    - { id: b, kind: functional, runner: set, params: { went: b } }
    - { id: c, kind: functional, runner: set, params: { went: c } }
"#,
            input: json!({"n": 5}),
            trace: &["a", "c"],
            end: End::Ok(json!({"n": 5, "went": "c"})),
        },
        Case {
            name: "unquoted YAML booleans work as route keys",
            steps: r#"
    - id: a
      kind: router
      condition: { field: n, operator: gt, value: 1 }
      routes:
        true: c
        false: b
    - { id: b, kind: functional, runner: set, params: { went: b }, routes: { default: END } }
    - { id: c, kind: functional, runner: set, params: { went: c } }
"#,
            input: json!({"n": 0}),
            trace: &["a", "b"],
            end: End::Ok(json!({"n": 0, "went": "b"})),
        },
        Case {
            name: "an unmatched signal takes default",
            steps: r#"
    - { id: a, kind: router, condition: { field: n, operator: eq, value: 1 }, routes: { "true": b, default: c } }
    - { id: b, kind: functional, runner: noop }
    - { id: c, kind: functional, runner: set, params: { went: c } }
"#,
            input: json!({"n": 2}),
            trace: &["a", "c"],
            end: End::Ok(json!({"n": 2, "went": "c"})),
        },
        Case {
            name: "an unmatched signal without default falls through",
            steps: r#"
    - { id: a, kind: router, condition: { field: n, operator: eq, value: 1 }, routes: { "true": c } }
    - { id: b, kind: functional, runner: set, params: { went: b } }
    - { id: c, kind: functional, runner: noop }
"#,
            input: json!({"n": 2}),
            trace: &["a", "b", "c"],
            end: End::Ok(json!({"n": 2, "went": "b"})),
        },
        Case {
            name: "END stops the run",
            steps: r#"
    - { id: a, kind: functional, runner: noop, routes: { default: END } }
    - { id: b, kind: functional, runner: set, params: { never: true } }
"#,
            input: json!({}),
            trace: &["a"],
            end: End::Ok(json!({})),
        },
        Case {
            name: "a failure takes the route named by its kind first",
            steps: r#"
    - { id: a, kind: functional, runner: fail, routes: { node_error: b, error: c, default: c } }
    - { id: b, kind: functional, runner: set, params: { handled: by_kind }, routes: { default: END } }
    - { id: c, kind: functional, runner: set, params: { handled: by_error } }
"#,
            input: json!({}),
            trace: &["a", "b"],
            end: End::Ok(json!({"handled": "by_kind"})),
        },
        Case {
            name: "a failure takes error when its kind has no route, and the run succeeds",
            steps: r#"
    - { id: a, kind: functional, runner: fail, params: { message: boom }, routes: { timeout: b, error: c } }
    - { id: b, kind: functional, runner: noop }
    - { id: c, kind: functional, runner: set, params: { seen: "{{ _last_error }}/{{ _last_error_type }}" } }
"#,
            input: json!({}),
            trace: &["a", "c"],
            end: End::Ok(json!({"seen": "boom/node_error"})),
        },
        Case {
            name: "a failure never takes default",
            steps: r#"
    - { id: a, kind: functional, runner: fail, routes: { default: b } }
    - { id: b, kind: functional, runner: noop }
"#,
            input: json!({}),
            trace: &["a"],
            end: End::Fails(RunErrorCode::StepFailed, "a"),
        },
        Case {
            name: "a failure never falls through",
            steps: r#"
    - { id: a, kind: functional, runner: fail }
    - { id: b, kind: functional, runner: noop }
"#,
            input: json!({}),
            trace: &["a"],
            end: End::Fails(RunErrorCode::StepFailed, "a"),
        },
        Case {
            name: "the loop guard stops a route that loops forever",
            steps: r#"
    - { id: a, kind: functional, runner: noop, routes: { default: b } }
    - { id: b, kind: functional, runner: noop, routes: { default: a } }
"#,
            input: json!({}),
            trace: &[],
            end: End::Fails(RunErrorCode::MaxStepsExceeded, "a"),
        },
        Case {
            name: "a template failure is a step failure of kind template",
            steps: r#"
    - { id: a, kind: functional, runner: set, params: { x: "{{ missing }}" }, routes: { template: b } }
    - { id: b, kind: functional, runner: set, params: { why: "{{ _last_error_type }}" } }
"#,
            input: json!({}),
            trace: &["a", "b"],
            end: End::Ok(json!({"why": "template"})),
        },
        Case {
            name: "a step kind not implemented bypasses error routes",
            steps: r#"
    - { id: a, kind: HumanInTheLoop, routes: { error: b, not_implemented: b } }
    - { id: b, kind: functional, runner: noop }
"#,
            input: json!({}),
            trace: &["a"],
            end: End::Fails(RunErrorCode::NotImplemented, "a"),
        },
    ];
    for case in cases {
        if case.name.starts_with("the loop guard") {
            // Checked separately below: its trace is 1000 steps long.
            continue;
        }
        check(case).await;
    }
}

#[tokio::test]
async fn loop_guard_default_and_override() {
    let looping = r#"
    - { id: a, kind: functional, runner: noop, routes: { default: b } }
    - { id: b, kind: functional, runner: noop, routes: { default: a } }
"#;
    let p = TestProject::new().workflow("t", &workflow(looping));
    let project = p.load_ok();
    let (steps, result) = trace(&p.app, &project, "t", json!({})).await;
    let e = result.expect_err("must fail");
    assert_eq!(e.code, RunErrorCode::MaxStepsExceeded);
    assert_eq!(steps.len(), 1000);

    let custom = format!(
        "kind: Workflow\nmetadata: {{ name: t }}\nspec:\n  max_steps: 7\n  steps:\n{looping}"
    );
    let p = TestProject::new().workflow("t", &custom);
    let project = p.load_ok();
    let (steps, result) = trace(&p.app, &project, "t", json!({})).await;
    assert_eq!(
        result.expect_err("must fail").code,
        RunErrorCode::MaxStepsExceeded
    );
    assert_eq!(steps.len(), 7);
}

#[tokio::test]
async fn last_error_stays_readable_after_recovery() {
    let steps = r#"
    - { id: a, kind: functional, runner: fail, params: { message: first }, routes: { error: b } }
    - { id: b, kind: functional, runner: noop }
    - { id: c, kind: response, mapping: { err: _last_error, kind: _last_error_type } }
"#;
    let p = TestProject::new().workflow("t", &workflow(steps));
    let out = p.run("t", json!({})).await.expect("recovered run succeeds");
    assert_eq!(out.body(), json!({"err": "first", "kind": "node_error"}));
}

#[tokio::test]
async fn callers_cannot_set_reserved_keys() {
    let steps = r#"
    - { id: a, kind: functional, runner: noop }
"#;
    let p = TestProject::new().workflow("t", &workflow(steps));
    let out = p
        .run("t", json!({"_response": "forged", "ok": 1}))
        .await
        .unwrap();
    assert_eq!(out.body(), json!({"ok": 1}));
}
