//! Ollama chat (`POST {api_base}/api/chat`), streamed as NDJSON.
//!
//! Ollama streams unless told otherwise, so `stream` is always sent. Structured output uses its
//! `format` field: `"json"` for plain JSON, the schema itself when there is one. Sampling
//! settings go under `options` (`num_predict` is its `max_tokens`).

use serde_json::{Map, Value, json};

use super::client::{Wire, bearer, count, json_body, json_frame};
use super::stream::{Frame, Framing};
use super::{Completion, Delta, Endpoint, Error, Format, Request, Usage};

pub const WIRE: Wire = Wire {
    path: "/api/chat",
    framing: Framing::Ndjson,
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
    body.insert("stream".into(), json!(stream));
    match req.format {
        Format::Text => {}
        Format::Json => {
            body.insert("format".into(), json!("json"));
        }
        Format::Schema { schema, .. } => {
            body.insert("format".into(), schema.clone());
        }
    }
    let mut options = Map::new();
    if let Some(t) = req.temperature {
        options.insert("temperature".into(), json!(t));
    }
    if let Some(n) = req.max_tokens {
        options.insert("num_predict".into(), json!(n));
    }
    if !options.is_empty() {
        body.insert("options".into(), Value::Object(options));
    }
    Value::Object(body)
}

fn usage(v: &Value) -> Usage {
    Usage {
        prompt_tokens: count(v, "/prompt_eval_count"),
        completion_tokens: count(v, "/eval_count"),
    }
}

fn failure(v: &Value) -> Option<Error> {
    v.get("error")
        .map(|e| Error::Stream(e.as_str().map_or_else(|| e.to_string(), str::to_string)))
}

fn parse(body: &[u8]) -> Result<Completion, Error> {
    let v = json_body(body)?;
    if let Some(e) = failure(&v) {
        return Err(e);
    }
    let text = v
        .pointer("/message/content")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::BadResponse("no `message.content` in the reply".into()))?;
    Ok(Completion {
        text: text.to_string(),
        usage: usage(&v),
    })
}

fn delta(frame: &Frame) -> Result<Delta, Error> {
    let v = json_frame(frame)?;
    if let Some(e) = failure(&v) {
        return Err(e);
    }
    let text = v
        .pointer("/message/content")
        .and_then(Value::as_str)
        .map(str::to_string);
    let done = v.get("done").and_then(Value::as_bool).unwrap_or(false);
    let u = if done { usage(&v) } else { Usage::default() };
    Ok(Delta {
        text,
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        done,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::{Message, Provider, Role};
    use std::time::Duration;

    #[test]
    fn request_body() {
        let endpoint = Endpoint {
            provider: Provider::Ollama,
            model: "llama3".into(),
            api_base: "http://x".into(),
            api_key: None,
            headers: vec![],
            settings: Default::default(),
            preset: None,
        };
        let messages = [Message::new(Role::User, "u")];
        let req = Request {
            messages: &messages,
            temperature: Some(0.0),
            max_tokens: Some(10),
            format: Format::Json,
            timeout: Duration::from_secs(1),
        };
        assert_eq!(
            body(&endpoint, &req, false),
            json!({"model": "llama3", "messages": [{"role": "user", "content": "u"}], "stream": false, "format": "json", "options": {"temperature": 0.0, "num_predict": 10}})
        );
    }

    #[test]
    fn replies_and_lines() {
        let c = parse(br#"{"message":{"role":"assistant","content":"ok"},"done":true,"prompt_eval_count":7,"eval_count":2}"#).unwrap();
        assert_eq!(
            c,
            Completion {
                text: "ok".into(),
                usage: Usage {
                    prompt_tokens: Some(7),
                    completion_tokens: Some(2)
                }
            }
        );
        assert!(matches!(
            parse(br#"{"error":"model 'x' not found"}"#),
            Err(Error::Stream(_))
        ));
        let f = |d: &str| Frame {
            event: None,
            data: d.into(),
        };
        let d = delta(&f(r#"{"message":{"content":"o"},"done":false}"#)).unwrap();
        assert_eq!((d.text.as_deref(), d.done), (Some("o"), false));
        let d = delta(&f(
            r#"{"message":{"content":""},"done":true,"prompt_eval_count":7,"eval_count":2}"#,
        ))
        .unwrap();
        assert_eq!((d.done, d.completion_tokens), (true, Some(2)));
    }
}
