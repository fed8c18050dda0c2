//! Template rendering: value-typed expressions, dot paths, loops, filters, undefined values.

use super::*;
use serde_json::json;

fn ctx(v: Value) -> Context {
    Context::new(v.as_object().unwrap().clone())
}

fn render(src: &str, c: &Context) -> Result<Value, RenderError> {
    let mut b = TemplateBuilder::default();
    let t = b.compile(src).unwrap();
    let set = b.finish();
    t.render_value(&set, c)
}

#[test]
fn syntax_errors_speak_of_the_source_as_written() {
    let mut b = TemplateBuilder::default();
    for source in ["{{ a | }}", "{{ total * }}", "{{ name }"] {
        let e = b.compile(source).expect_err(source);
        assert!(!e.message.contains("`)`"), "{source}: {}", e.message);
    }
    // The probe leaves nothing behind: a later template still compiles and renders.
    let t = b.compile("{{ n + 1 }}").expect("valid");
    assert!(matches!(t, Template::Value(_)));
}

#[test]
fn single_expression_keeps_type() {
    let c = ctx(json!({"candidate": {"name": "Ada", "skills": ["rust"]}, "n": 3}));
    assert_eq!(
        render("{{ candidate }}", &c).unwrap(),
        json!({"name": "Ada", "skills": ["rust"]})
    );
    assert_eq!(render("{{ n }}", &c).unwrap(), json!(3));
    assert_eq!(render(" {{ n + 1 }} ", &c).unwrap(), json!(4));
    assert_eq!(
        render("{{ candidate.skills }}", &c).unwrap(),
        json!(["rust"])
    );
    assert_eq!(render("n={{ n }}", &c).unwrap(), json!("n=3"));
}

#[test]
fn dot_paths_loops_filters() {
    let c = ctx(json!({"order": {"amount": 12.5, "items": [{"name": "a"}, {"name": "b"}]}}));
    assert_eq!(render("{{ order.amount }}", &c).unwrap(), json!(12.5));
    assert_eq!(
        render("{% for i in order.items %}{{ i.name }}{% endfor %}", &c).unwrap(),
        json!("ab")
    );
    assert_eq!(render("{{ order.items | length }}", &c).unwrap(), json!(2));
    assert_eq!(
        render("{{ order.items[1].name | upper }}", &c).unwrap(),
        json!("B")
    );
    assert_eq!(
        render("{{ order | tojson }}", &c).unwrap(),
        json!(r#"{"amount": 12.5, "items": [{"name": "a"}, {"name": "b"}]}"#)
    );
    assert_eq!(
        render("{{ '%.2f' | format(order.amount) }}", &c).unwrap(),
        json!("12.50")
    );
}

#[test]
fn undefined_is_an_error_that_names_the_variable() {
    let c = ctx(json!({"a": 1}));
    let e = render("hello {{ nope }}", &c).unwrap_err();
    assert!(e.message.contains("`nope`"), "{}", e.message);
    let e = render("{{ nope }}", &c).unwrap_err();
    assert!(e.message.contains("`nope`"), "{}", e.message);
    assert_eq!(
        render("{% if nope %}y{% else %}n{% endif %}", &c).unwrap(),
        json!("n")
    );
    assert_eq!(render("{{ nope | default('d') }}", &c).unwrap(), json!("d"));
}

#[test]
fn literals_and_syntax_errors() {
    let mut b = TemplateBuilder::default();
    assert!(b.compile("plain text").unwrap().is_literal());
    assert!(b.compile("{{ unclosed").is_err());
}

#[test]
fn templated_values_render_nested() {
    let n =
        crate::spec::yaml::parse_documents("a: \"{{ x }}\"\nb: [1, \"{{ y.z }}\"]\nc: static\n")
            .unwrap()
            .remove(0);
    let mut b = TemplateBuilder::default();
    let tv = b.compile_value(&n, "").unwrap();
    let set = b.finish();
    let c = ctx(json!({"x": {"k": 1}, "y": {"z": true}}));
    assert_eq!(
        tv.render(&set, &c).unwrap(),
        json!({"a": {"k": 1}, "b": [1, true], "c": "static"})
    );
}
