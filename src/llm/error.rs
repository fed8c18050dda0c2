//! Provider errors, classified the way callers branch: wait and retry (rate limit), fix the
//! credentials (auth), try again later (provider trouble), or give up waiting (timeout).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::engine::retry::parse_retry_after;

/// Why a call to a model failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    #[error("no complete reply within {0:?}")]
    Timeout(Duration),
    /// HTTP 429; `retry_after` is the wait the provider asked for, if it said.
    #[error("rate limited (HTTP 429): {message}")]
    RateLimited {
        message: String,
        retry_after: Option<Duration>,
    },
    /// HTTP 401 or 403.
    #[error("authentication failed (HTTP {status}): {message}")]
    Auth { status: u16, message: String },
    /// Any other non-success status (5xx, a rejected request, an unknown model).
    #[error("provider error (HTTP {status}): {message}")]
    Status { status: u16, message: String },
    /// The provider could not be reached, or the connection broke.
    #[error("cannot reach the provider: {0}")]
    Transport(String),
    /// The provider reported an error in the middle of a streamed reply.
    #[error("the provider failed mid-stream: {0}")]
    Stream(String),
    /// The provider answered with something that is not its own response format.
    #[error("unexpected response from the provider: {0}")]
    BadResponse(String),
}

impl Error {
    /// Classifies a non-success response from its status, headers and body.
    pub fn from_status(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
        let message = error_message(body)
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
        match status.as_u16() {
            429 => Error::RateLimited {
                message,
                retry_after: retry_after(headers),
            },
            s @ (401 | 403) => Error::Auth { status: s, message },
            s => Error::Status { status: s, message },
        }
    }

    /// Classifies a transport error; `timeout` is the deadline that applied.
    pub fn from_reqwest(e: &reqwest::Error, timeout: Duration) -> Error {
        if e.is_timeout() {
            Error::Timeout(timeout)
        } else if e.is_decode() {
            Error::BadResponse(e.to_string())
        } else {
            // Keep the cause chain: "error sending request" alone does not say what broke.
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                source = s.source();
            }
            Error::Transport(msg)
        }
    }
}

/// The wait a 429 asks for: `retry-after-ms` (OpenAI, Azure) wins over `retry-after`.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    header("retry-after").and_then(parse_retry_after)
}

/// The human part of an error body: `{"error": {"message": …}}` (OpenAI, Anthropic),
/// `{"error": "…"}` (Ollama), `{"message": …}`, or the text itself, shortened.
pub fn error_message(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        let found = v
            .pointer("/error/message")
            .or_else(|| v.get("error").filter(|e| e.is_string()))
            .or_else(|| v.get("message"))
            .and_then(Value::as_str);
        if let Some(m) = found {
            return Some(shorten(m, 500));
        }
    }
    Some(shorten(text, 500))
}

/// At most `max` characters, with an ellipsis when cut.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn statuses_map_to_kinds() {
        let body = br#"{"error": {"message": "slow down", "type": "rate_limit"}}"#;
        let e = Error::from_status(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after", "3")]),
            body,
        );
        assert_eq!(
            e,
            Error::RateLimited {
                message: "slow down".into(),
                retry_after: Some(Duration::from_secs(3))
            }
        );
        let e = Error::from_status(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[("retry-after-ms", "250")]),
            b"",
        );
        assert!(
            matches!(e, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_millis(250))
        );
        let e = Error::from_status(
            StatusCode::UNAUTHORIZED,
            &HeaderMap::new(),
            br#"{"error": "bad key"}"#,
        );
        assert_eq!(
            e,
            Error::Auth {
                status: 401,
                message: "bad key".into()
            }
        );
        let e = Error::from_status(StatusCode::BAD_GATEWAY, &HeaderMap::new(), b"upstream down");
        assert_eq!(
            e,
            Error::Status {
                status: 502,
                message: "upstream down".into()
            }
        );
        let e = Error::from_status(StatusCode::INTERNAL_SERVER_ERROR, &HeaderMap::new(), b"");
        assert_eq!(
            e,
            Error::Status {
                status: 500,
                message: "Internal Server Error".into()
            }
        );
    }

    #[test]
    fn long_bodies_are_shortened() {
        let long = "x".repeat(2000);
        let m = error_message(long.as_bytes()).unwrap();
        assert_eq!(m.chars().count(), 501);
    }
}
