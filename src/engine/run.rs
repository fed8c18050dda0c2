//! The run loop.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};
use uuid::Uuid;

use super::context::{self, keys};
use super::transaction::{RunTransaction, TransactionMode};
use super::{Context, Events, FailureKind, RunEvent, Services, StepFailure};
use crate::graph::{Target, Workflow};
use crate::steps::{Outcome, StepCx};

/// Runs workflows.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    services: Arc<Services>,
}

/// Per-run options.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The run id; a new UUID v7 when not given.
    pub run_id: Option<Uuid>,
    pub events: Events,
    /// Reserved keys the caller's layer sets (e.g. `_query` from HTTP).
    pub reserved: Map<String, Value>,
    /// The caller receives the run as a stream: steps that can stream (agent) emit tokens as
    /// they arrive instead of using their non-streaming API.
    pub stream: bool,
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct RunOutput {
    pub run_id: Uuid,
    pub context: Context,
    /// Steps executed.
    pub steps: u32,
}

impl RunOutput {
    /// The result: `_response` when a response step ran, else the public context.
    pub fn body(&self) -> Value {
        match self.context.get(keys::RESPONSE) {
            Some(v) => v.clone(),
            None => Value::Object(self.context.public()),
        }
    }

    /// The status a response step asked for (default 200).
    pub fn status(&self) -> u16 {
        self.context
            .get(keys::RESPONSE_STATUS)
            .and_then(Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .unwrap_or(200)
    }

    /// Headers a response step set.
    pub fn headers(&self) -> Vec<(String, String)> {
        match self.context.get(keys::RESPONSE_HEADERS) {
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Why a run failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunErrorCode {
    /// A step failed and no route handled the failure.
    StepFailed,
    /// The loop guard tripped.
    MaxStepsExceeded,
    /// The run reached a step kind this build does not implement.
    NotImplemented,
    /// Every step succeeded but the run's transaction (`transaction: run`) did not commit.
    CommitFailed,
}

impl RunErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            RunErrorCode::StepFailed => "step_failed",
            RunErrorCode::MaxStepsExceeded => "max_steps_exceeded",
            RunErrorCode::NotImplemented => "not_implemented",
            RunErrorCode::CommitFailed => "commit_failed",
        }
    }
}

/// A failed run, with the context as it was when it stopped.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{message}")]
pub struct RunError {
    pub run_id: Uuid,
    pub code: RunErrorCode,
    pub step: Option<Arc<str>>,
    pub failure: Option<StepFailure>,
    pub message: String,
    pub context: Context,
}

impl Engine {
    pub fn new(services: Arc<Services>) -> Self {
        Engine { services }
    }

    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// Runs `workflow` on `input` (keys starting with `_` are dropped: they belong to the engine).
    pub async fn run(
        &self,
        workflow: &Workflow,
        input: Map<String, Value>,
        mut opts: RunOptions,
    ) -> Result<RunOutput, RunError> {
        let run_id = opts.run_id.unwrap_or_else(Uuid::now_v7);
        let reserved = std::mem::take(&mut opts.reserved);
        let mut ctx = initial_context(workflow, input, run_id, reserved);
        let events = &opts.events;
        events.emit(|| RunEvent::RunStarted {
            run_id,
            workflow: workflow.name.clone(),
            version: workflow.version.clone(),
        });
        let started = Instant::now();
        let mut txn = (workflow.transaction == TransactionMode::Run)
            .then(|| RunTransaction::new(self.services.store.clone()));
        let looped = self
            .step_loop(workflow, &mut ctx, txn.as_mut(), &opts, run_id)
            .await;
        let stop = match (looped, txn) {
            (Ok(executed), txn) => match commit(txn).await {
                Ok(()) => {
                    events.emit(|| RunEvent::RunCompleted {
                        steps: executed,
                        duration: started.elapsed(),
                    });
                    return Ok(RunOutput {
                        run_id,
                        context: ctx,
                        steps: executed,
                    });
                }
                Err(e) => Box::new(Stop {
                    code: RunErrorCode::CommitFailed,
                    step: None,
                    failure: None,
                    message: format!("the run's transaction did not commit: {e}"),
                }),
            },
            (Err(stop), Some(txn)) => {
                if let Err(e) = txn.rollback().await {
                    tracing::warn!(run_id = %run_id, "rolling back the run's transaction failed: {e}");
                }
                stop
            }
            (Err(stop), None) => stop,
        };
        Err(fail(events, run_id, *stop, ctx))
    }

    /// Runs steps until END, or until a failure no route handles. Returns the steps executed.
    async fn step_loop(
        &self,
        workflow: &Workflow,
        ctx: &mut Context,
        mut txn: Option<&mut RunTransaction>,
        opts: &RunOptions,
        run_id: Uuid,
    ) -> Result<u32, Box<Stop>> {
        let events = &opts.events;
        let steps = &workflow.graph.steps;
        let mut index = 0usize;
        let mut executed: u32 = 0;
        loop {
            if executed >= workflow.max_steps {
                return Err(Box::new(Stop {
                    code: RunErrorCode::MaxStepsExceeded,
                    step: Some(steps[index].id.clone()),
                    failure: None,
                    message: format!(
                        "run exceeded max_steps ({}); a route loops without end — raise `spec.max_steps` if this is intended",
                        workflow.max_steps
                    ),
                }));
            }
            executed += 1;
            let step = &steps[index];
            events.emit(|| RunEvent::StepStarted {
                step: step.id.clone(),
                kind: step.kind.name(),
            });
            let step_started = Instant::now();
            let outcome = {
                let mut cx = StepCx {
                    ctx,
                    step_id: &step.id,
                    routes: &step.routes,
                    templates: &workflow.templates,
                    services: &self.services,
                    events,
                    run_id,
                    streaming: opts.stream,
                    transaction: txn.as_deref_mut(),
                };
                step.kind.run(&mut cx).await
            };
            let next = match outcome {
                Ok(Outcome::Signal(signal)) => {
                    let next = step.routes.after_signal(&signal);
                    events.emit(|| RunEvent::StepFinished {
                        step: step.id.clone(),
                        signal: signal.into_owned(),
                        duration: step_started.elapsed(),
                    });
                    next
                }
                Err(failure) => after_failure(step, failure, ctx, events, step_started)?,
            };
            match next {
                Target::Step(i) => index = i,
                Target::End => return Ok(executed),
            }
        }
    }
}

/// Where a failed step leads: its kind's route, else `error`, else the run stops.
fn after_failure(
    step: &crate::graph::Step,
    failure: StepFailure,
    ctx: &mut Context,
    events: &Events,
    started: Instant,
) -> Result<Target, Box<Stop>> {
    events.emit(|| RunEvent::StepFailed {
        step: step.id.clone(),
        kind: failure.kind.as_str(),
        message: failure.message.clone(),
        duration: started.elapsed(),
    });
    ctx.set_reserved(keys::LAST_ERROR, Value::String(failure.message.clone()));
    ctx.set_reserved(
        keys::LAST_ERROR_TYPE,
        Value::String(failure.kind.as_str().to_string()),
    );
    let routed = match failure.kind {
        // Not a step's fault: no error route can handle a missing feature.
        FailureKind::NotImplemented => None,
        kind => step.routes.after_failure(kind.as_str()),
    };
    routed.ok_or_else(|| {
        Box::new(Stop {
            code: if failure.kind == FailureKind::NotImplemented {
                RunErrorCode::NotImplemented
            } else {
                RunErrorCode::StepFailed
            },
            step: Some(step.id.clone()),
            message: format!(
                "step `{}` failed ({}): {}",
                step.id, failure.kind, failure.message
            ),
            failure: Some(failure),
        })
    })
}

/// Why a run stopped before END.
struct Stop {
    code: RunErrorCode,
    step: Option<Arc<str>>,
    failure: Option<StepFailure>,
    message: String,
}

async fn commit(txn: Option<RunTransaction>) -> Result<(), crate::store::Error> {
    match txn {
        Some(t) => t.commit().await,
        None => Ok(()),
    }
}

fn initial_context(
    workflow: &Workflow,
    input: Map<String, Value>,
    run_id: Uuid,
    reserved: Map<String, Value>,
) -> Context {
    // In place: the caller's map is reused (no rebuild, no rehash of every key).
    let mut map = input;
    map.retain(|k, _| !context::is_reserved(k));
    for (k, v) in reserved {
        if context::is_reserved(&k) {
            map.insert(k, v);
        }
    }
    map.insert(keys::RUN_ID.into(), Value::String(run_id.to_string()));
    map.insert(
        keys::WORKFLOW.into(),
        Value::String(workflow.name.to_string()),
    );
    map.insert(
        keys::VERSION.into(),
        Value::String(workflow.version.to_string()),
    );
    Context::new(map)
}

fn fail(events: &Events, run_id: Uuid, stop: Stop, context: Context) -> RunError {
    events.emit(|| RunEvent::RunFailed {
        code: stop.code.as_str(),
        step: stop.step.clone(),
        message: stop.message.clone(),
    });
    RunError {
        run_id,
        code: stop.code,
        step: stop.step,
        failure: stop.failure,
        message: stop.message,
        context,
    }
}
