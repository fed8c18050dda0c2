//! `kind: Workflow` documents: the envelope (both the `spec:` form and the flat form of the
//! reference's versioning example), trigger, context and each step's common head. Each step's
//! kind-specific fields are read later by its own module in `steps/`, from the step's node.

use serde::Deserialize;

use super::diagnostic::{Code, Diagnostic, did_you_mean};
use super::document::{Document, Metadata};
use super::yaml::{DeError, Located, Node, Problem, Value, from_node};
use super::{Sink, de_error_to_diagnostic};

/// A workflow as written (after `${VAR}` expansion), with positions for later checks.
#[derive(Clone, Debug)]
pub struct WorkflowSpec {
    pub name: Located<String>,
    pub version: Located<String>,
    pub description: Option<String>,
    pub enabled: bool,
    pub trigger: Option<TriggerSpec>,
    pub context: Option<ContextRef>,
    pub max_steps: Option<Located<u32>>,
    pub transaction: Option<Located<String>>,
    pub steps: Vec<StepSpec>,
    /// Where the document came from and its text as written (`${VAR}` unexpanded).
    pub doc: Document,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerSpec {
    pub path: Located<String>,
    #[serde(default)]
    pub method: Option<Located<String>>,
    #[serde(default)]
    pub input_schema: Option<Node>,
    #[serde(default)]
    pub response_schema: Option<Node>,
    /// `drop` (default) or `reject`: what to do with input fields the schema does not declare.
    #[serde(default)]
    pub additional_fields: Option<Located<String>>,
    #[serde(default)]
    pub description: Option<String>,
}

impl TriggerSpec {
    /// The HTTP method, upper-cased; POST when omitted.
    pub fn method(&self) -> String {
        self.method
            .as_ref()
            .map(|m| m.value.to_ascii_uppercase())
            .unwrap_or_else(|| "POST".to_string())
    }
}

/// The models a workflow works with: `"Contact"`, `["Candidate", "Job"]` or
/// `{models: [{name: Candidate, version: v2}, {name: Job}]}`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContextRef {
    pub models: Vec<ModelRef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ModelRef {
    pub name: Located<String>,
    pub version: Option<Located<String>>,
}

impl<'de> Deserialize<'de> for ContextRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let node = Node::deserialize(d)?;
        read_context(&node, "context").map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PinnedModel {
    name: Located<String>,
    #[serde(default)]
    version: Option<Located<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContextDict {
    models: Vec<PinnedModel>,
}

/// Reads `context` from its node, keeping the position, path and kind of every error (an
/// unknown key in the dict form is an unknown key, at that key).
fn read_context(node: &Node, path: &str) -> Result<ContextRef, DeError> {
    let wrong = |n: &Node, expected: &str, at: String| DeError {
        problem: Problem::InvalidType {
            expected: expected.to_string(),
            found: n.describe(),
        },
        pos: Some(n.pos),
        path: Some(at),
    };
    let models = match &node.value {
        Value::Str(s) => vec![ModelRef {
            name: Located::new(s.clone(), node.pos),
            version: None,
        }],
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| match &n.value {
                Value::Str(s) => Ok(ModelRef {
                    name: Located::new(s.clone(), n.pos),
                    version: None,
                }),
                _ => Err(wrong(n, "a model name", format!("{path}[{i}]"))),
            })
            .collect::<Result<_, _>>()?,
        Value::Map(_) => from_node::<ContextDict>(node, path)?
            .models
            .into_iter()
            .map(|p| ModelRef {
                name: p.name,
                version: p.version,
            })
            .collect(),
        Value::Null => Vec::new(),
        _ => {
            let expected = "a model name, a list of names, or `{models: [...]}`";
            return Err(wrong(node, expected, path.to_string()));
        }
    };
    Ok(ContextRef { models })
}

/// The part every step has: `id`, `kind`, `routes`. The rest of the step's mapping is read by the
/// step kind's own module from `node`.
#[derive(Clone, Debug)]
pub struct StepSpec {
    pub id: Located<String>,
    pub kind: Located<String>,
    pub routes: Vec<(Located<String>, Located<String>)>,
    pub description: Option<String>,
    /// The whole step mapping.
    pub node: Node,
    /// JSON path of the step, e.g. `spec.steps[3]`.
    pub path: String,
}

/// Keys every step may have, whatever its kind.
pub const COMMON_STEP_KEYS: &[&str] = &["id", "kind", "routes", "description"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[allow(dead_code)]
    kind: String,
    /// Accepted and ignored (the reference's top-level `version: "v1"`).
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<Node>,
    metadata: Metadata,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    spec: Option<Node>,
    // The flat form: these sit beside `metadata`.
    #[serde(default)]
    trigger: Option<Node>,
    #[serde(default)]
    context: Option<Node>,
    #[serde(default)]
    steps: Option<Node>,
    #[serde(default)]
    max_steps: Option<Node>,
    #[serde(default)]
    transaction: Option<Node>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    trigger: Option<Node>,
    #[serde(default)]
    context: Option<Node>,
    #[serde(default)]
    steps: Option<Node>,
    #[serde(default)]
    max_steps: Option<Node>,
    #[serde(default)]
    transaction: Option<Node>,
}

/// Reads a `kind: Workflow` document. Problems go to `sink`; `None` when the envelope itself is
/// unusable (a workflow with broken steps is still returned, minus those steps, so every step's
/// problems are reported in one pass).
pub fn parse_workflow(doc: &Document, sink: &mut Sink<'_>) -> Option<WorkflowSpec> {
    let env: Envelope = match from_node(&doc.node, "") {
        Ok(e) => e,
        Err(e) => {
            sink.push(de_error_to_diagnostic(&e));
            return None;
        }
    };
    let body = match (env.spec, flat_body(&env.trigger, &env.context, &env.steps)) {
        (Some(spec), false) => match from_node::<Body>(&spec, "spec") {
            Ok(b) => b,
            Err(e) => {
                sink.push(de_error_to_diagnostic(&e));
                return None;
            }
        },
        (Some(spec), true) => {
            // Point at the `spec` key itself: its value's position is the first key inside it.
            let key_pos = doc
                .node
                .as_map()
                .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some("spec")));
            sink.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    "both `spec:` and top-level `trigger`/`context`/`steps`",
                )
                .at(key_pos.map_or(spec.pos, |(k, _)| k.pos))
                .path("spec")
                .help("use one form: everything under `spec:`, or the flat form beside `metadata`"),
            );
            return None;
        }
        (None, _) => Body {
            trigger: env.trigger,
            context: env.context,
            steps: env.steps,
            max_steps: env.max_steps,
            transaction: env.transaction,
        },
    };
    let prefix = if doc.node.get("spec").is_some() {
        "spec."
    } else {
        ""
    };
    let trigger = body
        .trigger
        .as_ref()
        .and_then(|n| sink.ok(from_node::<TriggerSpec>(n, &format!("{prefix}trigger"))));
    let context = body.context.as_ref().and_then(|n| {
        let path = format!("{prefix}context");
        sink.ok(read_context(n, &path))
    });
    let max_steps = body
        .max_steps
        .as_ref()
        .and_then(|n| sink.ok(from_node(n, &format!("{prefix}max_steps"))));
    let transaction = body
        .transaction
        .as_ref()
        .and_then(|n| sink.ok(from_node(n, &format!("{prefix}transaction"))));
    let steps = parse_steps(body.steps.as_ref(), &format!("{prefix}steps"), doc, sink);
    let version = env
        .metadata
        .schema_version
        .unwrap_or_else(|| Located::new("v1".to_string(), env.metadata.name.pos));
    Some(WorkflowSpec {
        name: env.metadata.name,
        version,
        description: env.metadata.description,
        enabled: env.enabled.unwrap_or(true),
        trigger,
        context,
        max_steps,
        transaction,
        steps,
        doc: doc.clone(),
    })
}

fn flat_body(trigger: &Option<Node>, context: &Option<Node>, steps: &Option<Node>) -> bool {
    trigger.is_some() || context.is_some() || steps.is_some()
}

fn parse_steps(
    node: Option<&Node>,
    path: &str,
    doc: &Document,
    sink: &mut Sink<'_>,
) -> Vec<StepSpec> {
    let Some(node) = node else {
        sink.push(
            Diagnostic::error(Code::MissingField, "a workflow needs `steps`")
                .at(doc.node.pos)
                .path(path)
                .expected("a list of steps"),
        );
        return Vec::new();
    };
    let Some(items) = node.as_seq() else {
        sink.push(
            Diagnostic::error(Code::WrongType, "`steps` must be a list")
                .at(node.pos)
                .path(path)
                .expected("a list of steps")
                .found(node.describe()),
        );
        return Vec::new();
    };
    if items.is_empty() {
        sink.push(
            Diagnostic::error(Code::EmptySteps, "a workflow needs at least one step")
                .at(node.pos)
                .path(path),
        );
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, step)| parse_step_head(step, &format!("{path}[{i}]"), sink))
        .collect()
}

#[derive(Deserialize)]
struct Head {
    id: Located<String>,
    kind: Located<String>,
    #[serde(default)]
    routes: Option<Node>,
    #[serde(default)]
    description: Option<String>,
}

fn parse_step_head(node: &Node, path: &str, sink: &mut Sink<'_>) -> Option<StepSpec> {
    if node.as_map().is_none() {
        sink.push(
            Diagnostic::error(Code::WrongType, "each step must be a mapping")
                .at(node.pos)
                .path(path)
                .expected("a mapping with `id` and `kind`")
                .found(node.describe()),
        );
        return None;
    }
    // Only the common keys here; unknown keys are judged by the kind's own spec.
    let mut head_node = node.clone();
    if let Value::Map(entries) = &mut head_node.value {
        entries.retain(|(k, _)| {
            k.key_text()
                .is_some_and(|t| COMMON_STEP_KEYS.contains(&t.as_str()))
        });
    }
    let head: Head = match from_node(&head_node, path) {
        Ok(h) => h,
        Err(e) => {
            sink.push(de_error_to_diagnostic(&e));
            return None;
        }
    };
    let routes = match head.routes {
        Some(r) => parse_routes(&r, &format!("{path}.routes"), sink),
        None => Vec::new(),
    };
    Some(StepSpec {
        id: head.id,
        kind: head.kind,
        routes,
        description: head.description,
        node: node.clone(),
        path: path.to_string(),
    })
}

fn parse_routes(
    node: &Node,
    path: &str,
    sink: &mut Sink<'_>,
) -> Vec<(Located<String>, Located<String>)> {
    let Some(entries) = node.as_map() else {
        if node.value != Value::Null {
            sink.push(
                Diagnostic::error(Code::WrongType, "`routes` must map signals to step ids")
                    .at(node.pos)
                    .path(path)
                    .expected("a mapping like `{default: next, error: fallback}`")
                    .found(node.describe()),
            );
        }
        return Vec::new();
    };
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(signal) = k.key_text() else {
            sink.push(
                Diagnostic::error(Code::WrongType, "a route's signal must be a name")
                    .at(k.pos)
                    .path(path)
                    .expected("a signal like `default`, `error` or `true`")
                    .found(k.describe()),
            );
            continue;
        };
        match &v.value {
            Value::Str(target) => out.push((
                Located::new(signal, k.pos),
                Located::new(target.clone(), v.pos),
            )),
            _ => sink.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("route `{signal}` must name a step or `END`"),
                )
                .at(v.pos)
                .path(format!("{path}.{signal}"))
                .expected("a step id or `END`")
                .found(v.describe()),
            ),
        }
    }
    out
}

/// The canonical step kind names and the aliases projects of the Python engine use.
pub const STEP_KINDS: &[(&str, &[&str])] = &[
    ("functional", &["Functional"]),
    ("agent", &["Agent"]),
    ("router", &["Router"]),
    ("api_call", &["APICall"]),
    ("mcp", &["MCP"]),
    ("model-op", &["ModelOp"]),
    ("response", &["Response"]),
    ("HumanInTheLoop", &[]),
];

/// Resolves a `kind:` spelling to its canonical name, or a diagnostic with a suggestion.
pub fn canonical_step_kind(
    kind: &Located<String>,
    path: &str,
) -> Result<&'static str, Box<Diagnostic>> {
    for (canonical, aliases) in STEP_KINDS {
        if kind.value == *canonical || aliases.contains(&kind.value.as_str()) {
            return Ok(canonical);
        }
    }
    let canonical = STEP_KINDS.iter().map(|(c, _)| *c);
    let all = canonical.chain(STEP_KINDS.iter().flat_map(|(_, a)| a.iter().copied()));
    Err(Box::new(
        Diagnostic::error(
            Code::UnknownStepKind,
            format!("unknown step kind `{}`", kind.value),
        )
        .at(kind.pos)
        .path(format!("{path}.kind"))
        .expected(format!(
            "one of {}",
            STEP_KINDS
                .iter()
                .map(|(c, _)| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .found(format!("`{}`", kind.value))
        .maybe_help(did_you_mean(&kind.value, all)),
    ))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::spec::yaml::parse_documents;
    use crate::spec::{Diagnostics, Pos};

    /// Reads `text` as a workflow; the diagnostics and the spec when the envelope was usable.
    fn read(text: &str) -> (Option<WorkflowSpec>, Vec<Diagnostic>) {
        let node = parse_documents(text).expect("valid YAML").remove(0);
        let doc = Document {
            kind: "Workflow".into(),
            file: "w.yaml".into(),
            index: 0,
            pos: node.pos,
            node,
            text: text.into(),
        };
        let mut diags = Diagnostics::default();
        let spec = parse_workflow(&doc, &mut Sink::new(Path::new("w.yaml"), &mut diags));
        (spec, diags.into_vec())
    }

    #[test]
    fn a_route_signal_that_is_not_a_scalar_is_reported() {
        let (_, d) = read(
            "kind: Workflow\nmetadata: {name: a}\nsteps:\n  - id: s\n    kind: router\n    routes: {[x]: s, ok: s}\n",
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert_eq!(
            (d[0].code, d[0].pos),
            (Code::WrongType, Some(Pos::new(6, 14)))
        );
        assert_eq!(d[0].path.as_deref(), Some("steps[0].routes"));
    }

    #[test]
    fn context_errors_keep_their_position_and_kind() {
        let wf = "kind: Workflow\nmetadata: {name: a}\nsteps: [{id: a, kind: functional, runner: noop}]\ncontext:\n";
        let (_, d) = read(&format!(
            "{wf}  models:\n    - name: Candidate\n      versoin: v2\n"
        ));
        assert_eq!(
            (d[0].code, d[0].pos),
            (Code::UnknownKey, Some(Pos::new(7, 7))),
            "{d:?}"
        );
        assert_eq!(d[0].path.as_deref(), Some("context.models[0].versoin"));
        assert_eq!(d[0].help.as_deref(), Some("did you mean `version`?"));
        let (_, d) = read(&format!("{wf}  - Candidate\n  - {{name: Job}}\n"));
        assert_eq!(
            (d[0].code, d[0].pos, d[0].path.as_deref()),
            (Code::WrongType, Some(Pos::new(6, 5)), Some("context[1]"))
        );
        let (spec, d) = read(&format!(
            "{wf}  models: [{{name: Candidate, version: v2}}, {{name: Job}}]\n"
        ));
        assert!(d.is_empty(), "{d:?}");
        let models = spec.and_then(|s| s.context).map(|c| c.models.len());
        assert_eq!(models, Some(2));
    }

    #[test]
    fn both_forms_point_at_the_spec_key() {
        let (spec, d) =
            read("kind: Workflow\nmetadata: {name: a}\nsteps: []\nspec:\n  steps: []\n");
        assert!(spec.is_none());
        assert_eq!(
            (d[0].code, d[0].pos),
            (Code::InvalidValue, Some(Pos::new(4, 1)))
        );
    }
}
