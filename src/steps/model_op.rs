//! `kind: model-op` (alias `ModelOp`) — create, read, list, update or delete records of a
//! declared model, without writing a node.
//!
//! ```yaml
//! - id: fetch_candidate
//!   kind: model-op
//!   model: Candidate                  # declared in the workflow's `context`
//!   operation: read                   # create | read | list | update | delete
//!   record_id: "{{ candidate_id }}"   # read, update, delete
//!   include: "education"              # read, list: relations, one query each
//!   output: candidate                 # default: <step id>_result
//! ```
//!
//! `payload` (create, update) is a mapping with templated values or one `"{{ template }}"`
//! yielding an object (without it: the context's keys that are fields of the model); `filters` (list) an equality mapping with templated values; `limit`
//! (default 100, at most 1000), `offset` and `order_by` (`field` or `-field`) shape a list.
//! Results: the record (read variant) for create/read/update, a list for list, and
//! `{"deleted": true, "id": …}` for delete. Signal `default` on success; failures `not_found`,
//! `conflict` (unique violation), `validation` (every bad field in the details) and `database`.
//!
//! Writes go to the run's transaction when the workflow has `transaction: run` (inside a
//! savepoint, so a failed step leaves it usable), else straight to the store (each operation
//! is one statement, atomic on its own). Checks at load time live in `model_op/compile.rs`.

mod compile;

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{CompileCx, DEFAULT, Outcome, StepCx};
use crate::engine::{FailureKind, StepFailure, Template, TemplatedValue};
use crate::models::{self, Db, Include, ListQuery, Model, crud};
use crate::spec::{Located, Node, StepSpec};

pub const DEFAULT_LIMIT: u64 = 100;
pub const MAX_LIMIT: u64 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Spec {
    model: Located<String>,
    operation: Located<Operation>,
    #[serde(default)]
    payload: Option<Node>,
    #[serde(default)]
    record_id: Option<Node>,
    #[serde(default)]
    filters: Option<Node>,
    #[serde(default)]
    include: Option<Located<String>>,
    #[serde(default)]
    limit: Option<Node>,
    #[serde(default)]
    offset: Option<Node>,
    #[serde(default)]
    order_by: Option<Located<String>>,
    #[serde(default)]
    output: Option<Located<String>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Operation {
    Create,
    Read,
    List,
    Update,
    Delete,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::List => "list",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// A number given as is or as a template (`limit`, `offset`).
#[derive(Debug)]
enum Amount {
    Fixed(u64),
    Template(Template),
}

#[derive(Debug)]
enum Op {
    Create {
        /// `None`: the context's keys that are fields of the model.
        payload: Option<TemplatedValue>,
    },
    Read {
        id: TemplatedValue,
        include: Vec<Include>,
    },
    List {
        /// (index of the field in the model, value).
        filters: Vec<(usize, TemplatedValue)>,
        include: Vec<Include>,
        limit: Amount,
        offset: Amount,
        /// (index of the field, descending).
        order: Option<(usize, bool)>,
    },
    Update {
        id: TemplatedValue,
        payload: Option<TemplatedValue>,
    },
    Delete {
        id: TemplatedValue,
    },
}

#[derive(Debug)]
pub struct ModelOp {
    model: Arc<Model>,
    op: Op,
    output: String,
}

/// An operation with its templates rendered.
enum Input {
    Create(Map<String, Value>),
    Read(Value),
    List {
        filters: Vec<(usize, Value)>,
        limit: u32,
        offset: u64,
    },
    Update(Value, Map<String, Value>),
    Delete(Value),
}

impl ModelOp {
    pub fn compile(step: &StepSpec, cx: &mut CompileCx<'_, '_>) -> Option<Self> {
        compile::compile(step, cx)
    }

    pub async fn run(&self, cx: &mut StepCx<'_>) -> Result<Outcome, StepFailure> {
        let input = self.render(cx)?;
        tracing::debug!(step = %cx.step_id, model = %self.model.name, version = %self.model.version, operation = self.op_name(), "model-op");
        let value = match cx.transaction.as_deref_mut() {
            Some(run) => {
                let tx = run.get().await.map_err(|e| database(e.to_string()))?;
                let mut savepoint = tx.savepoint().await.map_err(|e| database(e.to_string()))?;
                let result = self.execute(&mut Db::new(savepoint.conn()), input).await;
                let end = match result {
                    Ok(_) => savepoint.commit().await,
                    Err(_) => savepoint.rollback().await,
                };
                end.map_err(|e| database(e.to_string()))?;
                result
            }
            None => {
                let store = cx.services.store.as_ref().ok_or_else(|| {
                    database("no database is connected: model-op steps run under `weft serve` or `weft run`".into())
                })?;
                let mut conn = store.acquire().await.map_err(|e| database(e.to_string()))?;
                self.execute(&mut Db::new(conn.conn()), input).await
            }
        };
        let value = value.map_err(|e| self.failure(e))?;
        cx.ctx.set_path(&self.output, value);
        Ok(Outcome::Signal(DEFAULT))
    }

    fn op_name(&self) -> &'static str {
        match self.op {
            Op::Create { .. } => "create",
            Op::Read { .. } => "read",
            Op::List { .. } => "list",
            Op::Update { .. } => "update",
            Op::Delete { .. } => "delete",
        }
    }

    fn render(&self, cx: &StepCx<'_>) -> Result<Input, StepFailure> {
        Ok(match &self.op {
            Op::Create { payload } => Input::Create(self.payload(cx, payload.as_ref())?),
            Op::Read { id, .. } => Input::Read(cx.render_value(id)?),
            Op::List {
                filters,
                limit,
                offset,
                ..
            } => Input::List {
                filters: filters
                    .iter()
                    .map(|(f, v)| Ok((*f, cx.render_value(v)?)))
                    .collect::<Result<_, StepFailure>>()?,
                limit: amount(cx, limit, "limit", 1, MAX_LIMIT)? as u32,
                offset: amount(cx, offset, "offset", 0, i64::MAX as u64)?,
            },
            Op::Update { id, payload } => {
                Input::Update(cx.render_value(id)?, self.payload(cx, payload.as_ref())?)
            }
            Op::Delete { id } => Input::Delete(cx.render_value(id)?),
        })
    }

    /// The payload: rendered (it must be an object), or without one the context's keys that
    /// name fields of the model (what `input_schema: context` validated).
    fn payload(
        &self,
        cx: &StepCx<'_>,
        payload: Option<&TemplatedValue>,
    ) -> Result<Map<String, Value>, StepFailure> {
        match payload {
            Some(p) => self.object(cx.render_value(p)?),
            None => Ok(self
                .model
                .fields
                .iter()
                .filter_map(|f| Some((f.name.clone(), cx.ctx.get(&f.name)?.clone())))
                .collect()),
        }
    }

    /// A rendered payload must be an object.
    fn object(&self, v: Value) -> Result<Map<String, Value>, StepFailure> {
        match v {
            Value::Object(m) => Ok(m),
            other => Err(StepFailure::new(
                FailureKind::Validation,
                format!(
                    "the payload for `{}` must be an object, not {}",
                    self.model.name,
                    crate::schema::describe(&other)
                ),
            )
            .with_details(serde_json::json!([{"field": "(payload)", "expected": "an object", "found": crate::schema::describe(&other)}]))),
        }
    }

    async fn execute(&self, db: &mut Db<'_>, input: Input) -> Result<Value, models::Error> {
        let m = &*self.model;
        Ok(match (&self.op, input) {
            (_, Input::Create(payload)) => Value::Object(crud::create(db, m, &payload).await?),
            (Op::Read { include, .. }, Input::Read(id)) => {
                Value::Object(crud::read(db, m, id, include).await?)
            }
            (
                Op::List { include, order, .. },
                Input::List {
                    filters,
                    limit,
                    offset,
                },
            ) => {
                let q = ListQuery {
                    filters: filters
                        .into_iter()
                        .map(|(i, v)| (&m.fields[i], v))
                        .collect(),
                    order: order.map(|(i, desc)| (&m.fields[i], desc)),
                    limit,
                    offset,
                };
                let records = crud::list(db, m, q, include).await?;
                Value::Array(records.into_iter().map(Value::Object).collect())
            }
            (_, Input::Update(id, payload)) => {
                Value::Object(crud::update(db, m, id, &payload).await?)
            }
            (_, Input::Delete(id)) => crud::delete(db, m, id).await?,
            (_, Input::Read(_) | Input::List { .. }) => {
                return Err(models::Error::Database(
                    "operation and input disagree".into(),
                ));
            }
        })
    }

    fn failure(&self, e: models::Error) -> StepFailure {
        let what = format!("{} `{}`", self.op_name(), self.model.name);
        match e {
            models::Error::NotFound(m) => StepFailure::new(FailureKind::NotFound, m),
            models::Error::Conflict { message, fields } => {
                StepFailure::new(FailureKind::Conflict, message)
                    .with_details(serde_json::json!({ "fields": fields }))
            }
            models::Error::Validation(errors) => {
                let message = format!("{what}: {}", models::Error::Validation(errors.clone()));
                StepFailure::new(FailureKind::Validation, message)
                    .with_details(serde_json::to_value(errors).unwrap_or(Value::Null))
            }
            models::Error::Database(m) => database(format!("{what}: {m}")),
        }
    }
}

fn database(message: String) -> StepFailure {
    StepFailure::new(FailureKind::Database, message)
}

/// A rendered `limit`/`offset`, within bounds.
fn amount(cx: &StepCx<'_>, a: &Amount, name: &str, min: u64, max: u64) -> Result<u64, StepFailure> {
    let t = match a {
        Amount::Fixed(n) => return Ok(*n),
        Amount::Template(t) => t,
    };
    let v = t.render_value(cx.templates, cx.ctx).map_err(|e| {
        StepFailure::new(
            FailureKind::Template,
            format!("step `{}`: {}", cx.step_id, e.message),
        )
    })?;
    let n = match &v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    n.filter(|n| (min..=max).contains(n)).ok_or_else(|| {
        let expected = format!("an integer from {min} to {max}");
        StepFailure::new(
            FailureKind::Validation,
            format!("`{name}` must be {expected}, not {}", crate::schema::describe(&v)),
        )
        .with_details(serde_json::json!([{"field": name, "expected": expected, "found": crate::schema::describe(&v)}]))
    })
}
