//! The server an `mcp` step talks to: resolved at load time from `server: name` (weft.yaml) or the
//! inline keys, checked per transport, and turned into a pool entry — once, when nothing in it
//! is templated; per run otherwise.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use reqwest::Url;

use super::super::{CompileCx, StepCx};
use crate::config::{McpServerSpec, McpTransport};
use crate::engine::{StepFailure, Template};
use crate::mcp::{Entry, Server};
use crate::spec::{Code, Diagnostic, Located, Pos};

#[derive(Debug)]
pub enum ServerRef {
    Static(Arc<Entry>),
    Dynamic(Box<ServerTemplate>),
}

pub struct ServerTemplate {
    label: String,
    kind: Kind,
    env: Vec<(String, Template)>,
    headers: Vec<(String, Template)>,
}

enum Kind {
    Stdio {
        command: String,
        args: Vec<String>,
        cwd: PathBuf,
    },
    Sse(String),
    StreamableHttp(String),
}

impl std::fmt::Debug for ServerTemplate {
    // Templates may hold literal credentials (expanded `${VAR}`s).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTemplate")
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl ServerRef {
    pub fn entry(&self, cx: &StepCx<'_>) -> Result<Arc<Entry>, StepFailure> {
        match self {
            ServerRef::Static(e) => Ok(e.clone()),
            ServerRef::Dynamic(t) => {
                let server = t.build(|tmpl| cx.render(tmpl))?;
                Ok(cx.services.mcp.entry(&server, &t.label))
            }
        }
    }

    pub fn static_entry(&self) -> Option<&Arc<Entry>> {
        match self {
            ServerRef::Static(e) => Some(e),
            ServerRef::Dynamic(_) => None,
        }
    }
}

impl ServerTemplate {
    fn build<E>(
        &self,
        mut render: impl FnMut(&Template) -> Result<String, E>,
    ) -> Result<Server, E> {
        let mut pairs = |list: &[(String, Template)]| -> Result<Vec<(String, String)>, E> {
            list.iter()
                .map(|(k, t)| Ok((k.clone(), render(t)?)))
                .collect()
        };
        Ok(match &self.kind {
            Kind::Stdio { command, args, cwd } => Server::Stdio {
                command: command.clone(),
                args: args.clone(),
                env: pairs(&self.env)?,
                cwd: cwd.clone(),
            },
            Kind::Sse(url) => Server::Sse {
                url: url.clone(),
                headers: pairs(&self.headers)?,
            },
            Kind::StreamableHttp(url) => Server::StreamableHttp {
                url: url.clone(),
                headers: pairs(&self.headers)?,
            },
        })
    }

    fn is_static(&self) -> bool {
        self.env
            .iter()
            .chain(&self.headers)
            .all(|(_, t)| t.is_literal())
    }
}

/// Where diagnostics about a server definition point.
struct Origin {
    /// JSON path of the definition.
    path: String,
    /// `weft.yaml` for declared servers; the step's file otherwise.
    file: Option<PathBuf>,
}

impl Origin {
    fn diag(&self, d: Diagnostic) -> Diagnostic {
        match &self.file {
            Some(f) => d.in_file(f.clone()),
            None => d,
        }
    }
}

/// Resolves the server of one step; `block_path` is the JSON path of its `mcp:` block and
/// `anchor` where problems with the block as a whole are reported.
pub fn compile(
    name: &Option<Located<String>>,
    inline: McpServerSpec,
    block_path: &str,
    anchor: Pos,
    cx: &mut CompileCx<'_, '_>,
) -> Option<ServerRef> {
    let (spec, label, origin) = resolve(name, inline, block_path, anchor, cx)?;
    let template = compile_template(spec, label, &origin, cx)?;
    if template.is_static() {
        let server = template
            .build(|t| Ok::<_, ()>(t.source().to_string()))
            .ok()?;
        return Some(ServerRef::Static(
            cx.services.mcp.entry(&server, &template.label),
        ));
    }
    Some(ServerRef::Dynamic(Box::new(template)))
}

/// The definition to use: the named one from weft.yaml, or the inline keys (never both).
fn resolve(
    name: &Option<Located<String>>,
    inline: McpServerSpec,
    block_path: &str,
    anchor: Pos,
    cx: &mut CompileCx<'_, '_>,
) -> Option<(McpServerSpec, Option<String>, Origin)> {
    let defines = inline.transport.is_some() || inline.url.is_some() || inline.command.is_some();
    let has_inline = defines
        || !inline.args.is_empty()
        || !inline.env.0.is_empty()
        || !inline.headers.0.is_empty();
    match name {
        Some(n) if has_inline || inline.cwd.is_some() => {
            cx.error(
                Diagnostic::error(Code::InvalidValue, "`server:` names a server from weft.yaml; the step cannot also define one")
                    .at(n.pos)
                    .path(format!("{block_path}.server"))
                    .help("remove the inline keys (`transport`, `url`, `command`, `args`, `env`, `cwd`, `headers`), or `server:`"),
            );
            None
        }
        Some(n) => {
            let Some(spec) = cx.config().mcp_server(&n.value).cloned() else {
                unknown_server(n, block_path, cx);
                return None;
            };
            let origin = Origin {
                path: format!("mcp_servers.{}", n.value),
                file: Some(config_file(cx.root())),
            };
            Some((spec, Some(n.value.clone()), origin))
        }
        None if !defines => {
            cx.error(
                Diagnostic::error(Code::MissingField, "an mcp step needs a server")
                    .at(anchor)
                    .path(block_path.to_string())
                    .expected(
                        "`server: <name from weft.yaml mcp_servers>`, `command:` (stdio) or `url:`",
                    ),
            );
            None
        }
        None => Some((
            inline,
            None,
            Origin {
                path: block_path.to_string(),
                file: None,
            },
        )),
    }
}

fn unknown_server(n: &Located<String>, block_path: &str, cx: &mut CompileCx<'_, '_>) {
    let names: Vec<String> = cx
        .config()
        .mcp_servers
        .0
        .iter()
        .map(|(k, _)| k.value.clone())
        .collect();
    let none = "a server declared in weft.yaml under `mcp_servers:` (none is declared)";
    cx.error(
        Diagnostic::unknown_declared(Code::UnknownMcpServer, "MCP server", &n.value, &names, none)
            .at(n.pos)
            .path(format!("{block_path}.server")),
    );
}

fn config_file(root: &Path) -> PathBuf {
    if root.join("weft.yml").is_file() && !root.join("weft.yaml").is_file() {
        "weft.yml".into()
    } else {
        "weft.yaml".into()
    }
}

fn compile_template(
    spec: McpServerSpec,
    name: Option<String>,
    origin: &Origin,
    cx: &mut CompileCx<'_, '_>,
) -> Option<ServerTemplate> {
    let transport = match &spec.transport {
        Some(t) => t.value,
        None if spec.command.is_some() => McpTransport::Stdio,
        None => McpTransport::Sse,
    };
    let kind = match transport {
        McpTransport::Stdio => stdio_kind(&spec, origin, cx),
        McpTransport::Sse | McpTransport::StreamableHttp => url_kind(&spec, transport, origin, cx),
    };
    let env = templates(&spec.env.0, &format!("{}.env", origin.path), origin, cx);
    let headers = templates(
        &spec.headers.0,
        &format!("{}.headers", origin.path),
        origin,
        cx,
    );
    let kind = kind?;
    let label = name.unwrap_or_else(|| match &kind {
        Kind::Stdio { command, .. } => format!("stdio `{command}`"),
        Kind::Sse(url) | Kind::StreamableHttp(url) => format!(
            "{} {}",
            transport.as_str(),
            url.split('?').next().unwrap_or(url)
        ),
    });
    Some(ServerTemplate {
        label,
        kind,
        env: env?,
        headers: headers?,
    })
}

fn stdio_kind(spec: &McpServerSpec, origin: &Origin, cx: &mut CompileCx<'_, '_>) -> Option<Kind> {
    let misplaced = [
        ("url", spec.url.as_ref().map(|u| u.pos)),
        ("headers", spec.headers.0.first().map(|(_, v)| v.pos)),
    ];
    let mut ok = report_misplaced(&misplaced, "stdio", origin, cx);
    let Some(command) = &spec.command else {
        cx.error(
            origin.diag(
                Diagnostic::error(Code::MissingField, "a stdio MCP server needs `command`")
                    .at(spec.transport.as_ref().map_or(Pos::default(), |t| t.pos))
                    .path(origin.path.clone())
                    .expected("`command: <program>` (with `args:`)"),
            ),
        );
        return None;
    };
    let root = cx.root().to_path_buf();
    // A relative program path (`./server.py`, `bin/server`) is relative to the project; a bare
    // name is looked up on PATH.
    let program = if command.value.contains('/') && Path::new(&command.value).is_relative() {
        root.join(&command.value).to_string_lossy().into_owned()
    } else {
        command.value.clone()
    };
    let cwd = spec
        .cwd
        .as_ref()
        .map_or(root.clone(), |c| root.join(&c.value));
    if !cwd.is_dir() {
        let pos = spec.cwd.as_ref().map_or(command.pos, |c| c.pos);
        cx.error(
            origin.diag(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`cwd` `{}` is not a directory", cwd.display()),
                )
                .at(pos)
                .path(format!("{}.cwd", origin.path)),
            ),
        );
        ok = false;
    }
    ok.then(|| Kind::Stdio {
        command: program,
        args: spec.args.clone(),
        cwd,
    })
}

fn url_kind(
    spec: &McpServerSpec,
    transport: McpTransport,
    origin: &Origin,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Kind> {
    let misplaced = [
        ("command", spec.command.as_ref().map(|c| c.pos)),
        ("env", spec.env.0.first().map(|(_, v)| v.pos)),
        ("cwd", spec.cwd.as_ref().map(|c| c.pos)),
    ];
    let mut ok = report_misplaced(&misplaced, transport.as_str(), origin, cx);
    if !spec.args.is_empty() {
        ok &= report_misplaced(
            &[("args", Some(Pos::default()))],
            transport.as_str(),
            origin,
            cx,
        );
    }
    let Some(url) = &spec.url else {
        cx.error(
            origin.diag(
                Diagnostic::error(
                    Code::MissingField,
                    format!("an {} MCP server needs `url`", transport.as_str()),
                )
                .at(spec.transport.as_ref().map_or(Pos::default(), |t| t.pos))
                .path(origin.path.clone())
                .expected("`url: http://host:port/…`")
                .help("for a local program, set `command:` (the transport is then stdio)"),
            ),
        );
        return None;
    };
    let parsed = Url::parse(url.value.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"));
    if parsed.is_none() {
        cx.error(
            origin.diag(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is not an http(s) URL", url.value),
                )
                .at(url.pos)
                .path(format!("{}.url", origin.path)),
            ),
        );
        return None;
    }
    let u = url.value.trim().to_string();
    ok.then(|| {
        if transport == McpTransport::Sse {
            Kind::Sse(u)
        } else {
            Kind::StreamableHttp(u)
        }
    })
}

/// Reports keys that do not apply to the transport; true when there were none.
fn report_misplaced(
    keys: &[(&str, Option<Pos>)],
    transport: &str,
    origin: &Origin,
    cx: &mut CompileCx<'_, '_>,
) -> bool {
    let mut ok = true;
    for (key, pos) in keys {
        if let Some(pos) = pos {
            cx.error(
                origin.diag(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("`{key}` does not apply to a {transport} MCP server"),
                    )
                    .at(*pos)
                    .path(format!("{}.{key}", origin.path)),
                ),
            );
            ok = false;
        }
    }
    ok
}

fn templates(
    pairs: &[(String, Located<String>)],
    path: &str,
    origin: &Origin,
    cx: &mut CompileCx<'_, '_>,
) -> Option<Vec<(String, Template)>> {
    let mut out = Vec::with_capacity(pairs.len());
    let mut ok = true;
    for (k, v) in pairs {
        // Compiled here rather than through `cx.template` so that errors in a weft.yaml server
        // point into weft.yaml.
        match cx.templates.compile(&v.value) {
            Ok(t) => out.push((k.clone(), t)),
            Err(e) => {
                cx.error(
                    origin.diag(
                        Diagnostic::error(
                            Code::TemplateSyntax,
                            format!("invalid template: {}", e.message),
                        )
                        .at(v.pos)
                        .path(format!("{path}.{k}"))
                        .expected("a valid Jinja template"),
                    ),
                );
                ok = false;
            }
        }
    }
    ok.then_some(out)
}
