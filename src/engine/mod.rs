//! The interpreter: runs a compiled workflow step by step, routing on signals and failures.
//!
//! Plain Rust API (no HTTP here): [`Engine::run`] takes a workflow and an input object and returns
//! the finished context or a [`RunError`].

pub mod context;
pub mod event;
pub mod failure;
mod run;
pub mod template;

pub use context::Context;
pub use event::{Events, RunEvent};
pub use failure::{FailureKind, StepFailure};
pub use run::{Engine, RunError, RunErrorCode, RunOptions, RunOutput};
pub use template::{RenderError, Template, TemplateBuilder, TemplatedValue, Templates};

/// Shared clients and stores that steps use at run time. Built once per process.
#[derive(Debug, Default)]
pub struct Services {}
