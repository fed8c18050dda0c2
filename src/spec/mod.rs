//! YAML → typed documents with source positions. Never panics; reports every problem.
//!
//! Flow: [`load::load_project`] walks `workflows/`, `models/` and `llms/`, parses each file into
//! [`yaml::Node`] trees, expands `${VAR}`, dispatches each document on `kind`, and reads workflows
//! with [`workflow::parse_workflow`]. Step kinds read their own fields later, in `steps/`.

pub mod code;
pub mod diagnostic;
pub mod document;
pub mod duration;
pub mod interpolate;
pub mod load;
mod syntax;
pub mod workflow;
pub mod yaml;

use std::path::Path;

pub use diagnostic::{Code, Diagnostic, Diagnostics, Pos, Severity, did_you_mean};
pub use document::{Document, Metadata};
pub use duration::Seconds;
pub use load::{NodeFile, ProjectSpec, load_project};
pub use workflow::{ContextRef, ModelRef, StepSpec, TriggerSpec, WorkflowSpec};
pub use yaml::{DeError, Located, Node, Problem};

/// Collects diagnostics for one file, stamping each with the file's path.
pub struct Sink<'a> {
    file: &'a Path,
    diags: &'a mut Diagnostics,
}

impl<'a> Sink<'a> {
    pub fn new(file: &'a Path, diags: &'a mut Diagnostics) -> Self {
        Sink { file, diags }
    }

    pub fn file(&self) -> &Path {
        self.file
    }

    pub fn push(&mut self, d: Diagnostic) {
        let d = if d.file.is_none() {
            d.in_file(self.file)
        } else {
            d
        };
        self.diags.push(d);
    }

    /// The value, or `None` after reporting the error.
    pub fn ok<T>(&mut self, r: Result<T, DeError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(de_error_to_diagnostic(&e));
                None
            }
        }
    }

    pub fn has_errors(&self) -> bool {
        self.diags.has_errors()
    }

    /// Errors so far across every file (compare before/after to see whether a part added any).
    pub fn error_count(&self) -> usize {
        self.diags.error_count()
    }
}

/// Turns a deserialization error into a diagnostic with code, expected/found and a hint.
pub fn de_error_to_diagnostic(e: &DeError) -> Diagnostic {
    let mut d = match &e.problem {
        Problem::UnknownField { field, expected } => {
            let d = Diagnostic::error(Code::UnknownKey, format!("unknown key `{field}`"))
                .found(format!("`{field}`"))
                .maybe_help(did_you_mean(field, expected.iter().copied()));
            if expected.is_empty() {
                d
            } else {
                d.expected(format!("one of {}", quote_list(expected)))
            }
        }
        Problem::MissingField(field) => Diagnostic::error(
            Code::MissingField,
            format!("missing required key `{field}`"),
        )
        .expected(format!("`{field}`")),
        Problem::InvalidType { expected, found } => {
            Diagnostic::error(Code::WrongType, format!("wrong type: expected {expected}"))
                .expected(expected.clone())
                .found(found.clone())
        }
        Problem::InvalidValue { expected, found } => Diagnostic::error(
            Code::InvalidValue,
            format!("invalid value: expected {expected}"),
        )
        .expected(expected.clone())
        .found(found.clone()),
        Problem::UnknownVariant { variant, expected } => {
            Diagnostic::error(Code::InvalidValue, format!("unknown value `{variant}`"))
                .expected(format!("one of {}", quote_list(expected)))
                .found(format!("`{variant}`"))
                .maybe_help(did_you_mean(variant, expected.iter().copied()))
        }
        Problem::Custom(m) => Diagnostic::error(Code::InvalidValue, m.clone()),
    };
    if let Some(pos) = e.pos {
        d = d.at(pos);
    }
    if let Some(path) = &e.path
        && !path.is_empty()
    {
        d = d.path(path.clone());
    }
    d
}

pub fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
