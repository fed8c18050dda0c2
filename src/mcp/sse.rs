//! The legacy HTTP+SSE transport (MCP 2024-11-05), which rmcp's client no longer has.
//!
//! The client GETs the SSE URL and keeps the stream open. The server's first event, `endpoint`,
//! names the URL to POST messages to (relative to the SSE URL); each later `message` event carries
//! one JSON-RPC message. A spawned task reads the stream into a channel; `send` POSTs.

use std::future::Future;

use futures::StreamExt;
use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::RoleClient;
use rmcp::transport::Transport;
use sse_stream::SseStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Messages buffered between the stream reader and the session.
const BUFFER: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Http(String),
    #[error("the server answered HTTP {0}")]
    Status(u16),
    #[error("the event stream ended before the server named its message endpoint")]
    NoEndpoint,
    #[error("the endpoint `{0}` is not a valid URL")]
    BadEndpoint(String),
}

impl From<reqwest::Error> for Error {
    fn from(e: reqwest::Error) -> Self {
        // Without the URL: it may carry a token in its query string.
        let e = e.without_url();
        let mut text = e.to_string();
        let mut cur = std::error::Error::source(&e);
        while let Some(s) = cur {
            text.push_str(": ");
            text.push_str(&s.to_string());
            cur = s.source();
        }
        Error::Http(text)
    }
}

/// An open legacy SSE connection.
pub struct LegacySse {
    client: reqwest::Client,
    post_url: Url,
    headers: HeaderMap,
    rx: mpsc::Receiver<ServerJsonRpcMessage>,
    reader: JoinHandle<()>,
}

impl LegacySse {
    /// Opens the event stream and waits for the `endpoint` event.
    pub async fn connect(
        client: reqwest::Client,
        url: &str,
        headers: HeaderMap,
    ) -> Result<LegacySse, Error> {
        let base = Url::parse(url).map_err(|_| Error::BadEndpoint(url.to_string()))?;
        let resp = client
            .get(base.clone())
            .headers(headers.clone())
            .header(ACCEPT, HeaderValue::from_static("text/event-stream"))
            .send()
            .await?;
        if !resp.status().is_success() {
            return Err(Error::Status(resp.status().as_u16()));
        }
        let mut events = SseStream::from_bytes_stream(resp.bytes_stream());
        let post_url = loop {
            match events.next().await {
                Some(Ok(ev)) if ev.event.as_deref() == Some("endpoint") => {
                    let data = ev.data.unwrap_or_default();
                    break base
                        .join(data.trim())
                        .map_err(|_| Error::BadEndpoint(data))?;
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(Error::Http(e.to_string())),
                None => return Err(Error::NoEndpoint),
            }
        };
        let (tx, rx) = mpsc::channel(BUFFER);
        let reader = tokio::spawn(read_messages(events, tx));
        Ok(LegacySse {
            client,
            post_url,
            headers,
            rx,
            reader,
        })
    }
}

/// Forwards each `message` event's JSON-RPC message; ends (closing the session) with the stream.
async fn read_messages<S>(mut events: S, tx: mpsc::Sender<ServerJsonRpcMessage>)
where
    S: futures::Stream<Item = Result<sse_stream::Sse, sse_stream::Error>> + Unpin,
{
    while let Some(item) = events.next().await {
        let ev = match item {
            Ok(ev) => ev,
            Err(e) => {
                tracing::debug!(target: "weft::mcp", "SSE stream error: {e}");
                break;
            }
        };
        if !matches!(ev.event.as_deref(), None | Some("message")) {
            continue;
        }
        let Some(data) = ev.data else { continue };
        match serde_json::from_str::<ServerJsonRpcMessage>(&data) {
            Ok(msg) => {
                if tx.send(msg).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                tracing::warn!(target: "weft::mcp", "ignoring an SSE message that is not JSON-RPC: {e}")
            }
        }
    }
}

impl Transport<RoleClient> for LegacySse {
    type Error = Error;

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let request = self
            .client
            .post(self.post_url.clone())
            .headers(self.headers.clone())
            .json(&item);
        async move {
            let resp = request.send().await?;
            if !resp.status().is_success() {
                return Err(Error::Status(resp.status().as_u16()));
            }
            Ok(())
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ServerJsonRpcMessage>> + Send {
        self.rx.recv()
    }

    async fn close(&mut self) -> Result<(), Error> {
        self.reader.abort();
        Ok(())
    }
}

impl Drop for LegacySse {
    fn drop(&mut self) {
        self.reader.abort();
    }
}
