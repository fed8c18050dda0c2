//! The stable diagnostic codes: `W0001`… never change meaning, and each has a page in
//! `docs/errors/<ID>.md` (checked by `tests/docs.rs`). New codes are appended, never renumbered.

use serde::Serialize;

/// Stable diagnostic codes. The numeric id never changes meaning; `docs/errors/<ID>.md` explains
/// each one. New codes are appended, never renumbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Code {
    YamlSyntax,
    MissingField,
    WrongType,
    UnknownKey,
    UnknownDocumentKind,
    UnknownStepKind,
    DuplicateStepId,
    UnknownRouteTarget,
    UnreachableStep,
    UnknownRunner,
    DuplicateVersion,
    TriggerClash,
    ReservedPath,
    UnsetEnvVar,
    MissingKind,
    InvalidValue,
    NotImplementedKind,
    DuplicateNodeFile,
    TemplateSyntax,
    Io,
    EmptySteps,
    UnknownModel,
    UnknownLlmPreset,
    UnknownMcpServer,
    ModelMigration,
    UnknownMcpTool,
    McpUnreachable,
}

impl Code {
    /// Every code, in id order (used by the docs test that checks each has a page).
    pub const ALL: &'static [Code] = &[
        Code::YamlSyntax,
        Code::MissingField,
        Code::WrongType,
        Code::UnknownKey,
        Code::UnknownDocumentKind,
        Code::UnknownStepKind,
        Code::DuplicateStepId,
        Code::UnknownRouteTarget,
        Code::UnreachableStep,
        Code::UnknownRunner,
        Code::DuplicateVersion,
        Code::TriggerClash,
        Code::ReservedPath,
        Code::UnsetEnvVar,
        Code::MissingKind,
        Code::InvalidValue,
        Code::NotImplementedKind,
        Code::DuplicateNodeFile,
        Code::TemplateSyntax,
        Code::Io,
        Code::EmptySteps,
        Code::UnknownModel,
        Code::UnknownLlmPreset,
        Code::UnknownMcpServer,
        Code::ModelMigration,
        Code::UnknownMcpTool,
        Code::McpUnreachable,
    ];

    /// The stable id, e.g. `W0004`.
    pub fn id(self) -> &'static str {
        match self {
            Code::YamlSyntax => "W0001",
            Code::MissingField => "W0002",
            Code::WrongType => "W0003",
            Code::UnknownKey => "W0004",
            Code::UnknownDocumentKind => "W0005",
            Code::UnknownStepKind => "W0006",
            Code::DuplicateStepId => "W0007",
            Code::UnknownRouteTarget => "W0008",
            Code::UnreachableStep => "W0009",
            Code::UnknownRunner => "W0010",
            Code::DuplicateVersion => "W0011",
            Code::TriggerClash => "W0012",
            Code::ReservedPath => "W0013",
            Code::UnsetEnvVar => "W0014",
            Code::MissingKind => "W0015",
            Code::InvalidValue => "W0016",
            Code::NotImplementedKind => "W0017",
            Code::DuplicateNodeFile => "W0018",
            Code::TemplateSyntax => "W0019",
            Code::Io => "W0020",
            Code::EmptySteps => "W0021",
            Code::UnknownModel => "W0022",
            Code::UnknownLlmPreset => "W0023",
            Code::UnknownMcpServer => "W0024",
            Code::ModelMigration => "W0025",
            Code::UnknownMcpTool => "W0026",
            Code::McpUnreachable => "W0027",
        }
    }

    /// A short snake_case name, used in JSON output next to the id.
    pub fn name(self) -> &'static str {
        match self {
            Code::YamlSyntax => "yaml_syntax",
            Code::MissingField => "missing_field",
            Code::WrongType => "wrong_type",
            Code::UnknownKey => "unknown_key",
            Code::UnknownDocumentKind => "unknown_document_kind",
            Code::UnknownStepKind => "unknown_step_kind",
            Code::DuplicateStepId => "duplicate_step_id",
            Code::UnknownRouteTarget => "unknown_route_target",
            Code::UnreachableStep => "unreachable_step",
            Code::UnknownRunner => "unknown_runner",
            Code::DuplicateVersion => "duplicate_version",
            Code::TriggerClash => "trigger_clash",
            Code::ReservedPath => "reserved_path",
            Code::UnsetEnvVar => "unset_env_var",
            Code::MissingKind => "missing_kind",
            Code::InvalidValue => "invalid_value",
            Code::NotImplementedKind => "not_implemented_kind",
            Code::DuplicateNodeFile => "duplicate_node_file",
            Code::TemplateSyntax => "template_syntax",
            Code::Io => "io",
            Code::EmptySteps => "empty_steps",
            Code::UnknownModel => "unknown_model",
            Code::UnknownLlmPreset => "unknown_llm_preset",
            Code::UnknownMcpServer => "unknown_mcp_server",
            Code::ModelMigration => "model_migration",
            Code::UnknownMcpTool => "unknown_mcp_tool",
            Code::McpUnreachable => "mcp_unreachable",
        }
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}
