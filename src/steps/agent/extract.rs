//! Finding the JSON in an LLM reply without guessing.
//!
//! Models wrap JSON in fenced code blocks or put prose around it. In order:
//! 1. the whole reply is JSON;
//! 2. the fenced code blocks (```` ```json … ``` ````) that hold JSON;
//! 3. the JSON objects embedded in the prose, each read from its `{` to its matching end.
//!
//! The first rule that finds anything decides. If it finds several *different* values the reply
//! is ambiguous (an example followed by the answer, say) and nothing is picked.

use serde_json::Value;

/// What a reply holds.
#[derive(Clone, Debug, PartialEq)]
pub enum Extracted {
    One(Value),
    None,
    /// This many different candidates.
    Ambiguous(usize),
}

/// How many `{` positions the prose scan tries before giving up (bounds the work on long,
/// brace-heavy replies that hold no JSON).
const MAX_STARTS: usize = 256;

pub fn extract_json(reply: &str) -> Extracted {
    let trimmed = reply.trim().trim_start_matches('\u{feff}');
    if let Ok(v) = serde_json::from_str::<Value>(trimmed) {
        return Extracted::One(v);
    }
    let fenced: Vec<Value> = fenced_blocks(trimmed)
        .filter_map(|b| serde_json::from_str(b.trim()).ok())
        .collect();
    if !fenced.is_empty() {
        return decide(fenced);
    }
    decide(embedded_objects(trimmed))
}

fn decide(candidates: Vec<Value>) -> Extracted {
    let mut distinct: Vec<Value> = Vec::with_capacity(1);
    for c in candidates {
        if !distinct.contains(&c) {
            distinct.push(c);
        }
    }
    match distinct.len() {
        0 => Extracted::None,
        1 => distinct.pop().map_or(Extracted::None, Extracted::One),
        n => Extracted::Ambiguous(n),
    }
}

/// The contents of each ```` ``` ```` fenced block (the info string after the opening fence is
/// skipped). An unclosed block runs to the end of the reply.
fn fenced_blocks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let open = rest.find("```")?;
        let after = &rest[open + 3..];
        // The info string (`json`, `JSON`, nothing) ends at the line break.
        let body_start = after.find('\n').map_or(after.len(), |i| i + 1);
        let body = &after[body_start..];
        match body.find("```") {
            Some(close) => {
                rest = &body[close + 3..];
                Some(&body[..close])
            }
            None => {
                rest = "";
                Some(body)
            }
        }
    })
}

/// Every JSON object that starts at a `{` in the prose and parses to its end; scanning resumes
/// after each object found, so nested objects are not counted twice.
fn embedded_objects(text: &str) -> Vec<Value> {
    let mut found = Vec::new();
    let mut pos = 0;
    let mut starts = 0;
    while let Some(offset) = text[pos..].find('{') {
        let start = pos + offset;
        starts += 1;
        if starts > MAX_STARTS {
            break;
        }
        let mut stream = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v @ Value::Object(_))) => {
                found.push(v);
                pos = start + stream.byte_offset();
            }
            _ => pos = start + 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_json_without_guessing() {
        let one = |v: Value| Extracted::One(v);
        let cases: &[(&str, Extracted)] = &[
            (r#"{"category": "spam"}"#, one(json!({"category": "spam"}))),
            ("  [1, 2]\n", one(json!([1, 2]))),
            ("\u{feff}{\"a\": 1}", one(json!({"a": 1}))),
            (
                "```json\n{\"category\": \"urgent\"}\n```",
                one(json!({"category": "urgent"})),
            ),
            (
                "Sure! Here it is:\n```\n{\"a\": 1}\n```\nAnything else?",
                one(json!({"a": 1})),
            ),
            ("```JSON\n{\"a\": 1}", one(json!({"a": 1}))),
            (
                "The answer is {\"category\": \"normal\", \"why\": {\"x\": 1}} as asked.",
                one(json!({"category": "normal", "why": {"x": 1}})),
            ),
            (
                "Use {braces} carefully: {\"a\": true}",
                one(json!({"a": true})),
            ),
            (
                "twice: {\"a\": 1} and again {\"a\": 1}",
                one(json!({"a": 1})),
            ),
            (
                "```json\n{\"a\": 1}\n```\n```json\n{\"a\": 1}\n```",
                one(json!({"a": 1})),
            ),
            (
                "Example: {\"category\": \"x\"}. Answer: {\"category\": \"spam\"}",
                Extracted::Ambiguous(2),
            ),
            (
                "```json\n{\"a\": 1}\n```\n```json\n{\"a\": 2}\n```",
                Extracted::Ambiguous(2),
            ),
            ("I think it is urgent.", Extracted::None),
            ("{\"category\": \"spam\",}", Extracted::None),
            ("{\"category\": \"sp", Extracted::None),
            ("", Extracted::None),
        ];
        for (reply, want) in cases {
            assert_eq!(&extract_json(reply), want, "reply: {reply:?}");
        }
    }

    #[test]
    fn brace_heavy_prose_is_bounded() {
        let reply = "{".repeat(10_000);
        assert_eq!(extract_json(&reply), Extracted::None);
    }
}
