//! A weft server for tests: the real router over a real socket on 127.0.0.1, or the router alone
//! for `tower::ServiceExt::oneshot`.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use weft::App;
use weft::http::AppState;
use weft::versions::Registry;

pub struct Options {
    pub admin_token: Option<String>,
    pub body_limit: u64,
    pub loopback: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            admin_token: None,
            body_limit: 1024 * 1024,
            loopback: true,
        }
    }
}

/// Opens the registry and builds the state, as `weft serve` does.
pub async fn state(root: &Path, database_url: &str, app: App, opts: Options) -> AppState {
    let (registry, app, _) = match Registry::start(root, database_url, app).await {
        Ok(r) => r,
        Err(weft::versions::StartError::Load(e)) => {
            panic!("project failed to load:\n{}", e.diagnostics.render(root))
        }
        Err(e) => panic!("cannot start: {e}"),
    };
    AppState {
        registry: Arc::new(registry),
        engine: app.engine(),
        body_limit: opts.body_limit,
        admin_token: opts.admin_token,
        loopback: opts.loopback,
    }
}

/// A running server; stopped (gracefully) on drop.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: CancellationToken,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start(state: AppState) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(weft::http::serve_on(
            listener,
            state.clone(),
            shutdown.clone(),
        ));
        TestServer {
            addr,
            state,
            shutdown,
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Stops the server and waits until in-flight requests finished.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(h) = self.handle.take() {
            h.await.expect("server task").expect("server");
        }
        self.state.registry.store().close().await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

/// Sends one request through the router (no socket).
pub async fn oneshot(state: &AppState, req: Request<Body>) -> Reply {
    use tower::ServiceExt;
    let resp = weft::http::app(state.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
        text,
    }
}

pub fn request(method: &str, path: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(body.into())
        .expect("request")
}

pub fn json_request(method: &str, path: &str, body: &Value) -> Request<Body> {
    request(method, path, serde_json::to_vec(body).expect("json"))
}
