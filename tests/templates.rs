//! Template edge cases, through real steps: value-typed single expressions, undefined variables,
//! filters, loops, reserved keys.

mod common;

use common::TestProject;
use serde_json::{Value, json};

/// Renders `template` as the `v` param of a `set` step and returns `v` (or the failure message).
async fn render(template: &str, input: Value) -> Result<Value, String> {
    let yaml = format!(
        "kind: Workflow\nmetadata: {{ name: t }}\nspec:\n  steps:\n    - id: render_it\n      kind: functional\n      runner: set\n      params:\n        v: {}\n",
        serde_json::to_string(template).unwrap()
    );
    let p = TestProject::new().workflow("t", &yaml);
    match p.run("t", input).await {
        Ok(out) => Ok(out.body()["v"].clone()),
        Err(e) => {
            let f = e.failure.expect("a step failure");
            assert_eq!(f.kind.as_str(), "template", "{}", f.message);
            Err(f.message)
        }
    }
}

#[tokio::test]
async fn single_expressions_keep_their_json_type() {
    let input =
        json!({"n": 3, "f": 1.5, "b": true, "nothing": null, "list": [1, "a"], "obj": {"k": [1]}});
    for (tpl, want) in [
        ("{{ n }}", json!(3)),
        ("{{ f }}", json!(1.5)),
        ("{{ b }}", json!(true)),
        ("{{ nothing }}", json!(null)),
        ("{{ list }}", json!([1, "a"])),
        ("{{ obj }}", json!({"k": [1]})),
        ("{{ obj.k[0] + n }}", json!(4)),
        ("{{ list | length }}", json!(2)),
        ("  {{ n }}  ", json!(3)),
        ("{{ n }} items", json!("3 items")),
        ("{{ n }}{{ f }}", json!("31.5")),
        ("{{ [n, f] }}", json!([3, 1.5])),
        ("{{ {'a': n} }}", json!({"a": 3})),
    ] {
        assert_eq!(render(tpl, input.clone()).await.unwrap(), want, "{tpl}");
    }
}

#[tokio::test]
async fn undefined_variables_fail_naming_variable_and_step() {
    let msg = render("Hello {{ nmae }}", json!({"name": "x"}))
        .await
        .unwrap_err();
    assert!(
        msg.contains("`nmae`") && msg.contains("`render_it`"),
        "{msg}"
    );
    let msg = render("{{ missing }}", json!({})).await.unwrap_err();
    assert!(msg.contains("`missing`"), "{msg}");
    let msg = render("{{ order.nope }}", json!({"order": {"id": 1}}))
        .await
        .unwrap_err();
    assert!(msg.contains("`order.nope`"), "{msg}");
    let msg = render(
        "{{ order.id }} {{ order.nope.deeper }}",
        json!({"order": {"id": 1}}),
    )
    .await
    .unwrap_err();
    assert!(msg.contains("`order.nope`"), "{msg}");
    let msg = render("{% for x in nope %}{{ x }}{% endfor %}", json!({}))
        .await
        .unwrap_err();
    assert!(msg.contains("`nope`"), "{msg}");
}

#[tokio::test]
async fn conditionals_and_defaults_tolerate_undefined() {
    assert_eq!(
        render("{% if vip %}VIP{% else %}regular{% endif %}", json!({}))
            .await
            .unwrap(),
        json!("regular")
    );
    assert_eq!(
        render("{{ name | default('world') }}", json!({}))
            .await
            .unwrap(),
        json!("world")
    );
    assert_eq!(
        render("{{ name is defined }}", json!({})).await.unwrap(),
        json!(false)
    );
}

#[tokio::test]
async fn loops_filters_and_methods() {
    let input = json!({"items": [{"name": "a", "q": 2}, {"name": "b", "q": 3}], "total": 12.5, "who": "ada"});
    for (tpl, want) in [
        (
            "{% for i in items %}{{ i.name }}:{{ i.q }};{% endfor %}",
            json!("a:2;b:3;"),
        ),
        ("{{ '%.2f' | format(total) }}", json!("12.50")),
        ("{{ who | upper }}", json!("ADA")),
        ("{{ who.upper() }}", json!("ADA")),
        ("{{ items | map(attribute='q') | sum }}", json!(5)),
        ("{{ items[-1].name }}", json!("b")),
        (
            "{{ items | tojson }}",
            json!(r#"[{"name": "a", "q": 2}, {"name": "b", "q": 3}]"#),
        ),
        ("{# a comment #}{{ who }}", json!("ada")),
        ("{{ 'é' ~ who }}", json!("éada")),
    ] {
        assert_eq!(render(tpl, input.clone()).await.unwrap(), want, "{tpl}");
    }
}

#[tokio::test]
async fn reserved_keys_are_readable() {
    let v = render(
        "{{ _workflow }}/{{ _version }}/{{ _run_id | length }}",
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(v, json!("t/v1/36"));
}

#[tokio::test]
async fn template_syntax_errors_are_load_time_diagnostics() {
    let p = TestProject::new().workflow(
        "t",
        "kind: Workflow\nmetadata: { name: t }\nspec:\n  steps:\n    - id: a\n      kind: functional\n      runner: set\n      params: { v: \"{{ x | }}\" }\n",
    );
    let e = p.load().expect_err("must not load");
    let d = e.diagnostics.iter().next().unwrap();
    assert_eq!(d.code, weft::spec::Code::TemplateSyntax);
    assert_eq!(d.path.as_deref(), Some("spec.steps[0].params.v"));
    assert_eq!(d.pos.map(|p| (p.line, p.col)), Some((8, 20)));
}
