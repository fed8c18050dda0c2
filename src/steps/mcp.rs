//! `kind: mcp` — calls one tool of an MCP server.
//!
//! The server is written inline in the `mcp:` block or declared in `weft.yaml` (`mcp_servers`)
//! and named with `server:`. Sessions come from the shared pool (`Services::mcp`): one per server
//! definition, reused by every run. When `env` or `headers` use templates, the rendered values
//! are part of the definition, so runs with the same values share a session.
//!
//! The result goes to `response.output_key` (default `mcp_result`): the structured content when
//! the tool returns it, else its text content parsed as JSON when it is JSON (one text block
//! gives one value, several give a list), else the raw content list. Failures: `tool_error` (the
//! tool reports `isError`, or the server refuses the call), `unknown_tool`, `timeout`, `transport`.

mod server;

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::extract::{Extract, ExtractSpec, output_key};
use super::{CompileCx, DEFAULT, Outcome, StepCx};
use crate::config::{McpServerSpec, McpTransport};
use crate::engine::{FailureKind, StepFailure, TemplatedValue};
use crate::mcp::{Content, Entry, Error, ToolOutput};
use crate::spec::yaml::Pairs;
use crate::spec::{Code, Diagnostic, Located, Node, Pos, Seconds, StepSpec};
use server::ServerRef;

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_OUTPUT_KEY: &str = "mcp_result";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    mcp: Block,
    #[serde(default)]
    response: ResponseSpec,
}

/// The `mcp:` block: the call, plus either `server:` or an inline server definition.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Block {
    #[serde(default)]
    server: Option<Located<String>>,
    tool: Located<String>,
    #[serde(default)]
    arguments: Option<Node>,
    #[serde(default)]
    timeout: Option<Located<Seconds>>,
    #[serde(default)]
    transport: Option<Located<McpTransport>>,
    #[serde(default)]
    url: Option<Located<String>>,
    #[serde(default)]
    headers: Pairs<String, Located<String>>,
    #[serde(default)]
    command: Option<Located<String>>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: Pairs<String, Located<String>>,
    #[serde(default)]
    cwd: Option<Located<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResponseSpec {
    #[serde(default)]
    output_key: Option<Located<String>>,
    #[serde(default)]
    extract: Vec<ExtractSpec>,
}

#[derive(Debug)]
pub struct Mcp {
    server: ServerRef,
    tool: String,
    tool_pos: Pos,
    tool_path: String,
    arguments: TemplatedValue,
    timeout: Duration,
    output_key: String,
    extract: Extract,
}

impl Mcp {
    pub fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Self> {
        let spec: Spec = cx.spec(step)?;
        let path = format!("{}.mcp", step.path);
        let b = spec.mcp;
        let server = server::compile(&b.server, inline_server(&b), &path, b.tool.pos, cx);
        let arguments = match &b.arguments {
            Some(a) if a.as_map().is_none() && a.as_str().is_none() => {
                cx.error(
                    Diagnostic::error(Code::WrongType, "`arguments` must be a mapping")
                        .at(a.pos)
                        .path(format!("{path}.arguments"))
                        .expected("a mapping")
                        .found(a.describe()),
                );
                None
            }
            Some(a) => cx.templated_value(a, &format!("{path}.arguments")),
            None => Some(TemplatedValue::Static(Value::Object(Map::new()))),
        };
        let timeout = match &b.timeout {
            Some(t) if t.value.get().is_zero() => {
                cx.error(
                    Diagnostic::error(Code::InvalidValue, "`timeout` must be greater than zero")
                        .at(t.pos)
                        .path(format!("{path}.timeout")),
                );
                None
            }
            t => Some(t.as_ref().map_or(DEFAULT_TIMEOUT, |t| t.value.get())),
        };
        let response_path = format!("{}.response", step.path);
        let output_key = output_key(
            spec.response.output_key.as_ref(),
            DEFAULT_OUTPUT_KEY,
            &response_path,
            cx,
        );
        let extract = Extract::compile(
            spec.response.extract,
            &format!("{response_path}.extract"),
            cx,
        );
        Some(Mcp {
            server: server?,
            tool: b.tool.value,
            tool_pos: b.tool.pos,
            tool_path: format!("{path}.tool"),
            arguments: arguments?,
            timeout: timeout?,
            output_key: output_key?,
            extract: extract?,
        })
    }

    pub async fn run(&self, cx: &mut StepCx<'_>) -> Result<Outcome, StepFailure> {
        let entry = self.server.entry(cx)?;
        let arguments = match cx.render_value(&self.arguments)? {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            other => {
                return Err(StepFailure::new(
                    FailureKind::Template,
                    format!("`arguments` must render to a mapping, not {other}"),
                ));
            }
        };
        let out = entry
            .call_tool(&self.tool, arguments, self.timeout)
            .await
            .map_err(|e| failure(&self.tool, e))?;
        if out.is_error {
            let message = format!(
                "tool `{}` reported an error: {}",
                self.tool,
                error_text(&out)
            );
            return Err(
                StepFailure::new(FailureKind::ToolError, message).with_details(result_value(out))
            );
        }
        self.extract
            .store(result_value(out), &self.output_key, cx.ctx)?;
        Ok(Outcome::Signal(DEFAULT))
    }

    /// The tool this step calls, with where it is written (for `weft validate --connect`).
    pub fn tool(&self) -> (&str, Pos, &str) {
        (&self.tool, self.tool_pos, &self.tool_path)
    }

    /// The session entry of a server known at load time; `None` when its definition uses
    /// templates that need a run's context.
    pub fn static_entry(&self) -> Option<&Arc<Entry>> {
        self.server.static_entry()
    }
}

/// The inline server keys of a block, as a server spec (all empty when `server:` is used).
fn inline_server(b: &Block) -> McpServerSpec {
    McpServerSpec {
        transport: b.transport.clone(),
        url: b.url.clone(),
        headers: b.headers.clone(),
        command: b.command.clone(),
        args: b.args.clone(),
        env: b.env.clone(),
        cwd: b.cwd.clone(),
    }
}

fn failure(tool: &str, e: Error) -> StepFailure {
    let kind = match &e {
        Error::Timeout(_) => FailureKind::Timeout,
        Error::UnknownTool { .. } => FailureKind::UnknownTool,
        Error::Protocol { .. } => FailureKind::ToolError,
        Error::Connect { .. } | Error::Transport { .. } | Error::ShutDown => FailureKind::Transport,
    };
    let message = match e {
        Error::Timeout(t) => format!("tool `{tool}` did not answer within {t:?}"),
        other => other.to_string(),
    };
    StepFailure::new(kind, message)
}

/// Structured content, else the parsed text content, else the raw content list.
pub fn result_value(out: ToolOutput) -> Value {
    if let Some(structured) = out.structured {
        return structured;
    }
    let all_text =
        !out.content.is_empty() && out.content.iter().all(|c| matches!(c, Content::Text(_)));
    let mut values: Vec<Value> = out
        .content
        .into_iter()
        .map(|c| match c {
            Content::Text(t) if all_text => parse_text(t),
            Content::Text(t) => serde_json::json!({"type": "text", "text": t}),
            Content::Other(v) => v,
        })
        .collect();
    if all_text && values.len() == 1 {
        return values.swap_remove(0);
    }
    Value::Array(values)
}

/// A text block that is a JSON document becomes that value; other text stays text.
fn parse_text(text: String) -> Value {
    serde_json::from_str(text.trim()).unwrap_or(Value::String(text))
}

/// The text a failing tool gave, for `_last_error`.
fn error_text(out: &ToolOutput) -> String {
    let texts: Vec<&str> = out
        .content
        .iter()
        .filter_map(|c| {
            if let Content::Text(t) = c {
                Some(t.as_str())
            } else {
                None
            }
        })
        .collect();
    if texts.is_empty() {
        "(no message)".to_string()
    } else {
        texts.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn out(structured: Option<Value>, content: Vec<Content>) -> ToolOutput {
        ToolOutput {
            is_error: false,
            structured,
            content,
        }
    }

    #[test]
    fn results_prefer_structured_then_text_then_raw() {
        let text = |t: &str| Content::Text(t.to_string());
        let image = json!({"type": "image", "data": "AA==", "mimeType": "image/png"});
        let cases = [
            (
                out(Some(json!({"t": 1})), vec![text("ignored")]),
                json!({"t": 1}),
            ),
            (
                out(None, vec![text("[{\"title\": \"a\"}]")]),
                json!([{"title": "a"}]),
            ),
            (out(None, vec![text("Echo: hi")]), json!("Echo: hi")),
            (out(None, vec![text("1"), text("two")]), json!([1, "two"])),
            (
                out(None, vec![text("caption"), Content::Other(image.clone())]),
                json!([{"type": "text", "text": "caption"}, image]),
            ),
            (out(None, vec![]), json!([])),
        ];
        for (given, want) in cases {
            assert_eq!(result_value(given.clone()), want, "{given:?}");
        }
    }
}
