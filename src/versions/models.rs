//! Model versions: the admin operations mirroring the workflow ones — toggle and fork.
//!
//! A model version's flag decides which version every unpinned reference resolves to (the
//! `"context"` schemas of triggers, `model-op` steps), so a model toggle or fork recompiles the
//! project with the new flags, like a reload: if the project on disk has errors, or the model
//! tables would need a refused change, the operation changes nothing and returns the
//! diagnostics. Otherwise the store is written first, then the new state swapped in.

use super::registry::{Error, Forked, Registry, check_fork_names, load, not_found, prepare};
use crate::models::Models;
use crate::store::ModelVersionRow;

impl Registry {
    /// Flips a model version's `enabled` flag and recompiles the project with it. Returns the
    /// new flag.
    pub async fn toggle_model(&self, name: &str, version: &str) -> Result<bool, Error> {
        let _w = self.write.lock().await;
        let current = self.project.load_full();
        let entry = current
            .models
            .get(name, version)
            .ok_or_else(|| not_found("model", name, version))?;
        let enabled = !entry.enabled;
        let mut flags = self.store.model_overrides().await?;
        flags.insert((name.to_string(), version.to_string()), enabled);
        let (project, _) = load(&self.root, &self.app, flags)
            .await?
            .map_err(|e| Error::Load(e.diagnostics))?;
        let snapshot = prepare(&self.store, &project).await?;
        self.store.set_model_enabled(name, version, enabled).await?;
        self.install(project, snapshot);
        Ok(enabled)
    }

    /// Copies a model version's document as written into `models/<name>_<new_version>.yaml`
    /// with the new `schema_version` and `enabled: false`, and registers it at once, disabled.
    /// The copy keeps the `tablename`, so both versions share the table.
    pub async fn fork_model(
        &self,
        name: &str,
        version: &str,
        new_version: &str,
    ) -> Result<Forked, Error> {
        check_fork_names("model", name, new_version)?;
        let _w = self.write.lock().await;
        let current = self.project.load_full();
        let source = current
            .models
            .get(name, version)
            .ok_or_else(|| not_found("model", name, version))?
            .model
            .clone();
        if current.models.get(name, new_version).is_some() {
            return Err(Error::Conflict(format!(
                "model `{name}` already has a version `{new_version}`"
            )));
        }
        let (relative, path) = self.write_fork("models", name, new_version, &source.doc)?;
        let installed = async {
            let flags = self.store.model_overrides().await?;
            let (project, _) = load(&self.root, &self.app, flags)
                .await?
                .map_err(|e| Error::Load(e.diagnostics))?;
            let snapshot = prepare(&self.store, &project).await?;
            self.install(project, snapshot);
            Ok::<(), Error>(())
        }
        .await;
        if let Err(e) = installed {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(Forked { file: relative })
    }
}

/// The `model_versions` rows of every declared model version.
pub(super) fn rows(models: &Models) -> Vec<ModelVersionRow> {
    models
        .entries()
        .iter()
        .map(|e| ModelVersionRow {
            name: e.model.name.clone(),
            schema_version: e.model.version.clone(),
            yaml_enabled: e.model.enabled,
            config: e.model.doc.text.clone(),
            source_file: e.model.doc.file.display().to_string(),
            tablename: e.model.table.clone(),
        })
        .collect()
}
