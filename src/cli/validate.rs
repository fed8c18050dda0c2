//! `weft validate`: every problem in a project, rendered like cargo's errors. With `--connect`,
//! also start or reach every MCP server the project's steps use, list its tools and check each
//! step's tool name.

use std::sync::Arc;
use std::time::Duration;

use crate::App;
use crate::mcp::Entry;
use crate::project::{LoadError, Project};
use crate::spec::{Code, Diagnostic, Diagnostics, did_you_mean};
use crate::steps::StepKind;

/// How long `--connect` waits for one server to start and list its tools.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub project: super::ProjectArg,
    /// Print diagnostics as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also connect to each MCP server the steps use, list its tools and flag unknown tool names.
    #[arg(long)]
    pub connect: bool,
}

pub async fn run(args: Args, app: &App) -> anyhow::Result<i32> {
    let root = &args.project.project;
    let mut report = String::new();
    let (mut diags, summary) = match Project::load(root, app) {
        Ok((project, mut diags)) => {
            if args.connect {
                report = check_mcp_tools(&project, &mut diags).await;
                app.services().shutdown().await;
            }
            (
                diags,
                Some(format!(
                    "{} workflow version(s) OK",
                    project.workflows.len()
                )),
            )
        }
        Err(LoadError { diagnostics }) => (diagnostics, None),
    };
    diags.sort();
    let summary = summary.filter(|_| !diags.has_errors());
    if args.json {
        super::outln!(
            "{}",
            serde_json::to_string_pretty(&diags.iter().collect::<Vec<_>>())?
        );
    } else {
        super::out!("{report}{}", diags.render(root));
        let (e, w) = (diags.error_count(), diags.warning_count());
        match summary {
            Some(s) if w == 0 => super::outln!("{s}"),
            Some(s) => super::outln!("{s}, {w} warning(s)"),
            None => super::outln!("{e} error(s), {w} warning(s)"),
        }
    }
    Ok(if diags.has_errors() { 1 } else { 0 })
}

/// One `mcp` step, as `--connect` checks it.
struct ToolUse<'a> {
    file: &'a std::path::Path,
    step: &'a crate::steps::mcp::Mcp,
}

/// Lists each server's tools and reports steps naming a tool the server lacks. Returns one line
/// per server for the summary.
async fn check_mcp_tools(project: &Project, diags: &mut Diagnostics) -> String {
    let mut servers: Vec<(Arc<Entry>, Vec<ToolUse<'_>>)> = Vec::new();
    for wf in &project.workflows {
        for step in &wf.graph.steps {
            let StepKind::Mcp(m) = &step.kind else {
                continue;
            };
            let use_ = ToolUse {
                file: &wf.doc.file,
                step: m,
            };
            match m.static_entry() {
                Some(e) => match servers.iter_mut().find(|(known, _)| Arc::ptr_eq(known, e)) {
                    Some((_, uses)) => uses.push(use_),
                    None => servers.push((e.clone(), vec![use_])),
                },
                None => {
                    let (tool, pos, path) = m.tool();
                    diags.push(
                        Diagnostic::warning(Code::McpUnreachable, format!("tool `{tool}` not checked: the server definition uses templates that need a run's context"))
                            .in_file(use_.file)
                            .at(pos)
                            .path(path),
                    );
                }
            }
        }
    }
    let mut report = String::new();
    for (entry, uses) in servers {
        match entry.tools(CONNECT_TIMEOUT).await {
            Ok(tools) => {
                report.push_str(&format!(
                    "MCP server {}: {} tool(s): {}\n",
                    entry.label(),
                    tools.len(),
                    tools.join(", ")
                ));
                for u in uses {
                    check_tool(&entry, &tools, &u, diags);
                }
            }
            Err(e) => {
                let (_, pos, path) = uses[0].step.tool();
                diags.push(
                    Diagnostic::error(
                        Code::McpUnreachable,
                        format!("cannot list the tools of MCP server {}: {e}", entry.label()),
                    )
                    .in_file(uses[0].file)
                    .at(pos)
                    .path(path),
                );
            }
        }
    }
    report
}

fn check_tool(entry: &Entry, tools: &[String], u: &ToolUse<'_>, diags: &mut Diagnostics) {
    let (tool, pos, path) = u.step.tool();
    if tools.iter().any(|t| t == tool) {
        return;
    }
    diags.push(
        Diagnostic::error(
            Code::UnknownMcpTool,
            format!("MCP server {} has no tool `{tool}`", entry.label()),
        )
        .in_file(u.file)
        .at(pos)
        .path(path)
        .expected(format!(
            "one of {}",
            tools
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .found(format!("`{tool}`"))
        .maybe_help(did_you_mean(tool, tools.iter().map(String::as_str))),
    );
}
