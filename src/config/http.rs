//! `weft.yaml: http:` — limits on the outgoing HTTP of `api_call` steps.
//!
//! ```yaml
//! http:
//!   allowed_hosts: [api.example.com, "*.internal.example.com", "127.0.0.1:8080"]
//!   max_response_bytes: 1MiB
//! ```

use serde::Deserialize;

use super::ByteSize;

/// Default cap on a response body read by `api_call`: 10 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 10 * 1024 * 1024;

/// The `http:` section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// When present, `api_call` may only reach these hosts (`host`, `host:port` or
    /// `*.domain`); every redirect hop is checked too. Absent: any host.
    #[serde(default)]
    pub allowed_hosts: Option<Vec<HostPattern>>,
    /// The largest response body `api_call` reads (bytes, or `"1MiB"`, `"512KB"`).
    #[serde(default = "default_max_response_bytes")]
    pub max_response_bytes: ByteSize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allowed_hosts: None,
            max_response_bytes: ByteSize(DEFAULT_MAX_RESPONSE_BYTES),
        }
    }
}

fn default_max_response_bytes() -> ByteSize {
    ByteSize(DEFAULT_MAX_RESPONSE_BYTES)
}

impl HttpConfig {
    /// Whether `allowed_hosts` lets a request reach `host` on `port` (always, without a list).
    pub fn allows(&self, host: &str, port: Option<u16>) -> bool {
        match &self.allowed_hosts {
            None => true,
            Some(list) => list.iter().any(|p| p.matches(host, port)),
        }
    }
}

/// One `allowed_hosts` entry: `api.example.com`, `api.example.com:8443`, `*.example.com` (any
/// subdomain, not the apex), `127.0.0.1`, `[::1]:8080`. Without a port, any port matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostPattern {
    host: String,
    subdomains: bool,
    port: Option<u16>,
}

impl HostPattern {
    /// Parses an entry; the error says what is wrong.
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let t = text.trim().to_ascii_lowercase();
        if let Some((_, rest)) = t.split_once("://") {
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            return Err(format!("`{text}` is a URL; write the host only (`{host}`)"));
        }
        let (subdomains, rest) = match t.strip_prefix("*.") {
            Some(r) => (true, r.to_string()),
            None => (false, t.clone()),
        };
        let (host, port) = split_port(&rest)?;
        let valid = !host.is_empty()
            && !host.contains(['/', '*', '@', ' ', '?', '#'])
            && (host.contains(':') || !host.contains(['[', ']']));
        if !valid {
            return Err(format!(
                "`{text}` is not a host name, `host:port` or `*.domain`"
            ));
        }
        Ok(HostPattern {
            host,
            subdomains,
            port,
        })
    }

    /// `host` as URLs report it (lower case, IPv6 without brackets or with them).
    pub fn matches(&self, host: &str, port: Option<u16>) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let host_ok = if self.subdomains {
            host.strip_suffix(self.host.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            host == self.host
        };
        host_ok && self.port.is_none_or(|p| Some(p) == port)
    }
}

/// `host:port` / `[v6]:port` / `host` → (host without brackets, port).
fn split_port(s: &str) -> Result<(String, Option<u16>), String> {
    let bad_port = |p: &str| format!("`{p}` is not a port number");
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("`{s}`: missing `]`"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().map_err(|_| bad_port(p))?),
            None if after.is_empty() => None,
            None => return Err(format!("`{s}`: unexpected text after `]`")),
        };
        return Ok((host.to_string(), port));
    }
    match s.split_once(':') {
        // More than one colon: a bare IPv6 address.
        Some((_, p)) if p.contains(':') => Ok((s.to_string(), None)),
        Some((h, p)) => Ok((h.to_string(), Some(p.parse().map_err(|_| bad_port(p))?))),
        None => Ok((s.to_string(), None)),
    }
}

impl<'de> Deserialize<'de> for HostPattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        HostPattern::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        let cases = [
            ("api.example.com", "api.example.com", Some(443), true),
            ("API.example.com", "api.example.com", Some(80), true),
            ("api.example.com", "evil.com", Some(443), false),
            ("api.example.com:8443", "api.example.com", Some(8443), true),
            ("api.example.com:8443", "api.example.com", Some(443), false),
            ("*.example.com", "a.b.example.com", Some(443), true),
            ("*.example.com", "example.com", Some(443), false),
            ("*.example.com", "badexample.com", Some(443), false),
            ("127.0.0.1:9000", "127.0.0.1", Some(9000), true),
            ("[::1]:8080", "[::1]", Some(8080), true),
            ("::1", "[::1]", Some(1), true),
        ];
        for (pattern, host, port, want) in cases {
            let p = HostPattern::parse(pattern).unwrap();
            assert_eq!(p.matches(host, port), want, "{pattern} vs {host}:{port:?}");
        }
        for bad in ["", "http://x", "a:b", "*", "[::1", "x/y"] {
            assert!(HostPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
