use serde_json::json;

use super::*;
use crate::graph::Target;

fn routes(keys: &[&str]) -> Routes {
    Routes::new(
        keys.iter().map(|k| (k.to_string(), Target::End)).collect(),
        Target::End,
    )
}

fn ctx(v: Value) -> Context {
    Context::new(v.as_object().unwrap().clone())
}

fn json_output() -> Output {
    Output {
        format: Format::Json,
        map: Vec::new(),
        signal_from: None,
        output_key: None,
        schema: None,
    }
}

#[test]
fn json_merges_then_maps_then_stores() {
    let out = Output {
        map: vec![
            ("category".into(), "message_category".into()),
            ("meta.score".into(), "ai.score".into()),
        ],
        output_key: Some("raw".into()),
        signal_from: Some("category".into()),
        ..json_output()
    };
    let mut c = ctx(json!({"message": "hi", "_run_id": "r"}));
    let reply =
        r#"{"category": "Urgent", "meta": {"score": 0.9}, "_response": "pwned", "_run_id": "x"}"#;
    let signal = out
        .apply(reply, &mut c, &routes(&["urgent", "normal", "error"]))
        .unwrap();
    assert_eq!(signal, "urgent");
    assert_eq!(
        c.as_map(),
        ctx(json!({
            "message": "hi",
            "_run_id": "r",
            "category": "Urgent",
            "meta": {"score": 0.9},
            "message_category": "Urgent",
            "ai": {"score": 0.9},
            "raw": {"category": "Urgent", "meta": {"score": 0.9}, "_response": "pwned", "_run_id": "x"}
        }))
        .as_map()
    );
}

#[test]
fn failed_replies_write_nothing() {
    let out = Output {
        signal_from: Some("category".into()),
        ..json_output()
    };
    let before = ctx(json!({"message": "hi"}));
    let cases = [
        ("I'd say urgent.", "not JSON"),
        (r#"{"label": "urgent"}"#, "gave no `category`"),
        (
            r#"{"category": ["a"]}"#,
            "an array, not a value to route on",
        ),
        (r#"["urgent"]"#, "expected a JSON object"),
        (
            r#"Either {"category": "a"} or {"category": "b"}"#,
            "2 different JSON values",
        ),
    ];
    for (reply, want) in cases {
        let mut c = before.clone();
        let e = out.apply(reply, &mut c, &routes(&["urgent"])).unwrap_err();
        assert_eq!(e.kind, FailureKind::ParseError, "{reply}");
        assert!(e.message.contains(want), "{reply}: {}", e.message);
        assert_eq!(c, before, "{reply}");
    }
}

#[test]
fn signal_from_values() {
    let out = Output {
        signal_from: Some("flag".into()),
        ..json_output()
    };
    let r = routes(&["true", "default"]);
    let mut c = ctx(json!({}));
    assert_eq!(out.apply(r#"{"flag": true}"#, &mut c, &r).unwrap(), "true");
    assert_eq!(out.apply(r#"{"flag": 3}"#, &mut c, &r).unwrap(), "3");
    // Unmatched values stay as they are: the engine's default / next-step rules apply.
    assert_eq!(
        out.apply(r#"{"flag": " Maybe "}"#, &mut c, &r).unwrap(),
        "Maybe"
    );
}

#[test]
fn a_json_array_needs_an_output_key() {
    let out = Output {
        output_key: Some("tags".into()),
        ..json_output()
    };
    let mut c = ctx(json!({}));
    assert_eq!(
        out.apply("```json\n[\"a\", \"b\"]\n```", &mut c, &routes(&[]))
            .unwrap(),
        "default"
    );
    assert_eq!(c.get("tags"), Some(&json!(["a", "b"])));
}

#[test]
fn text_is_stored_whole() {
    let out = Output {
        format: Format::Text,
        output_key: Some("summary".into()),
        ..json_output()
    };
    let mut c = ctx(json!({}));
    assert_eq!(
        out.apply(" A short summary. ", &mut c, &routes(&[]))
            .unwrap(),
        "default"
    );
    assert_eq!(c.get("summary"), Some(&json!("A short summary.")));
}

#[test]
fn signal_replies() {
    let out = Output {
        format: Format::Signal,
        ..json_output()
    };
    let r = routes(&["urgent", "normal", "spam", "error", "timeout"]);
    for reply in [
        "urgent",
        "  Urgent.\n",
        "\"URGENT\"",
        "'urgent'",
        "`urgent`",
    ] {
        assert_eq!(
            out.apply(reply, &mut ctx(json!({})), &r).unwrap(),
            "urgent",
            "{reply:?}"
        );
    }
    for reply in ["maybe", "error", "timeout", "urgent, I think", ""] {
        let e = out.apply(reply, &mut ctx(json!({})), &r).unwrap_err();
        assert_eq!(e.kind, FailureKind::ParseError, "{reply:?}");
        assert!(
            e.message.contains("`urgent`, `normal`, `spam`"),
            "{}",
            e.message
        );
    }
    let with_default = routes(&["urgent", "default"]);
    assert_eq!(
        out.apply("Other.", &mut ctx(json!({})), &with_default)
            .unwrap(),
        "Other"
    );
}

#[test]
fn schema_violations_are_parse_errors_with_details() {
    let schema = json!({
        "type": "object",
        "required": ["category"],
        "properties": {"category": {"enum": ["urgent", "normal", "spam"]}}
    });
    let validator = jsonschema::validator_for(&schema).unwrap();
    let out = Output {
        schema: Some(Schema {
            json: schema,
            validator,
        }),
        ..json_output()
    };
    let mut c = ctx(json!({}));
    let e = out
        .apply(r#"{"category": "other"}"#, &mut c, &routes(&[]))
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::ParseError);
    assert!(e.message.contains("(at /category)"), "{}", e.message);
    assert_eq!(
        e.details.unwrap()["schema_errors"][0]["path"],
        json!("/category")
    );
    assert_eq!(c.get("category"), None);
    assert!(
        out.apply(r#"{"category": "spam"}"#, &mut c, &routes(&[]))
            .is_ok()
    );
}
