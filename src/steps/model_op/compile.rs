//! Load-time checks of a `model-op` step: the model is declared in the workflow's `context`
//! (and resolves to a version), each option fits the operation, payload and filter keys are
//! fields, `include` names relations, `order_by` a field, `limit`/`offset` are in range.

use std::sync::Arc;

use super::{Amount, DEFAULT_LIMIT, MAX_LIMIT, ModelOp, Op, Operation, Spec};
use crate::engine::TemplatedValue;
use crate::models::{Include, Model, Unresolved};
use crate::spec::yaml::Value as Y;
use crate::spec::{Code, Diagnostic, Located, Node, Pos, StepSpec, did_you_mean};
use crate::steps::CompileCx;

pub fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<ModelOp> {
    let spec: Spec = cx.spec(step)?;
    let p = &step.path;
    let model = resolve_model(&spec.model, p, cx)?;
    let operation = spec.operation.value;
    let errors_before = cx.sink.error_count();
    check_options(&spec, step, cx);
    let op = match operation {
        Operation::Create => Op::Create {
            payload: payload(spec.payload.as_ref(), &model, step, cx)?,
        },
        Operation::Read => Op::Read {
            id: record_id(spec.record_id.as_ref(), step, cx)?,
            include: includes(spec.include.as_ref(), &model, p, cx)?,
        },
        Operation::List => list(&spec, &model, step, cx)?,
        Operation::Update => Op::Update {
            id: record_id(spec.record_id.as_ref(), step, cx)?,
            payload: payload(spec.payload.as_ref(), &model, step, cx)?,
        },
        Operation::Delete => Op::Delete {
            id: record_id(spec.record_id.as_ref(), step, cx)?,
        },
    };
    let output = match spec.output {
        Some(o) if o.value.starts_with('_') || o.value.is_empty() => {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("output key `{}` is reserved", o.value),
                )
                .at(o.pos)
                .path(format!("{p}.output"))
                .expected("a context key not starting with `_`"),
            );
            return None;
        }
        Some(o) => o.value,
        None => format!("{}_result", step.id.value),
    };
    (cx.sink.error_count() == errors_before).then_some(ModelOp { model, op, output })
}

/// The model version the step works on: declared in the workflow's context (its pin kept).
fn resolve_model(
    name: &Located<String>,
    p: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Arc<Model>> {
    let declared = cx
        .context
        .and_then(|c| c.models.iter().find(|m| m.name.value == name.value));
    let Some(declared) = declared else {
        let d = match cx.model_defs.resolve(&name.value, None) {
            Err(Unresolved::UnknownModel) => {
                cx.model_defs
                    .unresolved(&name.value, None, &Unresolved::UnknownModel)
            }
            _ => Diagnostic::error(
                Code::UnknownModel,
                format!(
                    "model `{}` is not declared in the workflow's `context`",
                    name.value
                ),
            )
            .help(format!(
                "add it to the workflow: `context: {}`",
                with_model(cx, &name.value)
            )),
        };
        cx.error(d.at(name.pos).path(format!("{p}.model")));
        return None;
    };
    let version = declared.version.as_ref().map(|v| v.value.as_str());
    // An unresolved context model is reported by the workflow's context check.
    cx.model_defs.resolve(&name.value, version).ok().cloned()
}

/// The workflow's context with `name` added, as the author would write it.
fn with_model(cx: &CompileCx<'_, '_>, name: &str) -> String {
    let mut names: Vec<&str> = cx
        .context
        .map(|c| c.models.iter().map(|m| m.name.value.as_str()).collect())
        .unwrap_or_default();
    names.push(name);
    match names.as_slice() {
        [one] => one.to_string(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// Options that do nothing for this operation are errors, pointing at the option.
fn check_options(spec: &Spec, step: &StepSpec, cx: &mut CompileCx<'_, '_>) {
    let op = spec.operation.value;
    let pos = |n: &Option<Node>| n.as_ref().map(|n| n.pos);
    let given: [(&str, Option<Pos>, bool); 7] = [
        (
            "payload",
            pos(&spec.payload),
            matches!(op, Operation::Create | Operation::Update),
        ),
        (
            "record_id",
            pos(&spec.record_id),
            !matches!(op, Operation::Create | Operation::List),
        ),
        ("filters", pos(&spec.filters), op == Operation::List),
        (
            "include",
            spec.include.as_ref().map(|i| i.pos),
            matches!(op, Operation::Read | Operation::List),
        ),
        ("limit", pos(&spec.limit), op == Operation::List),
        ("offset", pos(&spec.offset), op == Operation::List),
        (
            "order_by",
            spec.order_by.as_ref().map(|o| o.pos),
            op == Operation::List,
        ),
    ];
    for (key, at, applies) in given {
        if let (Some(at), false) = (at, applies) {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{key}` has no effect with `operation: {}`", op.name()),
                )
                .at(at)
                .path(format!("{}.{key}", step.path))
                .help("remove it, or use an operation it applies to"),
            );
        }
    }
}

fn missing(step: &StepSpec, key: &str, op: &str, cx: &mut CompileCx<'_, '_>) {
    cx.error(
        Diagnostic::error(
            Code::MissingField,
            format!("`operation: {op}` needs `{key}`"),
        )
        .at(step.id.pos)
        .path(step.path.clone())
        .expected(format!("`{key}`")),
    );
}

fn record_id(
    node: Option<&Node>,
    step: &StepSpec,
    cx: &mut CompileCx<'_, '_>,
) -> Option<TemplatedValue> {
    let Some(node) = node else {
        missing(step, "record_id", "read/update/delete", cx);
        return None;
    };
    cx.templated_value(node, &format!("{}.record_id", step.path))
}

/// A mapping of field → templated value, or one template yielding an object; absent, the
/// context's own fields (`Some(None)`).
fn payload(
    node: Option<&Node>,
    m: &Model,
    step: &StepSpec,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Option<TemplatedValue>> {
    let path = format!("{}.payload", step.path);
    let Some(node) = node else {
        return Some(None);
    };
    match &node.value {
        Y::Map(entries) => {
            for (k, _) in entries {
                check_field_name(k, m, &path, cx);
            }
        }
        Y::Str(_) => {}
        _ => {
            cx.error(
                Diagnostic::error(Code::WrongType, "`payload` must be a mapping or a template")
                    .at(node.pos)
                    .path(path)
                    .expected("a mapping of fields, or \"{{ a_context_object }}\"")
                    .found(node.describe()),
            );
            return None;
        }
    }
    cx.templated_value(node, &path).map(Some)
}

/// A key of `payload` or `filters` names a field of the model.
fn check_field_name(
    key: &Node,
    m: &Model,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<usize> {
    let name = key.key_text().unwrap_or_default();
    if let Some(i) = m.fields.iter().position(|f| f.name == name) {
        return Some(i);
    }
    let names: Vec<&str> = m.fields.iter().map(|f| f.name.as_str()).collect();
    cx.error(
        Diagnostic::error(
            Code::InvalidValue,
            format!("model `{}` has no field `{name}`", m.name),
        )
        .at(key.pos)
        .path(format!("{path}.{name}"))
        .expected(format!("one of {}", crate::spec::quote_list(&names)))
        .maybe_help(did_you_mean(&name, names.iter().copied())),
    );
    None
}

fn list(spec: &Spec, m: &Model, step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Op> {
    let p = &step.path;
    let mut filters = Vec::new();
    if let Some(node) = &spec.filters {
        let Some(entries) = node.as_map() else {
            cx.error(
                Diagnostic::error(Code::WrongType, "`filters` must map fields to values")
                    .at(node.pos)
                    .path(format!("{p}.filters"))
                    .expected("a mapping like `{status: \"{{ status }}\"}`")
                    .found(node.describe()),
            );
            return None;
        };
        for (k, v) in entries {
            let field = check_field_name(k, m, &format!("{p}.filters"), cx);
            let value = cx.templated_value(
                v,
                &format!("{p}.filters.{}", k.key_text().unwrap_or_default()),
            );
            if let (Some(f), Some(v)) = (field, value) {
                filters.push((f, v));
            }
        }
    }
    // Each option is checked even when an earlier one is wrong: every problem in one pass.
    let include = includes(spec.include.as_ref(), m, p, cx);
    let limit = amount(spec.limit.as_ref(), LIMIT, p, cx);
    let offset = amount(spec.offset.as_ref(), OFFSET, p, cx);
    let order = order_by(spec.order_by.as_ref(), m, p, cx);
    Some(Op::List {
        include: include?,
        limit: limit?,
        offset: offset?,
        order: order?,
        filters,
    })
}

/// The name, default and range of `limit` or `offset`.
struct Bounds {
    name: &'static str,
    default: u64,
    min: u64,
    max: u64,
}

const LIMIT: Bounds = Bounds {
    name: "limit",
    default: DEFAULT_LIMIT,
    min: 1,
    max: MAX_LIMIT,
};

const OFFSET: Bounds = Bounds {
    name: "offset",
    default: 0,
    min: 0,
    max: i64::MAX as u64,
};

fn amount(node: Option<&Node>, b: Bounds, p: &str, cx: &mut CompileCx<'_, '_>) -> Option<Amount> {
    let Bounds {
        name,
        default,
        min,
        max,
    } = b;
    let Some(node) = node else {
        return Some(Amount::Fixed(default));
    };
    let path = format!("{p}.{name}");
    match &node.value {
        Y::Int(n) if u64::try_from(*n).is_ok_and(|n| (min..=max).contains(&n)) => {
            Some(Amount::Fixed(*n as u64))
        }
        Y::Str(s) => cx.template(s, node.pos, &path).map(Amount::Template),
        _ => {
            cx.error(
                Diagnostic::error(Code::InvalidValue, format!("`{name}` is out of range"))
                    .at(node.pos)
                    .path(path)
                    .expected(format!("an integer from {min} to {max}, or a template"))
                    .found(node.describe()),
            );
            None
        }
    }
}

/// `field` (ascending) or `-field` (descending).
fn order_by(
    o: Option<&Located<String>>,
    m: &Model,
    p: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Option<(usize, bool)>> {
    let Some(o) = o else { return Some(None) };
    let (name, desc) = match o.value.strip_prefix('-') {
        Some(n) => (n, true),
        None => (o.value.as_str(), false),
    };
    if let Some(i) = m.fields.iter().position(|f| f.name == name) {
        return Some(Some((i, desc)));
    }
    let names: Vec<&str> = m.fields.iter().map(|f| f.name.as_str()).collect();
    cx.error(
        Diagnostic::error(
            Code::InvalidValue,
            format!(
                "cannot order by `{name}`: model `{}` has no such field",
                m.name
            ),
        )
        .at(o.pos)
        .path(format!("{p}.order_by"))
        .expected("`field` or `-field` (descending)")
        .maybe_help(did_you_mean(name, names.iter().copied())),
    );
    None
}

/// `include: "education, experience"` → the relations, each with the model version it points
/// at (the relation's pin, else the workflow's pin, else the enabled version).
fn includes(
    inc: Option<&Located<String>>,
    m: &Model,
    p: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Vec<Include>> {
    let Some(inc) = inc else {
        return Some(Vec::new());
    };
    let mut out: Vec<Include> = Vec::new();
    let mut ok = true;
    for name in inc
        .value
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let Some(r) = m.relation(name) else {
            let names: Vec<&str> = m.relations.iter().map(|r| r.name.as_str()).collect();
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("model `{}` has no relation `{name}`", m.name),
                )
                .at(inc.pos)
                .path(format!("{p}.include"))
                .expected(if names.is_empty() {
                    "nothing: the model declares no `relations`".to_string()
                } else {
                    format!(
                        "a comma-separated list of {}",
                        crate::spec::quote_list(&names)
                    )
                })
                .maybe_help(did_you_mean(name, names.iter().copied())),
            );
            ok = false;
            continue;
        };
        let pinned = r.version.as_deref().or_else(|| {
            cx.context
                .and_then(|c| c.models.iter().find(|x| x.name.value == r.model))
                .and_then(|x| x.version.as_ref())
                .map(|v| v.value.as_str())
        });
        match cx.model_defs.resolve(&r.model, pinned) {
            Ok(target) if !out.iter().any(|i| i.relation.name == r.name) => out.push(Include {
                relation: r.clone(),
                target: target.clone(),
            }),
            Ok(_) => {}
            Err(why) => {
                let d = cx.model_defs.unresolved(&r.model, pinned, &why);
                cx.error(d.at(inc.pos).path(format!("{p}.include")));
                ok = false;
            }
        }
    }
    ok.then_some(out)
}
