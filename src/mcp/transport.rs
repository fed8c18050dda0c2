//! Opening a client connection for each transport, up to a finished MCP handshake.

use std::collections::HashMap;
use std::process::Stdio;

use process_wrap::tokio::{CommandWrap, KillOnDrop, ProcessGroup};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{RoleClient, RunningService, ServiceExt};
use rmcp::transport::TokioChildProcess;
use rmcp::transport::streamable_http_client::{
    StreamableHttpClientTransport, StreamableHttpClientTransportConfig,
};
use tokio::io::AsyncBufReadExt;

use super::{Error, Server, sse};

pub type Client = RunningService<RoleClient, ClientConfig>;

/// A connected client, plus the child's process id for stdio servers.
pub struct Connected {
    pub client: Client,
    pub pid: Option<u32>,
}

/// What weft tells servers about itself.
fn client_config() -> ClientConfig {
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("weft", env!("CARGO_PKG_VERSION")),
    )
}

/// Starts (stdio) or connects to (HTTP) `server` and runs the initialize handshake.
pub async fn connect(
    server: &Server,
    label: &str,
    http: &reqwest::Client,
) -> Result<Connected, Error> {
    let connect_error = |message: String| Error::Connect {
        server: label.to_string(),
        message: super::clean_message(&message),
    };
    match server {
        Server::Stdio {
            command,
            args,
            env,
            cwd,
        } => stdio(command, args, env, cwd, label)
            .await
            .map_err(connect_error),
        Server::StreamableHttp { url, headers } => {
            let client = streamable_http(url, headers).await.map_err(connect_error)?;
            Ok(Connected { client, pid: None })
        }
        Server::Sse { url, headers } => {
            let headers = header_map(headers).map_err(connect_error)?;
            let transport = sse::LegacySse::connect(http.clone(), url, headers)
                .await
                .map_err(|e| connect_error(e.to_string()))?;
            let client = client_config()
                .serve(transport)
                .await
                .map_err(|e| connect_error(e.to_string()))?;
            Ok(Connected { client, pid: None })
        }
    }
}

async fn stdio(
    command: &str,
    args: &[String],
    env: &[(String, String)],
    cwd: &std::path::Path,
    label: &str,
) -> Result<Connected, String> {
    let mut cmd = tokio::process::Command::new(command);
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(cwd);
    let mut wrapped = CommandWrap::from(cmd);
    // Its own process group, so that shutdown reaches what the server starts in turn (`npx`
    // runs `node`), and killed if weft drops it without a shutdown.
    wrapped.wrap(ProcessGroup::leader()).wrap(KillOnDrop);
    let (child, stderr) = TokioChildProcess::builder(wrapped)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    let pid = child.id();
    if let Some(stderr) = stderr {
        tokio::spawn(forward_stderr(stderr, label.to_string()));
    }
    let client = client_config()
        .serve(child)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Connected { client, pid })
}

async fn streamable_http(url: &str, headers: &[(String, String)]) -> Result<Client, String> {
    let mut custom = HashMap::new();
    // rmcp takes one value per name.
    for (name, value) in header_map(headers)? {
        if let Some(name) = name {
            custom.insert(name, value);
        }
    }
    let config = StreamableHttpClientTransportConfig::with_uri(url).custom_headers(custom);
    let transport = StreamableHttpClientTransport::from_config(config);
    client_config()
        .serve(transport)
        .await
        .map_err(|e| e.to_string())
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        let mut v = HeaderValue::from_str(value)
            .map_err(|_| format!("header `{name}` has a value HTTP does not allow"))?;
        v.set_sensitive(true);
        map.append(n, v);
    }
    Ok(map)
}

/// A stdio server's stderr is its log: pass it on at debug level.
async fn forward_stderr(stderr: tokio::process::ChildStderr, label: String) {
    let mut lines = tokio::io::BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(target: "weft::mcp", server = %label, "{line}");
    }
}
