//! The run's context: one JSON object. Keys starting with `_` are reserved for the engine
//! (`_last_error`, `_response`, `_run_id`, …): steps read them, only the engine writes them.

use std::sync::Arc;

use serde_json::{Map, Value};

/// Reserved keys the engine sets.
pub mod keys {
    pub const LAST_ERROR: &str = "_last_error";
    pub const LAST_ERROR_TYPE: &str = "_last_error_type";
    pub const RESPONSE: &str = "_response";
    pub const RESPONSE_STATUS: &str = "_response_status";
    pub const RESPONSE_HEADERS: &str = "_response_headers";
    pub const RUN_ID: &str = "_run_id";
    pub const WORKFLOW: &str = "_workflow";
    pub const VERSION: &str = "_version";
    pub const QUERY: &str = "_query";
    pub const API_STATUS_CODE: &str = "_api_status_code";
}

pub fn is_reserved(key: &str) -> bool {
    key.starts_with('_')
}

/// The context of one run. Cheap to render templates against: the map sits behind an `Arc` that
/// template views share, and writes copy it only if a view is still alive (they never are, since
/// rendering is synchronous).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    data: Arc<Map<String, Value>>,
}

impl Context {
    pub fn new(data: Map<String, Value>) -> Self {
        Context {
            data: Arc::new(data),
        }
    }

    /// The map, reserved keys included.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.data
    }

    pub(crate) fn shared(&self) -> &Arc<Map<String, Value>> {
        &self.data
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.data.get(key)
    }

    /// Looks up a dot path: `order.amount`, `items.0.name`.
    pub fn lookup(&self, path: &str) -> Option<&Value> {
        let mut parts = path.split('.');
        let first = parts.next()?;
        let mut cur = self.data.get(first)?;
        for part in parts {
            cur = child(cur, part)?;
        }
        Some(cur)
    }

    /// Sets a public key. Reserved keys are refused (returns false): a step's output can never
    /// overwrite what the engine owns.
    pub fn set(&mut self, key: impl Into<String>, value: Value) -> bool {
        let key = key.into();
        if is_reserved(&key) {
            return false;
        }
        Arc::make_mut(&mut self.data).insert(key, value);
        true
    }

    /// Sets a value at a dot path (`result.category`), creating objects on the way. Reserved
    /// first segments are refused.
    pub fn set_path(&mut self, path: &str, value: Value) -> bool {
        if !path.contains('.') {
            return self.set(path, value);
        }
        if is_reserved(path) {
            return false;
        }
        let mut parts = path.split('.').peekable();
        let map = Arc::make_mut(&mut self.data);
        let mut cur = map
            .entry(parts.next().unwrap_or_default().to_string())
            .or_insert(Value::Null);
        while let Some(part) = parts.next() {
            if !cur.is_object() {
                *cur = Value::Object(Map::new());
            }
            let obj = cur.as_object_mut().expect("just made an object");
            if parts.peek().is_none() {
                obj.insert(part.to_string(), value);
                return true;
            }
            cur = obj.entry(part.to_string()).or_insert(Value::Null);
        }
        true
    }

    /// Engine-only write of a reserved key.
    pub fn set_reserved(&mut self, key: &str, value: Value) {
        debug_assert!(is_reserved(key));
        Arc::make_mut(&mut self.data).insert(key.to_string(), value);
    }

    /// Merges public keys; reserved keys in `other` are ignored.
    pub fn merge(&mut self, other: Map<String, Value>) {
        let map = Arc::make_mut(&mut self.data);
        for (k, v) in other {
            if !is_reserved(&k) {
                map.insert(k, v);
            }
        }
    }

    /// Replaces the public part: keys `other` omits are removed, reserved keys are kept as they
    /// were (a node sees them but cannot change or remove them).
    pub fn replace_public(&mut self, other: Map<String, Value>) {
        let map = Arc::make_mut(&mut self.data);
        map.retain(|k, _| is_reserved(k));
        for (k, v) in other {
            if !is_reserved(&k) {
                map.insert(k, v);
            }
        }
    }

    /// The keys not starting with `_`.
    pub fn public(&self) -> Map<String, Value> {
        self.data
            .iter()
            .filter(|(k, _)| !is_reserved(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    pub fn into_map(self) -> Map<String, Value> {
        Arc::try_unwrap(self.data).unwrap_or_else(|arc| (*arc).clone())
    }
}

/// One dot-path step: an object key, or an array index.
pub fn child<'v>(v: &'v Value, part: &str) -> Option<&'v Value> {
    match v {
        Value::Object(m) => m.get(part),
        Value::Array(a) => a.get(part.parse::<usize>().ok()?),
        _ => None,
    }
}

/// Looks up a dot path inside any JSON value (`current.condition.text`, `items.0.title`).
pub fn lookup_path<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(v);
    }
    path.split('.').try_fold(v, child)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: Value) -> Context {
        Context::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn reserved_keys_are_protected() {
        let mut c = ctx(json!({"a": 1, "_run_id": "r"}));
        assert!(!c.set("_run_id", json!("x")));
        c.replace_public(
            json!({"b": 2, "_run_id": "evil"})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(c.as_map(), ctx(json!({"b": 2, "_run_id": "r"})).as_map());
        c.merge(json!({"_response": 1, "c": 3}).as_object().unwrap().clone());
        assert_eq!(c.get("_response"), None);
        assert_eq!(c.get("c"), Some(&json!(3)));
    }

    #[test]
    fn dot_paths_read_and_write() {
        let mut c = ctx(json!({"order": {"items": [{"name": "x"}]}}));
        assert_eq!(c.lookup("order.items.0.name"), Some(&json!("x")));
        assert_eq!(c.lookup("order.nope"), None);
        assert!(c.set_path("result.category", json!("spam")));
        assert_eq!(c.lookup("result.category"), Some(&json!("spam")));
        assert!(!c.set_path("_x.y", json!(1)));
    }
}
