use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::spec::yaml::parse_documents;

/// Every document of the given `llms/` files, as the loader would keep them.
fn documents(files: &[(&str, &str)]) -> Vec<Document> {
    let mut out = Vec::new();
    for (file, text) in files {
        for (index, node) in parse_documents(text).unwrap().into_iter().enumerate() {
            let kind = node
                .get("kind")
                .and_then(|k| k.as_str())
                .unwrap_or_default()
                .to_string();
            out.push(Document {
                kind,
                file: PathBuf::from(file),
                index,
                pos: node.pos,
                node,
                text: text.to_string(),
            });
        }
    }
    out
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn load(files: &[(&str, &str)], vars: &[(&str, &str)]) -> (Presets, Diagnostics) {
    let mut diags = Diagnostics::default();
    let presets = Presets::load(&documents(files), &env(vars), &mut diags);
    (presets, diags)
}

const DEFAULT: &str = "kind: AgentModel
metadata: { name: default }
spec:
  model: openai/gpt-4o-mini
  api_base: http://127.0.0.1:9/v1/
  api_key: sk-preset
  temperature: 0.2
  max_tokens: 1024
  timeout: 30
  headers: { X-Team: support }
";

#[test]
fn a_preset_resolves_by_name_with_its_settings() {
    let (presets, diags) = load(&[("llms/default.yaml", DEFAULT)], &[]);
    assert!(diags.is_empty(), "{diags:?}");
    let e = presets.resolve("default").unwrap();
    assert_eq!(
        (e.provider, e.model.as_str(), e.api_base.as_str()),
        (Provider::OpenAi, "gpt-4o-mini", "http://127.0.0.1:9/v1")
    );
    assert_eq!(e.api_key.as_deref(), Some("sk-preset"));
    assert_eq!(
        e.settings,
        Settings {
            temperature: Some(0.2),
            max_tokens: Some(1024),
            timeout: Some(Duration::from_secs(30))
        }
    );
    assert_eq!(
        e.headers,
        vec![("X-Team".to_string(), "support".to_string())]
    );
    assert_eq!(e.preset.as_deref(), Some("default"));
}

#[test]
fn provider_strings_use_the_provider_defaults() {
    let vars = [
        ("OPENAI_API_KEY", "sk-env"),
        ("ANTHROPIC_API_KEY", "ak"),
        ("OLLAMA_BASE_URL", "http://10.0.0.5:11434/"),
    ];
    let (presets, _) = load(&[], &vars);
    let e = presets.resolve("gpt-4o-mini").unwrap();
    assert_eq!(
        (e.provider, e.model.as_str(), e.api_key.as_deref()),
        (Provider::OpenAi, "gpt-4o-mini", Some("sk-env"))
    );
    assert_eq!(e.api_base, "https://api.openai.com/v1");
    let e = presets.resolve("anthropic/claude-sonnet-4-5").unwrap();
    assert_eq!(
        (e.provider, e.model.as_str(), e.api_key.as_deref()),
        (Provider::Anthropic, "claude-sonnet-4-5", Some("ak"))
    );
    let e = presets.resolve("ollama/llama3").unwrap();
    assert_eq!(
        (e.provider, e.api_base.as_str(), e.api_key.as_deref()),
        (Provider::Ollama, "http://10.0.0.5:11434", None)
    );
    let e = presets.resolve("openai/meta-llama/Llama-3-8B").unwrap();
    assert_eq!(e.model, "meta-llama/Llama-3-8B");
    assert_eq!(
        presets.resolve("mistral/large").unwrap_err(),
        ResolveError::UnknownProvider {
            prefix: "mistral".into(),
            model: "mistral/large".into()
        }
    );
    assert_eq!(presets.resolve("openai/").unwrap_err(), ResolveError::Empty);
    assert_eq!(
        ResolveError::UnknownProvider {
            prefix: "olama".into(),
            model: String::new()
        }
        .help()
        .as_deref(),
        Some("did you mean `ollama`?")
    );
}

#[test]
fn an_empty_key_in_a_preset_falls_back_to_the_environment() {
    let text = "kind: AgentModel\nspec: { model: gpt-4o, api_key: '' }\n";
    let (presets, diags) = load(&[("llms/fast.yaml", text)], &[("OPENAI_API_KEY", "sk-env")]);
    assert!(diags.is_empty(), "{diags:?}");
    // No metadata: the file name is the preset name.
    let e = presets.resolve("fast").unwrap();
    assert_eq!(
        (e.model.as_str(), e.api_key.as_deref()),
        ("gpt-4o", Some("sk-env"))
    );
}

#[test]
fn disabled_presets_cannot_be_used() {
    let text =
        "kind: AgentModel\nmetadata: { name: old }\nenabled: false\nspec: { model: gpt-4 }\n";
    let (presets, diags) = load(&[("llms/old.yaml", text)], &[]);
    assert!(diags.is_empty(), "{diags:?}");
    let e = presets.resolve("old").unwrap_err();
    assert_eq!(
        e,
        ResolveError::Disabled {
            name: "old".into(),
            origin: "llms/old.yaml:2:19".into()
        }
    );
}

#[test]
fn malformed_presets_are_reported_with_positions() {
    let text = "kind: AgentModel
metadata: { name: bad }
spec:
  model: mistral/large
  temperature: 7
  max_tokens: many
  api_base: not a url
  colour: blue
";
    let (presets, diags) = load(&[("llms/bad.yaml", text)], &[]);
    let found: Vec<(Code, u32)> = diags
        .iter()
        .map(|d| (d.code, d.pos.map_or(0, |p| p.line)))
        .collect();
    // A value of the wrong type stops the spec from being read; its checks do not run.
    assert_eq!(found, vec![(Code::WrongType, 6)]);
    assert_eq!(presets.entries.len(), 0);

    let text = "kind: AgentModel\nmetadata: { name: bad }\nspec:\n  model: mistral/large\n  temperature: 7\n  api_base: ftp://x\n";
    let (presets, diags) = load(&[("llms/bad.yaml", text)], &[]);
    let found: Vec<(Code, u32, u32)> = diags
        .iter()
        .map(|d| (d.code, d.pos.unwrap().line, d.pos.unwrap().col))
        .collect();
    assert_eq!(found, vec![(Code::UnknownLlmPreset, 4, 10)]);
    assert!(
        diags
            .iter()
            .all(|d| d.file.as_deref() == Some(std::path::Path::new("llms/bad.yaml")))
    );
    assert_eq!(
        presets.resolve("bad").unwrap_err(),
        ResolveError::Broken("bad".into())
    );

    let text = "kind: AgentModel\nmetadata: { name: bad }\nspec:\n  model: gpt-4o\n  temperature: 7\n  api_base: ftp://x\n";
    let (_, diags) = load(&[("llms/bad.yaml", text)], &[]);
    let found: Vec<(Code, u32)> = diags
        .iter()
        .map(|d| (d.code, d.pos.unwrap().line))
        .collect();
    assert_eq!(
        found,
        vec![(Code::InvalidValue, 6), (Code::InvalidValue, 5)]
    );
}

#[test]
fn duplicate_names_are_errors() {
    let a = "kind: AgentModel\nmetadata: { name: x }\nspec: { model: gpt-4o }\n";
    let b = "kind: AgentModel\nmetadata: { name: x }\nspec: { model: gpt-4o-mini }\n";
    let (presets, diags) = load(&[("llms/a.yaml", a), ("llms/b.yaml", b)], &[]);
    assert_eq!(diags.error_count(), 1);
    let d = diags.iter().next().unwrap();
    assert_eq!(d.file.as_deref(), Some(std::path::Path::new("llms/b.yaml")));
    assert!(
        d.help.as_deref().unwrap().contains("llms/a.yaml:2:19"),
        "{:?}",
        d.help
    );
    assert_eq!(presets.resolve("x").unwrap().model, "gpt-4o");
}
