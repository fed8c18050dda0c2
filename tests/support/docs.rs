//! Loads the YAML examples of a documentation page, so the docs cannot drift from what weft
//! accepts: every `weft.yaml` block (one starting with `# weft.yaml`, `http:` or `mcp_servers:`)
//! is loaded with every workflow block (`kind: Workflow`) of the page.

use crate::common::TestProject;

/// The fenced ```yaml blocks of a Markdown text.
fn yaml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

fn first_key(block: &str) -> &str {
    block
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .unwrap_or_default()
}

/// Loads the page's examples; panics with the diagnostics when one does not load.
pub fn check_page(rel: &str) {
    let text = std::fs::read_to_string(crate::common::repo_root().join(rel)).expect("docs page");
    let blocks = yaml_blocks(&text);
    let workflows: Vec<&String> = blocks
        .iter()
        .filter(|b| first_key(b).starts_with("kind: Workflow"))
        .collect();
    let configs: Vec<&String> = blocks
        .iter()
        .filter(|b| {
            b.starts_with("# weft.yaml")
                || ["http:", "mcp_servers:"]
                    .iter()
                    .any(|k| first_key(b).starts_with(k))
        })
        .collect();
    assert!(!workflows.is_empty(), "{rel} has no workflow example");
    let configs: Vec<Option<&String>> = if configs.is_empty() {
        vec![None]
    } else {
        configs.into_iter().map(Some).collect()
    };
    for config in configs {
        let mut p = TestProject::new();
        if let Some(c) = config {
            p = p.file("weft.yaml", c);
        }
        for (i, w) in workflows.iter().enumerate() {
            p = p.workflow(&format!("doc{i}"), w);
        }
        if let Err(e) = p.load() {
            panic!(
                "{rel}: an example does not load:\n{}",
                e.diagnostics.render(p.path())
            );
        }
    }
}
