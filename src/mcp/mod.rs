//! MCP client sessions over rmcp: stdio child processes, the legacy HTTP+SSE transport (our own
//! adapter; rmcp dropped its client) and streamable HTTP. No workflow knowledge lives here.
//!
//! A [`Server`] is a concrete server definition (everything rendered); the [`Pool`] keeps one
//! [`Entry`] per definition, and each entry at most one live [`Session`]: a session is
//! initialised once, shared by concurrent runs, restarted with backoff when it dies, and closed
//! (child processes reaped) by [`Pool::shutdown`].

mod pool;
mod session;
mod sse;
mod transport;

use std::path::PathBuf;
use std::time::Duration;

pub use pool::{Entry, Pool};
pub use session::Session;

/// What a tool returned, without rmcp's types.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput {
    /// The tool reported a failure (`isError`).
    pub is_error: bool,
    /// `structuredContent`, when the tool sent it (it may be JSON null).
    pub structured: Option<serde_json::Value>,
    pub content: Vec<Content>,
}

/// One content block.
#[derive(Clone, Debug, PartialEq)]
pub enum Content {
    Text(String),
    /// Anything else (image, audio, resource…), as the JSON the server sent.
    Other(serde_json::Value),
}

/// Where and how to reach one MCP server. Equal definitions share one session.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Server {
    Stdio {
        command: String,
        args: Vec<String>,
        env: Vec<(String, String)>,
        cwd: PathBuf,
    },
    Sse {
        url: String,
        headers: Vec<(String, String)>,
    },
    StreamableHttp {
        url: String,
        headers: Vec<(String, String)>,
    },
}

impl Server {
    /// A short description for messages and logs: no environment, headers or query strings,
    /// which may hold secrets.
    pub fn describe(&self) -> String {
        match self {
            Server::Stdio { command, .. } => format!("stdio `{command}`"),
            Server::Sse { url, .. } => format!("sse {}", without_query(url)),
            Server::StreamableHttp { url, .. } => format!("streamable_http {}", without_query(url)),
        }
    }
}

impl std::fmt::Debug for Server {
    // `env` and `headers` often hold credentials: debug output shows the description only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Server({})", self.describe())
    }
}

/// rmcp's error texts name Rust types and whole URLs, query strings included (which may carry
/// credentials): keep what a person needs, without either.
pub(crate) fn clean_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find('[') {
        let Some(len) = bracketed_len(&rest[start..]) else {
            break;
        };
        out.push_str(&rest[..start]);
        let inner = &rest[start + 1..start + len - 1];
        if !inner.contains("::") {
            out.push_str(&rest[start..start + len]);
        }
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    redact_urls(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The length of `[…]` at the start of `s`, nested brackets included.
fn bracketed_len(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Every `http(s)://…` in `s` without userinfo, query or fragment.
fn redact_urls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest
        .find("http://")
        .into_iter()
        .chain(rest.find("https://"))
        .min()
    {
        out.push_str(&rest[..start]);
        let url_len = rest[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | ',' | '"' | '\'' | '>'))
            .unwrap_or(rest.len() - start);
        let url = &rest[start..start + url_len];
        let (scheme, after) = url.split_once("://").unwrap_or(("http", url));
        let authority_end = after.find('/').unwrap_or(after.len());
        let host = after[..authority_end]
            .rsplit('@')
            .next()
            .unwrap_or_default();
        let path = &after[authority_end..];
        let cut = path.find(['?', '#']);
        out.push_str(&format!(
            "{scheme}://{host}{}",
            &path[..cut.unwrap_or(path.len())]
        ));
        if cut.is_some() {
            out.push_str("?…");
        }
        rest = &rest[start + url_len..];
    }
    out.push_str(rest);
    out
}

fn without_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// What can go wrong talking to an MCP server.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// The session could not be started (spawn, connect or handshake failed).
    #[error("cannot start MCP server {server}: {message}")]
    Connect { server: String, message: String },
    /// The session broke while in use (the process died, the connection dropped).
    #[error("MCP server {server}: connection lost: {message}")]
    Transport { server: String, message: String },
    #[error("the MCP call timed out after {0:?}")]
    Timeout(Duration),
    #[error("MCP server {server} has no tool `{tool}` (it has: {available})")]
    UnknownTool {
        server: String,
        tool: String,
        available: String,
    },
    /// The server answered with a JSON-RPC error.
    #[error("MCP server {server} refused the call: {message}")]
    Protocol { server: String, message: String },
    /// The pool was shut down.
    #[error("MCP sessions are shut down")]
    ShutDown,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmcp_messages_are_cleaned() {
        let raw = "Send message error Transport [rmcp::transport::worker::WorkerTransport<X<reqwest::Client>>] \
                   error: Client error: error sending request for url (https://u:p@h.example:8443/mcp?key=s3cret), when send";
        assert_eq!(
            clean_message(raw),
            "Send message error Transport error: Client error: error sending request for url (https://h.example:8443/mcp?…), when send"
        );
        assert_eq!(
            clean_message("list [1, 2] at http://h/x"),
            "list [1, 2] at http://h/x"
        );
    }

    #[test]
    fn descriptions_leave_secrets_out() {
        let stdio = Server::Stdio {
            command: "npx".into(),
            args: vec!["server".into()],
            env: vec![("TOKEN".into(), "s3cret".into())],
            cwd: PathBuf::from("/"),
        };
        let http = Server::StreamableHttp {
            url: "http://h/mcp?key=s3cret".into(),
            headers: vec![("Authorization".into(), "Bearer s3cret".into())],
        };
        for s in [stdio, http] {
            let shown = format!("{s:?} {}", s.describe());
            assert!(!shown.contains("s3cret"), "{shown}");
        }
    }
}
