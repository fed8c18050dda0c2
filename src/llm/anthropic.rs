//! Anthropic Messages (`POST {api_base}/v1/messages`, `x-api-key`, `anthropic-version`).
//!
//! System messages go to the top-level `system` field, joined in order. `max_tokens` is
//! required by the API (the provider default fills it). There is no schema parameter here: JSON
//! output is validated after the reply.

use serde_json::{Map, Value, json};

use super::client::{Wire, count, json_body, json_frame};
use super::stream::{Frame, Framing};
use super::{Completion, Delta, Endpoint, Error, Provider, Request, Role, Usage};

pub const API_VERSION: &str = "2023-06-01";

pub const WIRE: Wire = Wire {
    path: "/v1/messages",
    framing: Framing::Sse,
    body,
    auth,
    parse,
    delta,
};

fn auth(builder: reqwest::RequestBuilder, endpoint: &Endpoint) -> reqwest::RequestBuilder {
    let builder = builder.header("anthropic-version", API_VERSION);
    match &endpoint.api_key {
        Some(key) => builder.header("x-api-key", key),
        None => builder,
    }
}

fn body(endpoint: &Endpoint, req: &Request<'_>, stream: bool) -> Value {
    let system: Vec<&str> = req
        .messages
        .iter()
        .filter(|m| m.role == Role::System)
        .map(|m| m.content.as_str())
        .collect();
    let messages: Vec<Value> = req
        .messages
        .iter()
        .filter(|m| m.role != Role::System)
        .map(|m| json!({"role": m.role.as_str(), "content": m.content}))
        .collect();
    let max_tokens = req.max_tokens.or(Provider::Anthropic.default_max_tokens());
    let mut body = Map::new();
    body.insert("model".into(), json!(endpoint.model));
    body.insert("max_tokens".into(), json!(max_tokens));
    if !system.is_empty() {
        body.insert("system".into(), json!(system.join("\n\n")));
    }
    body.insert("messages".into(), Value::Array(messages));
    if let Some(t) = req.temperature {
        body.insert("temperature".into(), json!(t));
    }
    body.insert("stream".into(), json!(stream));
    Value::Object(body)
}

fn parse(body: &[u8]) -> Result<Completion, Error> {
    let v = json_body(body)?;
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::BadResponse("no `content` in the reply".into()))?;
    let text: String = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    let usage = Usage {
        prompt_tokens: count(&v, "/usage/input_tokens"),
        completion_tokens: count(&v, "/usage/output_tokens"),
    };
    Ok(Completion { text, usage })
}

/// Stream events: `message_start` (input tokens), `content_block_delta` (text),
/// `message_delta` (output tokens), `message_stop`, `error`; `ping` and block starts carry
/// nothing needed here.
fn delta(frame: &Frame) -> Result<Delta, Error> {
    let v = json_frame(frame)?;
    let kind = v
        .get("type")
        .and_then(Value::as_str)
        .or(frame.event.as_deref())
        .unwrap_or_default();
    Ok(match kind {
        "message_start" => Delta {
            prompt_tokens: count(&v, "/message/usage/input_tokens"),
            completion_tokens: count(&v, "/message/usage/output_tokens"),
            ..Delta::default()
        },
        "content_block_delta" => Delta {
            text: v
                .pointer("/delta/text")
                .and_then(Value::as_str)
                .map(str::to_string),
            ..Delta::default()
        },
        "message_delta" => Delta {
            completion_tokens: count(&v, "/usage/output_tokens"),
            ..Delta::default()
        },
        "message_stop" => Delta {
            done: true,
            ..Delta::default()
        },
        "error" => {
            let message = v
                .pointer("/error/message")
                .and_then(Value::as_str)
                .unwrap_or("unknown error");
            return Err(Error::Stream(message.to_string()));
        }
        _ => Delta::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Format, Message};
    use std::time::Duration;

    #[test]
    fn system_messages_move_to_the_top() {
        let endpoint = Endpoint {
            provider: Provider::Anthropic,
            model: "claude-x".into(),
            api_base: "http://x".into(),
            api_key: Some("k".into()),
            headers: vec![],
            settings: Default::default(),
            preset: None,
        };
        let messages = [
            Message::new(Role::System, "a"),
            Message::new(Role::System, "b"),
            Message::new(Role::User, "u"),
        ];
        let req = Request {
            messages: &messages,
            temperature: None,
            max_tokens: None,
            format: Format::Json,
            timeout: Duration::from_secs(1),
        };
        assert_eq!(
            body(&endpoint, &req, false),
            json!({"model": "claude-x", "max_tokens": 1024, "system": "a\n\nb", "messages": [{"role": "user", "content": "u"}], "stream": false})
        );
    }

    #[test]
    fn replies_and_events() {
        let c = parse(br#"{"content":[{"type":"text","text":"he"},{"type":"text","text":"y"}],"usage":{"input_tokens":4,"output_tokens":2}}"#).unwrap();
        assert_eq!(c.text, "hey");
        assert_eq!(
            c.usage,
            Usage {
                prompt_tokens: Some(4),
                completion_tokens: Some(2)
            }
        );
        let f = |e: &str, d: &str| Frame {
            event: Some(e.into()),
            data: d.into(),
        };
        let d = delta(&f(
            "content_block_delta",
            r#"{"type":"content_block_delta","delta":{"type":"text_delta","text":"x"}}"#,
        ))
        .unwrap();
        assert_eq!(d.text.as_deref(), Some("x"));
        let d = delta(&f(
            "message_start",
            r#"{"type":"message_start","message":{"usage":{"input_tokens":9,"output_tokens":1}}}"#,
        ))
        .unwrap();
        assert_eq!(d.prompt_tokens, Some(9));
        assert!(
            delta(&f("message_stop", r#"{"type":"message_stop"}"#))
                .unwrap()
                .done
        );
        assert!(matches!(
            delta(&f(
                "error",
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#
            )),
            Err(Error::Stream(_))
        ));
    }
}
