//! Step kinds, one file each, named as in YAML. Each module owns its YAML spec struct, its
//! compiled form (built once at load time) and its `run`.
//!
//! Adding a kind: write `steps/<kind>.rs` with a `compile(step, cx) -> Option<Self>` and a `run`,
//! add a variant to [`StepKind`] and a line to [`compile`].

pub mod agent;
pub mod api_call;
pub mod extract;
pub mod functional;
pub mod mcp;
pub mod model_op;
pub mod response;
pub mod router;

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::config::ProjectConfig;
use crate::engine::{
    Context, Events, FailureKind, Services, StepFailure, Template, TemplateBuilder, TemplatedValue,
    Templates,
};
use crate::graph::Routes;
use crate::spec::workflow::COMMON_STEP_KEYS;
use crate::spec::{
    Code, DeError, Diagnostic, Node, Pos, Problem, ProjectSpec, Sink, StepSpec,
    de_error_to_diagnostic, did_you_mean,
};

/// What a step yields when it does not fail.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Signal(Signal),
}

/// A routing signal: `default`, `true`, a node's own signal, an LLM's category…
pub type Signal = Cow<'static, str>;

pub const DEFAULT: Signal = Cow::Borrowed("default");

/// A compiled step, one variant per YAML kind.
#[derive(Debug)]
pub enum StepKind {
    Functional(functional::Functional),
    /// Boxed: an agent's compiled config is large and LLM-bound, while the run loop walks a
    /// `Vec` of steps, so the common variants stay small.
    Agent(Box<agent::Agent>),
    Router(router::Router),
    Response(response::Response),
    ApiCall(Box<api_call::ApiCall>),
    Mcp(Box<mcp::Mcp>),
    /// Boxed like `Agent`: it holds the model and its compiled operation.
    ModelOp(Box<model_op::ModelOp>),
    /// A kind weft parses but does not run yet: reaching it fails the run with `not_implemented`.
    NotImplemented(&'static str),
}

impl StepKind {
    /// The canonical YAML name.
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Functional(_) => "functional",
            StepKind::Agent(_) => "agent",
            StepKind::Router(_) => "router",
            StepKind::Response(_) => "response",
            StepKind::ApiCall(_) => "api_call",
            StepKind::Mcp(_) => "mcp",
            StepKind::ModelOp(_) => "model-op",
            StepKind::NotImplemented(k) => k,
        }
    }

    pub async fn run(&self, cx: &mut StepCx<'_>) -> Result<Outcome, StepFailure> {
        match self {
            StepKind::Functional(s) => s.run(cx).await,
            StepKind::Agent(s) => s.run(cx).await,
            StepKind::Router(s) => s.run(cx),
            StepKind::Response(s) => s.run(cx),
            StepKind::ApiCall(s) => s.run(cx).await,
            StepKind::Mcp(s) => s.run(cx).await,
            StepKind::ModelOp(s) => s.run(cx).await,
            StepKind::NotImplemented(k) => Err(StepFailure::new(
                FailureKind::NotImplemented,
                format!("step kind `{k}` is not implemented in this version of weft"),
            )),
        }
    }
}

/// Compiles the kind-specific part of a step. `kind` is canonical (see `canonical_step_kind`).
pub fn compile(
    kind: &'static str,
    step: &StepSpec,
    cx: &mut CompileCx<'_, '_>,
) -> Option<StepKind> {
    Some(match kind {
        "functional" => StepKind::Functional(functional::Functional::compile(step, cx)?),
        "agent" => StepKind::Agent(Box::new(agent::Agent::compile(step, cx)?)),
        "router" => StepKind::Router(router::Router::compile(step, cx)?),
        "response" => StepKind::Response(response::Response::compile(step, cx)?),
        "api_call" => StepKind::ApiCall(Box::new(api_call::ApiCall::compile(step, cx)?)),
        "mcp" => StepKind::Mcp(Box::new(mcp::Mcp::compile(step, cx)?)),
        "model-op" => StepKind::ModelOp(Box::new(model_op::ModelOp::compile(step, cx)?)),
        other => {
            cx.sink.push(
                Diagnostic::warning(
                    Code::NotImplementedKind,
                    format!(
                        "step kind `{other}` is not implemented yet; a run that reaches `{}` fails",
                        step.id.value
                    ),
                )
                .at(step.kind.pos)
                .path(format!("{}.kind", step.path)),
            );
            StepKind::NotImplemented(other)
        }
    })
}

/// What a step sees while it compiles.
pub struct CompileCx<'a, 'd> {
    pub templates: &'a mut TemplateBuilder,
    pub nodes: &'a crate::nodes::Registry,
    /// The project's LLM presets (`llms/`), parsed once per load.
    pub presets: &'a crate::llm::Presets,
    /// Schemas of the project's data models (`"context"`, `"Model.variant"`).
    pub models: &'a dyn crate::schema::ModelSchemas,
    /// The declared models themselves (what `model-op` steps work on).
    pub model_defs: &'a crate::models::Models,
    /// The `context` of the workflow being compiled (the models it declares, pins included).
    pub context: Option<&'a crate::spec::ContextRef>,
    /// The whole project as read (config, other documents such as presets and models).
    pub project: &'a ProjectSpec,
    /// Long-lived shared clients; steps may keep handles to them.
    pub services: &'a Arc<Services>,
    pub sink: &'a mut Sink<'d>,
}

impl CompileCx<'_, '_> {
    pub fn root(&self) -> &Path {
        &self.project.root
    }

    pub fn config(&self) -> &ProjectConfig {
        &self.project.config
    }

    /// Reads the step's kind-specific fields (every key but the common ones) into `T`.
    pub fn spec<T: DeserializeOwned>(&mut self, step: &StepSpec) -> Option<T> {
        match crate::spec::yaml::from_map_without::<T>(&step.node, &step.path, COMMON_STEP_KEYS) {
            Ok(v) => Some(v),
            Err(e) => {
                self.sink.push(step_key_diagnostic(&e, step));
                None
            }
        }
    }

    /// Compiles one template string written at `pos`.
    pub fn template(&mut self, source: &str, pos: Pos, path: &str) -> Option<Template> {
        match self.templates.compile(source) {
            Ok(t) => Some(t),
            Err(e) => {
                self.sink.push(template_diagnostic(
                    &e.message,
                    e.line_in_template,
                    pos,
                    path,
                ));
                None
            }
        }
    }

    /// Compiles a YAML subtree whose strings are templates.
    pub fn templated_value(&mut self, node: &Node, path: &str) -> Option<TemplatedValue> {
        match self.templates.compile_value(node, path) {
            Ok(t) => Some(t),
            Err((pos, path, e)) => {
                self.sink.push(template_diagnostic(
                    &e.message,
                    e.line_in_template,
                    pos,
                    &path,
                ));
                None
            }
        }
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.sink.push(d);
    }
}

/// An unknown key directly in a step is judged against the common keys too, so `rotues` gets
/// `did you mean `routes`?` and the expected list names every key the step may have.
fn step_key_diagnostic(e: &DeError, step: &StepSpec) -> Diagnostic {
    let d = de_error_to_diagnostic(e);
    let Problem::UnknownField { field, expected } = &e.problem else {
        return d;
    };
    if e.path.as_deref() != Some(format!("{}.{field}", step.path).as_str()) {
        return d; // deeper inside the step, e.g. in `condition`: the kind's keys are all there is
    }
    let all: Vec<&str> = COMMON_STEP_KEYS
        .iter()
        .chain(expected.iter())
        .copied()
        .collect();
    let mut d = d.expected(format!("one of {}", crate::spec::quote_list(&all)));
    d.help = did_you_mean(field, all.iter().copied());
    d
}

fn template_diagnostic(message: &str, line: Option<usize>, pos: Pos, path: &str) -> Diagnostic {
    let where_ = line
        .filter(|l| *l > 1)
        .map(|l| format!(" (line {l} of the template)"))
        .unwrap_or_default();
    Diagnostic::error(
        Code::TemplateSyntax,
        format!("invalid template: {message}{where_}"),
    )
    .at(pos)
    .path(path)
    .expected("a valid Jinja template")
}

/// What a step sees while it runs.
pub struct StepCx<'r> {
    pub ctx: &'r mut Context,
    pub step_id: &'r Arc<str>,
    pub routes: &'r Routes,
    pub templates: &'r Templates,
    pub services: &'r Services,
    pub events: &'r Events,
    pub run_id: Uuid,
    /// Whether the caller is streaming this run (see `RunOptions::stream`).
    pub streaming: bool,
    /// The run's transaction when the workflow has `transaction: run` (writes go there);
    /// `None` when each step commits its own writes.
    pub transaction: Option<&'r mut crate::engine::RunTransaction>,
}

impl StepCx<'_> {
    pub fn render(&self, t: &Template) -> Result<String, StepFailure> {
        t.render_str(self.templates, self.ctx).map_err(|e| {
            StepFailure::new(
                FailureKind::Template,
                format!("step `{}`: {}", self.step_id, e.message),
            )
        })
    }

    pub fn render_value(&self, t: &TemplatedValue) -> Result<Value, StepFailure> {
        t.render(self.templates, self.ctx).map_err(|e| {
            StepFailure::new(
                FailureKind::Template,
                format!("step `{}`: {}", self.step_id, e.message),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Located;
    use crate::spec::yaml::{from_map_without, parse_documents};

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Kind {
        runner: String,
        #[serde(default)]
        condition: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        field: String,
    }

    fn diagnose(text: &str) -> Diagnostic {
        let node = parse_documents(text).expect("valid YAML").remove(0);
        let step = StepSpec {
            id: Located::new("s".into(), Pos::new(1, 5)),
            kind: Located::new("functional".into(), Pos::new(2, 7)),
            routes: Vec::new(),
            description: None,
            node,
            path: "steps[0]".into(),
        };
        let e = from_map_without::<Kind>(&step.node, &step.path, COMMON_STEP_KEYS)
            .expect_err("an unknown key");
        step_key_diagnostic(&e, &step)
    }

    #[test]
    fn a_misspelt_common_key_gets_a_suggestion() {
        let d = diagnose("id: s\nkind: functional\nrunner: noop\nrotues: {default: END}\n");
        assert_eq!(d.help.as_deref(), Some("did you mean `routes`?"));
        assert!(
            d.expected
                .as_deref()
                .is_some_and(|e| e.contains("`routes`") && e.contains("`runner`")),
            "{d:?}"
        );
    }

    #[test]
    fn keys_deeper_in_the_step_keep_their_own_vocabulary() {
        let d =
            diagnose("id: s\nkind: functional\nrunner: noop\ncondition: {field: a, rotues: 1}\n");
        assert_eq!(d.help, None);
        assert_eq!(d.expected.as_deref(), Some("one of `field`"));
    }
}
