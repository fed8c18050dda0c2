//! The YAML examples of `docs/models.md` and `docs/steps/model-op.md` load together without a
//! diagnostic: the model definitions, and every workflow using them.

use crate::common::{TestProject, repo_root};

/// The fenced ```yaml blocks of a page that start with `kind: <kind>`.
fn blocks(page: &str, kind: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join(page)).expect("docs page");
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```yaml") => current = Some(String::new()),
            (Some(b), "```") => {
                if b.starts_with(&format!("kind: {kind}")) {
                    out.push(b.clone());
                }
                current = None;
            }
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            (None, _) => {}
        }
    }
    out
}

#[test]
fn the_model_docs_examples_load() {
    let models = blocks("docs/models.md", "ModelDefinition");
    let workflows = blocks("docs/steps/model-op.md", "Workflow");
    assert_eq!((models.len(), workflows.len()), (2, 2));
    let mut p = TestProject::new();
    for (i, m) in models.iter().enumerate() {
        p = p.file(&format!("models/doc{i}.yaml"), m);
    }
    for (i, w) in workflows.iter().enumerate() {
        p = p.workflow(&format!("doc{i}"), w);
    }
    match p.load() {
        Ok(project) => assert_eq!(project.workflows.len(), 2),
        Err(e) => panic!("{}", e.diagnostics.render(p.path())),
    }
}
