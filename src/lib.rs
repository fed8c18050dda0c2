//! weft — a declarative YAML workflow engine.
//!
//! Authors write workflows as YAML; weft compiles each into a step graph and runs it with a
//! signal-routing interpreter, locally (`weft run`) or behind HTTP endpoints.
//!
//! # Layout
//! Data flows one way: text → typed spec → compiled graph → runs.
//! - [`spec`] — YAML → typed documents with positions; every problem as a `spec::Diagnostic`.
//! - [`graph`] — spec → compiled [`graph::Workflow`] (step indices, resolved routes, templates).
//! - [`engine`] — the interpreter, context, templating, run events.
//! - [`steps`] — one module per step kind, named as in YAML.
//! - [`models`] — declared data models (`models/`): tables, migrations, CRUD, schema variants.
//! - [`llm`] — LLM presets (`llms/`) and provider clients (OpenAI-compatible, Anthropic, Ollama).
//! - [`nodes`] — functional nodes — built-ins, Rust-registered ([`App`]), external programs.
//! - [`versions`] — which version of a workflow serves.
//! - [`project`] — loading a project directory end to end.
//! - [`config`] — `weft.yaml`.
//! - [`mcp`] — MCP client sessions (stdio, legacy SSE, streamable HTTP), pooled per server.
//! - [`cli`] — the command line (the binary edge).

pub mod app;
pub mod cli;
pub mod config;
pub mod engine;
pub mod graph;
pub mod http;
pub mod llm;
pub mod mcp;
pub mod models;
pub mod nodes;
pub mod project;
pub mod schema;
pub mod spec;
pub mod steps;
pub mod store;
pub mod versions;

pub use app::App;
pub use engine::{Engine, RunError, RunOptions, RunOutput};
pub use nodes::{NodeCall, NodeError, NodeOutput};
pub use project::{LoadError, Project};
