//! A fake LLM server for tests: real HTTP on 127.0.0.1, speaking the OpenAI chat-completions,
//! Anthropic Messages and Ollama chat wire formats, so weft's real provider code runs over the
//! wire. Replies are scripted in order ([`Reply`]); every request is recorded ([`Recorded`]).
//!
//! ```ignore
//! let llm = FakeLlm::start().await;
//! llm.push(Reply::json(json!({"category": "urgent"})));
//! // point a preset's api_base at llm.openai_base(), run, then inspect llm.requests()
//! ```

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

/// One scripted reply.
#[derive(Clone, Debug)]
pub struct Reply {
    status: u16,
    /// What the model says (success) or the error message (failure).
    text: String,
    /// A body sent verbatim instead of a rendered one.
    raw: Option<String>,
    delay: Duration,
    headers: Vec<(String, String)>,
    /// How the text is split into stream chunks (default: one per word).
    chunks: Option<Vec<String>>,
    /// Split the streamed body into network writes of this many bytes.
    write_size: Option<usize>,
    usage: (u64, u64),
    /// Answer with a whole JSON reply even when a stream was asked for (as some servers do).
    ignore_stream: bool,
}

impl Reply {
    /// The model replies `text`.
    pub fn text(text: &str) -> Reply {
        Reply {
            status: 200,
            text: text.to_string(),
            raw: None,
            delay: Duration::ZERO,
            headers: Vec::new(),
            chunks: None,
            write_size: None,
            usage: (11, 7),
            ignore_stream: false,
        }
    }

    /// The model replies with this JSON, as text.
    pub fn json(v: Value) -> Reply {
        Reply::text(&v.to_string())
    }

    /// An HTTP error with the wire format's error body.
    pub fn status(status: u16, message: &str) -> Reply {
        Reply {
            status,
            ..Reply::text(message)
        }
    }

    /// A body sent as is (for replies that are not the provider's format at all).
    pub fn raw(status: u16, body: &str) -> Reply {
        Reply {
            status,
            raw: Some(body.to_string()),
            ..Reply::text("")
        }
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// When streamed, the text arrives in exactly these pieces.
    pub fn chunks(mut self, parts: &[&str]) -> Reply {
        self.text = parts.concat();
        self.chunks = Some(parts.iter().map(|p| p.to_string()).collect());
        self
    }

    /// When streamed, the body is written `n` bytes at a time (frames split mid-line).
    pub fn write_size(mut self, n: usize) -> Reply {
        self.write_size = Some(n.max(1));
        self
    }

    pub fn ignore_stream(mut self) -> Reply {
        self.ignore_stream = true;
        self
    }

    pub fn usage(mut self, prompt: u64, completion: u64) -> Reply {
        self.usage = (prompt, completion);
        self
    }

    fn pieces(&self) -> Vec<String> {
        self.chunks
            .clone()
            .unwrap_or_else(|| self.text.split_inclusive(' ').map(str::to_string).collect())
    }
}

/// A request the server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Value,
}

impl Recorded {
    /// The `messages` array's `content` fields with their roles, as `(role, content)`.
    pub fn messages(&self) -> Vec<(String, String)> {
        self.body["messages"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        (
                            m["role"].as_str().unwrap_or_default().to_string(),
                            m["content"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wire {
    OpenAi,
    Anthropic,
    Ollama,
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
}

/// The running server; it stops when dropped.
pub struct FakeLlm {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLlm {
    pub async fn start() -> FakeLlm {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route(
                "/v1/chat/completions",
                post(|s, h, b| handle(Wire::OpenAi, s, h, b)),
            )
            .route(
                "/v1/messages",
                post(|s, h, b| handle(Wire::Anthropic, s, h, b)),
            )
            .route("/api/chat", post(|s, h, b| handle(Wire::Ollama, s, h, b)))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeLlm { addr, shared, task }
    }

    /// Queues replies, served in order; once they run out, requests get a 500.
    pub fn push(&self, reply: Reply) -> &Self {
        self.shared.replies.lock().expect("lock").push_back(reply);
        self
    }

    /// The OpenAI-style base URL (`…/v1`).
    pub fn openai_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The server root (Anthropic and Ollama bases).
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().expect("lock").clone()
    }
}

async fn handle(
    wire: Wire,
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into()));
    let path = match wire {
        Wire::OpenAi => "/v1/chat/completions",
        Wire::Anthropic => "/v1/messages",
        Wire::Ollama => "/api/chat",
    };
    let headers = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // Ollama streams unless told not to; the others only when asked.
    let stream = match wire {
        Wire::Ollama => body["stream"] != json!(false),
        _ => body["stream"] == json!(true),
    };
    let model = body["model"].as_str().unwrap_or("fake").to_string();
    shared.requests.lock().expect("lock").push(Recorded {
        path: path.to_string(),
        headers,
        body,
    });
    let next = shared.replies.lock().expect("lock").pop_front();
    let reply = next.unwrap_or_else(|| Reply::status(500, "fake LLM: no scripted reply left"));
    tokio::time::sleep(reply.delay).await;
    respond(wire, &reply, stream, &model)
}

fn respond(wire: Wire, reply: &Reply, stream: bool, model: &str) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = Response::builder().status(status);
    for (k, v) in &reply.headers {
        builder = builder.header(k, v);
    }
    let (content_type, body) = if let Some(raw) = &reply.raw {
        ("text/plain", Body::from(raw.clone()))
    } else if !status.is_success() {
        (
            "application/json",
            Body::from(error_body(wire, &reply.text).to_string()),
        )
    } else if stream && !reply.ignore_stream {
        let content_type = if wire == Wire::Ollama {
            "application/x-ndjson"
        } else {
            "text/event-stream"
        };
        (
            content_type,
            streamed(stream_body(wire, reply, model), reply.write_size),
        )
    } else {
        (
            "application/json",
            Body::from(whole_body(wire, reply, model).to_string()),
        )
    };
    builder
        .header(header::CONTENT_TYPE, content_type)
        .body(body)
        .expect("a valid response")
}

fn error_body(wire: Wire, message: &str) -> Value {
    match wire {
        Wire::OpenAi => json!({"error": {"message": message, "type": "fake_error"}}),
        Wire::Anthropic => {
            json!({"type": "error", "error": {"type": "fake_error", "message": message}})
        }
        Wire::Ollama => json!({"error": message}),
    }
}

fn whole_body(wire: Wire, reply: &Reply, model: &str) -> Value {
    let (p, c) = reply.usage;
    match wire {
        Wire::OpenAi => json!({
            "id": "chatcmpl-fake", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
        }),
        Wire::Anthropic => json!({
            "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": reply.text}],
            "stop_reason": "end_turn", "usage": {"input_tokens": p, "output_tokens": c}
        }),
        Wire::Ollama => json!({
            "model": model, "message": {"role": "assistant", "content": reply.text},
            "done": true, "prompt_eval_count": p, "eval_count": c
        }),
    }
}

/// The whole streamed body in the wire's framing.
fn stream_body(wire: Wire, reply: &Reply, model: &str) -> String {
    let (p, c) = reply.usage;
    let sse = |event: Option<&str>, data: Value| match event {
        Some(e) => format!("event: {e}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    };
    let pieces = reply.pieces();
    let mut out = String::new();
    match wire {
        Wire::OpenAi => {
            for piece in &pieces {
                out += &sse(
                    None,
                    json!({"model": model, "choices": [{"index": 0, "delta": {"content": piece}}]}),
                );
            }
            out += &sse(
                None,
                json!({"model": model, "choices": [], "usage": {"prompt_tokens": p, "completion_tokens": c}}),
            );
            out += "data: [DONE]\n\n";
        }
        Wire::Anthropic => {
            let start = json!({"type": "message_start", "message": {"model": model, "usage": {"input_tokens": p, "output_tokens": 1}}});
            out += &sse(Some("message_start"), start);
            out += &sse(
                Some("content_block_start"),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            );
            out += "event: ping\ndata: {\"type\": \"ping\"}\n\n";
            for piece in &pieces {
                let delta = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}});
                out += &sse(Some("content_block_delta"), delta);
            }
            out += &sse(
                Some("content_block_stop"),
                json!({"type": "content_block_stop", "index": 0}),
            );
            out += &sse(
                Some("message_delta"),
                json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": c}}),
            );
            out += &sse(Some("message_stop"), json!({"type": "message_stop"}));
        }
        Wire::Ollama => {
            for piece in &pieces {
                out += &format!(
                    "{}\n",
                    json!({"model": model, "message": {"role": "assistant", "content": piece}, "done": false})
                );
            }
            let last = json!({"model": model, "message": {"role": "assistant", "content": ""}, "done": true, "prompt_eval_count": p, "eval_count": c});
            out += &format!("{last}\n");
        }
    }
    out
}

/// The body as a stream of writes: one per line, or `write_size` bytes each.
fn streamed(text: String, write_size: Option<usize>) -> Body {
    let bytes = text.into_bytes();
    let writes: Vec<Bytes> = match write_size {
        Some(n) => bytes.chunks(n).map(Bytes::copy_from_slice).collect(),
        None => bytes
            .split_inclusive(|&b| b == b'\n')
            .map(Bytes::copy_from_slice)
            .collect(),
    };
    Body::from_stream(futures::stream::iter(
        writes.into_iter().map(Ok::<_, Infallible>),
    ))
}
