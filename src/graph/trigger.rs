//! Triggers: where a workflow is served, and the schemas its input and result are checked with.

use std::sync::Arc;

use serde::Deserialize;

use super::Trigger;
use crate::schema::{Extra, Field, FieldType, Schema, Variant};
use crate::spec::yaml::Value as Y;
use crate::spec::{
    Code, Diagnostic, Located, Node, TriggerSpec, WorkflowSpec, did_you_mean, quote_list,
};
use crate::steps::CompileCx;

/// Path prefixes weft serves itself; triggers may not use them.
pub const RESERVED_PREFIXES: &[&str] = &[
    "/admin",
    "/workflows",
    "/runs",
    "/hitl",
    "/healthz",
    "/readyz",
    "/openapi.json",
];

pub const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Checks and compiles a trigger. `at` is its JSON path (`spec.trigger`, or `trigger` in the flat
/// form). `None` after reporting problems.
pub fn compile(
    t: &TriggerSpec,
    wf: &WorkflowSpec,
    at: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Trigger> {
    let mut ok = check_path(&t.path, at, cx);
    let method = t.method();
    if !METHODS.contains(&method.as_str()) {
        let pos = t.method.as_ref().map_or(t.path.pos, |m| m.pos);
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("unsupported trigger method `{method}`"),
            )
            .at(pos)
            .path(format!("{at}.method"))
            .expected(format!("one of {}", quote_list(METHODS)))
            .maybe_help(did_you_mean(&method, METHODS.iter().copied())),
        );
        ok = false;
    }
    let extra = match t.additional_fields.as_ref().map(|a| (a, a.value.as_str())) {
        None | Some((_, "drop")) => Extra::Drop,
        Some((_, "reject")) => Extra::Reject,
        Some((a, _)) => {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("unknown `additional_fields` mode `{}`", a.value),
                )
                .at(a.pos)
                .path(format!("{at}.additional_fields"))
                .expected("`drop` or `reject`"),
            );
            ok = false;
            Extra::Drop
        }
    };
    let input = schema_of(
        t.input_schema.as_ref(),
        Variant::Create,
        wf,
        &format!("{at}.input_schema"),
        cx,
    );
    let response = schema_of(
        t.response_schema.as_ref(),
        Variant::Read,
        wf,
        &format!("{at}.response_schema"),
        cx,
    );
    let (input, response) = (input?, response?);
    ok.then(|| Trigger {
        path: t.path.value.clone(),
        method,
        params: path_params(&t.path.value),
        input,
        response,
        extra,
        spec: t.clone(),
    })
}

fn check_path(path: &Located<String>, at: &str, cx: &mut CompileCx<'_, '_>) -> bool {
    let mut ok = true;
    if !path.value.starts_with('/') {
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("trigger path `{}` must start with `/`", path.value),
            )
            .at(path.pos)
            .path(format!("{at}.path"))
            .expected("a path like `/api/orders/{id}`"),
        );
        ok = false;
    } else if let Some(bad) = invalid_segment(&path.value) {
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("invalid segment `{bad}` in trigger path"),
            )
            .at(path.pos)
            .path(format!("{at}.path"))
            .expected("literal segments or `{name}` parameters"),
        );
        ok = false;
    }
    if let Some(prefix) = reserved_prefix(&path.value) {
        cx.error(
            Diagnostic::error(
                Code::ReservedPath,
                format!(
                    "trigger path `{}` is under weft's reserved `{prefix}`",
                    path.value
                ),
            )
            .at(path.pos)
            .path(format!("{at}.path"))
            .expected(format!("a path outside {}", quote_list(RESERVED_PREFIXES)))
            .help("prefix your endpoints, e.g. `/api/...`"),
        );
        ok = false;
    }
    ok
}

pub fn reserved_prefix(path: &str) -> Option<&'static str> {
    RESERVED_PREFIXES.iter().copied().find(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The first segment that is neither literal nor a well-formed `{param}` / `{*rest}`.
fn invalid_segment(path: &str) -> Option<&str> {
    path.split('/').skip(1).find(|seg| {
        if !seg.contains(['{', '}']) {
            return false;
        }
        let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            return true;
        };
        let inner = inner.strip_prefix('*').unwrap_or(inner);
        inner.is_empty() || !inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The names of the `{param}` segments, in order.
fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|p| p.trim_start_matches('*').to_string())
        .collect()
}

/// Resolves a schema reference: `"context"`, `"Model.variant"` or an inline field list. The outer
/// `Option` is `None` after an error; the inner one when there is no schema.
fn schema_of(
    node: Option<&Node>,
    context_variant: Variant,
    wf: &WorkflowSpec,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Option<Arc<Schema>>> {
    let Some(node) = node else { return Some(None) };
    match &node.value {
        Y::Null => Some(None),
        Y::Str(s) if s == "context" => {
            context_schema(node, context_variant, wf, path, cx).map(Some)
        }
        Y::Str(s) => model_schema(s, node, wf, path, cx).map(Some),
        Y::Seq(_) => inline_schema(node, &format!("{}.{path}", wf.name.value), path, cx)
            .map(|s| Some(Arc::new(s))),
        _ => {
            cx.error(
                Diagnostic::error(
                    Code::WrongType,
                    "a schema is `context`, `Model.variant` or a list of fields",
                )
                .at(node.pos)
                .path(path)
                .expected("`context`, `Model.variant` or a list of `{name, type}` fields")
                .found(node.describe()),
            );
            None
        }
    }
}

fn context_schema(
    node: &Node,
    variant: Variant,
    wf: &WorkflowSpec,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Arc<Schema>> {
    let models = wf
        .context
        .as_ref()
        .map(|c| c.models.as_slice())
        .unwrap_or_default();
    match models {
        // An unresolved context model is reported once, by the workflow's context check.
        [one] => cx.models.schema(
            &one.name.value,
            one.version.as_ref().map(|v| v.value.as_str()),
            variant,
        ),
        [] => {
            cx.error(
                Diagnostic::error(
                    Code::UnknownModel,
                    "`context` schema, but the workflow declares no `context` model",
                )
                .at(node.pos)
                .path(path)
                .help("add `context: ModelName` to the workflow, or use an inline field list"),
            );
            None
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|m| format!("`{}.{}`", m.name.value, variant_name(variant)))
                .collect();
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    "`context` is ambiguous: the workflow's context has several models",
                )
                .at(node.pos)
                .path(path)
                .expected(format!(
                    "an explicit `Model.variant`, e.g. {}",
                    names.join(" or ")
                )),
            );
            None
        }
    }
}

fn variant_name(v: Variant) -> &'static str {
    match v {
        Variant::Create => "create",
        Variant::Read => "read",
        Variant::Update => "update",
        Variant::Expanded => "expanded",
    }
}

fn model_schema(
    text: &str,
    node: &Node,
    wf: &WorkflowSpec,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Arc<Schema>> {
    let Some((model, variant_text)) = text.split_once('.') else {
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("schema `{text}` names no variant"),
            )
            .at(node.pos)
            .path(path)
            .expected(format!(
                "`context`, or `{text}.create` (variants: {})",
                quote_list(Variant::NAMES)
            )),
        );
        return None;
    };
    let Some(variant) = Variant::parse(variant_text) else {
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("unknown schema variant `{variant_text}`"),
            )
            .at(node.pos)
            .path(path)
            .expected(format!("one of {}", quote_list(Variant::NAMES)))
            .maybe_help(did_you_mean(variant_text, Variant::NAMES.iter().copied())),
        );
        return None;
    };
    // A model pinned in the workflow's context keeps its pinned version here too.
    let pinned = wf
        .context
        .as_ref()
        .and_then(|c| c.models.iter().find(|m| m.name.value == model))
        .and_then(|m| m.version.as_ref())
        .map(|v| v.value.as_str());
    let found = cx.models.schema(model, pinned, variant);
    if found.is_none() {
        unknown_model(model, node.pos, path, cx);
    }
    found
}

fn unknown_model(name: &str, pos: crate::spec::Pos, path: &str, cx: &mut CompileCx<'_, '_>) {
    let names = cx.models.model_names();
    let none = "a model declared in models/ (this project declares none)";
    cx.error(
        Diagnostic::unknown_declared(Code::UnknownModel, "model", name, &names, none)
            .at(pos)
            .path(path),
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldSpec {
    name: Located<String>,
    #[serde(rename = "type")]
    ty: Located<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    default: Option<Node>,
    #[serde(default)]
    description: Option<String>,
}

fn inline_schema(
    node: &Node,
    name: &str,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Schema> {
    let specs: Vec<FieldSpec> = crate::spec::yaml::from_node(node, path)
        .map_err(|e| cx.error(crate::spec::de_error_to_diagnostic(&e)))
        .ok()?;
    let mut fields = Vec::with_capacity(specs.len());
    let mut ok = true;
    for (i, f) in specs.into_iter().enumerate() {
        let Some(ty) = FieldType::parse(&f.ty.value) else {
            cx.error(
                Diagnostic::unknown(
                    Code::InvalidValue,
                    "field type",
                    &f.ty.value,
                    FieldType::INLINE_NAMES,
                )
                .at(f.ty.pos)
                .path(format!("{path}[{i}].type")),
            );
            ok = false;
            continue;
        };
        let default = f.default.map(|d| d.to_json());
        if let Some(d) = &default
            && !ty.accepts(d)
        {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("the default of `{}` is not a {ty}", f.name.value),
                )
                .at(f.name.pos)
                .path(format!("{path}[{i}].default")),
            );
            ok = false;
        }
        if fields.iter().any(|x: &Field| x.name == f.name.value) {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("field `{}` is declared twice", f.name.value),
                )
                .at(f.name.pos)
                .path(format!("{path}[{i}].name")),
            );
            ok = false;
        }
        fields.push(Field {
            name: f.name.value,
            ty,
            required: f.required,
            default,
            description: f.description,
            secure: false,
        });
    }
    ok.then(|| Schema {
        name: name.to_string(),
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_prefixes_match_whole_segments() {
        assert_eq!(reserved_prefix("/admin"), Some("/admin"));
        assert_eq!(reserved_prefix("/admin/x"), Some("/admin"));
        assert_eq!(reserved_prefix("/administrators"), None);
        assert_eq!(reserved_prefix("/api/admin"), None);
    }

    #[test]
    fn path_patterns() {
        assert_eq!(
            super::super::pattern_key("/o/{id}"),
            super::super::pattern_key("/o/{oid}")
        );
        assert_ne!(
            super::super::pattern_key("/o/{id}"),
            super::super::pattern_key("/o/fixed")
        );
        assert_eq!(invalid_segment("/o/{id}/x"), None);
        assert_eq!(invalid_segment("/o/{}/x"), Some("{}"));
        assert_eq!(invalid_segment("/o/a{b}"), Some("a{b}"));
        assert_eq!(
            path_params("/o/{id}/x/{*rest}"),
            vec!["id".to_string(), "rest".to_string()]
        );
    }
}
