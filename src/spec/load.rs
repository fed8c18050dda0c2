//! Walks a project directory and reads every document in it.
//!
//! A project is `workflows/`, `models/`, `llms/` (YAML, recursively), `nodes/` (external node
//! programs) and an optional `weft.yaml`. Nothing else is read, so example projects, docs and test
//! fixtures elsewhere in a repository are never loaded by accident.

use std::path::{Path, PathBuf};

use crate::config::ProjectConfig;

use super::diagnostic::{Code, Diagnostic, Diagnostics, did_you_mean};
use super::document::Document;
use super::interpolate::{Env, expand_node};
use super::workflow::{WorkflowSpec, parse_workflow};
use super::yaml::{Node, Pos, Value, from_node, parse_documents, split_document_texts};
use super::{Sink, de_error_to_diagnostic};

/// Directories whose YAML documents are loaded.
pub const DOCUMENT_DIRS: &[&str] = &["workflows", "models", "llms"];

/// Document kinds weft knows.
pub const DOCUMENT_KINDS: &[&str] = &["Workflow", "ModelDefinition", "AgentModel"];

/// Everything read from a project, before compilation.
#[derive(Debug, Default)]
pub struct ProjectSpec {
    pub root: PathBuf,
    pub config: ProjectConfig,
    pub workflows: Vec<WorkflowSpec>,
    /// Documents of the other kinds (`ModelDefinition`, `AgentModel`), read by their own layers.
    pub documents: Vec<Document>,
    pub node_files: Vec<NodeFile>,
}

/// An external node program in `nodes/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeFile {
    pub runner: String,
    /// Absolute path.
    pub path: PathBuf,
    /// The interpreter to run it with (`python3`, `node`, `bash`), or none for an executable.
    pub interpreter: Option<&'static str>,
}

/// Loads a project. Always returns what could be read, plus every problem found.
pub fn load_project(root: &Path, env: &dyn Env) -> (ProjectSpec, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut project = ProjectSpec {
        root: root.to_path_buf(),
        ..Default::default()
    };
    if !root.is_dir() {
        diags.push(Diagnostic::error(
            Code::Io,
            format!("project directory `{}` does not exist", root.display()),
        ));
        return (project, diags);
    }
    project.config = load_config(root, env, &mut diags);
    for dir in DOCUMENT_DIRS {
        for file in yaml_files(&root.join(dir)) {
            load_file(root, &file, env, &mut project, &mut diags);
        }
    }
    project.node_files = node_files(root, &mut diags);
    (project, diags)
}

fn relative(root: &Path, file: &Path) -> PathBuf {
    file.strip_prefix(root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| file.to_path_buf())
}

/// Reads `weft.yaml` alone (commands need the database URL before loading the whole project).
pub fn load_config(root: &Path, env: &dyn Env, diags: &mut Diagnostics) -> ProjectConfig {
    let candidates = [root.join("weft.yaml"), root.join("weft.yml")];
    let Some(file) = candidates.iter().find(|p| p.is_file()) else {
        return ProjectConfig::default();
    };
    let rel = relative(root, file);
    let mut sink = Sink::new(&rel, diags);
    let Some(mut docs) = read_documents(file, &mut sink) else {
        return ProjectConfig::default();
    };
    let Some((mut node, _)) = docs.pop() else {
        return ProjectConfig::default();
    };
    for d in expand_node(&mut node, env) {
        sink.push(d);
    }
    if node.value == Value::Null {
        return ProjectConfig::default();
    }
    sink.ok(from_node(&node, "")).unwrap_or_default()
}

/// Parses a file into (node, text-as-written) per document; `None` after reporting a problem.
fn read_documents(file: &Path, sink: &mut Sink<'_>) -> Option<Vec<(Node, String)>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            sink.push(Diagnostic::error(
                Code::Io,
                format!("cannot read file: {e}"),
            ));
            return None;
        }
    };
    let nodes = match parse_documents(&text) {
        Ok(n) => n,
        Err(e) => {
            sink.push(
                Diagnostic::error(Code::YamlSyntax, format!("invalid YAML: {}", e.message))
                    .at(e.pos)
                    .expected("well-formed YAML"),
            );
            return None;
        }
    };
    let texts = split_document_texts(&text, nodes.len()).unwrap_or_else(|| {
        if nodes.len() == 1 {
            vec![text.clone()]
        } else {
            vec![String::new(); nodes.len()]
        }
    });
    Some(nodes.into_iter().zip(texts).collect())
}

/// Reads one file's documents into `project` (workflows parsed, other kinds kept).
pub fn load_file(
    root: &Path,
    file: &Path,
    env: &dyn Env,
    project: &mut ProjectSpec,
    diags: &mut Diagnostics,
) {
    let rel = relative(root, file);
    let mut sink = Sink::new(&rel, diags);
    let Some(docs) = read_documents(file, &mut sink) else {
        return;
    };
    for (index, (node, text)) in docs.into_iter().enumerate() {
        if node.value == Value::Null {
            continue; // an empty document, e.g. a trailing `---`
        }
        let Some(kind) = document_kind(&node, &mut sink) else {
            continue;
        };
        let mut expanded = node;
        for d in expand_node(&mut expanded, env) {
            sink.push(d);
        }
        let doc = Document {
            kind,
            file: rel.clone(),
            index,
            pos: expanded.pos,
            node: expanded,
            text,
        };
        if doc.kind == "Workflow" {
            if let Some(wf) = parse_workflow(&doc, &mut sink) {
                project.workflows.push(wf);
            }
        } else {
            project.documents.push(doc);
        }
    }
}

/// The document's `kind`, or `None` (with a warning or error) when it has none or an unknown one.
fn document_kind(node: &Node, sink: &mut Sink<'_>) -> Option<String> {
    if node.as_map().is_none() {
        sink.push(
            Diagnostic::error(Code::WrongType, "a document must be a mapping")
                .at(node.pos)
                .expected("a mapping with `kind`")
                .found(node.describe()),
        );
        return None;
    }
    let Some(kind_node) = node.get("kind") else {
        sink.push(
            Diagnostic::warning(Code::MissingKind, "document has no `kind`; it is ignored")
                .at(node.pos)
                .help(format!(
                    "add `kind:` with one of {}",
                    super::quote_list(DOCUMENT_KINDS)
                )),
        );
        return None;
    };
    let kind: String = match from_node(kind_node, "kind") {
        Ok(k) => k,
        Err(e) => {
            sink.push(de_error_to_diagnostic(&e));
            return None;
        }
    };
    if !DOCUMENT_KINDS.contains(&kind.as_str()) {
        sink.push(
            Diagnostic::error(
                Code::UnknownDocumentKind,
                format!("unknown document kind `{kind}`"),
            )
            .at(kind_node.pos)
            .path("kind")
            .expected(format!("one of {}", super::quote_list(DOCUMENT_KINDS)))
            .found(format!("`{kind}`"))
            .maybe_help(did_you_mean(&kind, DOCUMENT_KINDS.iter().copied())),
        );
        return None;
    }
    Some(kind)
}

/// Every `.yaml`/`.yml` file under `dir`, recursively, in a stable order; hidden entries skipped.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect_yaml(dir, &mut out, 0);
    out
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 32 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_yaml(&path, out, depth + 1);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

/// The programs in `nodes/` (top level only: subdirectories hold their helper modules).
fn node_files(root: &Path, diags: &mut Diagnostics) -> Vec<NodeFile> {
    let dir = root.join("nodes");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut out: Vec<NodeFile> = Vec::new();
    for path in paths {
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if stem.starts_with(['.', '_']) {
            continue;
        }
        let interpreter = match path.extension().and_then(|e| e.to_str()) {
            Some("py") => Some("python3"),
            Some("js" | "mjs") => Some("node"),
            Some("sh") => Some("bash"),
            None if is_executable(&path) => None,
            _ => continue,
        };
        if let Some(first) = out.iter().find(|n| n.runner == stem) {
            diags.push(
                Diagnostic::error(
                    Code::DuplicateNodeFile,
                    format!("two programs for runner `{stem}`"),
                )
                .in_file(relative(root, &path))
                .at(Pos::new(1, 1))
                .found(format!(
                    "`{}` and `{}`",
                    relative(root, &first.path).display(),
                    relative(root, &path).display()
                ))
                .help("keep one file per runner in nodes/"),
            );
            continue;
        }
        out.push(NodeFile {
            runner: stem.to_string(),
            path,
            interpreter,
        });
    }
    out
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}
