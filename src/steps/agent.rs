//! `kind: agent` — calls an LLM and routes on what it decides.
//!
//! ```yaml
//! - id: classify
//!   kind: agent
//!   agent:
//!     model: default                 # a preset in llms/, or openai/…, anthropic/…, ollama/…
//!     system: You are a customer support classifier.
//!     prompt: "Message: {{ message }}"
//!     output: { format: json, map: { category: message_category }, signal_from: category }
//!     retry: { attempts: 3, on: [parse_error, timeout] }
//!     timeout: 30
//!   routes: { urgent: escalate, normal: queue, spam: discard }
//! ```
//!
//! Prompt building is in `prompt`, reply handling in `output` and `extract`; this module
//! compiles the spec and runs the attempts. The step owns its retries (the engine does not
//! retry): each failed attempt whose kind is in `retry.on` waits (shared backoff, a provider's
//! `Retry-After` wins) and tries again, until `retry.attempts` are spent.

mod compile;
mod extract;
mod output;
mod prompt;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::{CompileCx, Outcome, Signal, StepCx};
use crate::engine::retry::Backoff;
use crate::engine::{FailureKind, RunEvent, StepFailure};
use crate::llm::endpoint::Settings;
use crate::llm::{self, Endpoint, Request};
use crate::spec::{Located, Node, Seconds, StepSpec};
use output::{Format, Output};
use prompt::Prompt;

/// The failure kinds an agent step produces, and so the ones `retry.on` may name.
pub const FAILURE_KINDS: &[FailureKind] = &[
    FailureKind::ParseError,
    FailureKind::Timeout,
    FailureKind::RateLimit,
    FailureKind::ProviderError,
    FailureKind::Auth,
];

/// What is retried when `retry.on` is not given.
pub const DEFAULT_RETRY_ON: &[FailureKind] = &[
    FailureKind::ParseError,
    FailureKind::Timeout,
    FailureKind::RateLimit,
    FailureKind::ProviderError,
];

/// The base wait before the second attempt when `retry.backoff` is not given.
pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(1);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    agent: AgentSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentSpec {
    model: Located<String>,
    #[serde(default)]
    system: Option<Located<String>>,
    prompt: Located<String>,
    #[serde(default)]
    output: Option<OutputSpec>,
    #[serde(default)]
    retry: Option<RetrySpec>,
    #[serde(default)]
    timeout: Option<Located<Seconds>>,
    #[serde(default)]
    temperature: Option<Located<f64>>,
    #[serde(default)]
    max_tokens: Option<Located<u32>>,
    #[serde(default)]
    context_injection: Vec<Located<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OutputSpec {
    #[serde(default)]
    format: Option<Located<Format>>,
    #[serde(default)]
    map: crate::spec::yaml::Pairs<Located<String>, Located<String>>,
    #[serde(default)]
    signal_from: Option<Located<String>>,
    #[serde(default)]
    output_key: Option<Located<String>>,
    #[serde(default)]
    schema: Option<Node>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RetrySpec {
    #[serde(default)]
    attempts: Option<Located<u32>>,
    #[serde(default)]
    on: Option<Vec<Located<String>>>,
    #[serde(default)]
    backoff: Option<Seconds>,
}

/// The compiled retry policy.
#[derive(Debug)]
struct Retry {
    /// Total attempts, the first included (≥ 1).
    attempts: u32,
    on: Vec<FailureKind>,
    backoff: Duration,
}

/// A compiled agent step.
#[derive(Debug)]
pub struct Agent {
    endpoint: Arc<Endpoint>,
    /// `provider/model`, for events and messages.
    label: String,
    prompt: Prompt,
    output: Output,
    retry: Retry,
    /// The step's own overrides (over the preset, over the provider defaults).
    settings: Settings,
    /// Names the schema where a provider wants a name.
    schema_name: String,
}

impl Agent {
    pub fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Self> {
        compile::compile(step, cx)
    }

    pub async fn run(&self, cx: &mut StepCx<'_>) -> Result<Outcome, StepFailure> {
        let messages = self.prompt.messages(cx)?;
        let effective = self.endpoint.effective(self.settings);
        let format = match (&self.output.format, &self.output.schema) {
            (Format::Json, Some(s)) => llm::Format::Schema {
                name: &self.schema_name,
                schema: &s.json,
            },
            (Format::Json, None) => llm::Format::Json,
            (Format::Text | Format::Signal, _) => llm::Format::Text,
        };
        let req = Request {
            messages: &messages,
            temperature: effective.temperature,
            max_tokens: effective.max_tokens,
            format,
            timeout: effective.timeout,
        };
        // No wait may outlast the step timeout, whatever the backoff or the server asks.
        let backoff = Backoff {
            base: self.retry.backoff,
            cap: effective.timeout,
        };
        let mut attempt = 1;
        loop {
            match self.attempt(cx, &req).await {
                Ok(signal) => return Ok(Outcome::Signal(signal)),
                Err(f) if attempt < self.retry.attempts && self.retry.on.contains(&f.kind) => {
                    attempt += 1;
                    let wait = backoff.wait_before(attempt, f.retry_after);
                    cx.events.emit(|| RunEvent::Retrying {
                        step: cx.step_id.clone(),
                        attempt,
                        kind: f.kind.as_str(),
                        wait,
                    });
                    tokio::time::sleep(wait).await;
                }
                Err(f) => return Err(f),
            }
        }
    }

    /// One call and the handling of its reply.
    async fn attempt(&self, cx: &mut StepCx<'_>, req: &Request<'_>) -> Result<Signal, StepFailure> {
        let started = Instant::now();
        let http = &cx.services.http;
        let completion = if cx.streaming {
            let (events, step) = (cx.events, cx.step_id.clone());
            let mut on_token = |text: &str| {
                events.emit(|| RunEvent::Token {
                    step: step.clone(),
                    text: text.to_string(),
                })
            };
            llm::complete(http, &self.endpoint, req, Some(&mut on_token)).await
        } else {
            llm::complete(http, &self.endpoint, req, None).await
        };
        let completion = completion.map_err(|e| self.failure(e))?;
        cx.events.emit(|| RunEvent::Usage {
            step: cx.step_id.clone(),
            model: self.label.clone(),
            prompt_tokens: completion.usage.prompt_tokens,
            completion_tokens: completion.usage.completion_tokens,
            latency: started.elapsed(),
        });
        self.output.apply(&completion.text, cx.ctx, cx.routes)
    }

    /// A provider error as the failure kind routes match.
    fn failure(&self, e: llm::Error) -> StepFailure {
        let kind = match &e {
            llm::Error::Timeout(_) => FailureKind::Timeout,
            llm::Error::RateLimited { .. } => FailureKind::RateLimit,
            llm::Error::Auth { .. } => FailureKind::Auth,
            llm::Error::Status { .. }
            | llm::Error::Transport(_)
            | llm::Error::Stream(_)
            | llm::Error::BadResponse(_) => FailureKind::ProviderError,
        };
        let retry_after = match &e {
            llm::Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        };
        StepFailure::new(kind, format!("model `{}`: {e}", self.label)).with_retry_after(retry_after)
    }
}
