//! Wrappers that carry positions through serde: `Located<T>` (a value and where it was written),
//! `Pairs<K, V>` (a mapping in written order), and `Node` itself as a field type (a raw subtree,
//! positions kept). Only [`super::from_node`] fills positions; it recognises the marker names.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{Node, Pos, Value};

// ---------------------------------------------------------------------------------------------
// Located<T>: a value with its position, for semantic checks after deserialization.

pub(super) const LOCATED_MARKER: &str = "$weft::Located";
pub(super) const LOCATED_FIELDS: &[&str] = &["$line", "$col", "$value"];
pub(super) const NODE_MARKER: &str = "$weft::Node";
pub(super) const NODE_SLOT: &str = "$weft::node-slot";

/// A deserialized value and where it was written. Only [`from_node`] fills the position; other
/// deserializers are not supported for this type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Located<T> {
    pub value: T,
    pub pos: Pos,
}

impl<T> Located<T> {
    pub fn new(value: T, pos: Pos) -> Self {
        Located { value, pos }
    }
}

impl<T> std::ops::Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Serialize> Serialize for Located<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Located<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a located value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Located<T>, A::Error> {
                let mut line = 0u32;
                let mut col = 0u32;
                let mut value = None;
                while let Some(key) = a.next_key::<String>()? {
                    match key.as_str() {
                        "$line" => line = a.next_value()?,
                        "$col" => col = a.next_value()?,
                        _ => value = Some(a.next_value()?),
                    }
                }
                let value =
                    value.ok_or_else(|| de::Error::custom("located value without value"))?;
                Ok(Located {
                    value,
                    pos: Pos::new(line, col),
                })
            }
        }
        d.deserialize_struct(LOCATED_MARKER, LOCATED_FIELDS, V(std::marker::PhantomData))
    }
}

/// A mapping read in the order written (serde maps into `Vec` need a sequence).
#[derive(Clone, Debug, PartialEq)]
pub struct Pairs<K, V>(pub Vec<(K, V)>);

impl<K, V> Default for Pairs<K, V> {
    fn default() -> Self {
        Pairs(Vec::new())
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Pairs<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<K, V>(std::marker::PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for Vis<K, V> {
            type Value = Pairs<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = a.next_key()? {
                    out.push((k, a.next_value()?));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(Vis(std::marker::PhantomData))
    }
}

thread_local! {
    /// Hands a whole subtree from the deserializer to `Node::deserialize` without copying it
    /// through serde's data model (which would drop positions).
    pub(super) static NODE_HANDOFF: RefCell<Option<Node>> = const { RefCell::new(None) };
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Node, E> {
                if s == NODE_SLOT
                    && let Some(node) = NODE_HANDOFF.with(|h| h.borrow_mut().take())
                {
                    return Ok(node);
                }
                Ok(Node::new(Pos::default(), Value::Str(s.to_string())))
            }
        }
        d.deserialize_struct(NODE_MARKER, &[], V)
    }
}
