//! Nodes shipped with weft.
//!
//! - `noop`: does nothing, signal `default`.
//! - `set`: merges its rendered `params` into the context.
//! - `fail`: fails with `params.message` (for trying out error routes).

use std::sync::Arc;

use serde_json::Value;

use super::{Node, NodeError, NodeFuture, NodeInput, NodeOutput};

pub const NAMES: &[&str] = &["noop", "set", "fail"];

pub fn get(name: &str) -> Option<Arc<dyn Node>> {
    match name {
        "noop" => Some(Arc::new(Noop)),
        "set" => Some(Arc::new(Set)),
        "fail" => Some(Arc::new(Fail)),
        _ => None,
    }
}

struct Noop;

impl Node for Noop {
    fn call<'a>(&'a self, _: NodeInput<'a>) -> NodeFuture<'a> {
        Box::pin(async { Ok(NodeOutput::unchanged()) })
    }
}

struct Set;

impl Node for Set {
    fn call<'a>(&'a self, input: NodeInput<'a>) -> NodeFuture<'a> {
        let out = match input.params {
            Value::Object(m) => Ok(NodeOutput::merge(m.clone())),
            Value::Null => Ok(NodeOutput::unchanged()),
            other => Err(NodeError::failed(format!(
                "`set` needs a mapping of params, got {other}"
            ))),
        };
        Box::pin(async move { out })
    }
}

struct Fail;

impl Node for Fail {
    fn call<'a>(&'a self, input: NodeInput<'a>) -> NodeFuture<'a> {
        let msg = input
            .params
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("failed on purpose")
            .to_string();
        Box::pin(async move { Err(NodeError::Failed(msg)) })
    }
}
