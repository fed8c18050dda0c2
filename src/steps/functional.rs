//! `kind: functional` — runs a node named by `runner` (Rust-registered, a `nodes/` program, or a
//! built-in), with optional templated `params` and a `timeout` (default 30 s).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{CompileCx, DEFAULT, Outcome, StepCx};
use crate::engine::{FailureKind, StepFailure, TemplatedValue};
use crate::nodes::{Node as NodeImpl, NodeError, NodeInput, Update};
use crate::spec::{Code, Diagnostic, Located, Node, Seconds, StepSpec, did_you_mean};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    runner: Located<String>,
    #[serde(default)]
    params: Option<Node>,
    #[serde(default)]
    timeout: Option<Seconds>,
}

pub struct Functional {
    runner: String,
    node: Arc<dyn NodeImpl>,
    params: TemplatedValue,
    timeout: Duration,
}

impl std::fmt::Debug for Functional {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Functional")
            .field("runner", &self.runner)
            .finish_non_exhaustive()
    }
}

impl Functional {
    pub fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Self> {
        let spec: Spec = cx.spec(step)?;
        let params = match &spec.params {
            Some(p) if p.as_map().is_none() => {
                cx.error(
                    Diagnostic::error(Code::WrongType, "`params` must be a mapping")
                        .at(p.pos)
                        .path(format!("{}.params", step.path))
                        .expected("a mapping")
                        .found(p.describe()),
                );
                return None;
            }
            Some(p) => cx.templated_value(p, &format!("{}.params", step.path))?,
            None => TemplatedValue::Static(Value::Object(Map::new())),
        };
        let Some(node) = cx.nodes.resolve(&spec.runner, &cx.project.root) else {
            let names = cx.nodes.names();
            cx.error(
                Diagnostic::error(
                    Code::UnknownRunner,
                    format!("unknown runner `{}`", spec.runner.value),
                )
                .at(spec.runner.pos)
                .path(format!("{}.runner", step.path))
                .expected(
                    "a Rust-registered node, a program in nodes/, or a built-in (noop, set, fail)",
                )
                .found(format!("`{}`", spec.runner.value))
                .maybe_help(did_you_mean(&spec.runner, names.iter().map(String::as_str))),
            );
            return None;
        };
        Some(Functional {
            runner: spec.runner.value,
            node,
            params,
            timeout: spec.timeout.map_or(DEFAULT_TIMEOUT, Seconds::get),
        })
    }

    pub async fn run(&self, cx: &mut StepCx<'_>) -> Result<Outcome, StepFailure> {
        let params = cx.render_value(&self.params)?;
        let input = NodeInput {
            context: cx.ctx.as_map(),
            params: &params,
            step_id: cx.step_id,
            timeout: self.timeout,
        };
        let out = self.node.call(input).await.map_err(|e| match e {
            NodeError::Failed(m) => StepFailure::new(FailureKind::NodeError, m),
            NodeError::Timeout(m) => StepFailure::new(FailureKind::Timeout, m),
        })?;
        match out.update {
            Update::Unchanged => {}
            Update::Replace(m) => cx.ctx.replace_public(m),
            Update::Merge(m) => cx.ctx.merge(m),
        }
        Ok(Outcome::Signal(out.signal.map_or(DEFAULT, Into::into)))
    }
}
