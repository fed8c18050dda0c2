//! The error-code documentation stays true: every `Code` has its page in `docs/errors/`, every
//! page belongs to a code, the index lists them all, and every example renders exactly as the
//! page shows it.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::{TestProject, repo_root};
use weft::Project;
use weft::spec::Code;

/// Codes whose checks belong to features still being built: their pages describe intent and
/// have no rendered example yet.
const NOT_YET_CHECKED: &[&str] = &["W0023"];

/// Codes only `weft validate --connect` reports, against live MCP servers: their pages show the
/// output, but loading their example cannot reproduce it (tests/mcp.rs checks W0026's rendering).
const CONNECT_ONLY: &[&str] = &["W0026", "W0027"];

fn docs_dir() -> PathBuf {
    repo_root().join("docs/errors")
}

fn page(id: &str) -> String {
    let path = docs_dir().join(format!("{id}.md"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fenced blocks of a page, in order: (language, body).
fn fences(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(lang)) => open = Some((lang.trim().to_string(), String::new())),
            (Some(_), Some("")) => out.extend(open.take()),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

#[test]
fn every_code_has_its_page() {
    for code in Code::ALL {
        let (id, name) = (code.id(), code.name());
        let text = page(id);
        let title = text.lines().next().unwrap_or_default();
        assert_eq!(title, format!("# {id}: {name}"), "{id}.md: title");
        assert!(
            text.contains("**Severity:** error") || text.contains("**Severity:** warning"),
            "{id}.md: no severity"
        );
        assert!(text.contains("## Fix"), "{id}.md: no fix section");
        let shows_output =
            text.contains(&format!("error[{id}]")) || text.contains(&format!("warning[{id}]"));
        assert!(
            shows_output || NOT_YET_CHECKED.contains(&id),
            "{id}.md: no rendered example"
        );
    }
}

#[test]
fn every_page_belongs_to_a_code() {
    let ids: Vec<&str> = Code::ALL.iter().map(|c| c.id()).collect();
    let entries = std::fs::read_dir(docs_dir()).expect("docs/errors");
    for entry in entries {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("UTF-8 name");
        if name == "README.md" {
            continue;
        }
        let id = name
            .strip_suffix(".md")
            .unwrap_or_else(|| panic!("docs/errors/{name}: not a page"));
        assert!(ids.contains(&id), "docs/errors/{name}: no code {id}");
    }
}

#[test]
fn the_index_lists_every_code() {
    let index =
        std::fs::read_to_string(docs_dir().join("README.md")).expect("docs/errors/README.md");
    for code in Code::ALL {
        let row = format!(
            "| [{id}]({id}.md) | `{name}` |",
            id = code.id(),
            name = code.name()
        );
        assert!(index.contains(&row), "README.md: no row `{row}`");
    }
}

#[test]
fn examples_render_as_documented() {
    let mut checked = 0;
    for code in Code::ALL {
        let id = code.id();
        if CONNECT_ONLY.contains(&id) {
            continue;
        }
        let blocks = fences(&page(id));
        let Some(i) = blocks.iter().position(|(lang, _)| lang == "yaml") else {
            continue;
        };
        let (_, yaml) = &blocks[i];
        let (_, shown) = blocks[i + 1..]
            .iter()
            .find(|(lang, _)| lang == "text")
            .unwrap_or_else(|| panic!("{id}.md: a yaml example without its output"));
        let p = TestProject::new().workflow("example", yaml);
        let no_env: HashMap<String, String> = HashMap::new();
        let diags = match Project::load_with_env(p.path(), &p.app, &no_env) {
            Ok((_, d)) => d,
            Err(e) => e.diagnostics,
        };
        assert!(
            diags.iter().any(|d| d.code == *code),
            "{id}.md: the example does not produce {id}"
        );
        assert_eq!(
            diags.render(p.path()).trim_end(),
            shown.trim_end(),
            "{id}.md: rendered output"
        );
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} pages have a checked example");
}

#[test]
fn fences_are_read_in_order() {
    let text = "a\n```yaml\nk: v\n```\n\n```text\nout\n```\n";
    let blocks = fences(text);
    assert_eq!(
        blocks,
        vec![
            ("yaml".into(), "k: v\n".into()),
            ("text".into(), "out\n".into())
        ]
    );
}
