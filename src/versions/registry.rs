//! The registry: every loaded workflow version, which are enabled (YAML flag, overridden by the
//! admin's stored flag), and the admin operations — toggle, fork, reload.
//!
//! Readers take the current [`Snapshot`] without locking (`arc-swap`); writers are serialised by
//! one async mutex, write the store first, then swap in a new snapshot. A request therefore sees
//! either the old or the new state, never a torn one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::Mutex;

use super::fork::{fork_text, valid_version};
use super::snapshot::{Entry, RouteConflict, Snapshot};
use crate::App;
use crate::graph::Workflow;
use crate::models::migrate::Error as MigrateError;
use crate::project::{LoadError, Project};
use crate::spec::Diagnostics;
use crate::spec::interpolate::ProcessEnv;
use crate::store::{self, Overrides, Store, VersionRow};

/// Why an admin operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `what` is `workflow` or `model`.
    #[error("no {what} `{name}` version `{version}`")]
    NotFound {
        what: &'static str,
        name: String,
        version: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidVersion(String),
    #[error("the project has {} error(s)", .0.error_count())]
    Load(Diagnostics),
    #[error(transparent)]
    Route(#[from] RouteConflict),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("{0}")]
    Io(String),
}

/// What a fork created.
#[derive(Clone, Debug, PartialEq)]
pub struct Forked {
    /// The new file, relative to the project root.
    pub file: PathBuf,
}

/// What a reload loaded.
#[derive(Debug)]
pub struct Reloaded {
    pub versions: usize,
    pub warnings: Diagnostics,
}

pub struct Registry {
    pub(super) snapshot: ArcSwap<Snapshot>,
    /// The last project that loaded (forks compile against its config, presets and nodes; its
    /// models are the ones in use).
    pub(super) project: ArcSwap<Project>,
    pub(super) store: Store,
    pub(super) app: App,
    pub(super) root: PathBuf,
    /// Serialises admin operations (toggles, forks, reloads).
    pub(super) write: Mutex<()>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// Why a registry could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Registry(#[from] Error),
}

impl Registry {
    /// Connects the store at `database_url`, loads the project at `root` with services that
    /// include the store (and the admin's stored model flags), brings the model tables up to
    /// date and opens the registry. Returns the app (now carrying those services) and the
    /// project's warnings. A refused model migration is a [`StartError::Load`] whose
    /// diagnostics (W0025) name the model, the field and the fix.
    pub async fn start(
        root: &Path,
        database_url: &str,
        app: App,
    ) -> Result<(Registry, App, Diagnostics), StartError> {
        let store = Store::connect(database_url).await?;
        let app = app.with_services(Arc::new(crate::engine::Services::with_store(store.clone())));
        let flags = store.model_overrides().await?;
        let (project, warnings) = load(root, &app, flags).await??;
        let registry = match Registry::open(project, store, app.clone()).await {
            Err(Error::Load(diagnostics)) => return Err(LoadError { diagnostics }.into()),
            other => other?,
        };
        Ok((registry, app, warnings))
    }

    /// Brings the model tables of `project` up to date, records every version in the store and
    /// applies the stored flags.
    pub async fn open(project: Project, store: Store, app: App) -> Result<Registry, Error> {
        let snapshot = prepare(&store, &project).await?;
        Ok(Registry {
            snapshot: ArcSwap::from_pointee(snapshot),
            root: project.root.clone(),
            project: ArcSwap::from_pointee(project),
            store,
            app,
            write: Mutex::new(()),
        })
    }

    /// The current state (lock-free).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Flips a version's `enabled` flag, persists it, and serves accordingly from the next
    /// request. Returns the new flag. Enabling a version refuses (409) when a different workflow
    /// already serves the same method and path.
    pub async fn toggle(&self, name: &str, version: &str) -> Result<bool, Error> {
        let _w = self.write.lock().await;
        let snap = self.snapshot.load_full();
        let entry = snap
            .get(name, version)
            .ok_or_else(|| not_found("workflow", name, version))?;
        let enabled = !entry.enabled;
        if enabled && let Some(other) = snap.clash_if_enabled(name, version) {
            let t = other
                .workflow
                .trigger
                .as_ref()
                .map(|t| format!("{} {}", t.method, t.path))
                .unwrap_or_default();
            return Err(Error::Conflict(format!(
                "enabling `{name}` `{version}` would serve `{t}`, which workflow `{}` (version `{}`) already serves",
                other.workflow.name, other.workflow.version
            )));
        }
        if !self
            .store
            .set_workflow_enabled(name, version, enabled)
            .await?
        {
            // Recorded at load; only a database emptied behind weft's back lacks the row.
            self.store
                .sync_workflow_versions(&rows(std::slice::from_ref(&entry.workflow)))
                .await?;
            self.store
                .set_workflow_enabled(name, version, enabled)
                .await?;
        }
        self.snapshot
            .store(Arc::new(snap.with_enabled(name, version, enabled)));
        Ok(enabled)
    }

    /// Copies a version's document as written into `workflows/<name>_<new_version>.yaml` with the
    /// new `schema_version` and `enabled: false`, and registers it at once, disabled.
    pub async fn fork(
        &self,
        name: &str,
        version: &str,
        new_version: &str,
    ) -> Result<Forked, Error> {
        check_fork_names("workflow", name, new_version)?;
        let _w = self.write.lock().await;
        let snap = self.snapshot.load_full();
        let source = snap
            .get(name, version)
            .ok_or_else(|| not_found("workflow", name, version))?
            .workflow
            .clone();
        if snap.get(name, new_version).is_some() {
            return Err(Error::Conflict(format!(
                "workflow `{name}` already has a version `{new_version}`"
            )));
        }
        let (relative, path) = self.write_fork("workflows", name, new_version, &source.doc)?;
        let project = self.project.load_full();
        let compiled = match project.compile_file(&self.app, &path) {
            Ok(w) => w,
            Err(LoadError { diagnostics }) => {
                let _ = std::fs::remove_file(&path);
                return Err(Error::Load(diagnostics));
            }
        };
        self.store.sync_workflow_versions(&rows(&compiled)).await?;
        let added = compiled
            .into_iter()
            .map(|w| Entry {
                enabled: w.enabled,
                overridden: false,
                workflow: w,
            })
            .collect();
        self.snapshot.store(Arc::new(snap.with_added(added)?));
        Ok(Forked { file: relative })
    }

    /// Re-reads the project. On errors (or a refused model migration) the previous state keeps
    /// serving and the diagnostics are returned; stored flags are kept across YAML edits.
    pub async fn reload(&self) -> Result<Reloaded, Error> {
        let _w = self.write.lock().await;
        let flags = self.store.model_overrides().await?;
        let (project, warnings) = load(&self.root, &self.app, flags)
            .await?
            .map_err(|e| Error::Load(e.diagnostics))?;
        let snapshot = prepare(&self.store, &project).await?;
        let versions = snapshot.entries().len();
        self.install(project, snapshot);
        Ok(Reloaded { versions, warnings })
    }

    /// Swaps in a new state: requests see the old or the new one, never a mix.
    pub(super) fn install(&self, project: Project, snapshot: Snapshot) {
        self.snapshot.store(Arc::new(snapshot));
        self.project.store(Arc::new(project));
    }

    /// The loaded project (its models are the ones in use).
    pub fn project(&self) -> Arc<Project> {
        self.project.load_full()
    }

    /// The source document as written. Multi-document files whose text could not be split keep
    /// no per-document text: re-read the file and take the document by index, unexpanded.
    /// Writes the fork of `doc` to `<dir>/<name>_<new_version>.yaml`, never over an existing file
    /// (409). Returns the path relative to the project root and the absolute one.
    pub(super) fn write_fork(
        &self,
        dir: &str,
        name: &str,
        new_version: &str,
        doc: &crate::spec::Document,
    ) -> Result<(PathBuf, PathBuf), Error> {
        let relative = PathBuf::from(dir).join(format!("{name}_{new_version}.yaml"));
        let text = fork_text(&self.source_text(doc)?, new_version).map_err(Error::Io)?;
        let path = self.root.join(&relative);
        write_new(&path, &text).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => {
                Error::Conflict(format!("`{}` already exists", relative.display()))
            }
            _ => Error::Io(format!("writing {}: {e}", relative.display())),
        })?;
        Ok((relative, path))
    }

    pub(super) fn source_text(&self, doc: &crate::spec::Document) -> Result<String, Error> {
        if !doc.text.trim().is_empty() {
            return Ok(doc.text.clone());
        }
        let file = self.root.join(&doc.file);
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Error::Io(format!("reading {}: {e}", file.display())))?;
        let docs = crate::spec::yaml::parse_documents(&text).map_err(|e| Error::Io(e.message))?;
        let node = docs
            .get(doc.index)
            .ok_or_else(|| Error::Io("the source document is gone".into()))?;
        serde_saphyr::to_string(&node.to_json()).map_err(|e| Error::Io(e.to_string()))
    }
}

/// Loads the project at `root` on a blocking thread, with the admin's model flags.
pub(super) async fn load(
    root: &Path,
    app: &App,
    model_flags: Overrides,
) -> Result<Result<(Project, Diagnostics), LoadError>, Error> {
    let (root, app) = (root.to_path_buf(), app.clone());
    tokio::task::spawn_blocking(move || Project::load_with(&root, &app, &ProcessEnv, &model_flags))
        .await
        .map_err(|e| Error::Io(format!("load task failed: {e}")))
}

/// Brings the model tables up to date (or refuses, changing nothing), records every workflow
/// and model version, and builds the snapshot with the stored workflow flags.
pub(super) async fn prepare(store: &Store, project: &Project) -> Result<Snapshot, Error> {
    match crate::models::migrate::apply(store, &project.models).await {
        Ok(changes) => {
            for change in changes {
                tracing::info!("model tables: {change}");
            }
        }
        Err(MigrateError::Refused(diags)) => return Err(Error::Load(diags)),
        Err(MigrateError::Store(e)) => return Err(e.into()),
    }
    store
        .sync_model_versions(&super::models::rows(&project.models))
        .await?;
    let overrides = store
        .sync_workflow_versions(&rows(&project.workflows))
        .await?;
    Ok(Snapshot::build(project.workflows.clone(), &overrides)?)
}

/// Both parts of a fork's file name must be safe: `[A-Za-z0-9._-]{1,64}` (no path traversal).
pub(super) fn check_fork_names(what: &str, name: &str, new_version: &str) -> Result<(), Error> {
    if !valid_version(new_version) {
        return Err(Error::InvalidVersion(format!(
            "`{new_version}` is not a valid version: use 1 to 64 of A-Z a-z 0-9 . _ -"
        )));
    }
    if !valid_version(name) {
        return Err(Error::InvalidVersion(format!(
            "{what} name `{name}` cannot be part of a file name"
        )));
    }
    Ok(())
}

pub(super) fn not_found(what: &'static str, name: &str, version: &str) -> Error {
    Error::NotFound {
        what,
        name: name.to_string(),
        version: version.to_string(),
    }
}

/// Creates a file that must not exist yet (no race between the check and the write).
pub(super) fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

fn rows(workflows: &[Arc<Workflow>]) -> Vec<VersionRow> {
    workflows
        .iter()
        .map(|w| VersionRow {
            name: w.name.to_string(),
            schema_version: w.version.to_string(),
            yaml_enabled: w.enabled,
            enabled_override: None,
            config: w.doc.text.clone(),
            source_file: w.doc.file.display().to_string(),
            trigger_method: w.trigger.as_ref().map(|t| t.method.clone()),
            trigger_path: w.trigger.as_ref().map(|t| t.path.clone()),
        })
        .collect()
}
