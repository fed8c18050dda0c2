//! One declared model version and its four schema variants.

use std::sync::Arc;

use super::types::{Field, Relation, RelationKind};
use crate::schema::{self, FieldType, Schema, Variant};
use crate::spec::Document;

/// A `kind: ModelDefinition` document, checked.
#[derive(Debug)]
pub struct Model {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    /// `enabled` as written in the YAML (an admin toggle may override it).
    pub enabled: bool,
    pub table: String,
    pub fields: Vec<Field>,
    /// Index of the primary key in `fields`.
    pub pk: usize,
    pub relations: Vec<Relation>,
    /// The document as written, with its file.
    pub doc: Document,
    variants: Variants,
}

#[derive(Debug)]
struct Variants {
    create: Arc<Schema>,
    read: Arc<Schema>,
    update: Arc<Schema>,
    expanded: Arc<Schema>,
}

/// A model's parts before its variants are derived.
pub struct Parts {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    pub enabled: bool,
    pub table: String,
    pub fields: Vec<Field>,
    pub pk: usize,
    pub relations: Vec<Relation>,
    pub doc: Document,
}

impl Model {
    pub fn new(p: Parts) -> Model {
        let variants = Variants {
            create: Arc::new(create_schema(&p.name, &p.fields)),
            read: Arc::new(read_schema(&p.name, &p.fields, &[], "read")),
            update: Arc::new(update_schema(&p.name, &p.fields)),
            expanded: Arc::new(read_schema(&p.name, &p.fields, &p.relations, "expanded")),
        };
        Model {
            name: p.name,
            version: p.version,
            description: p.description,
            enabled: p.enabled,
            table: p.table,
            fields: p.fields,
            pk: p.pk,
            relations: p.relations,
            doc: p.doc,
            variants,
        }
    }

    pub fn schema(&self, variant: Variant) -> &Arc<Schema> {
        match variant {
            Variant::Create => &self.variants.create,
            Variant::Read => &self.variants.read,
            Variant::Update => &self.variants.update,
            Variant::Expanded => &self.variants.expanded,
        }
    }

    pub fn primary_key(&self) -> &Field {
        &self.fields[self.pk]
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn relation(&self, name: &str) -> Option<&Relation> {
        self.relations.iter().find(|r| r.name == name)
    }

    /// The fields a read returns (every field but the secure ones), in declaration order.
    pub fn readable(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter().filter(|f| !f.secure)
    }

    /// `Candidate v2`, for messages.
    pub fn label(&self) -> String {
        format!("`{}` version `{}`", self.name, self.version)
    }
}

/// Whether a create payload may set this field (audit fields and database-numbered keys are
/// weft's).
pub fn writable_on_create(f: &Field) -> bool {
    f.audit.is_none() && !f.identity()
}

/// Whether an update payload may set this field (not the key, not audit fields).
pub fn writable_on_update(f: &Field) -> bool {
    f.audit.is_none() && !f.primary_key
}

fn schema_field(f: &Field, required: bool, with_default: bool) -> schema::Field {
    let default = match (&f.default, with_default) {
        (Some(super::types::DefaultValue::Literal(v)), true) => Some(v.clone()),
        _ => None,
    };
    schema::Field {
        name: f.name.clone(),
        ty: f.field_type(),
        required,
        default,
        description: f.description.clone(),
        secure: f.secure,
    }
}

fn create_schema(model: &str, fields: &[Field]) -> Schema {
    let fields = fields
        .iter()
        .filter(|f| writable_on_create(f))
        .map(|f| {
            let required = !f.nullable() && f.default.is_none() && !f.generated_key();
            schema_field(f, required, true)
        })
        .collect();
    Schema {
        name: format!("{model}.create"),
        fields,
    }
}

fn update_schema(model: &str, fields: &[Field]) -> Schema {
    let fields = fields
        .iter()
        .filter(|f| writable_on_update(f))
        .map(|f| schema_field(f, false, false))
        .collect();
    Schema {
        name: format!("{model}.update"),
        fields,
    }
}

fn read_schema(model: &str, fields: &[Field], relations: &[Relation], variant: &str) -> Schema {
    let mut out: Vec<schema::Field> = fields
        .iter()
        .filter(|f| !f.secure)
        .map(|f| schema_field(f, !f.nullable(), false))
        .collect();
    out.extend(relations.iter().map(|r| schema::Field {
        name: r.name.clone(),
        ty: match r.kind {
            RelationKind::OneToMany => FieldType::Array,
            RelationKind::ManyToOne => FieldType::Object,
        },
        required: false,
        default: None,
        description: Some(format!("related `{}` record(s)", r.model)),
        secure: false,
    }));
    Schema {
        name: format!("{model}.{variant}"),
        fields: out,
    }
}
