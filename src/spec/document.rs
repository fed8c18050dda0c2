//! One YAML document of a project file, before it is read as a workflow, model or preset.

use std::path::PathBuf;

use serde::Deserialize;

use super::yaml::{Located, Node, Pos};

/// A document with its origin. `node` has `${VAR}` expanded; `text` is the document as written,
/// which is what gets stored or copied (so secrets never land in the database or forked files).
#[derive(Clone, Debug)]
pub struct Document {
    pub kind: String,
    /// Path relative to the project root.
    pub file: PathBuf,
    /// Index of the document within its file (0-based).
    pub index: usize,
    pub pos: Pos,
    pub node: Node,
    pub text: String,
}

/// `metadata:` of a versioned document (workflows and models): identity is
/// (`name`, `schema_version`, default `v1`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub name: Located<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub schema_version: Option<Located<String>>,
}
