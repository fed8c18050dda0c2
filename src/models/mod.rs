//! Declared data models: `kind: ModelDefinition` documents → tables, validated CRUD, relations,
//! and the `create`/`read`/`update`/`expanded` schema variants triggers and `model-op` steps
//! use. Knows nothing about HTTP or workflows.
//!
//! - `spec.rs` reads the documents (positioned diagnostics); `types.rs`, `model.rs` are what a
//!   model is; `registry.rs` holds every (name, version) with its enabled flag and implements
//!   [`crate::schema::ModelSchemas`].
//! - `table.rs` derives the table each model needs, `ddl.rs` writes it per backend,
//!   `migrate.rs` diffs it against what was applied and applies or refuses the change.
//! - `value.rs` converts JSON ↔ SQL per column type, `validate.rs` checks payloads, `sql.rs`
//!   writes statements, `exec.rs` runs them, `crud.rs` and `relations.rs` are the operations.

pub mod crud;
pub mod ddl;
pub mod exec;
pub mod migrate;
pub mod model;
pub mod registry;
pub mod relations;
pub mod spec;
pub mod sql;
pub mod table;
pub mod types;
pub mod validate;
pub mod value;

pub use crud::ListQuery;
pub use exec::Db;
pub use model::Model;
pub use registry::{Entry, Models, Unresolved};
pub use relations::Include;

use crate::schema::FieldError;

/// Why a model operation failed. Messages never contain the value of a secure field.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// No record with that key.
    #[error("{0}")]
    NotFound(String),
    /// A unique field (or the key) already has that value.
    #[error("{message}")]
    Conflict {
        message: String,
        fields: Vec<String>,
    },
    /// The payload (or a key or filter) does not fit the model; every bad field is named.
    #[error("{}", validation_message(.0))]
    Validation(Vec<FieldError>),
    #[error("database error: {0}")]
    Database(String),
}

fn validation_message(errors: &[FieldError]) -> String {
    let fields: Vec<String> = errors.iter().map(|e| format!("`{}`", e.field)).collect();
    format!("{} invalid field(s): {}", errors.len(), fields.join(", "))
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Self {
        Error::Database(e.to_string())
    }
}
