//! LLM providers and presets. Knows nothing about workflows: it resolves model strings and
//! `kind: AgentModel` presets into [`Endpoint`]s at load time, and sends chat requests to them.
//!
//! - [`preset`]: the presets table built once per project load, and model-string resolution
//!   (`default` → a preset, `openai/gpt-4o` → a provider with its defaults).
//! - [`endpoint`]: [`Provider`] and [`Endpoint`], everything needed to call a model.
//! - [`openai`], [`anthropic`], [`ollama`]: one wire format each (request body, response, stream
//!   chunks).
//! - [`stream`]: framing of streamed bodies (SSE and NDJSON).
//! - [`error`]: [`Error`], with HTTP statuses mapped to what callers branch on.
//! - `client` (re-exported as [`complete`]): one request, streamed or not, under a deadline.

pub mod anthropic;
mod client;
pub mod endpoint;
pub mod error;
pub mod ollama;
pub mod openai;
pub mod preset;
pub mod stream;

use std::time::Duration;

use serde_json::Value;

pub use client::{Wire, complete};
pub use endpoint::{Endpoint, Provider};
pub use error::Error;
pub use preset::{Presets, ResolveError};

/// Who says a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
        }
    }
}

/// The shape of reply the caller wants; providers send what they support of it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Format<'a> {
    Text,
    /// A JSON value, no schema.
    Json,
    /// JSON matching `schema`; `name` labels it where the provider asks for one.
    Schema {
        name: &'a str,
        schema: &'a Value,
    },
}

/// One chat request. Sampling settings left `None` are not sent (the provider's own default
/// applies), except where a provider requires them (Anthropic's `max_tokens`).
#[derive(Clone, Debug)]
pub struct Request<'a> {
    pub messages: &'a [Message],
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub format: Format<'a>,
    /// The deadline for the whole call, streamed body included.
    pub timeout: Duration,
}

/// Token counts as the provider reports them (absent when it does not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

/// A finished completion.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Completion {
    pub text: String,
    pub usage: Usage,
}

/// What one streamed frame contributes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Delta {
    pub text: Option<String>,
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
    /// The provider signalled the end of the stream.
    pub done: bool,
}

impl Completion {
    /// Folds one streamed delta in; later token counts replace earlier ones.
    pub fn absorb(&mut self, d: &Delta) {
        if let Some(t) = &d.text {
            self.text.push_str(t);
        }
        if d.prompt_tokens.is_some() {
            self.usage.prompt_tokens = d.prompt_tokens;
        }
        if d.completion_tokens.is_some() {
            self.usage.completion_tokens = d.completion_tokens;
        }
    }
}
