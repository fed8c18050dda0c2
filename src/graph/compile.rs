//! Spec → compiled workflows, with the static checks: duplicate step ids, unknown route targets,
//! unreachable steps, trigger paths (reserved prefixes, clashes between workflows) and duplicate
//! (name, schema_version) pairs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::{DEFAULT_MAX_STEPS, Routes, Step, StepGraph, Target, Workflow};
use crate::engine::{Services, TemplateBuilder};
use crate::spec::workflow::canonical_step_kind;
use crate::spec::{
    Code, Diagnostic, Diagnostics, Pos, ProjectSpec, Sink, WorkflowSpec, did_you_mean,
};
use crate::steps::{self, CompileCx};

/// What steps compile against besides the project itself: runners, LLM presets, data models.
pub struct Catalog<'a> {
    pub nodes: &'a crate::nodes::Registry,
    pub presets: &'a crate::llm::Presets,
    pub models: &'a dyn crate::schema::ModelSchemas,
}

/// Compiles every workflow of a project. Workflows with errors are left out; all problems go to
/// `diags`.
pub fn compile_project(
    spec: &ProjectSpec,
    catalog: &Catalog<'_>,
    services: &Arc<Services>,
    diags: &mut Diagnostics,
) -> Vec<Arc<Workflow>> {
    let mut templates = TemplateBuilder::default();
    let mut drafts = Vec::new();
    for wf in &spec.workflows {
        let mut sink = Sink::new(&wf.doc.file, diags);
        let mut cx = CompileCx {
            templates: &mut templates,
            nodes: catalog.nodes,
            presets: catalog.presets,
            models: catalog.models,
            project: spec,
            services,
            sink: &mut sink,
        };
        if let Some(d) = compile_workflow(wf, &mut cx) {
            drafts.push(d);
        }
    }
    check_versions(&spec.workflows, diags);
    check_trigger_clashes(&spec.workflows, diags);
    let templates = templates.finish();
    drafts
        .into_iter()
        .map(|d| {
            Arc::new(Workflow {
                templates: templates.clone(),
                ..d
            })
        })
        .collect()
}

/// Compiles one workflow; `None` when it has errors (reported through `cx`). The returned
/// workflow's `templates` is a placeholder until [`compile_project`] freezes the set.
pub fn compile_workflow(spec: &WorkflowSpec, cx: &mut CompileCx<'_, '_>) -> Option<Workflow> {
    let errors_before = cx.sink_errors();
    let ids = check_step_ids(spec, cx);
    let mut steps = Vec::with_capacity(spec.steps.len());
    for (i, step) in spec.steps.iter().enumerate() {
        let kind = match canonical_step_kind(&step.kind, &step.path) {
            Ok(k) => steps::compile(k, step, cx),
            Err(d) => {
                cx.error(*d);
                None
            }
        };
        let fall_through = if i + 1 < spec.steps.len() {
            Target::Step(i + 1)
        } else {
            Target::End
        };
        let routes = resolve_routes(step, &ids, fall_through, cx);
        if let Some(kind) = kind {
            steps.push(Step {
                id: Arc::from(step.id.value.as_str()),
                kind,
                routes,
            });
        }
    }
    let trigger = spec
        .trigger
        .as_ref()
        .and_then(|t| super::trigger::compile(t, spec, &body_path(spec, "trigger"), cx));
    let max_steps = match &spec.max_steps {
        Some(m) if m.value == 0 => {
            cx.error(
                Diagnostic::error(Code::InvalidValue, "`max_steps` must be at least 1")
                    .at(m.pos)
                    .path(body_path(spec, "max_steps")),
            );
            DEFAULT_MAX_STEPS
        }
        Some(m) => m.value,
        None => DEFAULT_MAX_STEPS,
    };
    if cx.sink_errors() > errors_before || steps.len() != spec.steps.len() {
        return None;
    }
    let graph = StepGraph { steps };
    warn_unreachable(spec, &graph, cx);
    Some(Workflow {
        name: Arc::from(spec.name.value.as_str()),
        version: Arc::from(spec.version.value.as_str()),
        description: spec.description.clone(),
        enabled: spec.enabled,
        trigger,
        context: spec.context.clone().unwrap_or_default(),
        graph,
        max_steps,
        templates: TemplateBuilder::default().finish(),
        doc: spec.doc.clone(),
    })
}

impl CompileCx<'_, '_> {
    fn sink_errors(&self) -> usize {
        self.sink.error_count()
    }
}

/// Step id → index; duplicates reported.
fn check_step_ids(spec: &WorkflowSpec, cx: &mut CompileCx<'_, '_>) -> HashMap<String, usize> {
    let mut ids: HashMap<String, usize> = HashMap::new();
    for (i, step) in spec.steps.iter().enumerate() {
        if let Some(&first) = ids.get(&step.id.value) {
            let first_line = spec.steps[first].id.pos.line;
            cx.error(
                Diagnostic::error(
                    Code::DuplicateStepId,
                    format!("duplicate step id `{}`", step.id.value),
                )
                .at(step.id.pos)
                .path(format!("{}.id", step.path))
                .help(format!(
                    "the first step with this id is at line {first_line}; step ids must be unique"
                )),
            );
        } else if step.id.value == "END" {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    "`END` is reserved as a route target and cannot be a step id",
                )
                .at(step.id.pos)
                .path(format!("{}.id", step.path)),
            );
        } else {
            ids.insert(step.id.value.clone(), i);
        }
    }
    ids
}

fn resolve_routes(
    step: &crate::spec::StepSpec,
    ids: &HashMap<String, usize>,
    fall_through: Target,
    cx: &mut CompileCx<'_, '_>,
) -> Routes {
    let mut table = Vec::with_capacity(step.routes.len());
    for (signal, target) in &step.routes {
        let resolved = if target.value == "END" {
            Some(Target::End)
        } else {
            ids.get(&target.value).map(|&i| Target::Step(i))
        };
        match resolved {
            Some(t) => table.push((signal.value.clone(), t)),
            None => {
                let candidates = ids.keys().map(String::as_str).chain(["END"]);
                cx.error(
                    Diagnostic::error(
                        Code::UnknownRouteTarget,
                        format!(
                            "route `{}` goes to unknown step `{}`",
                            signal.value, target.value
                        ),
                    )
                    .at(target.pos)
                    .path(format!("{}.routes.{}", step.path, signal.value))
                    .expected("a step id of this workflow or `END`")
                    .found(format!("`{}`", target.value))
                    .maybe_help(did_you_mean(&target.value, candidates)),
                );
            }
        }
    }
    Routes::new(table, fall_through)
}

fn warn_unreachable(spec: &WorkflowSpec, graph: &StepGraph, cx: &mut CompileCx<'_, '_>) {
    let mut seen = vec![false; graph.steps.len()];
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        if i >= seen.len() || std::mem::replace(&mut seen[i], true) {
            continue;
        }
        for t in graph.steps[i].routes.successors() {
            if let Target::Step(j) = t {
                stack.push(j);
            }
        }
    }
    for (i, reached) in seen.iter().enumerate() {
        if !reached {
            let step = &spec.steps[i];
            cx.error(
                Diagnostic::warning(
                    Code::UnreachableStep,
                    format!("step `{}` can never be reached", step.id.value),
                )
                .at(step.id.pos)
                .path(step.path.clone())
                .help("route to it from another step, or remove it"),
            );
        }
    }
}

/// JSON path of a body field: under `spec.` in the `spec:` form, at the top in the flat form.
fn body_path(spec: &WorkflowSpec, field: &str) -> String {
    if spec.doc.node.get("spec").is_some() {
        format!("spec.{field}")
    } else {
        field.to_string()
    }
}

fn check_versions(workflows: &[WorkflowSpec], diags: &mut Diagnostics) {
    let mut seen: HashMap<(&str, &str), &WorkflowSpec> = HashMap::new();
    for wf in workflows {
        let key = (wf.name.value.as_str(), wf.version.value.as_str());
        if let Some(first) = seen.get(&key) {
            // Without `schema_version` (default `v1`) the position is the name's: say so.
            let written = wf
                .doc
                .node
                .get("metadata")
                .and_then(|m| m.get("schema_version"))
                .is_some();
            diags.push(
                Diagnostic::error(
                    Code::DuplicateVersion,
                    format!("workflow `{}` version `{}` is defined twice", key.0, key.1),
                )
                .in_file(&wf.doc.file)
                .at(wf.version.pos)
                .path(if written {
                    "metadata.schema_version"
                } else {
                    "metadata.name"
                })
                .help(format!(
                    "first defined in {}; give each version its own `schema_version`",
                    location(&first.doc.file, first.version.pos)
                )),
            );
        } else {
            seen.insert(key, wf);
        }
    }
}

fn check_trigger_clashes(workflows: &[WorkflowSpec], diags: &mut Diagnostics) {
    let mut seen: HashMap<(String, String), &WorkflowSpec> = HashMap::new();
    for wf in workflows.iter().filter(|w| w.enabled) {
        let Some(t) = &wf.trigger else { continue };
        let key = (t.method(), super::pattern_key(&t.path.value));
        match seen.get(&key) {
            Some(other) if other.name.value != wf.name.value => diags.push(
                Diagnostic::error(
                    Code::TriggerClash,
                    format!("`{} {}` is also served by workflow `{}`", key.0, t.path.value, other.name.value),
                )
                .in_file(&wf.doc.file)
                .at(t.path.pos)
                .path(format!("{}.path", body_path(wf, "trigger")))
                .help(format!(
                    "`{}` declares it in {}; give one workflow another path, or disable one version",
                    other.name.value,
                    location(&other.doc.file, other.trigger.as_ref().map_or(Pos::default(), |t| t.path.pos))
                )),
            ),
            Some(_) => {}
            None => {
                seen.insert(key, wf);
            }
        }
    }
}

fn location(file: &Path, pos: Pos) -> String {
    format!("{}:{}:{}", file.display(), pos.line, pos.col)
}
