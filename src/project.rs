//! A loaded project: the config, every compiled workflow, and what later layers read.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::app::App;
use crate::config::ProjectConfig;
use crate::graph::{Catalog, Workflow, compile_project};
use crate::llm::Presets;
use crate::spec::interpolate::{Env, ProcessEnv};
use crate::spec::{Diagnostics, Document, NodeFile, ProjectSpec, load_project};
use crate::versions::natural_cmp;

/// A project that loaded without errors (it may have warnings).
#[derive(Debug)]
pub struct Project {
    pub root: PathBuf,
    pub config: ProjectConfig,
    pub workflows: Vec<Arc<Workflow>>,
    /// Documents of other kinds (`ModelDefinition`, `AgentModel`).
    pub documents: Vec<Document>,
    /// The programs in `nodes/`.
    pub node_files: Vec<NodeFile>,
}

/// Loading found errors; `diagnostics` holds every problem (warnings included).
#[derive(Debug, thiserror::Error)]
#[error("the project has {} error(s)", .diagnostics.error_count())]
pub struct LoadError {
    pub diagnostics: Diagnostics,
}

impl Project {
    /// Loads the project at `root` with the process environment and the app's services.
    pub fn load(root: &Path, app: &App) -> Result<(Project, Diagnostics), LoadError> {
        Project::load_with_env(root, app, &ProcessEnv)
    }

    /// Loads with an explicit environment for `${VAR}` expansion.
    pub fn load_with_env(
        root: &Path,
        app: &App,
        env: &dyn Env,
    ) -> Result<(Project, Diagnostics), LoadError> {
        // Absolute from here on: node programs run with the project as their working directory.
        let root = &root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let (spec, diags) = load_project(root, env);
        Project::compile(spec, diags, app, env)
    }

    /// Compiles the workflows of one more file (e.g. a fork just written) against this project's
    /// config, presets, models and nodes.
    pub fn compile_file(&self, app: &App, file: &Path) -> Result<Vec<Arc<Workflow>>, LoadError> {
        let mut spec = ProjectSpec {
            root: self.root.clone(),
            config: self.config.clone(),
            workflows: Vec::new(),
            documents: self.documents.clone(),
            node_files: self.node_files.clone(),
        };
        let mut diags = Diagnostics::default();
        crate::spec::load::load_file(&self.root, file, &ProcessEnv, &mut spec, &mut diags);
        Project::compile(spec, diags, app, &ProcessEnv).map(|(p, _)| p.workflows)
    }

    fn compile(
        spec: ProjectSpec,
        mut diags: Diagnostics,
        app: &App,
        env: &dyn Env,
    ) -> Result<(Project, Diagnostics), LoadError> {
        let root = &spec.root;
        let nodes = crate::nodes::Registry::new(app.nodes().clone(), &spec.node_files, root);
        // Presets read the same environment as `${VAR}` expansion (provider keys and URLs).
        let presets = Presets::load(&spec.documents, env, &mut diags);
        let catalog = Catalog {
            nodes: &nodes,
            presets: &presets,
            models: &crate::schema::NoModels,
        };
        let workflows = compile_project(&spec, &catalog, app.services(), &mut diags);
        diags.drop_unset_var_consequences();
        diags.sort();
        if diags.has_errors() {
            return Err(LoadError { diagnostics: diags });
        }
        let project = Project {
            root: root.to_path_buf(),
            config: spec.config,
            workflows,
            documents: spec.documents,
            node_files: spec.node_files,
        };
        Ok((project, diags))
    }

    /// A workflow by name: the given version, or the highest enabled one (what a trigger serves).
    pub fn workflow(&self, name: &str, version: Option<&str>) -> Option<&Arc<Workflow>> {
        let candidates = self.workflows.iter().filter(|w| &*w.name == name);
        match version {
            Some(v) => candidates.into_iter().find(|w| &*w.version == v),
            None => candidates
                .filter(|w| w.enabled)
                .max_by(|a, b| natural_cmp(&a.version, &b.version)),
        }
    }
}
