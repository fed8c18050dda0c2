//! The session pool: one [`Entry`] per server definition, each with at most one live session.
//!
//! Connecting runs in a spawned task that stores its result in the entry, so a caller that gives
//! up (its step timed out) never cancels a start that others are waiting for. A session that died
//! is replaced on next use, after a backoff that grows with consecutive failures and resets once
//! a call succeeds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use serde_json::{Map, Value};

use super::{Error, Server, Session, ToolOutput};
use crate::engine::retry::Backoff;

/// Restart waits: 0.5 s, 1 s, 2 s, … up to 30 s, with jitter.
const RESTART_BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(500),
    cap: Duration::from_secs(30),
};

/// Entries nobody holds are dropped (their sessions closed) beyond this many.
const MAX_IDLE_ENTRIES: usize = 32;

type Connecting = Shared<BoxFuture<'static, Result<Arc<Session>, Error>>>;

/// Every MCP session of the process.
#[derive(Debug)]
pub struct Pool {
    http: reqwest::Client,
    entries: Mutex<HashMap<Server, Arc<Entry>>>,
}

/// One server definition and its session.
pub struct Entry {
    server: Server,
    label: String,
    http: reqwest::Client,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    current: Option<Arc<Session>>,
    connecting: Option<Connecting>,
    /// Consecutive failed starts and deaths since the last successful call.
    failures: u32,
    last_failure: Option<Instant>,
    last_used: Option<Instant>,
    shut_down: bool,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("server", &self.label)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool whose legacy-SSE connections use `http`.
    pub fn new(http: reqwest::Client) -> Self {
        Pool {
            http,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<Server, Arc<Entry>>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The entry for `server`, created on first use. `label` names it in messages (the first
    /// label given wins).
    pub fn entry(&self, server: &Server, label: &str) -> Arc<Entry> {
        let mut entries = self.entries();
        if let Some(e) = entries.get(server) {
            return e.clone();
        }
        evict_idle(&mut entries);
        let entry = Arc::new(Entry {
            server: server.clone(),
            label: label.to_string(),
            http: self.http.clone(),
            state: Mutex::new(State::default()),
        });
        entries.insert(server.clone(), entry.clone());
        entry
    }

    /// Closes every session and waits for stdio children to exit. Later calls fail with
    /// [`Error::ShutDown`].
    pub async fn shutdown(&self) {
        let entries: Vec<Arc<Entry>> = self.entries().drain().map(|(_, e)| e).collect();
        let sessions: Vec<Arc<Session>> = entries.iter().filter_map(|e| e.shut_down()).collect();
        futures::future::join_all(sessions.iter().map(|s| s.close())).await;
    }
}

/// Drops the least recently used entries that no compiled step holds.
fn evict_idle(entries: &mut HashMap<Server, Arc<Entry>>) {
    let mut idle: Vec<(Option<Instant>, Server)> = entries
        .iter()
        .filter(|(_, e)| Arc::strong_count(e) == 1)
        .map(|(k, e)| (e.lock().last_used, k.clone()))
        .collect();
    if idle.len() < MAX_IDLE_ENTRIES {
        return;
    }
    idle.sort_by_key(|(used, _)| *used);
    for (_, key) in idle.into_iter().take(MAX_IDLE_ENTRIES / 2) {
        if let Some(entry) = entries.remove(&key)
            && let Some(session) = entry.shut_down()
        {
            // Loading a project may happen outside a runtime; then dropping the session kills
            // its process group (see `Session`'s `Drop`).
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move { session.close().await });
            }
        }
    }
}

impl Entry {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// The live session, starting (or restarting) it when needed.
    pub async fn session(self: &Arc<Self>) -> Result<Arc<Session>, Error> {
        let connecting = {
            let mut st = self.lock();
            if st.shut_down {
                return Err(Error::ShutDown);
            }
            st.last_used = Some(Instant::now());
            if let Some(s) = st.current.clone() {
                if s.is_alive() {
                    return Ok(s);
                }
                tracing::info!(target: "weft::mcp", server = %self.label, "MCP session ended; restarting");
                Self::retire(&mut st);
            }
            match &st.connecting {
                Some(c) => c.clone(),
                None => {
                    let c = self.start(&st);
                    st.connecting = Some(c.clone());
                    c
                }
            }
        };
        connecting.await
    }

    /// Spawns a start after the backoff the failure count calls for.
    fn start(self: &Arc<Self>, st: &State) -> Connecting {
        let wait = RESTART_BACKOFF.wait_before(st.failures + 1, None);
        let delay = wait.saturating_sub(st.last_failure.map_or(wait, |t| t.elapsed()));
        let entry = self.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let result = Session::connect(&entry.server, &entry.label, &entry.http)
                .await
                .map(Arc::new);
            entry.connected(&result);
            result
        });
        let label = self.label.clone();
        async move {
            task.await.unwrap_or_else(|e| {
                Err(Error::Connect {
                    server: label,
                    message: format!("start aborted: {e}"),
                })
            })
        }
        .boxed()
        .shared()
    }

    fn connected(&self, result: &Result<Arc<Session>, Error>) {
        let mut st = self.lock();
        st.connecting = None;
        match result {
            Ok(s) if st.shut_down => {
                let s = s.clone();
                tokio::spawn(async move { s.close().await });
            }
            Ok(s) => st.current = Some(s.clone()),
            Err(e) => {
                tracing::warn!(target: "weft::mcp", server = %self.label, "{e}");
                st.failures += 1;
                st.last_failure = Some(Instant::now());
            }
        }
    }

    /// Forgets a dead session (closing what is left of it) and counts the failure.
    fn retire(st: &mut State) {
        if let Some(old) = st.current.take() {
            tokio::spawn(async move { old.close().await });
        }
        st.failures += 1;
        st.last_failure = Some(Instant::now());
    }

    /// Calls `tool` within `timeout` (which covers waiting for the session to start).
    pub async fn call_tool(
        self: &Arc<Self>,
        tool: &str,
        arguments: Map<String, Value>,
        timeout: Duration,
    ) -> Result<ToolOutput, Error> {
        let attempt = async {
            let session = self.session().await?;
            let result = session.call(tool, arguments).await;
            self.record(&session, &result);
            result
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .unwrap_or(Err(Error::Timeout(timeout)))
    }

    /// The server's tool names, within `timeout`.
    pub async fn tools(self: &Arc<Self>, timeout: Duration) -> Result<Vec<String>, Error> {
        let attempt = async { self.session().await?.tools().await };
        tokio::time::timeout(timeout, attempt)
            .await
            .unwrap_or(Err(Error::Timeout(timeout)))
    }

    /// A call that worked proves the session healthy; a broken connection retires it.
    fn record(&self, session: &Arc<Session>, result: &Result<ToolOutput, Error>) {
        let mut st = self.lock();
        let is_current = st.current.as_ref().is_some_and(|c| Arc::ptr_eq(c, session));
        match result {
            Err(Error::Transport { .. }) if is_current => Self::retire(&mut st),
            Err(Error::Transport { .. }) => {}
            _ => st.failures = 0,
        }
    }

    /// Marks the entry shut down and hands back its session to close.
    fn shut_down(&self) -> Option<Arc<Session>> {
        let mut st = self.lock();
        st.shut_down = true;
        st.connecting = None;
        st.current.take()
    }
}
