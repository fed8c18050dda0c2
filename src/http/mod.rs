//! The HTTP server — the only module that knows axum.
//!
//! Routes: the admin API (`/admin/...`, bearer token: workflow and model versions, reload),
//! health (`/healthz`, `/readyz`), the OpenAPI document, pinned runs
//! (`/workflows/{name}/versions/{version}/run`), and every trigger, served by one fallback
//! handler that consults the registry's current snapshot.

mod admin;
mod admin_models;
pub mod error;
mod health;
mod trigger;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use tokio_util::sync::CancellationToken;

use crate::engine::Engine;
use crate::versions::Registry;
pub use error::ApiError;
pub use trigger::{RUN_ID_HEADER, VERSION_HEADER};

/// What every handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub engine: Engine,
    /// Largest request body accepted.
    pub body_limit: u64,
    /// The admin bearer token; `None` leaves the admin API open on loopback binds only.
    pub admin_token: Option<String>,
    /// Whether the server listens on a loopback address.
    pub loopback: bool,
}

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let admin = Router::new()
        .route("/admin/workflows", get(admin::list))
        .route(
            "/admin/workflows/{name}/{version}/toggle",
            patch(admin::toggle),
        )
        .route("/admin/workflows/{name}/{version}/fork", post(admin::fork))
        .route("/admin/reload", post(admin::reload))
        .route("/admin/models", get(admin_models::list))
        .route(
            "/admin/models/{name}/{version}/toggle",
            patch(admin_models::toggle),
        )
        .route(
            "/admin/models/{name}/{version}/fork",
            post(admin_models::fork),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin::guard,
        ));
    Router::new()
        .merge(admin)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/openapi.json", get(health::openapi))
        .route(
            "/workflows/{name}/versions/{version}/run",
            post(trigger::pinned),
        )
        .fallback(trigger::dispatch)
        .method_not_allowed_fallback(method_not_allowed)
        // Bodies are read by the handlers with the configured limit (413 as JSON).
        .layer(axum::extract::DefaultBodyLimit::disable())
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("`{}` does not accept {method}", uri.path()),
    )
    .into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal("internal", "internal error").into_response()
}

/// Serves `state` on `addr` until `shutdown` is cancelled; in-flight requests finish.
pub async fn serve(
    state: AppState,
    addr: SocketAddr,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    serve_on(listener, state, shutdown).await
}

/// Serves on an already-bound listener (tests bind port 0).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
}
