//! Shared test helpers: throwaway projects on disk, and running their workflows in-process.
#![allow(dead_code)]

pub mod db;
pub mod fake_llm;
pub mod served;
pub mod server;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use weft::engine::{Events, RunOptions};
use weft::{App, Project, RunError, RunOutput};

/// A project in a temporary directory, built file by file.
pub struct TestProject {
    pub dir: tempfile::TempDir,
    pub app: App,
}

impl Default for TestProject {
    fn default() -> Self {
        Self::new()
    }
}

impl TestProject {
    pub fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["workflows", "models", "llms", "nodes"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("project dirs");
        }
        TestProject {
            dir,
            app: App::new(),
        }
    }

    /// A copy of an existing project directory (e.g. one of `examples/`).
    pub fn copy_of(src: &Path) -> Self {
        let p = TestProject::new();
        copy_dir(src, p.path());
        p
    }

    pub fn with_app(mut self, app: App) -> Self {
        self.app = app;
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file relative to the project root (directories created as needed).
    pub fn file(self, rel: &str, content: &str) -> Self {
        self.write(rel, content);
        self
    }

    pub fn write(&self, rel: &str, content: &str) {
        let path = self.dir.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, content).expect("write");
    }

    /// Writes an executable file (external nodes without an extension).
    pub fn executable(self, rel: &str, content: &str) -> Self {
        self.write(rel, content);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = self.dir.path().join(rel);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        self
    }

    /// Writes `workflows/<name>.yaml`.
    pub fn workflow(self, name: &str, yaml: &str) -> Self {
        self.file(&format!("workflows/{name}.yaml"), yaml)
    }

    pub fn load(&self) -> Result<Project, weft::LoadError> {
        Project::load(self.path(), &self.app).map(|(p, _)| p)
    }

    /// Loads and panics with rendered diagnostics on errors.
    pub fn load_ok(&self) -> Project {
        match self.load() {
            Ok(p) => p,
            Err(e) => panic!(
                "project failed to load:\n{}",
                e.diagnostics.render(self.path())
            ),
        }
    }

    /// Runs the highest enabled version of `name` with `input`.
    pub async fn run(&self, name: &str, input: Value) -> Result<RunOutput, RunError> {
        let project = self.load_ok();
        run_in(&self.app, &project, name, input).await
    }
}

pub async fn run_in(
    app: &App,
    project: &Project,
    name: &str,
    input: Value,
) -> Result<RunOutput, RunError> {
    let wf = project
        .workflow(name, None)
        .unwrap_or_else(|| panic!("no workflow {name}"));
    app.engine()
        .run(
            wf,
            object(input),
            RunOptions {
                events: Events::none(),
                ..Default::default()
            },
        )
        .await
}

/// The ids of the steps a run executed, in order, via its events.
pub async fn trace(
    app: &App,
    project: &Project,
    name: &str,
    input: Value,
) -> (Vec<String>, Result<RunOutput, RunError>) {
    let wf = project
        .workflow(name, None)
        .unwrap_or_else(|| panic!("no workflow {name}"));
    let (events, mut rx) = Events::channel();
    let result = app
        .engine()
        .run(
            wf,
            object(input),
            RunOptions {
                events,
                ..Default::default()
            },
        )
        .await;
    let mut steps = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let weft::engine::RunEvent::StepStarted { step, .. } = ev {
            steps.push(step.to_string());
        }
    }
    (steps, result)
}

pub fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        Value::Null => Map::new(),
        other => panic!("input must be an object, got {other}"),
    }
}

/// The repository root (for examples and the bundled project).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("read_dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "target" {
            continue;
        }
        let to = dst.join(&name);
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
}
