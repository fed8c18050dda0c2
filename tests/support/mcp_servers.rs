//! Real MCP server processes for tests: weft's own test server (the `mcp_test_server` example)
//! and `@modelcontextprotocol/server-everything` from npm (installed by `.ci/run` under
//! `tests/support/npm`), both listening on 127.0.0.1 only.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};

/// How long a server may take to start listening before the test gives up on it.
const START_LIMIT: Duration = Duration::from_secs(60);

/// The test server binary. `cargo test` builds examples before running tests, into
/// `target/<profile>/examples/`, one level up from this test binary's `deps/`.
pub fn test_server_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir
        .join("examples")
        .join(format!("mcp_test_server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: run the whole suite with `cargo test` (it builds examples), or `cargo build --example mcp_test_server`",
        bin.display()
    );
    bin
}

/// `server-everything`'s entry point, or `None` (after saying so loudly) when it is not
/// installed. Under CI (`CI` set) a missing server fails the test instead.
pub fn everything() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/npm");
    let entry = root.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if entry.is_file() {
        return Some(entry);
    }
    let install = "npm install --prefix tests/support/npm (see .ci/run)";
    if std::env::var_os("CI").is_some() {
        panic!(
            "@modelcontextprotocol/server-everything is not installed under tests/support/npm: {install}"
        );
    }
    eprintln!(
        "\n*** SKIPPING: @modelcontextprotocol/server-everything is not installed; run `{install}` ***\n"
    );
    None
}

/// The preload that keeps node servers on 127.0.0.1 and reports their port.
pub fn loopback_preload() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/support/loopback-preload.cjs")
}

/// A server process listening on 127.0.0.1; killed when dropped.
pub struct Listening {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub base: String,
}

impl Listening {
    /// Our test server over streamable HTTP; its URL is `base/mcp`.
    pub async fn test_server() -> Listening {
        let mut cmd = Command::new(test_server_bin());
        cmd.arg("http");
        start(cmd, Stream::Stdout).await
    }

    /// `server-everything` with `transport` (`sse` or `streamableHttp`) on a free port.
    pub async fn everything(entry: &Path, transport: &str) -> Listening {
        let mut cmd = Command::new("node");
        cmd.arg("-r")
            .arg(loopback_preload())
            .arg(entry)
            .arg(transport)
            .env("PORT", "0");
        start(cmd, Stream::Stderr).await
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

enum Stream {
    Stdout,
    Stderr,
}

/// Spawns `cmd` and waits for its `LISTENING <url or host:port>` line.
async fn start(mut cmd: Command, announce: Stream) -> Listening {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("spawn server");
    let (out, err) = (
        child.stdout.take().expect("stdout"),
        child.stderr.take().expect("stderr"),
    );
    let line = match announce {
        Stream::Stdout => {
            drain(err);
            wait_for_listening(out).await
        }
        Stream::Stderr => {
            drain(out);
            wait_for_listening(err).await
        }
    };
    let addr = line
        .trim_start_matches("LISTENING ")
        .trim()
        .trim_end_matches("/mcp");
    let base = if addr.starts_with("http") {
        addr.to_string()
    } else {
        format!("http://{addr}")
    };
    Listening { child, base }
}

async fn wait_for_listening<R: AsyncRead + Unpin + Send + 'static>(stream: R) -> String {
    let mut lines = BufReader::new(stream).lines();
    let found = tokio::time::timeout(START_LIMIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("LISTENING ") {
                return Some(line);
            }
        }
        None
    })
    .await;
    let line = found
        .ok()
        .flatten()
        .expect("the server did not start listening");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    line
}

/// Reads a pipe to its end so the child never blocks on a full pipe.
fn drain<R: AsyncRead + Unpin + Send + 'static>(stream: R) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(_)) = lines.next_line().await {}
    });
}

/// Whether a process with `pid` still exists (zombies included).
pub fn process_exists(pid: u32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
}
