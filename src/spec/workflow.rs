//! `kind: Workflow` documents: the envelope (both the `spec:` form and the flat form of the
//! reference's versioning example), trigger, context and each step's common head. Each step's
//! kind-specific fields are read later by its own module in `steps/`, from the step's node.

use serde::Deserialize;

use super::diagnostic::{Code, Diagnostic, did_you_mean};
use super::document::Document;
use super::yaml::{DeError, Located, Node, Pos, Value, from_node};
use super::{de_error_to_diagnostic, Sink};

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
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Pinned {
            name: Located<String>,
            #[serde(default)]
            version: Option<Located<String>>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct DictForm {
            models: Vec<Pinned>,
        }
        let node = Node::deserialize(d)?;
        let err = |m: &str| serde::de::Error::custom(m.to_string());
        let models = match &node.value {
            Value::Str(s) => vec![ModelRef { name: Located::new(s.clone(), node.pos), version: None }],
            Value::Seq(items) => items
                .iter()
                .map(|n| match &n.value {
                    Value::Str(s) => Ok(ModelRef { name: Located::new(s.clone(), n.pos), version: None }),
                    _ => Err(err("each entry of a `context` list is a model name")),
                })
                .collect::<Result<_, _>>()?,
            Value::Map(_) => {
                let dict: DictForm = from_node(&node, "context").map_err(|e| err(&e.to_string()))?;
                dict.models
                    .into_iter()
                    .map(|p| ModelRef { name: p.name, version: p.version })
                    .collect()
            }
            Value::Null => Vec::new(),
            _ => return Err(err("`context` is a model name, a list of names, or `{models: [...]}`")),
        };
        Ok(ContextRef { models })
    }
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
struct Metadata {
    name: Located<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    schema_version: Option<Located<String>>,
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
            sink.push(
                Diagnostic::error(Code::InvalidValue, "both `spec:` and top-level `trigger`/`context`/`steps`")
                    .at(spec.pos)
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
    let prefix = if doc.node.get("spec").is_some() { "spec." } else { "" };
    let trigger = body
        .trigger
        .as_ref()
        .and_then(|n| sink.ok(from_node::<TriggerSpec>(n, &format!("{prefix}trigger"))));
    let context = body.context.as_ref().and_then(|n| {
        let path = format!("{prefix}context");
        sink.ok(from_node::<ContextRef>(n, &path).map_err(|e| with_default_pos(e, n.pos, &path)))
    });
    let max_steps = body.max_steps.as_ref().and_then(|n| sink.ok(from_node(n, &format!("{prefix}max_steps"))));
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

fn with_default_pos(mut e: DeError, pos: Pos, path: &str) -> DeError {
    if e.pos.is_none() {
        e.pos = Some(pos);
        e.path = Some(path.to_string());
    }
    e
}

fn parse_steps(node: Option<&Node>, path: &str, doc: &Document, sink: &mut Sink<'_>) -> Vec<StepSpec> {
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
        sink.push(Diagnostic::error(Code::EmptySteps, "a workflow needs at least one step").at(node.pos).path(path));
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
        entries.retain(|(k, _)| k.key_text().is_some_and(|t| COMMON_STEP_KEYS.contains(&t.as_str())));
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

fn parse_routes(node: &Node, path: &str, sink: &mut Sink<'_>) -> Vec<(Located<String>, Located<String>)> {
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
        let Some(signal) = k.key_text() else { continue };
        match &v.value {
            Value::Str(target) => out.push((Located::new(signal, k.pos), Located::new(target.clone(), v.pos))),
            _ => sink.push(
                Diagnostic::error(Code::WrongType, format!("route `{signal}` must name a step or `END`"))
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
// A diagnostic is the error here, and it is built once per bad step: boxing it buys nothing.
#[allow(clippy::result_large_err)]
pub fn canonical_step_kind(kind: &Located<String>, path: &str) -> Result<&'static str, Diagnostic> {
    for (canonical, aliases) in STEP_KINDS {
        if kind.value == *canonical || aliases.contains(&kind.value.as_str()) {
            return Ok(canonical);
        }
    }
    let canonical = STEP_KINDS.iter().map(|(c, _)| *c);
    let all = canonical.chain(STEP_KINDS.iter().flat_map(|(_, a)| a.iter().copied()));
    Err(
        Diagnostic::error(Code::UnknownStepKind, format!("unknown step kind `{}`", kind.value))
            .at(kind.pos)
            .path(format!("{path}.kind"))
            .expected(format!(
                "one of {}",
                STEP_KINDS.iter().map(|(c, _)| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ))
            .found(format!("`{}`", kind.value))
            .maybe_help(did_you_mean(&kind.value, all)),
    )
}
