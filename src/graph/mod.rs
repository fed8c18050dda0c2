//! The compiled form of a workflow: a [`StepGraph`] with step indices, routes resolved to indices
//! or END, fall-through resolved and templates parsed. Built once at load time; runs only read it.

mod compile;
mod routes;
pub mod trigger;

pub use compile::{Catalog, compile_project, compile_workflow};
pub use routes::{Routes, Target};

use std::sync::Arc;

use crate::engine::Templates;
use crate::schema::{Extra, Schema};
use crate::spec::{ContextRef, Document, TriggerSpec};
use crate::steps::StepKind;

/// Default loop guard: a run that executes more steps than this fails with `max_steps_exceeded`.
pub const DEFAULT_MAX_STEPS: u32 = 1000;

/// One compiled workflow version.
#[derive(Debug)]
pub struct Workflow {
    pub name: Arc<str>,
    pub version: Arc<str>,
    pub description: Option<String>,
    /// The `enabled` flag as written in YAML (a stored admin toggle may override it).
    pub enabled: bool,
    pub trigger: Option<Trigger>,
    pub context: ContextRef,
    pub graph: StepGraph,
    pub max_steps: u32,
    pub templates: Arc<Templates>,
    /// The document as written, with its file.
    pub doc: Document,
}

/// Where a workflow is served.
#[derive(Clone, Debug)]
pub struct Trigger {
    /// The route pattern, e.g. `/orders/{id}`.
    pub path: String,
    /// Upper-case HTTP method.
    pub method: String,
    /// The `{param}` names of `path`, in order.
    pub params: Vec<String>,
    /// Input validation (`input_schema`); without one the whole JSON object is the input.
    pub input: Option<Arc<Schema>>,
    /// Checked on successful results (`response_schema`).
    pub response: Option<Arc<Schema>>,
    /// What to do with input fields the input schema does not declare.
    pub extra: Extra,
    pub spec: TriggerSpec,
}

impl Trigger {
    /// The path with parameter names erased, so `/o/{id}` and `/o/{oid}` compare equal.
    pub fn pattern_key(&self) -> String {
        pattern_key(&self.path)
    }
}

pub fn pattern_key(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                if seg.starts_with("{*") { "{*}" } else { "{}" }
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The steps of a workflow in list order; index 0 is the entry.
#[derive(Debug, Default)]
pub struct StepGraph {
    pub steps: Vec<Step>,
}

impl StepGraph {
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| &*s.id == id)
    }
}

#[derive(Debug)]
pub struct Step {
    pub id: Arc<str>,
    pub kind: StepKind,
    pub routes: Routes,
}
