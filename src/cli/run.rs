//! `weft run`: run one workflow locally, print the result JSON (exit 0) or the error (exit 1).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use serde_json::{Map, Value, json};

use crate::App;
use crate::config::{default_database_url, resolve};
use crate::engine::{Events, RunEvent, RunOptions};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The workflow's `metadata.name`.
    pub workflow: String,
    /// The version (`schema_version`); default: the highest enabled one.
    #[arg(long)]
    pub version: Option<String>,
    /// The input as a JSON object.
    #[arg(long, conflicts_with = "payload_file")]
    pub payload: Option<String>,
    /// Read the input from a JSON file (`-` for stdin).
    #[arg(long)]
    pub payload_file: Option<PathBuf>,
    #[command(flatten)]
    pub project: super::ProjectArg,
    /// Print each step, its signal and duration to stderr as the run goes.
    #[arg(long)]
    pub trace: bool,
    /// Database URL (stored admin flags, data models); default as for `weft serve`.
    #[arg(long, env = "WEFT_DATABASE_URL")]
    pub database: Option<String>,
}

pub async fn run(args: Args, app: App) -> anyhow::Result<i32> {
    let Some((root, config)) = args.project.open()? else {
        return Ok(1);
    };
    let url = resolve(args.database.clone(), config.database.url.as_ref(), || {
        default_database_url(&root)
    });
    let input = read_input(&args)?;
    let Some((registry, app)) = super::open_registry(&root, &url, app).await? else {
        return Ok(1);
    };
    let snapshot = registry.snapshot();
    // Without --version: the version a trigger would serve (stored admin flags included).
    let entry = match &args.version {
        Some(v) => snapshot.get(&args.workflow, v),
        None => snapshot.highest_enabled(&args.workflow),
    };
    let Some(workflow) = entry.map(|e| e.workflow.clone()) else {
        let known: Vec<String> = snapshot
            .entries()
            .iter()
            .map(|e| format!("{} {}", e.workflow.name, e.workflow.version))
            .collect();
        match &args.version {
            Some(v) => bail!(
                "no workflow `{}` version `{v}` (known: {})",
                args.workflow,
                known.join(", ")
            ),
            None => bail!(
                "no enabled workflow `{}` (known: {})",
                args.workflow,
                known.join(", ")
            ),
        }
    };
    let workflow = &workflow;
    let (events, printer) = if args.trace {
        let (events, rx) = Events::channel();
        (events, Some(tokio::spawn(print_trace(rx))))
    } else {
        (Events::none(), None)
    };
    let engine = app.engine();
    let result = engine
        .run(
            workflow,
            input,
            RunOptions {
                events,
                stream: args.trace,
                ..Default::default()
            },
        )
        .await;
    // MCP stdio servers the run started are children of this process: reap them before exiting.
    app.services().shutdown().await;
    if let Some(p) = printer {
        let _ = p.await;
    }
    match result {
        Ok(out) => {
            super::outln!("{}", serde_json::to_string_pretty(&out.body())?);
            Ok(0)
        }
        Err(e) => {
            let mut error = json!({"code": e.code.as_str(), "message": e.message, "run_id": e.run_id.to_string()});
            if let Some(step) = &e.step {
                error["step"] = json!(step.to_string());
            }
            if let Some(f) = &e.failure {
                error["details"] = json!({"kind": f.kind.as_str()});
            }
            super::outln!(
                "{}",
                serde_json::to_string_pretty(&json!({ "error": error }))?
            );
            eprintln!("error: {}", e.message);
            Ok(1)
        }
    }
}

fn read_input(args: &Args) -> anyhow::Result<Map<String, Value>> {
    let text = match (&args.payload, &args.payload_file) {
        (Some(p), _) => p.clone(),
        (None, Some(f)) if f.as_os_str() == "-" => {
            std::io::read_to_string(std::io::stdin()).context("reading stdin")?
        }
        (None, Some(f)) => {
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?
        }
        (None, None) => return Ok(Map::new()),
    };
    match serde_json::from_str::<Value>(&text).context("the payload is not valid JSON")? {
        Value::Object(m) => Ok(m),
        other => bail!(
            "the payload must be a JSON object, not {}",
            json_kind(&other)
        ),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

async fn print_trace(mut rx: tokio::sync::mpsc::UnboundedReceiver<RunEvent>) {
    let mut err = std::io::stderr();
    let mut in_tokens = false;
    while let Some(ev) = rx.recv().await {
        if in_tokens && !matches!(ev, RunEvent::Token { .. }) {
            let _ = writeln!(err);
            in_tokens = false;
        }
        let _ = match ev {
            RunEvent::RunStarted {
                run_id,
                workflow,
                version,
            } => writeln!(err, "run {run_id}: {workflow} {version}"),
            RunEvent::StepStarted { step, kind } => writeln!(err, "→ {step} ({kind})"),
            RunEvent::StepFinished {
                step,
                signal,
                duration,
            } => writeln!(err, "← {step}: {signal} [{duration:?}]"),
            RunEvent::StepFailed {
                step,
                kind,
                message,
                duration,
            } => {
                writeln!(err, "✗ {step}: {kind}: {message} [{duration:?}]")
            }
            RunEvent::Token { text, .. } => {
                in_tokens = true;
                write!(err, "{text}")
            }
            RunEvent::Usage {
                step,
                model,
                prompt_tokens,
                completion_tokens,
                latency,
            } => writeln!(
                err,
                "  {step}: {model} prompt={} completion={} [{latency:?}]",
                prompt_tokens.map_or("?".into(), |n| n.to_string()),
                completion_tokens.map_or("?".into(), |n| n.to_string())
            ),
            RunEvent::Retrying {
                step,
                attempt,
                kind,
                wait,
            } => {
                writeln!(err, "  {step}: {kind}, retry {attempt} in {wait:?}")
            }
            RunEvent::RunCompleted { steps, duration } => {
                writeln!(err, "done: {steps} step(s) in {duration:?}")
            }
            RunEvent::RunFailed {
                code,
                step,
                message,
            } => {
                writeln!(
                    err,
                    "failed: {code} at {}: {message}",
                    step.as_deref().unwrap_or("-")
                )
            }
        };
        let _ = err.flush();
    }
}
