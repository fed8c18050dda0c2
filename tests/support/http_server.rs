//! A real HTTP server on 127.0.0.1 for `api_call` tests (axum, random port).
//!
//! Routes:
//! - `ANY /echo` → `{method, path, query, headers, body}` of the request (JSON bodies parsed).
//! - `GET /weather` → a fixed JSON document for extraction.
//! - `GET /flaky/{key}/{fails}` → 503 (with `Retry-After: 0`) for the first `fails` hits of
//!   `key`, then 200 `{"ok": true, "hits": n}`.
//! - `GET /status/{code}` → that status with `{"code": code}`.
//! - `GET /slow/{ms}` → 200 after `ms` milliseconds.
//! - `GET /big/{bytes}` (with Content-Length) and `GET /big-stream/{bytes}` (chunked, no length).
//! - `GET /text` → `text/plain` "hello".
//! - `GET /redirect?to=URL&status=302` → a redirect to `to`.
//! - `GET /v1/forecast?latitude&longitude&current` → a forecast shaped like open-meteo's
//!   (for `examples/api_call`); latitude 0 answers 503.
//!
//! Every request is counted per path (`hits`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::{Map, Value, json};

#[derive(Clone, Default)]
struct Shared {
    hits: Arc<Mutex<HashMap<String, u32>>>,
}

impl Shared {
    fn hit(&self, key: &str) -> u32 {
        let mut hits = self.hits.lock().expect("hits lock");
        let n = hits.entry(key.to_string()).or_insert(0);
        *n += 1;
        *n
    }
}

/// A running server; it stops when dropped.
pub struct HttpServer {
    pub port: u16,
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl HttpServer {
    pub async fn start() -> HttpServer {
        let shared = Shared::default();
        let app = Router::new()
            .route("/echo", any(echo))
            .route("/weather", get(weather))
            .route("/flaky/{key}/{fails}", get(flaky))
            .route("/status/{code}", get(status))
            .route("/slow/{ms}", get(slow))
            .route("/big/{bytes}", get(big))
            .route("/big-stream/{bytes}", get(big_stream))
            .route(
                "/text",
                get(|| async { ([(header::CONTENT_TYPE, "text/plain")], "hello") }),
            )
            .route("/redirect", get(redirect))
            .route("/v1/forecast", get(forecast))
            .layer(axum::middleware::from_fn_with_state(shared.clone(), count))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        HttpServer {
            port,
            shared,
            stop: Some(stop),
        }
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests reached `path` (e.g. `/flaky/a/2`).
    pub fn hits(&self, path: &str) -> u32 {
        self.shared
            .hits
            .lock()
            .expect("hits lock")
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn count(
    State(s): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    s.hit(&format!("path:{}", req.uri().path()));
    next.run(req).await
}

async fn echo(
    method: Method,
    uri: Uri,
    Query(query): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut q = Map::new();
    for (k, v) in query {
        match q.get_mut(&k) {
            Some(Value::Array(list)) => list.push(json!(v)),
            Some(prev) => *prev = json!([prev.clone(), v]),
            None => {
                q.insert(k, json!(v));
            }
        }
    }
    let h: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                json!(v.to_str().unwrap_or("<binary>")),
            )
        })
        .collect();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).unwrap_or_else(|_| json!(String::from_utf8_lossy(&body)))
    };
    axum::Json(json!({"method": method.as_str(), "path": uri.path(), "query": q, "headers": h, "body": body}))
        .into_response()
}

async fn weather() -> Response {
    axum::Json(json!({
        "current": {"temp_c": 21.5, "condition": {"text": "Sunny"}},
        "items": [{"id": 1, "title": "first", "score": 5}, {"id": 2, "title": "second", "score": 1}]
    }))
    .into_response()
}

async fn flaky(State(s): State<Shared>, Path((key, fails)): Path<(String, u32)>) -> Response {
    let n = s.hit(&format!("flaky:{key}"));
    if n <= fails {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "0")],
            axum::Json(json!({"busy": true})),
        )
            .into_response();
    }
    axum::Json(json!({"ok": true, "hits": n})).into_response()
}

async fn status(Path(code): Path<u16>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(json!({"code": code}))).into_response()
}

async fn slow(Path(ms): Path<u64>) -> Response {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    axum::Json(json!({"slow": true})).into_response()
}

async fn big(Path(bytes): Path<usize>) -> Response {
    ([(header::CONTENT_TYPE, "text/plain")], "x".repeat(bytes)).into_response()
}

async fn big_stream(Path(bytes): Path<usize>) -> Response {
    let chunks = (0..bytes.div_ceil(100)).map(move |i| {
        let n = 100.min(bytes - i * 100);
        Ok::<_, std::io::Error>(Bytes::from("y".repeat(n)))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .expect("response")
}

async fn redirect(Query(q): Query<HashMap<String, String>>) -> Response {
    let to = q.get("to").cloned().unwrap_or_else(|| "/echo".into());
    let code = q.get("status").and_then(|s| s.parse().ok()).unwrap_or(302);
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::FOUND);
    (status, [(header::LOCATION, to)]).into_response()
}

async fn forecast(Query(q): Query<HashMap<String, String>>) -> Response {
    let lat: f64 = q
        .get("latitude")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    if lat == 0.0
        || q.get("current")
            .is_none_or(|c| !c.contains("temperature_2m"))
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"reason": "no data"})),
        )
            .into_response();
    }
    axum::Json(json!({
        "latitude": lat,
        "current_units": {"temperature_2m": "°C", "wind_speed_10m": "km/h"},
        "current": {"temperature_2m": 3.4, "wind_speed_10m": 11.2}
    }))
    .into_response()
}
