//! Load-time checks of an agent step: the model resolves, settings are in range, `retry.on`
//! names failure kinds the step has, the output options fit the format, the schema compiles and
//! no output writes a reserved `_` key. Every problem is reported, not just the first.

use std::sync::Arc;

use super::output::{Format, Output, Schema};
use super::{
    Agent, AgentSpec, DEFAULT_BACKOFF, DEFAULT_RETRY_ON, FAILURE_KINDS, OutputSpec, Prompt, Retry,
    RetrySpec, Spec,
};
use crate::engine::FailureKind;
use crate::engine::context::is_reserved;
use crate::llm::endpoint::Settings;
use crate::llm::preset::{check_max_tokens, check_temperature, check_timeout, expected_model};
use crate::llm::{Endpoint, ResolveError};
use crate::spec::{Code, Diagnostic, Located, Node, Pos, StepSpec, did_you_mean, quote_list};
use crate::steps::CompileCx;

pub(super) fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Agent> {
    let spec: Spec = cx.spec(step)?;
    let a: AgentSpec = spec.agent;
    let path = format!("{}.agent", step.path);
    let errors_before = cx.sink.error_count();
    let endpoint = resolve_model(&a.model, &path, cx);
    let system = a
        .system
        .as_ref()
        .map(|s| cx.template(&s.value, s.pos, &format!("{path}.system")));
    let prompt = cx.template(&a.prompt.value, a.prompt.pos, &format!("{path}.prompt"));
    let settings = Settings {
        temperature: a
            .temperature
            .and_then(|t| check_temperature(&t, &format!("{path}.temperature"), cx.sink)),
        max_tokens: a
            .max_tokens
            .and_then(|n| check_max_tokens(&n, &format!("{path}.max_tokens"), cx.sink)),
        timeout: a
            .timeout
            .and_then(|t| check_timeout(&t, &format!("{path}.timeout"), cx.sink)),
    };
    let retry = compile_retry(a.retry, &path, cx);
    let output = compile_output(a.output.unwrap_or_default(), step, &path, cx);
    let inject = compile_injection(a.context_injection, &path, cx);
    if cx.sink.error_count() > errors_before {
        return None;
    }
    let endpoint = endpoint?;
    Some(Agent {
        label: endpoint.label(),
        endpoint,
        prompt: Prompt {
            system: system.flatten(),
            prompt: prompt?,
            inject,
        },
        output: output?,
        retry,
        settings,
        schema_name: step.id.value.clone(),
    })
}

fn resolve_model(
    model: &Located<String>,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Arc<Endpoint>> {
    match cx.presets.resolve(&model.value) {
        Ok(endpoint) => {
            // A bare name that is not a preset goes to OpenAI as is; say so when it looks like
            // a misspelt preset, since the run would fail far from the cause.
            if endpoint.preset.is_none()
                && !model.value.contains('/')
                && let Some(help) = did_you_mean(&model.value, cx.presets.names())
            {
                cx.error(
                    Diagnostic::warning(
                        Code::UnknownLlmPreset,
                        format!(
                            "no LLM preset `{}`; it is used as an OpenAI model name",
                            model.value
                        ),
                    )
                    .at(model.pos)
                    .path(format!("{path}.model"))
                    .help(help),
                );
            }
            Some(endpoint)
        }
        // Reported where the preset is defined.
        Err(ResolveError::Broken(_)) => None,
        Err(e) => {
            cx.error(
                Diagnostic::error(Code::UnknownLlmPreset, e.to_string())
                    .at(model.pos)
                    .path(format!("{path}.model"))
                    .expected(expected_model())
                    .found(format!("`{}`", model.value))
                    .maybe_help(e.help()),
            );
            None
        }
    }
}

fn compile_retry(spec: Option<RetrySpec>, path: &str, cx: &mut CompileCx<'_, '_>) -> Retry {
    let mut retry = Retry {
        attempts: 1,
        on: DEFAULT_RETRY_ON.to_vec(),
        backoff: DEFAULT_BACKOFF,
    };
    let Some(spec) = spec else { return retry };
    if let Some(a) = spec.attempts {
        if a.value == 0 {
            cx.error(
                Diagnostic::error(
                    Code::InvalidValue,
                    "`retry.attempts` counts every attempt, the first included",
                )
                .at(a.pos)
                .path(format!("{path}.retry.attempts"))
                .expected("1 or more")
                .found("0"),
            );
        }
        retry.attempts = a.value.max(1);
    }
    if let Some(on) = spec.on {
        let names: Vec<&str> = FAILURE_KINDS.iter().map(|k| k.as_str()).collect();
        retry.on = Vec::with_capacity(on.len());
        for (i, kind) in on.iter().enumerate() {
            match FailureKind::parse(&kind.value).filter(|k| FAILURE_KINDS.contains(k)) {
                Some(k) => retry.on.push(k),
                None => cx.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("an agent step never fails with `{}`", kind.value),
                    )
                    .at(kind.pos)
                    .path(format!("{path}.retry.on[{i}]"))
                    .expected(format!("one of {}", quote_list(&names)))
                    .found(format!("`{}`", kind.value))
                    .maybe_help(did_you_mean(&kind.value, names.iter().copied())),
                ),
            }
        }
    }
    if let Some(b) = spec.backoff {
        retry.backoff = b.get();
    }
    retry
}

fn reserved_target(key: &Located<String>, what: &str, path: String, cx: &mut CompileCx<'_, '_>) {
    if is_reserved(&key.value) {
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("{what} cannot write the reserved key `{}`", key.value),
            )
            .at(key.pos)
            .path(path)
            .help(
                "keys starting with `_` belong to the engine; choose a name without the underscore",
            ),
        );
    }
}

fn compile_output(
    spec: OutputSpec,
    step: &StepSpec,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Output> {
    let opath = format!("{path}.output");
    let format = spec.format.as_ref().map_or(Format::Json, |f| f.value);
    for (from, to) in &spec.map.0 {
        reserved_target(
            to,
            "`output.map`",
            format!("{opath}.map.{}", from.value),
            cx,
        );
    }
    if let Some(key) = &spec.output_key {
        reserved_target(
            key,
            "`output.output_key`",
            format!("{opath}.output_key"),
            cx,
        );
    }
    check_format_options(format, &spec, step, &opath, cx);
    let schema = match &spec.schema {
        Some(node) => Some(compile_schema(node, &format!("{opath}.schema"), cx)?),
        None => None,
    };
    let output_key = match (format, spec.output_key) {
        (Format::Text, None) => Some(format!("{}_result", step.id.value)),
        (_, key) => key.map(|k| k.value),
    };
    Some(Output {
        format,
        map: spec
            .map
            .0
            .into_iter()
            .map(|(from, to)| (from.value, to.value))
            .collect(),
        signal_from: spec.signal_from.map(|s| s.value),
        output_key,
        schema,
    })
}

/// Options that do nothing with the chosen format are mistakes worth naming.
fn check_format_options(
    format: Format,
    spec: &OutputSpec,
    step: &StepSpec,
    opath: &str,
    cx: &mut CompileCx<'_, '_>,
) {
    let pos = spec.format.as_ref().map_or(step.kind.pos, |f| f.pos);
    // Each option that does nothing here, with where it is written.
    let mut unused: Vec<(&str, Pos)> = Vec::new();
    if format != Format::Json {
        unused.extend(spec.schema.as_ref().map(|n| ("schema", n.pos)));
        unused.extend(spec.map.0.first().map(|(k, _)| ("map", k.pos)));
    }
    match format {
        Format::Json | Format::Text => {}
        Format::Signal => {
            unused.extend(spec.signal_from.as_ref().map(|s| ("signal_from", s.pos)));
            unused.extend(spec.output_key.as_ref().map(|k| ("output_key", k.pos)));
            let routes = step.routes.iter().map(|(k, _)| k.value.as_str());
            let mut choices = routes
                .filter(|k| *k != "default" && *k != "error" && FailureKind::parse(k).is_none());
            if choices.next().is_none() {
                cx.error(
                    Diagnostic::error(
                        Code::InvalidValue,
                        "`format: signal` needs routes for the model to choose from",
                    )
                    .at(pos)
                    .path(format!("{opath}.format"))
                    .help("add `routes:` with one key per answer, e.g. `urgent: escalate`"),
                );
            }
        }
    }
    for (key, at) in unused {
        let name = match format {
            Format::Text => "text",
            _ => "signal",
        };
        cx.error(
            Diagnostic::error(
                Code::InvalidValue,
                format!("`output.{key}` has no effect with `format: {name}`"),
            )
            .at(at)
            .path(format!("{opath}.{key}"))
            .help("use `format: json`, or remove it"),
        );
    }
}

fn compile_schema(node: &Node, path: &str, cx: &mut CompileCx<'_, '_>) -> Option<Schema> {
    let json = node.to_json();
    match jsonschema::validator_for(&json) {
        Ok(validator) if json.is_object() => Some(Schema { json, validator }),
        Ok(_) => {
            cx.error(
                Diagnostic::error(
                    Code::WrongType,
                    "`output.schema` must be a JSON Schema object",
                )
                .at(node.pos)
                .path(path)
                .expected("a mapping such as `{type: object, required: [category]}`")
                .found(node.describe()),
            );
            None
        }
        Err(e) => {
            cx.error(
                Diagnostic::error(Code::InvalidValue, format!("invalid JSON Schema: {e}"))
                    .at(node.pos)
                    .path(path)
                    .expected("a JSON Schema (draft 2020-12 unless `$schema` says otherwise)"),
            );
            None
        }
    }
}

fn compile_injection(
    keys: Vec<Located<String>>,
    path: &str,
    cx: &mut CompileCx<'_, '_>,
) -> Vec<String> {
    let mut out = Vec::with_capacity(keys.len());
    for (i, key) in keys.into_iter().enumerate() {
        if key.value.trim().is_empty() {
            cx.error(
                Diagnostic::error(Code::InvalidValue, "an empty key in `context_injection`")
                    .at(key.pos)
                    .path(format!("{path}.context_injection[{i}]"))
                    .expected("a context key or dot path"),
            );
            continue;
        }
        out.push(key.value);
    }
    out
}
