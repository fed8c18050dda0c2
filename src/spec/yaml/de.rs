//! The serde `Deserializer` over a [`Node`] tree: every error is stamped with the position and
//! JSON path of the innermost node that caused it.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::access::{EnumDe, LocatedDe, MapDe, SeqDe};
use super::error::{DeError, Path, Problem, describe_expected};
use super::located::{LOCATED_MARKER, NODE_HANDOFF, NODE_MARKER, NODE_SLOT};
use super::{Node, Value};

// ---------------------------------------------------------------------------------------------
// The deserializer

/// Deserializes `T` from `node`; `path` is the JSON path of `node` in its document (for messages).
pub fn from_node<'a, T: Deserialize<'a>>(node: &'a Node, path: &str) -> Result<T, DeError> {
    T::deserialize(NodeDe {
        node,
        path: Path::Root(path),
        skip: &[],
    })
}

/// Like [`from_node`] for a mapping, ignoring the keys in `skip` (read separately, e.g. a step's
/// common `id`/`kind`/`routes` before its kind-specific fields).
pub fn from_map_without<'a, T: Deserialize<'a>>(
    node: &'a Node,
    path: &str,
    skip: &'a [&'a str],
) -> Result<T, DeError> {
    T::deserialize(NodeDe {
        node,
        path: Path::Root(path),
        skip,
    })
}

pub(super) struct NodeDe<'a, 'p> {
    pub(super) node: &'a Node,
    pub(super) path: Path<'p>,
    pub(super) skip: &'a [&'a str],
}

impl<'a, 'p> NodeDe<'a, 'p> {
    fn invalid_type(&self, exp: &dyn de::Expected) -> DeError {
        DeError::new(Problem::InvalidType {
            expected: describe_expected(exp),
            found: self.node.describe(),
        })
        .at(self.node.pos, &self.path)
    }

    fn visit_map<V: Visitor<'a>>(
        self,
        entries: &'a [(Node, Node)],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let access = MapDe {
            entries: entries.iter(),
            pending: None,
            path: self.path,
            skip: self.skip,
        };
        visitor
            .visit_map(access)
            .map_err(|e| e.at(self.node.pos, &self.path))
    }

    fn visit_seq<V: Visitor<'a>>(self, items: &'a [Node], visitor: V) -> Result<V::Value, DeError> {
        let access = SeqDe {
            items: items.iter().enumerate(),
            path: self.path,
        };
        visitor
            .visit_seq(access)
            .map_err(|e| e.at(self.node.pos, &self.path))
    }

    fn wrap<R>(&self, r: Result<R, DeError>) -> Result<R, DeError> {
        r.map_err(|e| e.at(self.node.pos, &self.path))
    }

    fn plain_text(&self) -> Option<&'a str> {
        self.node.plain.as_deref()
    }
}

macro_rules! forward_int {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
            match &self.node.value {
                Value::Int(i) => self.wrap(visitor.visit_i64(*i)),
                _ => Err(self.invalid_type(&visitor)),
            }
        }
    )*};
}

impl<'a, 'p> Deserializer<'a> for NodeDe<'a, 'p> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.wrap(visitor.visit_unit()),
            Value::Bool(b) => self.wrap(visitor.visit_bool(*b)),
            Value::Int(i) => self.wrap(visitor.visit_i64(*i)),
            Value::Float(f) => self.wrap(visitor.visit_f64(*f)),
            Value::Str(s) => self.wrap(visitor.visit_borrowed_str(s)),
            Value::Seq(items) => self.visit_seq(items, visitor),
            Value::Map(entries) => self.visit_map(entries, visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Bool(b) => self.wrap(visitor.visit_bool(*b)),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    forward_int!(deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8
        deserialize_u16 deserialize_u32 deserialize_u64 deserialize_i128 deserialize_u128);

    fn deserialize_f32<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Int(i) => self.wrap(visitor.visit_f64(*i as f64)),
            Value::Float(f) => self.wrap(visitor.visit_f64(*f)),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_char<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(s) => self.wrap(visitor.visit_borrowed_str(s)),
            // A plain scalar read as a string keeps its verbatim text (`v: 1.10` → "1.10").
            Value::Int(_) | Value::Float(_) | Value::Bool(_) => match self.plain_text() {
                Some(text) => self.wrap(visitor.visit_borrowed_str(text)),
                None => {
                    let text = self.node.scalar_text();
                    self.wrap(visitor.visit_string(text))
                }
            },
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_string<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.wrap(visitor.visit_none()),
            _ => {
                let (pos, path) = (self.node.pos, self.path);
                visitor.visit_some(self).map_err(|e| e.at(pos, &path))
            }
        }
    }

    fn deserialize_unit<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Null => self.wrap(visitor.visit_unit()),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (pos, path) = (self.node.pos, self.path);
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| e.at(pos, &path))
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Seq(items) => self.visit_seq(items, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Map(entries) => self.visit_map(entries, visitor),
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == LOCATED_MARKER {
            let (pos, path) = (self.node.pos, self.path);
            let access = LocatedDe {
                de: Some(self),
                stage: 0,
            };
            return visitor.visit_map(access).map_err(|e| e.at(pos, &path));
        }
        if name == NODE_MARKER {
            NODE_HANDOFF.with(|h| *h.borrow_mut() = Some(self.node.clone()));
            return visitor.visit_str(NODE_SLOT);
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Str(_) | Value::Bool(_) | Value::Int(_) => {
                let tag = self.node.key_text().unwrap_or_default();
                let access = EnumDe {
                    tag,
                    value: None,
                    path: self.path,
                };
                self.wrap(visitor.visit_enum(access))
            }
            Value::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                let tag = k.key_text().unwrap_or_default();
                let access = EnumDe {
                    tag,
                    value: Some(v),
                    path: self.path,
                };
                self.wrap(visitor.visit_enum(access))
            }
            _ => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_identifier<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.key_text() {
            Some(text) => self.wrap(visitor.visit_string(text)),
            None => Err(self.invalid_type(&visitor)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}
