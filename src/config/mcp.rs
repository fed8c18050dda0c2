//! `weft.yaml: mcp_servers:` — MCP servers declared once and named by `mcp` steps.
//!
//! ```yaml
//! mcp_servers:
//!   docs:
//!     transport: streamable_http
//!     url: http://127.0.0.1:3001/mcp
//!     headers: { Authorization: "Bearer ${DOCS_TOKEN}" }
//!   github:
//!     command: npx
//!     args: ["@modelcontextprotocol/server-github"]
//!     env: { GITHUB_TOKEN: "${GITHUB_TOKEN}" }
//! ```

use serde::Deserialize;

use crate::spec::Located;
use crate::spec::yaml::Pairs;

/// How weft talks to an MCP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
pub enum McpTransport {
    /// A child process speaking JSON-RPC on stdin/stdout.
    #[serde(rename = "stdio")]
    Stdio,
    /// The legacy HTTP+SSE transport (protocol 2024-11-05): GET an event stream, POST messages.
    #[serde(rename = "sse")]
    Sse,
    /// Streamable HTTP (protocol 2025-03-26 and later).
    #[serde(rename = "streamable_http", alias = "streamable-http", alias = "http")]
    StreamableHttp,
}

impl McpTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            McpTransport::Stdio => "stdio",
            McpTransport::Sse => "sse",
            McpTransport::StreamableHttp => "streamable_http",
        }
    }
}

/// One MCP server definition, in `weft.yaml` under `mcp_servers:` (the same keys may be written
/// inline in a step's `mcp:` block). `env` and `headers` values are templates.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpServerSpec {
    /// Default: `stdio` when `command` is set, else `sse`.
    #[serde(default)]
    pub transport: Option<Located<McpTransport>>,
    /// The endpoint (`sse`, `streamable_http`).
    #[serde(default)]
    pub url: Option<Located<String>>,
    /// Extra HTTP headers (`sse`, `streamable_http`).
    #[serde(default)]
    pub headers: Pairs<String, Located<String>>,
    /// The program to start (`stdio`).
    #[serde(default)]
    pub command: Option<Located<String>>,
    #[serde(default)]
    pub args: Vec<String>,
    /// Variables added to the inherited environment (`stdio`).
    #[serde(default)]
    pub env: Pairs<String, Located<String>>,
    /// Working directory (`stdio`), relative to the project root; default: the project root.
    #[serde(default)]
    pub cwd: Option<Located<String>>,
}
