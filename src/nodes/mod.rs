//! Functional nodes: what a `functional` step's `runner` names.
//!
//! Three sources, looked up in this order: Rust functions registered through [`crate::App`], a
//! program in the project's `nodes/` directory ([`external`]), then weft's built-ins ([`builtin`]).

pub mod builtin;
pub mod external;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::spec::NodeFile;

/// What a node is called with.
#[derive(Clone, Copy, Debug)]
pub struct NodeInput<'a> {
    /// The whole context, reserved `_` keys included (read-only for the node).
    pub context: &'a Map<String, Value>,
    /// The step's rendered `params` (an object; empty when the step has none).
    pub params: &'a Value,
    pub step_id: &'a str,
    /// The step's timeout; in-process nodes are cancelled, external ones killed, when it passes.
    pub timeout: Duration,
}

/// How a node changes the context.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    Unchanged,
    /// The whole new public context: keys it omits are removed.
    Replace(Map<String, Value>),
    /// Keys to add or overwrite.
    Merge(Map<String, Value>),
}

/// A node's result: a context update and a signal (`default` when none).
#[derive(Clone, Debug, PartialEq)]
pub struct NodeOutput {
    pub update: Update,
    pub signal: Option<String>,
}

impl NodeOutput {
    /// No change, signal `default`.
    pub fn unchanged() -> Self {
        NodeOutput {
            update: Update::Unchanged,
            signal: None,
        }
    }

    /// Only a signal.
    pub fn signal(s: impl Into<String>) -> Self {
        NodeOutput {
            update: Update::Unchanged,
            signal: Some(s.into()),
        }
    }

    /// The whole new public context.
    pub fn replace(ctx: Map<String, Value>) -> Self {
        NodeOutput {
            update: Update::Replace(ctx),
            signal: None,
        }
    }

    /// Keys merged into the context.
    pub fn merge(values: Map<String, Value>) -> Self {
        NodeOutput {
            update: Update::Merge(values),
            signal: None,
        }
    }

    pub fn with_signal(mut self, s: impl Into<String>) -> Self {
        self.signal = Some(s.into());
        self
    }
}

/// Why a node failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NodeError {
    #[error("{0}")]
    Failed(String),
    /// The node ran past the step's timeout (the message says how long, and stderr's tail).
    #[error("{0}")]
    Timeout(String),
}

impl NodeError {
    pub fn failed(msg: impl Into<String>) -> Self {
        NodeError::Failed(msg.into())
    }
}

pub type NodeFuture<'a> = Pin<Box<dyn Future<Output = Result<NodeOutput, NodeError>> + Send + 'a>>;

/// A functional node.
pub trait Node: Send + Sync + 'static {
    fn call<'a>(&'a self, input: NodeInput<'a>) -> NodeFuture<'a>;
}

/// What a Rust-registered node receives: owned copies, so closures can be `async move`.
#[derive(Clone, Debug)]
pub struct NodeCall {
    pub context: Map<String, Value>,
    pub params: Value,
    pub step_id: String,
}

/// Adapts an async closure to [`Node`]; enforces the step timeout.
pub(crate) struct FnNode<F>(pub F);

impl<F, Fut> Node for FnNode<F>
where
    F: Fn(NodeCall) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<NodeOutput, NodeError>> + Send + 'static,
{
    fn call<'a>(&'a self, input: NodeInput<'a>) -> NodeFuture<'a> {
        let call = NodeCall {
            context: input.context.clone(),
            params: input.params.clone(),
            step_id: input.step_id.to_string(),
        };
        let fut = (self.0)(call);
        let timeout = input.timeout;
        Box::pin(async move {
            tokio::time::timeout(timeout, fut)
                .await
                .map_err(|_| NodeError::Timeout(format!("timed out after {timeout:?}")))?
        })
    }
}

/// Resolves runner names for one project.
#[derive(Clone, Default)]
pub struct Registry {
    rust: HashMap<String, Arc<dyn Node>>,
    files: HashMap<String, NodeFile>,
}

impl Registry {
    pub fn new(
        rust: HashMap<String, Arc<dyn Node>>,
        files: &[NodeFile],
        project_root: &std::path::Path,
    ) -> Self {
        let files = files
            .iter()
            .map(|f| {
                let mut f = f.clone();
                if f.path.is_relative() {
                    f.path = project_root.join(&f.path);
                }
                (f.runner.clone(), f)
            })
            .collect();
        Registry { rust, files }
    }

    /// Rust-registered, then a `nodes/` file, then a built-in.
    pub fn resolve(&self, runner: &str, project_root: &std::path::Path) -> Option<Arc<dyn Node>> {
        if let Some(n) = self.rust.get(runner) {
            return Some(n.clone());
        }
        if let Some(f) = self.files.get(runner) {
            return Some(Arc::new(external::External::new(
                f.clone(),
                project_root.to_path_buf(),
            )));
        }
        builtin::get(runner)
    }

    /// Every runner name known, for suggestions.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.rust.keys().chain(self.files.keys()).cloned().collect();
        names.extend(builtin::NAMES.iter().map(|s| s.to_string()));
        names.sort();
        names.dedup();
        names
    }
}
