//! Providers and endpoints: which wire format, where, with which key and default settings.

use std::fmt;
use std::time::Duration;

use crate::spec::interpolate::Env;

/// A wire format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// OpenAI chat completions; also vLLM, LM Studio, llama.cpp server, LiteLLM proxies.
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
    /// Ollama chat.
    Ollama,
}

/// When no setting says otherwise, a call may take this long.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

impl Provider {
    pub const ALL: &'static [Provider] = &[Provider::OpenAi, Provider::Anthropic, Provider::Ollama];

    /// The prefix of a model string (`openai/gpt-4o`).
    pub fn prefix(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Ollama => "ollama",
        }
    }

    pub fn from_prefix(prefix: &str) -> Option<Provider> {
        Provider::ALL.iter().copied().find(|p| p.prefix() == prefix)
    }

    /// `(base URL variable, built-in base URL, API key variable)`. Bases follow each provider's
    /// own SDK: OpenAI's includes `/v1`; Anthropic's and Ollama's are the server root.
    fn env_defaults(self) -> (&'static str, &'static str, Option<&'static str>) {
        match self {
            Provider::OpenAi => (
                "OPENAI_BASE_URL",
                "https://api.openai.com/v1",
                Some("OPENAI_API_KEY"),
            ),
            Provider::Anthropic => (
                "ANTHROPIC_BASE_URL",
                "https://api.anthropic.com",
                Some("ANTHROPIC_API_KEY"),
            ),
            Provider::Ollama => ("OLLAMA_BASE_URL", "http://localhost:11434", None),
        }
    }

    /// The built-in `max_tokens` a provider needs when nothing sets one (Anthropic requires it).
    pub fn default_max_tokens(self) -> Option<u32> {
        match self {
            Provider::Anthropic => Some(1024),
            Provider::OpenAi | Provider::Ollama => None,
        }
    }
}

/// Settings a preset or a step may set; `None` defers to the next level.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Settings {
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub timeout: Option<Duration>,
}

/// Settings after precedence: what a call uses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Effective {
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub timeout: Duration,
}

/// Everything needed to call one model, resolved at load time.
#[derive(Clone, PartialEq)]
pub struct Endpoint {
    pub provider: Provider,
    /// The model name as sent (provider prefix stripped).
    pub model: String,
    /// Base URL without a trailing slash.
    pub api_base: String,
    pub api_key: Option<String>,
    /// Extra request headers (e.g. for a proxy).
    pub headers: Vec<(String, String)>,
    /// The preset's settings (empty for a bare model string).
    pub settings: Settings,
    /// The preset this came from, if any.
    pub preset: Option<String>,
}

impl fmt::Debug for Endpoint {
    // Never print the key: endpoints end up in debug logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("api_base", &self.api_base)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("settings", &self.settings)
            .field("preset", &self.preset)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// `provider/model`, for events and messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.provider.prefix(), self.model)
    }

    /// The settings that apply: `step` over this endpoint's preset over the provider default.
    pub fn effective(&self, step: Settings) -> Effective {
        Effective {
            temperature: step.temperature.or(self.settings.temperature),
            max_tokens: step
                .max_tokens
                .or(self.settings.max_tokens)
                .or(self.provider.default_max_tokens()),
            timeout: step
                .timeout
                .or(self.settings.timeout)
                .unwrap_or(DEFAULT_TIMEOUT),
        }
    }
}

/// Each provider's base URL and key from the environment, read once per project load.
#[derive(Clone, Debug, Default)]
pub struct ProviderDefaults {
    entries: Vec<(Provider, String, Option<String>)>,
}

impl ProviderDefaults {
    pub fn from_env(env: &dyn Env) -> Self {
        let non_empty = |name: &str| {
            env.var(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let entries = Provider::ALL
            .iter()
            .map(|&p| {
                let (base_var, base, key_var) = p.env_defaults();
                let base = non_empty(base_var).unwrap_or_else(|| base.to_string());
                (p, trim_base(&base), key_var.and_then(non_empty))
            })
            .collect();
        ProviderDefaults { entries }
    }

    /// The base URL and key for `provider`.
    pub fn get(&self, provider: Provider) -> (String, Option<String>) {
        match self.entries.iter().find(|(p, ..)| *p == provider) {
            Some((_, base, key)) => (base.clone(), key.clone()),
            None => (trim_base(provider.env_defaults().1), None),
        }
    }
}

pub fn trim_base(base: &str) -> String {
    base.trim().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn env_defaults_and_precedence() {
        let env: HashMap<String, String> = [
            (
                "OPENAI_BASE_URL".to_string(),
                "http://127.0.0.1:9/v1/".to_string(),
            ),
            ("ANTHROPIC_API_KEY".to_string(), "ak".to_string()),
            ("OPENAI_API_KEY".to_string(), "".to_string()),
        ]
        .into();
        let d = ProviderDefaults::from_env(&env);
        assert_eq!(
            d.get(Provider::OpenAi),
            ("http://127.0.0.1:9/v1".to_string(), None)
        );
        assert_eq!(
            d.get(Provider::Anthropic),
            (
                "https://api.anthropic.com".to_string(),
                Some("ak".to_string())
            )
        );
        assert_eq!(d.get(Provider::Ollama).0, "http://localhost:11434");

        let ep = Endpoint {
            provider: Provider::Anthropic,
            model: "m".into(),
            api_base: "b".into(),
            api_key: Some("secret".into()),
            headers: vec![],
            settings: Settings {
                temperature: Some(0.2),
                max_tokens: None,
                timeout: Some(Duration::from_secs(5)),
            },
            preset: None,
        };
        let s = ep.effective(Settings {
            temperature: Some(0.9),
            ..Default::default()
        });
        assert_eq!(s.temperature, Some(0.9));
        assert_eq!(s.max_tokens, Some(1024));
        assert_eq!(s.timeout, Duration::from_secs(5));
        let plain = Endpoint {
            settings: Settings::default(),
            provider: Provider::OpenAi,
            ..ep.clone()
        };
        assert_eq!(
            plain.effective(Settings::default()),
            Effective {
                temperature: None,
                max_tokens: None,
                timeout: DEFAULT_TIMEOUT
            }
        );
        assert!(!format!("{ep:?}").contains("secret"));
    }
}
