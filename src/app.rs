//! The `App` builder: how a Rust program extends weft with its own nodes.
//!
//! ```no_run
//! use weft::{App, NodeOutput};
//! use serde_json::json;
//!
//! let app = App::new().node("greet", |call| async move {
//!     let name = call.context.get("name").and_then(|v| v.as_str()).unwrap_or("world");
//!     let mut out = serde_json::Map::new();
//!     out.insert("greeting".into(), json!(format!("Hello, {name}!")));
//!     Ok(NodeOutput::merge(out))
//! });
//! // Serve or run projects with the standard command line:
//! std::process::exit(weft::cli::main(app));
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use crate::engine::{Engine, Services};
use crate::nodes::{FnNode, Node, NodeCall, NodeError, NodeOutput};

/// weft, extended with Rust nodes. Also carries the long-lived [`Services`] (shared HTTP client,
/// MCP sessions, store) that projects loaded through it compile against and run with.
#[derive(Clone, Default)]
pub struct App {
    nodes: HashMap<String, Arc<dyn Node>>,
    services: Arc<Services>,
}

impl App {
    pub fn new() -> Self {
        App::default()
    }

    /// Replaces the services (e.g. once the store is connected).
    pub fn with_services(mut self, services: Arc<Services>) -> Self {
        self.services = services;
        self
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// An engine running with this app's services.
    pub fn engine(&self) -> Engine {
        Engine::new(self.services.clone())
    }

    /// Registers an async node under `runner`. It wins over a `nodes/` file or built-in of the
    /// same name.
    pub fn node<F, Fut>(mut self, runner: impl Into<String>, f: F) -> Self
    where
        F: Fn(NodeCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<NodeOutput, NodeError>> + Send + 'static,
    {
        self.nodes.insert(runner.into(), Arc::new(FnNode(f)));
        self
    }

    /// Registers a node implementing [`Node`] directly (for nodes that borrow the context
    /// instead of receiving a copy).
    pub fn node_impl(mut self, runner: impl Into<String>, node: Arc<dyn Node>) -> Self {
        self.nodes.insert(runner.into(), node);
        self
    }

    pub fn nodes(&self) -> &HashMap<String, Arc<dyn Node>> {
        &self.nodes
    }
}
