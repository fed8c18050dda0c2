//! The serde access types `NodeDe` hands to visitors: mappings, sequences, keys, located values
//! and enums.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::de::NodeDe;
use super::error::{DeError, Path, Problem};
use super::located::{LOCATED_FIELDS, LOCATED_MARKER};
use super::{Node, Pos, Value};

pub(super) struct MapDe<'a, 'p> {
    pub(super) entries: std::slice::Iter<'a, (Node, Node)>,
    pub(super) pending: Option<(&'a Node, String)>,
    pub(super) path: Path<'p>,
    pub(super) skip: &'a [&'a str],
}

impl<'a, 'p> MapAccess<'a> for MapDe<'a, 'p> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        for (k, v) in self.entries.by_ref() {
            let text = k.key_text().unwrap_or_default();
            if self.skip.contains(&text.as_str()) {
                continue;
            }
            let key_path = Path::Key(&self.path, &text);
            let key = seed
                .deserialize(KeyDe { node: k })
                .map_err(|e| e.at(k.pos, &key_path))?;
            self.pending = Some((v, text));
            return Ok(Some(key));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let (node, key) = self
            .pending
            .take()
            .ok_or_else(|| de::Error::custom("value without key"))?;
        let path = Path::Key(&self.path, &key);
        seed.deserialize(NodeDe {
            node,
            path,
            skip: &[],
        })
    }
}

pub(super) struct SeqDe<'a, 'p> {
    pub(super) items: std::iter::Enumerate<std::slice::Iter<'a, Node>>,
    pub(super) path: Path<'p>,
}

impl<'a, 'p> SeqAccess<'a> for SeqDe<'a, 'p> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some((i, node)) => {
                let path = Path::Index(&self.path, i);
                seed.deserialize(NodeDe {
                    node,
                    path,
                    skip: &[],
                })
                .map(Some)
            }
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// Map keys: any scalar, read as its text (`true:` → "true", `404:` → "404").
pub(super) struct KeyDe<'a> {
    pub(super) node: &'a Node,
}

impl<'de> Deserializer<'de> for KeyDe<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.key_text() {
            Some(text) => visitor.visit_string(text),
            None => Err(DeError::new(Problem::InvalidType {
                expected: "a scalar key".into(),
                found: self.node.describe(),
            })),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == LOCATED_MARKER {
            // A located key: the key's position, the key's text.
            let text = self.node.key_text().unwrap_or_default();
            return visitor.visit_map(LocatedKeyDe {
                pos: self.node.pos,
                text: Some(text),
                stage: 0,
            });
        }
        self.deserialize_any(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// Feeds `Located<T>`'s visitor: `$line`, `$col`, then `$value` (the node itself).
pub(super) struct LocatedDe<'a, 'p> {
    pub(super) de: Option<NodeDe<'a, 'p>>,
    pub(super) stage: u8,
}

impl<'a, 'p> MapAccess<'a> for LocatedDe<'a, 'p> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let key = match LOCATED_FIELDS.get(self.stage as usize) {
            Some(k) => *k,
            None => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        self.stage += 1;
        let de = self
            .de
            .as_ref()
            .ok_or_else(|| de::Error::custom("located value read twice"))?;
        match self.stage {
            1 => seed.deserialize(de.node.pos.line.into_deserializer()),
            2 => seed.deserialize(de.node.pos.col.into_deserializer()),
            _ => {
                let de = self
                    .de
                    .take()
                    .ok_or_else(|| de::Error::custom("located value read twice"))?;
                seed.deserialize(de)
            }
        }
    }
}

/// Feeds `Located<String>` for a mapping key.
pub(super) struct LocatedKeyDe {
    pub(super) pos: Pos,
    pub(super) text: Option<String>,
    pub(super) stage: u8,
}

impl<'a> MapAccess<'a> for LocatedKeyDe {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match LOCATED_FIELDS.get(self.stage as usize) {
            Some(k) => seed.deserialize((*k).into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        self.stage += 1;
        match self.stage {
            1 => seed.deserialize(self.pos.line.into_deserializer()),
            2 => seed.deserialize(self.pos.col.into_deserializer()),
            _ => {
                let text: de::value::StringDeserializer<DeError> =
                    self.text.take().unwrap_or_default().into_deserializer();
                seed.deserialize(text)
            }
        }
    }
}

pub(super) struct EnumDe<'a, 'p> {
    pub(super) tag: String,
    pub(super) value: Option<&'a Node>,
    pub(super) path: Path<'p>,
}

impl<'a, 'p> EnumAccess<'a> for EnumDe<'a, 'p> {
    type Error = DeError;
    type Variant = VariantDe<'a, 'p>;

    fn variant_seed<V: DeserializeSeed<'a>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let tag: de::value::StringDeserializer<DeError> = self.tag.clone().into_deserializer();
        let v = seed.deserialize(tag)?;
        Ok((
            v,
            VariantDe {
                value: self.value,
                path: self.path,
                tag: self.tag,
            },
        ))
    }
}

pub(super) struct VariantDe<'a, 'p> {
    pub(super) value: Option<&'a Node>,
    pub(super) path: Path<'p>,
    pub(super) tag: String,
}

impl<'a, 'p> VariantDe<'a, 'p> {
    fn inner<R>(self, f: impl FnOnce(NodeDe<'a, '_>) -> Result<R, DeError>) -> Result<R, DeError> {
        let node = self
            .value
            .ok_or_else(|| de::Error::custom(format!("`{}` needs a value", self.tag)))?;
        let path = Path::Key(&self.path, &self.tag);
        f(NodeDe {
            node,
            path,
            skip: &[],
        })
    }
}

impl<'a, 'p> VariantAccess<'a> for VariantDe<'a, 'p> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        match self.value {
            None
            | Some(Node {
                value: Value::Null, ..
            }) => Ok(()),
            Some(_) => Err(de::Error::custom(format!("`{}` takes no value", self.tag))),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'a>>(self, seed: T) -> Result<T::Value, DeError> {
        self.inner(|de| seed.deserialize(de))
    }

    fn tuple_variant<V: Visitor<'a>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.inner(|de| de.deserialize_seq(visitor))
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.inner(|de| de.deserialize_map(visitor))
    }
}
