//! External nodes: programs in the project's `nodes/` directory.
//!
//! Protocol: stdin gets `{"context": {...}, "params": {...}, "step_id": "..."}`; stdout is JSON —
//! a string (the signal, context unchanged), an object (the whole new public context) or
//! `[context, signal]`. A non-zero exit, bad JSON or a timeout fails the step with the tail of
//! stderr. Each program runs in its own process group so that a timeout kills everything it
//! spawned; stdin and stdout are pumped by separate tasks so large contexts never deadlock.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::{Node, NodeError, NodeFuture, NodeInput, NodeOutput};
use crate::spec::NodeFile;

/// Largest stdout accepted from a node.
const MAX_STDOUT: usize = 64 * 1024 * 1024;
/// How much of stderr is kept for error messages.
const STDERR_TAIL: usize = 2048;
/// How long to wait for stdout to close after the program exited (a background child may hold it).
const EXIT_GRACE: Duration = Duration::from_millis(500);

pub struct External {
    file: NodeFile,
    cwd: PathBuf,
}

impl External {
    pub fn new(file: NodeFile, cwd: PathBuf) -> Self {
        External { file, cwd }
    }

    fn command(&self) -> Command {
        let mut cmd = match self.file.interpreter {
            Some(interp) => {
                let mut c = Command::new(interp);
                c.arg(&self.file.path);
                c
            }
            None => Command::new(&self.file.path),
        };
        cmd.current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        cmd
    }

    async fn run(&self, input: NodeInput<'_>) -> Result<NodeOutput, NodeError> {
        #[derive(Serialize)]
        struct Stdin<'a> {
            context: &'a Map<String, Value>,
            params: &'a Value,
            step_id: &'a str,
        }
        let payload = serde_json::to_vec(&Stdin {
            context: input.context,
            params: input.params,
            step_id: input.step_id,
        })
        .map_err(|e| NodeError::failed(format!("cannot encode node input: {e}")))?;
        let mut cmd = self.command();
        cmd.env("WEFT_STEP_ID", input.step_id);
        let mut child = cmd.spawn().map_err(|e| {
            let prog = self
                .file
                .interpreter
                .map(str::to_string)
                .unwrap_or_else(|| self.file.path.display().to_string());
            NodeError::failed(format!("cannot start `{prog}`: {e}"))
        })?;
        let pid = child.id();
        let deadline = tokio::time::Instant::now() + input.timeout;

        let mut stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut stderr = child.stderr.take().expect("piped stderr");
        // A node that exits without reading stdin makes this write fail: that is fine.
        let writer = tokio::spawn(async move {
            let _ = stdin.write_all(&payload).await;
            let _ = stdin.shutdown().await;
        });
        let out_reader = tokio::spawn(async move {
            let mut buf = Vec::new();
            let _ = (&mut stdout)
                .take(MAX_STDOUT as u64 + 1)
                .read_to_end(&mut buf)
                .await;
            buf
        });
        let err_reader = tokio::spawn(async move {
            let mut tail = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stderr.read(&mut chunk).await {
                if n == 0 {
                    break;
                }
                tail.extend_from_slice(&chunk[..n]);
                if tail.len() > STDERR_TAIL * 2 {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
            }
            tail
        });

        let status = tokio::select! {
            s = child.wait() => s.map_err(|e| NodeError::failed(format!("waiting for node: {e}")))?,
            _ = tokio::time::sleep_until(deadline) => {
                kill_group(pid);
                let _ = child.kill().await;
                writer.abort();
                let err = collect(err_reader, EXIT_GRACE).await.unwrap_or_default();
                return Err(NodeError::Timeout(format!(
                    "node `{}` timed out after {:?}{}", self.file.runner, input.timeout, stderr_suffix(&err)
                )));
            }
        };
        writer.abort();
        let grace = deadline
            .saturating_duration_since(tokio::time::Instant::now())
            .min(EXIT_GRACE);
        let stdout = collect(out_reader, grace).await;
        // Whatever the program left behind in its group goes too.
        kill_group(pid);
        let stdout = stdout.unwrap_or_default();
        let stderr = collect(err_reader, EXIT_GRACE).await.unwrap_or_default();

        if !status.success() {
            let code = status
                .code()
                .map(|c| c.to_string())
                .unwrap_or_else(|| "a signal".into());
            return Err(NodeError::failed(format!(
                "node `{}` exited with {code}{}",
                self.file.runner,
                stderr_suffix(&stderr)
            )));
        }
        if stdout.len() > MAX_STDOUT {
            return Err(NodeError::failed(format!(
                "node `{}` printed more than {MAX_STDOUT} bytes",
                self.file.runner
            )));
        }
        parse_output(&stdout).map_err(|m| {
            NodeError::failed(format!(
                "node `{}` {m}{}",
                self.file.runner,
                stderr_suffix(&stderr)
            ))
        })
    }
}

impl Node for External {
    fn call<'a>(&'a self, input: NodeInput<'a>) -> NodeFuture<'a> {
        Box::pin(self.run(input))
    }
}

async fn collect(handle: tokio::task::JoinHandle<Vec<u8>>, wait: Duration) -> Option<Vec<u8>> {
    match tokio::time::timeout(wait, handle).await {
        Ok(Ok(buf)) => Some(buf),
        _ => None,
    }
}

#[cfg(unix)]
fn kill_group(pid: Option<u32>) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        // The group may already be gone; nothing to do then.
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

#[cfg(not(unix))]
fn kill_group(_: Option<u32>) {}

fn stderr_suffix(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let start = text.len().saturating_sub(STDERR_TAIL);
    let start = (start..text.len())
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(text.len());
    format!("; stderr: {}", &text[start..])
}

/// Reads the three return forms of the protocol.
pub fn parse_output(stdout: &[u8]) -> Result<NodeOutput, String> {
    let text = String::from_utf8_lossy(stdout);
    let text = text.trim();
    if text.is_empty() {
        return Err("printed nothing on stdout (expected JSON)".into());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        let head: String = text.chars().take(80).collect();
        format!("printed invalid JSON ({e}): {head}")
    })?;
    match value {
        Value::String(s) => Ok(NodeOutput::signal(s)),
        Value::Object(m) => Ok(NodeOutput::replace(m)),
        Value::Null => Ok(NodeOutput::unchanged()),
        Value::Array(mut a) if a.len() == 2 => match (a.remove(0), a.remove(0)) {
            (Value::Object(m), Value::String(s)) => Ok(NodeOutput::replace(m).with_signal(s)),
            _ => Err("printed a pair that is not [context object, signal string]".into()),
        },
        other => Err(format!(
            "printed {} (expected a signal string, a context object or [context, signal])",
            kind_name(&other)
        )),
    }
}

fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn three_return_forms() {
        assert_eq!(
            parse_output(b"\"valid\"\n").unwrap(),
            NodeOutput::signal("valid")
        );
        let ctx = json!({"a": 1}).as_object().unwrap().clone();
        assert_eq!(
            parse_output(br#"{"a": 1}"#).unwrap(),
            NodeOutput::replace(ctx.clone())
        );
        assert_eq!(
            parse_output(br#"[{"a": 1}, "ok"]"#).unwrap(),
            NodeOutput::replace(ctx).with_signal("ok")
        );
        assert!(
            parse_output(b"garbage")
                .unwrap_err()
                .contains("invalid JSON")
        );
        assert!(parse_output(b"42").unwrap_err().contains("a number"));
        assert!(parse_output(b"").is_err());
    }
}
