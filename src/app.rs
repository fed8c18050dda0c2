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

use crate::nodes::{FnNode, Node, NodeCall, NodeError, NodeOutput};

/// weft, extended with Rust nodes.
#[derive(Clone, Default)]
pub struct App {
    nodes: HashMap<String, Arc<dyn Node>>,
}

impl App {
    pub fn new() -> Self {
        App::default()
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
