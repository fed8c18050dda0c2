//! `weft serve`: every enabled workflow version as an HTTP endpoint.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use tokio_util::sync::CancellationToken;

use super::ProjectArg;
use crate::App;
use crate::config::{DEFAULT_ADDR, DEFAULT_BODY_LIMIT, ServeOptions, resolve};
use crate::http::AppState;
use crate::versions::Registry;

#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// Address to listen on (default 127.0.0.1:8080, or `server.addr` in weft.yaml).
    #[arg(long, env = "WEFT_ADDR")]
    pub addr: Option<String>,
    /// Database URL: sqlite://PATH or postgres://… (default: sqlite://<project>/.weft/weft.db).
    #[arg(long, env = "WEFT_DATABASE_URL")]
    pub database: Option<String>,
    /// Reload the project when its files change.
    #[arg(long)]
    pub watch: bool,
}

pub async fn run(args: Args, app: App) -> anyhow::Result<i32> {
    let Some((root, config)) = args.project.open()? else {
        return Ok(1);
    };
    let opts = ServeOptions {
        addr: resolve(args.addr, config.server.addr.as_ref(), || {
            DEFAULT_ADDR.into()
        })
        .parse::<SocketAddr>()
        .context("the listen address must be HOST:PORT, e.g. 127.0.0.1:8080")?,
        database_url: resolve(args.database, config.database.url.as_ref(), || {
            crate::config::default_database_url(&root)
        }),
        body_limit: config.server.body_limit.map_or(DEFAULT_BODY_LIMIT, |b| b.0),
    };
    let Some((registry, app)) = super::open_registry(&root, &opts.database_url, app).await? else {
        return Ok(1);
    };
    log_triggers(&registry);
    let admin_token = std::env::var("WEFT_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let loopback = opts.addr.ip().is_loopback();
    if admin_token.is_none() && !loopback {
        tracing::warn!(
            "WEFT_ADMIN_TOKEN is not set and the address is not loopback: the admin API answers 403"
        );
    }
    let registry = Arc::new(registry);
    let state = AppState {
        registry: registry.clone(),
        engine: app.engine(),
        body_limit: opts.body_limit,
        admin_token,
        loopback,
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    if args.watch {
        super::watch::spawn(registry.clone(), shutdown.clone())?;
    }
    let listener = tokio::net::TcpListener::bind(opts.addr)
        .await
        .with_context(|| format!("cannot listen on {}", opts.addr))?;
    tracing::info!(
        "weft listening on http://{} (store: {})",
        listener.local_addr()?,
        redact(&opts.database_url)
    );
    let served = crate::http::serve_on(listener, state, shutdown).await;
    // MCP stdio servers the runs started are children of this process: stop and reap them.
    app.services().shutdown().await;
    if let Err(e) = served {
        bail!("server error: {e}");
    }
    registry.store().close().await;
    tracing::info!("stopped");
    Ok(0)
}

fn log_triggers(registry: &Registry) {
    let snap = registry.snapshot();
    for e in snap.entries() {
        let w = &e.workflow;
        match &w.trigger {
            Some(t) if snap.is_serving(&w.name, &w.version) => {
                tracing::info!("{} {} → {} {}", t.method, t.path, w.name, w.version)
            }
            Some(t) => tracing::info!(
                "{} {} · {} {} (staged: {})",
                t.method,
                t.path,
                w.name,
                w.version,
                if e.enabled {
                    "lower version"
                } else {
                    "disabled"
                }
            ),
            None => tracing::info!(
                "{} {} has no trigger (POST /workflows/{}/versions/{}/run)",
                w.name,
                w.version,
                w.name,
                w.version
            ),
        }
    }
}

/// Hides a password in a database URL for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

async fn stop_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    token.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: finishing in-flight requests");
    token.cancel();
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("sqlite:///x/y.db"), "sqlite:///x/y.db");
    }
}
