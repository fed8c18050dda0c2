//! Reads `kind: ModelDefinition` documents: the envelope, each field and each relation, with a
//! positioned diagnostic for every problem (a broken field is reported and skipped; the rest of
//! the document is still checked).

use serde::Deserialize;

use super::model::Parts;
use super::types::{
    Audit, ColumnType, DefaultValue, Field, Relation, RelationKind, snake_case, valid_identifier,
};
use crate::spec::yaml::{Value as Y, from_node};
use crate::spec::{Code, Diagnostic, Document, Located, Metadata, Node, Pos, Sink, quote_list};

/// Tables weft itself keeps in the store; models cannot use their names.
pub const RESERVED_TABLES: &[&str] = &[
    "weft_migrations",
    "workflow_versions",
    "model_versions",
    "model_tables",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[allow(dead_code)]
    kind: String,
    /// Accepted and ignored, as in workflows.
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<Node>,
    metadata: Metadata,
    #[serde(default)]
    enabled: Option<bool>,
    spec: Body,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    #[serde(default)]
    tablename: Option<Located<String>>,
    fields: Node,
    #[serde(default)]
    relations: Option<Node>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldSpec {
    name: Located<String>,
    #[serde(rename = "type")]
    ty: Located<String>,
    #[serde(default)]
    primary_key: bool,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    index: bool,
    #[serde(default)]
    secure: bool,
    #[serde(default)]
    default: Option<Node>,
    #[serde(default)]
    enum_values: Option<Located<Vec<String>>>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelationSpec {
    name: Located<String>,
    model: Located<String>,
    foreign_key: Located<String>,
    #[serde(rename = "type")]
    kind: Located<RelationKind>,
    #[serde(default)]
    version: Option<Located<String>>,
    #[serde(default)]
    #[allow(dead_code)]
    description: Option<String>,
}

/// Reads one document; `None` after reporting what makes it unusable.
pub fn parse_model(doc: &Document, sink: &mut Sink<'_>) -> Option<Parts> {
    let env: Envelope = sink.ok(from_node(&doc.node, ""))?;
    let errors_before = sink.error_count();
    let name = env.metadata.name;
    if !valid_identifier(&name.value) {
        sink.push(identifier_error("model name", &name, "metadata.name"));
    }
    let table = match env.spec.tablename {
        Some(t) => {
            check_table_name(&t, sink);
            t.value
        }
        None => snake_case(&name.value),
    };
    let mut fields = parse_fields(&env.spec.fields, sink);
    let pk = primary_key(&mut fields, &env.spec.fields, sink);
    let relations = parse_relations(env.spec.relations.as_ref(), &fields, sink);
    let pk = pk.filter(|_| sink.error_count() == errors_before)?;
    let version = env
        .metadata
        .schema_version
        .map_or_else(|| "v1".to_string(), |v| v.value);
    Some(Parts {
        name: name.value,
        version,
        description: env.metadata.description,
        enabled: env.enabled.unwrap_or(true),
        table,
        fields,
        pk,
        relations,
        doc: doc.clone(),
    })
}

fn identifier_error(what: &str, v: &Located<String>, path: &str) -> Diagnostic {
    Diagnostic::error(Code::InvalidValue, format!("invalid {what} `{}`", v.value))
        .at(v.pos)
        .path(path)
        .expected("letters, digits and `_`, not starting with a digit, at most 63 bytes")
}

fn check_table_name(t: &Located<String>, sink: &mut Sink<'_>) {
    if !valid_identifier(&t.value) {
        sink.push(identifier_error("table name", t, "spec.tablename"));
    } else if RESERVED_TABLES.contains(&t.value.as_str()) {
        sink.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("table `{}` is one of weft's own tables", t.value),
            )
            .at(t.pos)
            .path("spec.tablename")
            .expected(format!("a name other than {}", quote_list(RESERVED_TABLES))),
        );
    }
}

fn parse_fields(node: &Node, sink: &mut Sink<'_>) -> Vec<Field> {
    let Some(items) = node.as_seq().filter(|s| !s.is_empty()) else {
        sink.push(
            Diagnostic::error(
                Code::WrongType,
                "a model needs a non-empty list of `fields`",
            )
            .at(node.pos)
            .path("spec.fields")
            .expected("a list of `{name, type}` fields")
            .found(node.describe()),
        );
        return Vec::new();
    };
    let mut fields: Vec<Field> = Vec::with_capacity(items.len());
    // Every name read, even of fields with other problems, so duplicates are always caught.
    let mut seen: Vec<Located<String>> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("spec.fields[{i}]");
        let Some(spec) = sink.ok(from_node::<FieldSpec>(item, &path)) else {
            continue;
        };
        if let Some(first) = seen.iter().find(|f| f.value == spec.name.value) {
            sink.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("field `{}` is declared twice", spec.name.value),
                )
                .at(spec.name.pos)
                .path(format!("{path}.name"))
                .help(format!("the first is at line {}", first.pos.line)),
            );
            continue;
        }
        seen.push(spec.name.clone());
        if let Some(f) = read_field(spec, &path, sink) {
            fields.push(f);
        }
    }
    fields
}

fn read_field(spec: FieldSpec, path: &str, sink: &mut Sink<'_>) -> Option<Field> {
    let mut ok = true;
    if !valid_identifier(&spec.name.value) {
        sink.push(identifier_error(
            "field name",
            &spec.name,
            &format!("{path}.name"),
        ));
        ok = false;
    }
    let Some(ty) = ColumnType::parse(&spec.ty.value) else {
        sink.push(
            Diagnostic::unknown(
                Code::InvalidValue,
                "field type",
                &spec.ty.value,
                ColumnType::NAMES,
            )
            .at(spec.ty.pos)
            .path(format!("{path}.type")),
        );
        return None;
    };
    let enum_values = enum_values(&spec, ty, path, sink)?;
    let audit = match (spec.name.value.as_str(), ty) {
        ("created_at", ColumnType::Timestamp | ColumnType::Timestamptz | ColumnType::Date) => {
            Some(Audit::Created)
        }
        ("updated_at", ColumnType::Timestamp | ColumnType::Timestamptz | ColumnType::Date) => {
            Some(Audit::Updated)
        }
        _ => None,
    };
    let mut field = Field {
        name: spec.name.value,
        ty,
        enum_values,
        primary_key: spec.primary_key,
        required: spec.required,
        unique: spec.unique,
        index: spec.index,
        secure: spec.secure,
        default: None,
        audit,
        description: spec.description,
        pos: spec.name.pos,
        path: path.to_string(),
        type_pos: spec.ty.pos,
    };
    if let Some(d) = &spec.default {
        field.default = Some(read_default(d, &field, path, sink)?);
    }
    ok.then_some(field)
}

fn enum_values(
    spec: &FieldSpec,
    ty: ColumnType,
    path: &str,
    sink: &mut Sink<'_>,
) -> Option<Vec<String>> {
    match (&spec.enum_values, ty) {
        (Some(v), ColumnType::Enum) if !v.value.is_empty() => Some(v.value.clone()),
        (Some(v), ColumnType::Enum) => {
            sink.push(
                Diagnostic::error(Code::InvalidValue, "`enum_values` is empty")
                    .at(v.pos)
                    .path(format!("{path}.enum_values"))
                    .expected("at least one value"),
            );
            None
        }
        (None, ColumnType::Enum) => {
            sink.push(
                Diagnostic::error(
                    Code::MissingField,
                    format!("enum field `{}` needs `enum_values`", spec.name.value),
                )
                .at(spec.ty.pos)
                .path(path)
                .expected("`enum_values: [a, b, …]`"),
            );
            None
        }
        (Some(v), _) => {
            sink.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "`enum_values` only applies to `type: enum`, not `{}`",
                        ty.name()
                    ),
                )
                .at(v.pos)
                .path(format!("{path}.enum_values"))
                .help("use `type: enum`, or remove `enum_values`"),
            );
            None
        }
        (None, _) => Some(Vec::new()),
    }
}

/// `uuid4`, `now`, `today` for the types they fit; anything else is a literal of the field's
/// type.
fn read_default(node: &Node, f: &Field, path: &str, sink: &mut Sink<'_>) -> Option<DefaultValue> {
    let generator = match (&node.value, f.ty) {
        (Y::Str(s), ColumnType::Uuid | ColumnType::String | ColumnType::Text) if s == "uuid4" => {
            Some(DefaultValue::Uuid4)
        }
        (Y::Str(s), ColumnType::Timestamp | ColumnType::Timestamptz) if s == "now" => {
            Some(DefaultValue::Now)
        }
        (Y::Str(s), ColumnType::Date) if s == "today" || s == "now" => Some(DefaultValue::Today),
        _ => None,
    };
    if generator.is_some() {
        return generator;
    }
    let value = node.to_json();
    let ty = f.field_type();
    let fits = ty.accepts(&value)
        && (!matches!(f.ty, ColumnType::Integer | ColumnType::BigInt) || value.is_i64());
    if !fits {
        let generators = match f.ty {
            ColumnType::Uuid | ColumnType::String | ColumnType::Text => " or `uuid4`",
            ColumnType::Timestamp | ColumnType::Timestamptz => " or `now`",
            ColumnType::Date => " or `today`",
            _ => "",
        };
        sink.push(
            Diagnostic::error(
                Code::InvalidValue,
                format!("the default of `{}` does not fit its type", f.name),
            )
            .at(node.pos)
            .path(format!("{path}.default"))
            .expected(format!("{ty}{generators}"))
            .found(node.describe()),
        );
        return None;
    }
    Some(DefaultValue::Literal(value))
}

/// Index of the primary key: the one field marked `primary_key`, or an `id` UUID added first
/// when none is.
fn primary_key(fields: &mut Vec<Field>, node: &Node, sink: &mut Sink<'_>) -> Option<usize> {
    let keys: Vec<usize> = (0..fields.len())
        .filter(|&i| fields[i].primary_key)
        .collect();
    match keys.as_slice() {
        [] if fields.iter().any(|f| f.name == "id") => {
            let f = fields.iter().find(|f| f.name == "id")?;
            sink.push(
                Diagnostic::error(Code::InvalidValue, "no field is the `primary_key`")
                    .at(f.pos)
                    .path("spec.fields")
                    .help("mark one field `primary_key: true` (e.g. `id`)"),
            );
            None
        }
        [] => {
            fields.insert(0, implicit_id(node.pos));
            Some(0)
        }
        [one] => check_key(&fields[*one], sink).then_some(*one),
        [_, second, ..] => {
            let f = &fields[*second];
            sink.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!("`{}` is a second primary key", f.name),
                )
                .at(f.pos)
                .path("spec.fields")
                .expected(
                    "exactly one `primary_key: true` field (composite keys are not supported)",
                ),
            );
            None
        }
    }
}

fn check_key(f: &Field, sink: &mut Sink<'_>) -> bool {
    let bad = if !matches!(
        f.ty,
        ColumnType::Uuid
            | ColumnType::Integer
            | ColumnType::BigInt
            | ColumnType::String
            | ColumnType::Text
    ) {
        Some(format!("a primary key cannot be of type `{}`", f.ty.name()))
    } else if f.secure {
        Some("a primary key cannot be `secure`".to_string())
    } else {
        None
    };
    if let Some(message) = &bad {
        sink.push(
            Diagnostic::error(Code::InvalidValue, message.clone())
                .at(f.pos)
                .path("spec.fields")
                .expected("a `uuid`, `integer`, `bigint` or `string` key that is not secure"),
        );
    }
    bad.is_none()
}

fn implicit_id(pos: Pos) -> Field {
    Field {
        name: "id".into(),
        ty: ColumnType::Uuid,
        enum_values: Vec::new(),
        primary_key: true,
        required: false,
        unique: false,
        index: false,
        secure: false,
        default: None,
        audit: None,
        description: Some("generated UUID (v7)".into()),
        pos,
        path: "spec.fields".into(),
        type_pos: pos,
    }
}

fn parse_relations(node: Option<&Node>, fields: &[Field], sink: &mut Sink<'_>) -> Vec<Relation> {
    let Some(node) = node.filter(|n| n.value != Y::Null) else {
        return Vec::new();
    };
    let Some(items) = node.as_seq() else {
        sink.push(
            Diagnostic::error(Code::WrongType, "`relations` must be a list")
                .at(node.pos)
                .path("spec.relations")
                .expected("a list of `{name, model, foreign_key, type}`")
                .found(node.describe()),
        );
        return Vec::new();
    };
    let mut out: Vec<Relation> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("spec.relations[{i}]");
        let Some(r) = sink.ok(from_node::<RelationSpec>(item, &path)) else {
            continue;
        };
        let taken = fields.iter().any(|f| f.name == r.name.value)
            || out.iter().any(|o| o.name == r.name.value);
        if taken || !valid_identifier(&r.name.value) {
            sink.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    format!(
                        "relation name `{}` is invalid or already used",
                        r.name.value
                    ),
                )
                .at(r.name.pos)
                .path(format!("{path}.name"))
                .expected("an identifier no field or other relation of this model uses"),
            );
            continue;
        }
        if !valid_identifier(&r.foreign_key.value) {
            sink.push(identifier_error(
                "foreign key",
                &r.foreign_key,
                &format!("{path}.foreign_key"),
            ));
            continue;
        }
        out.push(Relation {
            name: r.name.value,
            kind: r.kind.value,
            model: r.model.value,
            version: r.version.map(|v| v.value),
            foreign_key: r.foreign_key.value,
            pos: r.name.pos,
            model_pos: r.model.pos,
            foreign_key_pos: r.foreign_key.pos,
            path,
        });
    }
    out
}
