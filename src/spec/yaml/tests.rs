//! Tests of the YAML layer: positions, keys, error stamping, documents.

use super::*;
use std::collections::BTreeMap;

fn doc(text: &str) -> Node {
    parse_documents(text).unwrap().remove(0)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    id: Located<String>,
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    routes: BTreeMap<String, Located<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    timeout: Option<u32>,
}

#[test]
fn positions_and_plain_text_survive() {
    let n = doc("a: 1.10\nb: \"x\"\nc: NO\nd: 0123\n");
    assert_eq!(n.get("a").unwrap().plain.as_deref(), Some("1.10"));
    let s: String = from_node(n.get("a").unwrap(), "a").unwrap();
    assert_eq!(s, "1.10");
    assert_eq!(n.get("c").unwrap().value, Value::Str("NO".into()));
    assert_eq!(n.get("d").unwrap().value, Value::Str("0123".into()));
    assert_eq!(n.get("b").unwrap().pos, Pos::new(2, 4));
}

#[test]
fn bool_and_int_keys_read_as_text() {
    let n = doc("id: s\nkind: router\nroutes:\n  true: a\n  404: b\n");
    let s: Step = from_node(&n, "").unwrap();
    assert_eq!(s.routes["true"].value, "a");
    assert_eq!(s.routes["404"].pos, Pos::new(5, 8));
    assert_eq!(s.id.pos, Pos::new(1, 5));
}

#[test]
fn unknown_key_points_at_the_key() {
    let n = doc("id: s\nkind: router\nroutez: {}\n");
    let e = from_node::<Step>(&n, "spec.steps[2]").unwrap_err();
    assert_eq!(e.pos, Some(Pos::new(3, 1)));
    assert_eq!(e.path.as_deref(), Some("spec.steps[2].routez"));
    assert!(matches!(e.problem, Problem::UnknownField { ref field, .. } if field == "routez"));
}

#[test]
fn wrong_type_points_at_the_value() {
    let n = doc("id: s\nkind: router\ntimeout: soon\n");
    let e = from_node::<Step>(&n, "x").unwrap_err();
    assert_eq!(e.pos, Some(Pos::new(3, 10)));
    assert_eq!(e.path.as_deref(), Some("x.timeout"));
    assert!(matches!(e.problem, Problem::InvalidType { .. }), "{e:?}");
}

#[test]
fn expected_types_are_worded_for_authors() {
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        n: u32,
        inner: Option<Step>,
    }
    let e = from_node::<Outer>(&doc("n: lots\n"), "").unwrap_err();
    let want = "a whole number (0 or more)";
    assert!(
        matches!(e.problem, Problem::InvalidType { ref expected, .. } if expected == want),
        "{e:?}"
    );
    let e = from_node::<Outer>(&doc("n: 1\ninner: 5\n"), "").unwrap_err();
    assert!(
        matches!(e.problem, Problem::InvalidType { ref expected, .. } if expected == "a mapping"),
        "{e:?}"
    );
}

#[test]
fn missing_field_points_at_the_map() {
    let n = doc("- kind: router\n");
    let e = from_node::<Vec<Step>>(&n, "steps").unwrap_err();
    assert_eq!(e.problem, Problem::MissingField("id"));
    assert_eq!(e.pos, Some(Pos::new(1, 3)));
    assert_eq!(e.path.as_deref(), Some("steps[0]"));
}

#[test]
fn node_subtrees_keep_positions() {
    #[derive(Deserialize)]
    struct P {
        params: Node,
    }
    let n = doc("params:\n  a: \"{{ x }}\"\n");
    let p: P = from_node(&n, "").unwrap();
    assert_eq!(p.params.get("a").unwrap().pos, Pos::new(2, 6));
}

#[test]
fn syntax_error_has_position() {
    // The parser gives up on line 3; the mistake is the `[` never closed on line 2.
    let e = parse_documents("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
    assert_eq!(e.pos, Pos::new(2, 4));
    assert!(!e.message.contains('\n'));
    let e = parse_documents("a: 1\nb: 2\na: 3\n").unwrap_err();
    assert_eq!(e.pos, Pos::new(3, 1));
    assert!(!e.message.contains("Options"), "{}", e.message);
}

#[test]
fn splits_documents_as_written() {
    let text = "# head\nkind: A\n---\n# two\nkind: B\n...\n";
    let docs = split_document_texts(text, 2).unwrap();
    assert_eq!(
        docs,
        vec![
            "# head\nkind: A\n".to_string(),
            "# two\nkind: B\n".to_string()
        ]
    );
}

#[test]
fn infers_plain_scalars() {
    assert_eq!(infer_plain_scalar("8080"), Value::Int(8080));
    assert_eq!(infer_plain_scalar("0.5"), Value::Float(0.5));
    assert_eq!(infer_plain_scalar("true"), Value::Bool(true));
    assert_eq!(infer_plain_scalar("007"), Value::Str("007".into()));
    assert_eq!(infer_plain_scalar("e"), Value::Str("e".into()));
    assert_eq!(infer_plain_scalar(""), Value::Null);
}
