//! The project config, `weft.yaml` at the project root, and the resolution of run-time options.
//!
//! `weft.yaml` has no `kind`; each section belongs to the part of weft that uses it, and unknown
//! sections are errors. Options resolve with the precedence CLI > environment (`WEFT_*`) >
//! `weft.yaml` > default; clap handles the first two.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::spec::Located;
use crate::spec::yaml::Pairs;

mod http;
mod mcp;

pub use http::{DEFAULT_MAX_RESPONSE_BYTES, HostPattern, HttpConfig};
pub use mcp::{McpServerSpec, McpTransport};

/// `weft.yaml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Outgoing HTTP (`api_call` steps).
    #[serde(default)]
    pub http: HttpConfig,
    /// MCP servers declared once and referenced by `mcp` steps with `server: name`.
    #[serde(default)]
    pub mcp_servers: Pairs<Located<String>, McpServerSpec>,
}

impl ProjectConfig {
    /// A declared MCP server by name.
    pub fn mcp_server(&self, name: &str) -> Option<&McpServerSpec> {
        self.mcp_servers
            .0
            .iter()
            .find(|(k, _)| k.value == name)
            .map(|(_, v)| v)
    }
}

/// `server:` — how `weft serve` listens.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// `HOST:PORT`.
    #[serde(default)]
    pub addr: Option<String>,
    /// Largest request body accepted (bytes, or `"1MiB"`, `"512KB"`); default 1 MiB.
    #[serde(default)]
    pub body_limit: Option<ByteSize>,
}

/// `database:` — the store.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://…`.
    #[serde(default)]
    pub url: Option<String>,
}

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_BODY_LIMIT: u64 = 1024 * 1024;

/// The default store: an embedded SQLite file inside the project.
pub fn default_database_url(project: &Path) -> String {
    format!(
        "sqlite://{}",
        project.join(".weft").join("weft.db").display()
    )
}

/// The first value that is set: CLI/env (already merged by clap), then `weft.yaml`, then default.
pub fn resolve(
    cli_or_env: Option<String>,
    yaml: Option<&String>,
    default: impl FnOnce() -> String,
) -> String {
    cli_or_env.or_else(|| yaml.cloned()).unwrap_or_else(default)
}

/// Options of a running server, resolved.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    pub database_url: String,
    pub body_limit: u64,
}

/// A size in bytes: a number, or a string with a unit (`B`, `KB`/`KiB`, `MB`/`MiB`, `GB`/`GiB`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

pub fn parse_byte_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "kib" => 1024.0,
        "mb" | "m" => 1e6,
        "mib" => 1024.0 * 1024.0,
        "gb" | "g" => 1e9,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    let bytes = n * mult;
    (bytes.is_finite() && bytes >= 0.0).then_some(bytes as u64)
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ByteSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size: bytes as a number, or a string like \"1MiB\", \"512KB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ByteSize, E> {
                u64::try_from(v)
                    .map(ByteSize)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ByteSize, E> {
                Ok(ByteSize(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ByteSize, E> {
                parse_byte_size(v)
                    .map(ByteSize)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("1MiB"), Some(1024 * 1024));
        assert_eq!(parse_byte_size("512KB"), Some(512_000));
        assert_eq!(parse_byte_size("2048"), Some(2048));
        assert_eq!(parse_byte_size("1.5 kib"), Some(1536));
        assert_eq!(parse_byte_size("lots"), None);
    }

    #[test]
    fn precedence() {
        let yaml = Some("yaml".to_string());
        assert_eq!(
            resolve(Some("cli".into()), yaml.as_ref(), || "default".into()),
            "cli"
        );
        assert_eq!(resolve(None, yaml.as_ref(), || "default".into()), "yaml");
        assert_eq!(resolve(None, None, || "default".into()), "default");
    }
}
