//! `weft serve --watch`: reload the project when its files change.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio_util::sync::CancellationToken;

use crate::versions::Registry;

/// Editors save a file as several events: wait for this quiet period before reloading.
const DEBOUNCE: Duration = Duration::from_millis(300);

pub fn spawn(registry: Arc<Registry>, shutdown: CancellationToken) -> anyhow::Result<()> {
    let root = registry.root().to_path_buf();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let watched_root = root.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(ev) = res
            && ev.paths.iter().any(|p| relevant(&watched_root, p))
        {
            let _ = tx.send(());
        }
    })?;
    for dir in ["workflows", "models", "llms", "nodes"] {
        let path = root.join(dir);
        if path.is_dir() {
            watcher.watch(&path, RecursiveMode::Recursive)?;
        }
    }
    watcher.watch(&root, RecursiveMode::NonRecursive)?;
    tracing::info!("watching {} for changes", root.display());
    tokio::spawn(async move {
        let _watcher = watcher; // dropped (stopping the watch) when this task ends
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                got = rx.recv() => if got.is_none() { return },
            }
            // Debounce: wait until no event arrived for a quiet period.
            while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
            match registry.reload().await {
                Ok(r) => tracing::info!(versions = r.versions, "project changed: reloaded"),
                Err(crate::versions::Error::Load(d)) => tracing::error!(
                    "project changed but has errors; the previous version keeps serving:\n{}",
                    d.render(registry.root())
                ),
                Err(e) => tracing::error!("reload failed: {e}"),
            }
        }
    });
    Ok(())
}

/// Project files only: not the store under `.weft/`, not editor swap files.
fn relevant(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    let first = rel
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let hidden = name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp");
    !hidden
        && (matches!(first, "workflows" | "models" | "llms" | "nodes")
            || matches!(name, "weft.yaml" | "weft.yml"))
}
