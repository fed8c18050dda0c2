//! One call to a model: build the provider's request, send it on the shared HTTP client, and
//! read the reply whole or as a stream, all under one deadline.

use futures::StreamExt;
use reqwest::RequestBuilder;
use serde_json::Value;

use super::stream::{Decoder, Frame, Framing};
use super::{Completion, Delta, Endpoint, Error, Provider, Request, anthropic, ollama, openai};

/// A provider's wire format, as a table of functions (one `const` per provider module).
pub struct Wire {
    /// Appended to the endpoint's base URL.
    pub path: &'static str,
    pub framing: Framing,
    /// The request body; `stream` asks for a streamed reply.
    pub body: fn(&Endpoint, &Request<'_>, bool) -> Value,
    /// Adds the credentials the provider expects.
    pub auth: fn(RequestBuilder, &Endpoint) -> RequestBuilder,
    /// Reads a whole (non-streamed) reply.
    pub parse: fn(&[u8]) -> Result<Completion, Error>,
    /// Reads one streamed frame.
    pub delta: fn(&Frame) -> Result<Delta, Error>,
}

fn wire(p: Provider) -> &'static Wire {
    match p {
        Provider::OpenAi => &openai::WIRE,
        Provider::Anthropic => &anthropic::WIRE,
        Provider::Ollama => &ollama::WIRE,
    }
}

/// Sends `req` to `endpoint`. With `on_token`, the reply is streamed and each piece of text is
/// handed to `on_token` as it arrives; without, the non-streaming API is used. `req.timeout`
/// bounds the whole call, body included.
pub async fn complete(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    req: &Request<'_>,
    on_token: Option<&mut (dyn FnMut(&str) + Send)>,
) -> Result<Completion, Error> {
    match tokio::time::timeout(req.timeout, call(http, endpoint, req, on_token)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout(req.timeout)),
    }
}

async fn call(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    req: &Request<'_>,
    on_token: Option<&mut (dyn FnMut(&str) + Send)>,
) -> Result<Completion, Error> {
    let wire = wire(endpoint.provider);
    let url = format!("{}{}", endpoint.api_base, wire.path);
    let mut builder = http
        .post(url)
        .json(&(wire.body)(endpoint, req, on_token.is_some()));
    builder = (wire.auth)(builder, endpoint);
    for (name, value) in &endpoint.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let to_error = |e: reqwest::Error| Error::from_reqwest(&e, req.timeout);
    let resp = builder.send().await.map_err(to_error)?;
    let status = resp.status();
    if !status.is_success() {
        let headers = resp.headers().clone();
        let body = resp.bytes().await.unwrap_or_default();
        return Err(Error::from_status(status, &headers, &body));
    }
    match on_token {
        None => {
            let body = resp.bytes().await.map_err(to_error)?;
            (wire.parse)(&body)
        }
        Some(on_token) => read_stream(resp, wire, on_token, req.timeout).await,
    }
}

/// Reads a streamed reply, handing each piece of text to `on_token` as its frame completes.
async fn read_stream(
    resp: reqwest::Response,
    wire: &Wire,
    on_token: &mut (dyn FnMut(&str) + Send),
    timeout: std::time::Duration,
) -> Result<Completion, Error> {
    let to_error = |e: reqwest::Error| Error::from_reqwest(&e, timeout);
    if !is_stream(&resp, wire.framing) {
        // Some compatible servers ignore `stream: true`; their whole reply is one token.
        let body = resp.bytes().await.map_err(to_error)?;
        let completion = (wire.parse)(&body)?;
        on_token(&completion.text);
        return Ok(completion);
    }
    let mut decoder = Decoder::new(wire.framing);
    let mut out = Completion::default();
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(to_error)?;
        if absorb(wire, decoder.push(&chunk), &mut out, on_token)? {
            return Ok(out);
        }
    }
    // The body ended without the provider's end marker: keep what arrived (a cut-off JSON reply
    // still fails to parse later, so nothing is guessed).
    absorb(wire, decoder.finish(), &mut out, on_token)?;
    Ok(out)
}

/// Folds frames into `out`; true once the provider signalled the end.
fn absorb(
    wire: &Wire,
    frames: Vec<Frame>,
    out: &mut Completion,
    on_token: &mut (dyn FnMut(&str) + Send),
) -> Result<bool, Error> {
    for frame in frames {
        let delta = (wire.delta)(&frame)?;
        if let Some(text) = delta.text.as_deref().filter(|t| !t.is_empty()) {
            on_token(text);
        }
        out.absorb(&delta);
        if delta.done {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a successful reply is framed as asked (SSE) rather than one JSON document.
fn is_stream(resp: &reqwest::Response, framing: Framing) -> bool {
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match framing {
        Framing::Sse => !content_type.starts_with("application/json"),
        // Ollama streams NDJSON as `application/x-ndjson`; a plain JSON reply is one line anyway.
        Framing::Ndjson => true,
    }
}

/// Parses a JSON body, naming what it was when it is not JSON.
pub(crate) fn json_body(body: &[u8]) -> Result<Value, Error> {
    serde_json::from_slice(body).map_err(|e| {
        let text = String::from_utf8_lossy(body);
        Error::BadResponse(format!(
            "not JSON ({e}): {}",
            super::error::shorten(text.trim(), 200)
        ))
    })
}

/// A frame's JSON data.
pub(crate) fn json_frame(frame: &Frame) -> Result<Value, Error> {
    json_body(frame.data.as_bytes())
}

/// Bearer authentication when a key is set (OpenAI-compatible servers, proxies in front of
/// Ollama); local servers without a key get no header.
pub(crate) fn bearer(builder: RequestBuilder, endpoint: &Endpoint) -> RequestBuilder {
    match &endpoint.api_key {
        Some(key) => builder.bearer_auth(key),
        None => builder,
    }
}

/// Reads a token count that may be absent or null.
pub(crate) fn count(v: &Value, pointer: &str) -> Option<u64> {
    v.pointer(pointer).and_then(Value::as_u64)
}
