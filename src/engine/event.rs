//! Run events: one stream that feeds `--trace`, SSE, the run journal, logs and metrics.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Something that happened in a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum RunEvent {
    RunStarted {
        run_id: Uuid,
        workflow: Arc<str>,
        version: Arc<str>,
    },
    StepStarted {
        step: Arc<str>,
        kind: &'static str,
    },
    StepFinished {
        step: Arc<str>,
        signal: String,
        #[serde(with = "micros")]
        duration: Duration,
    },
    StepFailed {
        step: Arc<str>,
        kind: &'static str,
        message: String,
        #[serde(with = "micros")]
        duration: Duration,
    },
    /// A streamed chunk of LLM output.
    Token {
        step: Arc<str>,
        text: String,
    },
    /// LLM usage for one call.
    Usage {
        step: Arc<str>,
        model: String,
        prompt_tokens: Option<u64>,
        completion_tokens: Option<u64>,
        #[serde(with = "micros")]
        latency: Duration,
    },
    /// A retry is about to happen after `wait`.
    Retrying {
        step: Arc<str>,
        attempt: u32,
        kind: &'static str,
        #[serde(with = "micros")]
        wait: Duration,
    },
    RunCompleted {
        steps: u32,
        #[serde(with = "micros")]
        duration: Duration,
    },
    RunFailed {
        code: &'static str,
        step: Option<Arc<str>>,
        message: String,
    },
}

mod micros {
    use serde::Serializer;
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_micros() as u64)
    }
}

/// Where a run's events go; nowhere by default (then no event is even built).
#[derive(Clone, Debug, Default)]
pub struct Events {
    tx: Option<mpsc::UnboundedSender<RunEvent>>,
}

impl Events {
    pub fn none() -> Self {
        Events { tx: None }
    }

    /// A sink and the receiving end of its events.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<RunEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Events { tx: Some(tx) }, rx)
    }

    pub fn enabled(&self) -> bool {
        self.tx.is_some()
    }

    /// Emits the event `make` builds, building it only when someone listens.
    pub fn emit(&self, make: impl FnOnce() -> RunEvent) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(make());
        }
    }
}
