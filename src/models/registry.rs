//! The declared models of a project: every (name, version) with its effective `enabled` flag,
//! and what workflows resolve through them — `"context"`/`"Model.variant"` schemas
//! ([`ModelSchemas`]) and the models `model-op` steps work on.

use std::collections::HashMap;
use std::sync::Arc;

use super::model::Model;
use super::spec::parse_model;
use super::types::RelationKind;
use crate::schema::{ModelSchemas, Schema, Variant};
use crate::spec::{Code, Diagnostic, Diagnostics, Document, Sink, did_you_mean};
use crate::store::Overrides;
use crate::versions::natural_cmp;

/// One model version and its effective flag.
#[derive(Clone, Debug)]
pub struct Entry {
    pub model: Arc<Model>,
    /// The admin's stored override, else the YAML flag.
    pub enabled: bool,
    /// Whether an admin override decides `enabled`.
    pub overridden: bool,
}

/// Every declared model version of a project. Immutable; a toggle or fork builds a new one.
#[derive(Debug, Default)]
pub struct Models {
    entries: Vec<Entry>,
    by_key: HashMap<(String, String), usize>,
}

/// Why a model reference does not resolve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unresolved {
    UnknownModel,
    UnknownVersion(Vec<String>),
    NoEnabledVersion,
}

impl Models {
    /// Reads every `ModelDefinition` document, applies the stored `overrides`, and checks what
    /// spans models: duplicate versions, relations, tables shared by versions.
    pub fn load(documents: &[Document], overrides: &Overrides, diags: &mut Diagnostics) -> Models {
        let mut models = Models::default();
        for doc in documents.iter().filter(|d| d.kind == "ModelDefinition") {
            let mut sink = Sink::new(&doc.file, diags);
            let Some(parts) = parse_model(doc, &mut sink) else {
                continue;
            };
            let key = (parts.name.clone(), parts.version.clone());
            if let Some(&first) = models.by_key.get(&key) {
                sink.push(duplicate(&parts.doc, &models.entries[first].model));
                continue;
            }
            let stored = overrides.get(&key).copied();
            models.by_key.insert(key, models.entries.len());
            models.entries.push(Entry {
                enabled: stored.unwrap_or(parts.enabled),
                overridden: stored.is_some(),
                model: Arc::new(Model::new(parts)),
            });
        }
        models.check_relations(diags);
        super::table::check_shared_tables(&models, diags);
        models
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, name: &str, version: &str) -> Option<&Entry> {
        self.by_key
            .get(&(name.to_string(), version.to_string()))
            .map(|&i| &self.entries[i])
    }

    /// The version a reference means: the pinned one (enabled or not: a pin is explicit), else
    /// the highest enabled version.
    pub fn resolve(&self, name: &str, version: Option<&str>) -> Result<&Arc<Model>, Unresolved> {
        let mut versions = self
            .entries
            .iter()
            .filter(|e| e.model.name == name)
            .peekable();
        if versions.peek().is_none() {
            return Err(Unresolved::UnknownModel);
        }
        match version {
            Some(v) => self.get(name, v).map(|e| &e.model).ok_or_else(|| {
                Unresolved::UnknownVersion(versions.map(|e| e.model.version.clone()).collect())
            }),
            None => versions
                .filter(|e| e.enabled)
                .max_by(|a, b| natural_cmp(&a.model.version, &b.model.version))
                .map(|e| &e.model)
                .ok_or(Unresolved::NoEnabledVersion),
        }
    }

    /// Whether `name` version `version` is what unpinned references use now.
    pub fn is_active(&self, name: &str, version: &str) -> bool {
        self.resolve(name, None).is_ok_and(|m| m.version == version)
    }

    /// Every model name, sorted, once.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.entries.iter().map(|e| e.model.name.clone()).collect();
        names.sort();
        names.dedup();
        names
    }

    /// A diagnostic explaining why `name`/`version` does not resolve.
    pub fn unresolved(&self, name: &str, version: Option<&str>, why: &Unresolved) -> Diagnostic {
        let names = self.names();
        match why {
            Unresolved::UnknownModel => {
                Diagnostic::error(Code::UnknownModel, format!("unknown model `{name}`"))
                    .expected(if names.is_empty() {
                        "a model declared in models/ (this project declares none)".to_string()
                    } else {
                        format!("one of {}", backticked(&names))
                    })
                    .maybe_help(did_you_mean(name, names.iter().map(String::as_str)))
            }
            Unresolved::UnknownVersion(known) => Diagnostic::error(
                Code::UnknownModel,
                format!(
                    "model `{name}` has no version `{}`",
                    version.unwrap_or_default()
                ),
            )
            .expected(format!("one of {}", backticked(known))),
            Unresolved::NoEnabledVersion => Diagnostic::error(
                Code::UnknownModel,
                format!("model `{name}` has no enabled version"),
            )
            .help(format!(
                "enable a version, or pin one: `context: {{models: [{{name: {name}, version: v1}}]}}`"
            )),
        }
    }

    fn check_relations(&self, diags: &mut Diagnostics) {
        for e in &self.entries {
            let m = &e.model;
            let mut sink = Sink::new(&m.doc.file, diags);
            for r in &m.relations {
                let target = match self.resolve(&r.model, r.version.as_deref()) {
                    Ok(t) => t,
                    Err(why) => {
                        let d = self.unresolved(&r.model, r.version.as_deref(), &why);
                        sink.push(d.at(r.model_pos).path(format!("{}.model", r.path)));
                        continue;
                    }
                };
                let (holder, key_of) = match r.kind {
                    RelationKind::OneToMany => (target, m),
                    RelationKind::ManyToOne => (m, target),
                };
                let key = key_of.primary_key();
                let fk = holder.field(&r.foreign_key);
                let hidden = r.kind == RelationKind::ManyToOne && fk.is_some_and(|f| f.secure);
                if fk.is_some_and(|f| f.ty.class() == key.ty.class()) && !hidden {
                    continue;
                }
                let found = match fk {
                    None => format!("no field `{}` in {}", r.foreign_key, holder.label()),
                    Some(f) if hidden => format!("`{}` is secure (never read back)", f.name),
                    Some(f) => format!("`{}` is a {}", f.name, f.ty.name()),
                };
                sink.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format!("relation `{}`: bad foreign key `{}`", r.name, r.foreign_key),
                    )
                    .at(r.foreign_key_pos)
                    .path(format!("{}.foreign_key", r.path))
                    .expected(format!(
                        "a `{}` field of {} holding the key `{}` of {}",
                        key.ty.name(),
                        holder.label(),
                        key.name,
                        key_of.label()
                    ))
                    .found(found),
                );
            }
        }
    }
}

impl ModelSchemas for Models {
    fn schema(&self, model: &str, version: Option<&str>, variant: Variant) -> Option<Arc<Schema>> {
        self.resolve(model, version)
            .ok()
            .map(|m| m.schema(variant).clone())
    }

    fn model_names(&self) -> Vec<String> {
        self.names()
    }
}

fn backticked(items: &[String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn duplicate(doc: &Document, first: &Model) -> Diagnostic {
    let meta = doc.node.get("metadata");
    let (pos, path) = match meta.and_then(|m| m.get("schema_version")) {
        Some(v) => (v.pos, "metadata.schema_version"),
        None => (
            meta.and_then(|m| m.get("name")).map_or(doc.pos, |n| n.pos),
            "metadata.name",
        ),
    };
    Diagnostic::error(
        Code::DuplicateVersion,
        format!(
            "model `{}` version `{}` is defined twice",
            first.name, first.version
        ),
    )
    .at(pos)
    .path(path)
    .help(format!(
        "first defined in {}; give each version its own `schema_version`",
        first.doc.file.display()
    ))
}
