//! `weft serve` as a child process (the real binary), for tests of the command and of examples
//! configured through the environment.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A `weft serve` child process; killed on drop.
pub struct Served {
    pub child: Child,
    pub base: String,
    log: mpsc::Receiver<String>,
    /// Every line read so far.
    history: Vec<String>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve(project: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.arg("serve")
        .arg("--project")
        .arg(project)
        .args(extra)
        .env_remove("WEFT_ADDR")
        .env_remove("WEFT_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn weft serve");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut served = Served {
        child,
        base: String::new(),
        log: rx,
        history: Vec::new(),
    };
    let line = served.wait_for("weft listening on http://");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .expect("address in log");
    served.base = format!("http://{addr}");
    served
}

impl Served {
    /// The first log line containing `needle` (waits up to 30 s).
    pub fn wait_for(&mut self, needle: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.log.recv_timeout(left) {
                Ok(line) => {
                    self.history.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("`{needle}` never appeared in the server log");
    }

    pub fn lines_so_far(&mut self) -> Vec<String> {
        let fresh: Vec<String> = self.log.try_iter().collect();
        self.history.extend(fresh);
        self.history.clone()
    }
}
