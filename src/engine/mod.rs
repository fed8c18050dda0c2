//! The interpreter: runs a compiled workflow step by step, routing on signals and failures.
//!
//! Plain Rust API (no HTTP here): [`Engine::run`] takes a workflow and an input object and returns
//! the finished context or a [`RunError`].

pub mod context;
pub mod event;
pub mod failure;
pub mod retry;
mod run;
pub mod template;
pub mod transaction;

pub use context::Context;
pub use event::{Events, RunEvent};
pub use failure::{FailureKind, StepFailure};
pub use run::{Engine, RunError, RunErrorCode, RunOptions, RunOutput};
pub use template::{RenderError, Template, TemplateBuilder, TemplatedValue, Templates};
pub use transaction::{RunTransaction, TransactionMode};

/// Shared clients and stores that steps use at compile and run time. Built once per process and
/// kept across reloads, so connection pools and sessions survive a reload.
#[derive(Debug)]
pub struct Services {
    /// One pooled HTTP client (keep-alive, HTTP/2 when offered, rustls) for every outgoing call.
    pub http: reqwest::Client,
    /// The same, but redirects are returned rather than followed: `api_call` follows them itself
    /// so that each hop is checked against `http.allowed_hosts` and credentials stay with the
    /// origin they were written for.
    pub http_direct: reqwest::Client,
    /// MCP sessions, one per server definition, shared by every run.
    pub mcp: crate::mcp::Pool,
    /// The store (SQLite or PostgreSQL), when the command connected one.
    pub store: Option<crate::store::Store>,
}

impl Services {
    /// The default services with a store attached.
    pub fn with_store(store: crate::store::Store) -> Self {
        Services {
            store: Some(store),
            ..Services::default()
        }
    }

    /// Closes long-lived connections and reaps child processes (MCP stdio servers). Call it
    /// before the process exits.
    pub async fn shutdown(&self) {
        self.mcp.shutdown().await;
    }
}

impl Default for Services {
    fn default() -> Self {
        // reqwest is built without a default crypto provider (ring everywhere, no C build).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = |redirects: reqwest::redirect::Policy| {
            reqwest::Client::builder()
                .user_agent(concat!("weft/", env!("CARGO_PKG_VERSION")))
                .pool_idle_timeout(std::time::Duration::from_secs(90))
                .redirect(redirects)
                .build()
                .expect("an HTTP client with the ring provider installed always builds")
        };
        let http = client(reqwest::redirect::Policy::default());
        let http_direct = client(reqwest::redirect::Policy::none());
        let mcp = crate::mcp::Pool::new(http.clone());
        Services {
            http,
            http_direct,
            mcp,
            store: None,
        }
    }
}
