//! Step failures: what went wrong in a step, as a kind the routes can name.

use std::fmt;
use std::time::Duration;

/// The kind of a step failure. Its string form is what `routes` match (`routes.timeout`), what
/// `_last_error_type` holds and what `retry.on` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureKind {
    NodeError,
    Timeout,
    Template,
    ParseError,
    HttpStatus,
    Connect,
    Extract,
    RateLimit,
    Auth,
    ProviderError,
    ToolError,
    UnknownTool,
    Transport,
    NotFound,
    Conflict,
    Validation,
    Database,
    NotImplemented,
}

impl FailureKind {
    pub const ALL: &'static [FailureKind] = &[
        FailureKind::NodeError,
        FailureKind::Timeout,
        FailureKind::Template,
        FailureKind::ParseError,
        FailureKind::HttpStatus,
        FailureKind::Connect,
        FailureKind::Extract,
        FailureKind::RateLimit,
        FailureKind::Auth,
        FailureKind::ProviderError,
        FailureKind::ToolError,
        FailureKind::UnknownTool,
        FailureKind::Transport,
        FailureKind::NotFound,
        FailureKind::Conflict,
        FailureKind::Validation,
        FailureKind::Database,
        FailureKind::NotImplemented,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::NodeError => "node_error",
            FailureKind::Timeout => "timeout",
            FailureKind::Template => "template",
            FailureKind::ParseError => "parse_error",
            FailureKind::HttpStatus => "http_status",
            FailureKind::Connect => "connect",
            FailureKind::Extract => "extract",
            FailureKind::RateLimit => "rate_limit",
            FailureKind::Auth => "auth",
            FailureKind::ProviderError => "provider_error",
            FailureKind::ToolError => "tool_error",
            FailureKind::UnknownTool => "unknown_tool",
            FailureKind::Transport => "transport",
            FailureKind::NotFound => "not_found",
            FailureKind::Conflict => "conflict",
            FailureKind::Validation => "validation",
            FailureKind::Database => "database",
            FailureKind::NotImplemented => "not_implemented",
        }
    }

    pub fn parse(s: &str) -> Option<FailureKind> {
        FailureKind::ALL.iter().copied().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed step: its kind, a message for `_last_error`, and optional structured details.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct StepFailure {
    pub kind: FailureKind,
    pub message: String,
    /// Structured details for the caller (e.g. validation errors), if any.
    pub details: Option<serde_json::Value>,
    /// A server-requested wait before retrying (HTTP `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl StepFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        StepFailure {
            kind,
            message: message.into(),
            details: None,
            retry_after: None,
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn with_retry_after(mut self, d: Option<Duration>) -> Self {
        self.retry_after = d;
        self
    }
}
