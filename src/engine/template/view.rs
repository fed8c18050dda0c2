//! Lazy minijinja views of the run's JSON context: a template reads only the keys it touches,
//! nested objects and arrays are read in place, and nothing is converted up front.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value as MjValue};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Lazy views of JSON for minijinja

/// The root context as a minijinja map object.
#[derive(Debug)]
pub(super) struct ContextView(Arc<Map<String, Value>>);

impl ContextView {
    pub(super) fn new(root: Arc<Map<String, Value>>) -> Self {
        ContextView(root)
    }
}

impl Object for ContextView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let key = key.as_str()?;
        let v = self.0.get(key)?;
        Some(wrap(v, || JsonView {
            root: self.0.clone(),
            path: vec![Seg::Key(key.into())],
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(self.0.keys().map(|k| MjValue::from(k.as_str())).collect())
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.0.len())
    }
}

#[derive(Debug, Clone)]
enum Seg {
    Key(Arc<str>),
    Index(usize),
}

/// A nested object or array inside the context, read in place.
#[derive(Debug)]
struct JsonView {
    root: Arc<Map<String, Value>>,
    path: Vec<Seg>,
}

impl JsonView {
    fn resolve(&self) -> Option<&Value> {
        let mut segs = self.path.iter();
        let mut cur = match segs.next()? {
            Seg::Key(k) => self.root.get(&**k)?,
            Seg::Index(_) => return None,
        };
        for seg in segs {
            cur = match (seg, cur) {
                (Seg::Key(k), Value::Object(m)) => m.get(&**k)?,
                (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    fn child(&self, seg: Seg) -> JsonView {
        let mut path = self.path.clone();
        path.push(seg);
        JsonView {
            root: self.root.clone(),
            path,
        }
    }
}

impl Object for JsonView {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.resolve() {
            Some(Value::Array(_)) => ObjectRepr::Seq,
            _ => ObjectRepr::Map,
        }
    }

    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        match self.resolve()? {
            Value::Object(m) => {
                let k = key.as_str()?;
                let v = m.get(k)?;
                Some(wrap(v, || self.child(Seg::Key(k.into()))))
            }
            Value::Array(a) => {
                let i = key.as_i64()?;
                let i = if i < 0 {
                    a.len().checked_sub(i.unsigned_abs() as usize)?
                } else {
                    i as usize
                };
                let v = a.get(i)?;
                Some(wrap(v, || self.child(Seg::Index(i))))
            }
            _ => None,
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        match self.resolve() {
            Some(Value::Object(m)) => {
                Enumerator::Values(m.keys().map(|k| MjValue::from(k.as_str())).collect())
            }
            Some(Value::Array(a)) => Enumerator::Seq(a.len()),
            _ => Enumerator::Empty,
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        match self.resolve() {
            Some(Value::Object(m)) => Some(m.len()),
            Some(Value::Array(a)) => Some(a.len()),
            _ => Some(0),
        }
    }
}

/// Scalars become minijinja values directly; objects and arrays become lazy views.
fn wrap(v: &Value, view: impl FnOnce() -> JsonView) -> MjValue {
    match v {
        Value::Null => MjValue::from(()),
        Value::Bool(b) => MjValue::from(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                MjValue::from(i)
            } else if let Some(u) = n.as_u64() {
                MjValue::from(u)
            } else {
                MjValue::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => MjValue::from(s.as_str()),
        Value::Array(_) | Value::Object(_) => MjValue::from_object(view()),
    }
}
