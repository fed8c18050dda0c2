//! OpenAI chat completions (`POST {api_base}/chat/completions`), the format most servers speak:
//! OpenAI, vLLM, LM Studio, llama.cpp's server, LiteLLM proxies.
//!
//! Structured output: a schema is sent as `response_format: {type: json_schema, …}`. Plain JSON
//! without a schema sends nothing: OpenAI's `json_object` mode rejects prompts that do not
//! contain the word "JSON", and prompts are the author's.

use serde_json::{Map, Value, json};

use super::client::{Wire, bearer, count, json_body, json_frame};
use super::stream::{Frame, Framing};
use super::{Completion, Delta, Endpoint, Error, Format, Request, Usage};

pub const WIRE: Wire = Wire {
    path: "/chat/completions",
    framing: Framing::Sse,
    body,
    auth: bearer,
    parse,
    delta,
};

fn body(endpoint: &Endpoint, req: &Request<'_>, stream: bool) -> Value {
    let messages: Vec<Value> = req
        .messages
        .iter()
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    let mut body = Map::new();
    body.insert("model".into(), json!(endpoint.model));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(n) = req.max_tokens {
        body.insert("max_tokens".into(), json!(n));
    }
    if let Format::Schema { name, schema } = req.format {
        body.insert(
            "response_format".into(),
            json!({"type": "json_schema", "json_schema": {"name": schema_name(name), "schema": schema}}),
        );
    }
    body.insert("stream".into(), json!(stream));
    if stream {
        // Without this the stream carries no token counts.
        body.insert("stream_options".into(), json!({"include_usage": true}));
    }
    Value::Object(body)
}

/// OpenAI accepts `[a-zA-Z0-9_-]{1,64}` as a schema name.
fn schema_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if clean.is_empty() {
        "output".to_string()
    } else {
        clean
    }
}

fn usage(v: &Value) -> Usage {
    Usage {
        prompt_tokens: count(v, "/usage/prompt_tokens"),
        completion_tokens: count(v, "/usage/completion_tokens"),
    }
}

fn parse(body: &[u8]) -> Result<Completion, Error> {
    let v = json_body(body)?;
    let message = v
        .pointer("/choices/0/message")
        .ok_or_else(|| Error::BadResponse("no `choices[0].message` in the reply".into()))?;
    // A refusal comes instead of content; it is the model's answer all the same.
    let text = message
        .get("content")
        .and_then(Value::as_str)
        .or_else(|| message.get("refusal").and_then(Value::as_str))
        .unwrap_or_default();
    Ok(Completion {
        text: text.to_string(),
        usage: usage(&v),
    })
}

fn delta(frame: &Frame) -> Result<Delta, Error> {
    if frame.data.trim() == "[DONE]" {
        return Ok(Delta {
            done: true,
            ..Delta::default()
        });
    }
    let v = json_frame(frame)?;
    if let Some(e) = v.get("error") {
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .map_or_else(|| e.to_string(), str::to_string);
        return Err(Error::Stream(message));
    }
    let text = v
        .pointer("/choices/0/delta/content")
        .and_then(Value::as_str)
        .map(str::to_string);
    let u = usage(&v);
    Ok(Delta {
        text,
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        done: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Message, Provider, Role};
    use std::time::Duration;

    fn endpoint() -> Endpoint {
        Endpoint {
            provider: Provider::OpenAi,
            model: "gpt-4o-mini".into(),
            api_base: "http://x/v1".into(),
            api_key: None,
            headers: vec![],
            settings: Default::default(),
            preset: None,
        }
    }

    #[test]
    fn request_body() {
        let messages = [
            Message::new(Role::System, "s"),
            Message::new(Role::User, "u"),
        ];
        let schema = json!({"type": "object"});
        let req = Request {
            messages: &messages,
            temperature: Some(0.5),
            max_tokens: None,
            format: Format::Schema {
                name: "classify step",
                schema: &schema,
            },
            timeout: Duration::from_secs(1),
        };
        let b = body(&endpoint(), &req, true);
        assert_eq!(
            b,
            json!({
                "model": "gpt-4o-mini",
                "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}],
                "temperature": 0.5,
                "response_format": {"type": "json_schema", "json_schema": {"name": "classify_step", "schema": {"type": "object"}}},
                "stream": true,
                "stream_options": {"include_usage": true}
            })
        );
    }

    #[test]
    fn replies_and_chunks() {
        let c = parse(br#"{"choices":[{"message":{"role":"assistant","content":"hi"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#).unwrap();
        assert_eq!(
            c,
            Completion {
                text: "hi".into(),
                usage: Usage {
                    prompt_tokens: Some(3),
                    completion_tokens: Some(1)
                }
            }
        );
        assert!(matches!(
            parse(b"<html>oops</html>"),
            Err(Error::BadResponse(_))
        ));
        assert!(matches!(
            parse(br#"{"choices":[]}"#),
            Err(Error::BadResponse(_))
        ));
        let f = |d: &str| Frame {
            event: None,
            data: d.into(),
        };
        assert_eq!(
            delta(&f(r#"{"choices":[{"delta":{"content":"a"}}]}"#))
                .unwrap()
                .text
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            delta(&f(
                r#"{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#
            ))
            .unwrap()
            .completion_tokens,
            Some(2)
        );
        assert!(delta(&f("[DONE]")).unwrap().done);
        assert!(
            matches!(delta(&f(r#"{"error":{"message":"boom"}}"#)), Err(Error::Stream(m)) if m == "boom")
        );
    }
}
