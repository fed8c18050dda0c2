//! One live MCP session: a connected client, its tool list, and a way to close it.

use std::sync::Mutex;
use std::time::Duration;

use rmcp::ServiceError;
use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult};
use rmcp::service::{Peer, RoleClient};
use serde_json::{Map, Value};

use super::transport::{self, Client};
use super::{Content, Error, Server, ToolOutput};

/// How long a graceful close may take before the child is killed.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Session {
    label: String,
    peer: Peer<RoleClient>,
    /// Kept to hold the connection open and to close it; taken by [`Session::close`].
    client: Mutex<Option<Client>>,
    /// The stdio child's process id (its process group id too).
    pid: Option<u32>,
    /// Tool names, listed once and again when a call names a tool not in the list.
    tools: tokio::sync::Mutex<Option<Vec<String>>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.label)
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl Session {
    pub async fn connect(
        server: &Server,
        label: &str,
        http: &reqwest::Client,
    ) -> Result<Session, Error> {
        let connected = transport::connect(server, label, http).await?;
        Ok(Session {
            label: label.to_string(),
            peer: connected.client.peer().clone(),
            client: Mutex::new(Some(connected.client)),
            pid: connected.pid,
            tools: tokio::sync::Mutex::new(None),
        })
    }

    /// False once the process died or the connection closed.
    pub fn is_alive(&self) -> bool {
        !self.peer.is_transport_closed()
            && self
                .client
                .lock()
                .map(|c| c.as_ref().is_some_and(|c| !c.is_closed()))
                .unwrap_or(false)
    }

    /// The stdio child's process id, if this is a stdio session.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// The server's tool names (cached after the first call).
    pub async fn tools(&self) -> Result<Vec<String>, Error> {
        let mut cached = self.tools.lock().await;
        if let Some(t) = cached.as_ref() {
            return Ok(t.clone());
        }
        let listed = self.list().await?;
        *cached = Some(listed.clone());
        Ok(listed)
    }

    async fn list(&self) -> Result<Vec<String>, Error> {
        let tools = self
            .peer
            .list_all_tools()
            .await
            .map_err(|e| self.error(e))?;
        Ok(tools.into_iter().map(|t| t.name.to_string()).collect())
    }

    /// Calls `tool`; a tool the server does not list is [`Error::UnknownTool`] (the list is
    /// refreshed once first, since servers may add tools at run time).
    pub async fn call(
        &self,
        tool: &str,
        arguments: Map<String, Value>,
    ) -> Result<ToolOutput, Error> {
        if !self.tools().await?.iter().any(|t| t == tool) {
            let fresh = self.list().await?;
            *self.tools.lock().await = Some(fresh.clone());
            if !fresh.iter().any(|t| t == tool) {
                return Err(Error::UnknownTool {
                    server: self.label.clone(),
                    tool: tool.to_string(),
                    available: if fresh.is_empty() {
                        "no tools".into()
                    } else {
                        fresh.join(", ")
                    },
                });
            }
        }
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        match self
            .peer
            .call_tool_once(params)
            .await
            .map_err(|e| self.error(e))?
        {
            CallToolResponse::Complete(result) => Ok(tool_output(result)),
            CallToolResponse::InputRequired(_) => Err(Error::Protocol {
                server: self.label.clone(),
                message: format!("tool `{tool}` asked for user input, which weft cannot give"),
            }),
            CallToolResponse::Task(_) => Err(Error::Protocol {
                server: self.label.clone(),
                message: format!(
                    "tool `{tool}` started a background task, which weft does not follow"
                ),
            }),
            _ => Err(Error::Protocol {
                server: self.label.clone(),
                message: format!("tool `{tool}` answered with a result kind weft does not know"),
            }),
        }
    }

    fn error(&self, e: ServiceError) -> Error {
        let server = self.label.clone();
        match e {
            ServiceError::McpError(data) => Error::Protocol {
                server,
                message: data.message.to_string(),
            },
            ServiceError::Timeout { timeout } => Error::Timeout(timeout),
            ServiceError::UnexpectedResponse => Error::Protocol {
                server,
                message: "unexpected response".into(),
            },
            other => Error::Transport {
                server,
                message: super::clean_message(&other.to_string()),
            },
        }
    }

    /// Closes the connection; a stdio child gets its stdin closed, then SIGTERM, then SIGKILL.
    pub async fn close(&self) {
        let client = self.client.lock().ok().and_then(|mut c| c.take());
        if let Some(mut client) = client {
            let _ = client.close_with_timeout(CLOSE_TIMEOUT).await;
        }
    }
}

fn tool_output(r: CallToolResult) -> ToolOutput {
    let content = r
        .content
        .into_iter()
        .map(|block| match block.as_text() {
            Some(t) => Content::Text(t.text.clone()),
            None => Content::Other(serde_json::to_value(&block).unwrap_or(Value::Null)),
        })
        .collect();
    ToolOutput {
        is_error: r.is_error == Some(true),
        structured: r.structured_content,
        content,
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Not closed through `close` (e.g. weft is exiting without a shutdown): the child's
        // group still runs. Kill it now rather than leave orphans behind.
        let open = self.client.get_mut().map(|c| c.is_some()).unwrap_or(false);
        if let (true, Some(pid)) = (open, self.pid)
            && let Ok(pid) = i32::try_from(pid)
        {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}
