//! Projects with data models, opened against a real store the way `weft serve` opens them, and
//! their workflows run in-process.

use std::path::Path;

use serde_json::Value;
use weft::engine::{Events, RunOptions};
use weft::versions::{Registry, StartError};
use weft::{App, RunError, RunOutput};

/// A started registry (store connected, model tables migrated) and the app carrying its store.
pub struct Started {
    pub registry: Registry,
    pub app: App,
}

/// Starts the project at `root` on `database_url`; the error as `weft serve` would get it.
pub async fn try_start(root: &Path, database_url: &str, app: App) -> Result<Started, StartError> {
    let (registry, app, _) = Registry::start(root, database_url, app).await?;
    Ok(Started { registry, app })
}

/// Starts, or panics with the rendered diagnostics.
pub async fn start(root: &Path, database_url: &str) -> Started {
    match try_start(root, database_url, App::new()).await {
        Ok(s) => s,
        Err(StartError::Load(e)) => panic!("cannot start:\n{}", e.diagnostics.render(root)),
        Err(e) => panic!("cannot start: {e}"),
    }
}

impl Started {
    /// Runs the highest enabled version of workflow `name`.
    pub async fn run(&self, name: &str, input: Value) -> Result<RunOutput, RunError> {
        let project = self.registry.project();
        let wf = project
            .workflow(name, None)
            .unwrap_or_else(|| panic!("no workflow {name}"))
            .clone();
        self.app
            .engine()
            .run(
                &wf,
                crate::common::object(input),
                RunOptions {
                    events: Events::none(),
                    ..Default::default()
                },
            )
            .await
    }

    /// Runs and returns the value the run left under `key`, panicking on failure.
    pub async fn value(&self, name: &str, input: Value, key: &str) -> Value {
        match self.run(name, input).await {
            Ok(out) => out.context.get(key).cloned().unwrap_or(Value::Null),
            Err(e) => panic!("run of {name} failed: {} ({:?})", e.message, e.failure),
        }
    }

    /// Runs, expecting a failure; returns it.
    pub async fn failure(&self, name: &str, input: Value) -> RunError {
        match self.run(name, input).await {
            Ok(out) => panic!("run of {name} succeeded: {}", out.body()),
            Err(e) => e,
        }
    }

    pub async fn stop(self) {
        self.registry.store().close().await;
    }
}
