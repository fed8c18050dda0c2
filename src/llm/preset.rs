//! `kind: AgentModel` presets (`llms/<name>.yaml`) and model-string resolution.
//!
//! ```yaml
//! kind: AgentModel
//! metadata: { name: default }        # optional: the file name without extension
//! enabled: true                      # optional; a disabled preset cannot be used
//! spec:
//!   model: openai/gpt-4o-mini        # provider/model; a bare name is an OpenAI model
//!   api_base: ${OPENAI_BASE_URL:https://api.openai.com/v1}
//!   api_key: ${OPENAI_API_KEY:}
//!   temperature: 0.2
//!   max_tokens: 1024
//!   timeout: 60
//!   headers: { X-Team: support }     # optional extra request headers
//! ```
//!
//! A model string names a preset when one of that name exists; otherwise it is a provider
//! string (`openai/…`, `anthropic/…`, `ollama/…`, or a bare OpenAI model name) used with the
//! provider's defaults and environment keys. Everything is parsed and checked once per load.

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::endpoint::{Endpoint, Provider, ProviderDefaults, Settings, trim_base};
use crate::spec::interpolate::Env;
use crate::spec::yaml::{Pairs, from_node};
use crate::spec::{
    Code, Diagnostic, Diagnostics, Document, Located, Pos, Seconds, Sink, did_you_mean,
};

/// The document kind presets use.
pub const KIND: &str = "AgentModel";

/// Every preset of a project, plus the provider defaults bare model strings resolve against.
#[derive(Debug, Default)]
pub struct Presets {
    entries: HashMap<String, Entry>,
    defaults: ProviderDefaults,
}

/// One preset document as read.
struct Read {
    name: Located<String>,
    endpoint: Option<Endpoint>,
    enabled: bool,
}

#[derive(Debug)]
enum Entry {
    Ready(Arc<Endpoint>),
    /// `enabled: false`; where it is defined.
    Disabled(String),
    /// Has errors, already reported where it is defined.
    Broken,
}

/// Why a model string does not resolve.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("LLM preset `{name}` is disabled ({origin})")]
    Disabled { name: String, origin: String },
    #[error("LLM preset `{0}` has errors")]
    Broken(String),
    #[error("unknown LLM provider `{prefix}` in model `{model}`")]
    UnknownProvider { prefix: String, model: String },
    #[error("the model name is empty")]
    Empty,
}

impl ResolveError {
    /// A hint for the author.
    pub fn help(&self) -> Option<String> {
        match self {
            ResolveError::Disabled { .. } => {
                Some("set `enabled: true` in the preset, or use another one".into())
            }
            ResolveError::UnknownProvider { prefix, .. } => Some(
                did_you_mean(prefix, Provider::ALL.iter().map(|p| p.prefix()))
                    .unwrap_or_else(|| format!("weft speaks {}", provider_list())),
            ),
            ResolveError::Broken(_) | ResolveError::Empty => None,
        }
    }
}

fn provider_list() -> String {
    Provider::ALL
        .iter()
        .map(|p| format!("`{}/…`", p.prefix()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a model string may be, for `expected` in diagnostics.
pub fn expected_model() -> String {
    format!(
        "a preset name from llms/, {}, or a bare OpenAI model name",
        provider_list()
    )
}

impl Presets {
    /// Reads every `AgentModel` document; problems go to `diags`. `env` supplies the provider
    /// defaults (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`,
    /// `OLLAMA_BASE_URL`).
    pub fn load(documents: &[Document], env: &dyn Env, diags: &mut Diagnostics) -> Presets {
        let mut presets = Presets {
            entries: HashMap::new(),
            defaults: ProviderDefaults::from_env(env),
        };
        let mut origins: HashMap<String, String> = HashMap::new();
        for doc in documents.iter().filter(|d| d.kind == KIND) {
            let mut sink = Sink::new(&doc.file, diags);
            let Some(read) = presets.read(doc, &mut sink) else {
                continue;
            };
            let name = read.name;
            if let Some(first) = origins.get(&name.value) {
                sink.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("LLM preset `{}` is defined twice", name.value),
                    )
                    .at(name.pos)
                    .path("metadata.name")
                    .help(format!(
                        "first defined at {first}; preset names must be unique"
                    )),
                );
                continue;
            }
            let origin = format!("{}:{}:{}", doc.file.display(), name.pos.line, name.pos.col);
            let entry = match (read.endpoint, read.enabled) {
                (None, _) => Entry::Broken,
                (Some(_), false) => Entry::Disabled(origin.clone()),
                (Some(e), true) => Entry::Ready(Arc::new(e)),
            };
            origins.insert(name.value.clone(), origin);
            presets.entries.insert(name.value, entry);
        }
        presets
    }

    /// Resolves a step's `model`: a preset when one has that name, else a provider string.
    pub fn resolve(&self, model: &str) -> Result<Arc<Endpoint>, ResolveError> {
        match self.entries.get(model) {
            Some(Entry::Ready(e)) => Ok(e.clone()),
            Some(Entry::Disabled(origin)) => Err(ResolveError::Disabled {
                name: model.into(),
                origin: origin.clone(),
            }),
            Some(Entry::Broken) => Err(ResolveError::Broken(model.into())),
            None => {
                let (provider, name) = parse_model(model)?;
                let (api_base, api_key) = self.defaults.get(provider);
                Ok(Arc::new(Endpoint {
                    provider,
                    model: name.to_string(),
                    api_base,
                    api_key,
                    headers: Vec::new(),
                    settings: Settings::default(),
                    preset: None,
                }))
            }
        }
    }

    /// The preset names (for did-you-mean hints).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Reads one document; `None` when even its envelope is unusable.
    fn read(&self, doc: &Document, sink: &mut Sink<'_>) -> Option<Read> {
        let parsed: Doc = sink.ok(from_node(&doc.node, ""))?;
        let name = match parsed.metadata.and_then(|m| m.name) {
            Some(n) => n,
            None => Located::new(file_stem(doc), doc.pos),
        };
        let endpoint = self.endpoint(&name.value, parsed.spec, sink);
        Some(Read {
            name,
            endpoint,
            enabled: parsed.enabled.unwrap_or(true),
        })
    }

    /// The preset's endpoint; `None` when it has errors (all of them reported).
    fn endpoint(&self, name: &str, spec: Spec, sink: &mut Sink<'_>) -> Option<Endpoint> {
        let errors_before = sink.error_count();
        let (provider, model) = match parse_model(&spec.model) {
            Ok(p) => p,
            Err(e) => {
                sink.push(
                    Diagnostic::error(Code::UnknownLlmPreset, format!("preset `{name}`: {e}"))
                        .at(spec.model.pos)
                        .path("spec.model")
                        .expected(format!("{}, or a bare OpenAI model name", provider_list()))
                        .found(format!("`{}`", spec.model.value))
                        .maybe_help(e.help()),
                );
                return None;
            }
        };
        let (default_base, default_key) = self.defaults.get(provider);
        let api_base = match spec.api_base.filter(|b| !b.value.trim().is_empty()) {
            Some(b) => check_base(&b, sink).map(|()| trim_base(&b.value)),
            None => Some(default_base),
        };
        let api_key = spec
            .api_key
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .or(default_key);
        let settings = Settings {
            temperature: spec
                .temperature
                .and_then(|t| check_temperature(&t, "spec.temperature", sink)),
            max_tokens: spec
                .max_tokens
                .and_then(|n| check_max_tokens(&n, "spec.max_tokens", sink)),
            timeout: spec
                .timeout
                .and_then(|t| check_timeout(&t, "spec.timeout", sink)),
        };
        let headers = check_headers(spec.headers.map(|h| h.0).unwrap_or_default(), sink);
        if sink.error_count() > errors_before {
            return None;
        }
        Some(Endpoint {
            provider,
            model: model.to_string(),
            api_base: api_base?,
            api_key,
            headers,
            settings,
            preset: Some(name.to_string()),
        })
    }
}

/// `openai/gpt-4o` → (OpenAI, `gpt-4o`); `gpt-4o-mini` → (OpenAI, `gpt-4o-mini`). Only the first
/// `/` separates: `openai/meta-llama/Llama-3-8B` is the model `meta-llama/Llama-3-8B`.
pub fn parse_model(model: &str) -> Result<(Provider, &str), ResolveError> {
    let model = model.trim();
    let (provider, name) = match model.split_once('/') {
        Some((prefix, rest)) => match Provider::from_prefix(prefix) {
            Some(p) => (p, rest),
            None => {
                return Err(ResolveError::UnknownProvider {
                    prefix: prefix.to_string(),
                    model: model.to_string(),
                });
            }
        },
        None => (Provider::OpenAi, model),
    };
    if name.trim().is_empty() {
        Err(ResolveError::Empty)
    } else {
        Ok((provider, name.trim()))
    }
}

/// Temperature: a finite number from 0 to 2 (the widest range any provider takes).
pub fn check_temperature(t: &Located<f64>, path: &str, sink: &mut Sink<'_>) -> Option<f64> {
    if t.value.is_finite() && (0.0..=2.0).contains(&t.value) {
        return Some(t.value);
    }
    sink.push(invalid(
        t.pos,
        path,
        "`temperature` must be between 0 and 2",
        "a number from 0 to 2",
        t.value.to_string(),
    ));
    None
}

pub fn check_max_tokens(n: &Located<u32>, path: &str, sink: &mut Sink<'_>) -> Option<u32> {
    if n.value >= 1 {
        return Some(n.value);
    }
    sink.push(invalid(
        n.pos,
        path,
        "`max_tokens` must be at least 1",
        "a positive integer",
        "0".into(),
    ));
    None
}

pub fn check_timeout(
    t: &Located<Seconds>,
    path: &str,
    sink: &mut Sink<'_>,
) -> Option<std::time::Duration> {
    if !t.value.get().is_zero() {
        return Some(t.value.get());
    }
    sink.push(invalid(
        t.pos,
        path,
        "`timeout` must be longer than zero",
        "a duration such as 30 or \"500ms\"",
        "0".into(),
    ));
    None
}

fn invalid(pos: Pos, path: &str, message: &str, expected: &str, found: String) -> Diagnostic {
    Diagnostic::error(Code::InvalidValue, message)
        .at(pos)
        .path(path)
        .expected(expected)
        .found(found)
}

fn check_base(base: &Located<String>, sink: &mut Sink<'_>) -> Option<()> {
    let ok = reqwest::Url::parse(base.value.trim())
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if ok {
        return Some(());
    }
    sink.push(invalid(
        base.pos,
        "spec.api_base",
        "`api_base` is not an http(s) URL",
        "a URL such as `http://localhost:8000/v1`",
        format!("`{}`", base.value),
    ));
    None
}

fn check_headers(
    headers: Vec<(Located<String>, String)>,
    sink: &mut Sink<'_>,
) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        if HeaderName::from_bytes(name.value.as_bytes()).is_err()
            || HeaderValue::from_str(&value).is_err()
        {
            let path = format!("spec.headers.{}", name.value);
            sink.push(invalid(
                name.pos,
                &path,
                "invalid HTTP header",
                "a header name and a printable value",
                format!("`{}`", name.value),
            ));
            continue;
        }
        out.push((name.value, value));
    }
    out
}

fn file_stem(doc: &Document) -> String {
    doc.file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    enabled: Option<bool>,
    spec: Spec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Metadata {
    #[serde(default)]
    name: Option<Located<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    model: Located<String>,
    #[serde(default)]
    api_base: Option<Located<String>>,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    temperature: Option<Located<f64>>,
    #[serde(default)]
    max_tokens: Option<Located<u32>>,
    #[serde(default)]
    timeout: Option<Located<Seconds>>,
    #[serde(default)]
    headers: Option<Pairs<Located<String>, String>>,
}

#[cfg(test)]
mod tests;
