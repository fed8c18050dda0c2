//! The project config, `weft.yaml` at the project root. No `kind`; each section belongs to the
//! part of weft that uses it, and unknown sections are errors.

use serde::Deserialize;

/// `weft.yaml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {}
