//! The text of a forked version: the source document as written (comments and `${VAR}`
//! references kept, secrets never expanded), with `metadata.schema_version` set and
//! `enabled: false`.
//!
//! The edit is made on the text so comments survive. It is verified by parsing the result; when a
//! layout defeats the text edit (an unusual flow style), the unexpanded document is serialised
//! instead — valid YAML, comments lost.

use crate::spec::yaml::{Node, Value, parse_documents};

/// Whether `v` is usable as a version and in a file name: `[A-Za-z0-9._-]{1,64}`, not `.`/`..`.
pub fn valid_version(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && v != "."
        && v != ".."
}

/// The forked document's text.
pub fn fork_text(source: &str, new_version: &str) -> Result<String, String> {
    let node = single_document(source)?;
    if let Some(text) = edit_text(source, &node, new_version)
        && verify(&text, new_version)
    {
        return Ok(text);
    }
    serialise(node, new_version)
}

fn single_document(source: &str) -> Result<Node, String> {
    let mut docs = parse_documents(source)
        .map_err(|e| format!("the source document does not parse: {}", e.message))?;
    if docs.len() != 1 {
        return Err(format!("expected one document, found {}", docs.len()));
    }
    Ok(docs.remove(0))
}

fn edit_text(source: &str, node: &Node, new_version: &str) -> Option<String> {
    let mut lines: Vec<String> = source.lines().map(str::to_string).collect();
    let quoted = format!("\"{new_version}\"");
    let metadata = node.get("metadata")?;
    match metadata.get("schema_version") {
        Some(v) => {
            let line = lines.get_mut(v.pos.line as usize - 1)?;
            *line = replace_value_after(line, "schema_version:", &quoted)?;
        }
        None => {
            let name = metadata.get("name")?;
            let idx = name.pos.line as usize - 1;
            let line = lines.get(idx)?.clone();
            if line.trim_start().starts_with("name:") {
                // Block style: a sibling line with the same indentation.
                let indent: String = line.chars().take_while(|c| c.is_whitespace()).collect();
                lines.insert(idx + 1, format!("{indent}schema_version: {quoted}"));
            } else {
                // Flow style `{ name: x }`: add the key before the closing brace.
                let close = line.rfind('}')?;
                lines[idx] = format!(
                    "{}, schema_version: {quoted} {}",
                    line[..close].trim_end(),
                    &line[close..]
                );
            }
        }
    }
    let enabled_key = node
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some("enabled"));
    match enabled_key {
        Some((k, _)) => {
            let line = lines.get_mut(k.pos.line as usize - 1)?;
            *line = replace_value_after(line, "enabled:", "false")?;
        }
        None => lines.push("enabled: false   # staged by fork: toggle it on to serve".into()),
    }
    let mut text = lines.join("\n");
    text.push('\n');
    Some(text)
}

/// Replaces the scalar after `key` on `line` (quoted, or plain up to `,`/`}`/`#`/end), keeping
/// whatever follows it (a closing brace, a comment).
fn replace_value_after(line: &str, key: &str, value: &str) -> Option<String> {
    let start = line.find(key)? + key.len();
    let rest = &line[start..];
    let body_start = start + (rest.len() - rest.trim_start().len());
    let body = &line[body_start..];
    let len = match body.chars().next() {
        Some(q @ ('"' | '\'')) => body[1..].find(q)? + 2,
        _ => body.find([',', '}', '#']).unwrap_or(body.len()),
    };
    let value_end = body_start + body[..len].trim_end().len();
    Some(format!("{} {value}{}", &line[..start], &line[value_end..]))
}

fn verify(text: &str, new_version: &str) -> bool {
    let Ok(node) = single_document(text) else {
        return false;
    };
    let version = node
        .get("metadata")
        .and_then(|m| m.get("schema_version"))
        .and_then(Node::as_str);
    let enabled = node.get("enabled").map(|n| &n.value);
    version == Some(new_version) && enabled == Some(&Value::Bool(false))
}

fn serialise(node: Node, new_version: &str) -> Result<String, String> {
    let mut json = node.to_json();
    let obj = json
        .as_object_mut()
        .ok_or("the document is not a mapping")?;
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| serde_json::json!({}));
    meta.as_object_mut()
        .ok_or("`metadata` is not a mapping")?
        .insert("schema_version".into(), new_version.into());
    obj.insert("enabled".into(), false.into());
    let yaml = serde_saphyr::to_string(&json).map_err(|e| e.to_string())?;
    Ok(format!(
        "# Forked by weft (the source's comments could not be kept).\n{yaml}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_safe_file_name_parts() {
        assert!(valid_version("v2"));
        assert!(valid_version("2024.06-rc_1"));
        for bad in ["", "..", ".", "../x", "a/b", "v 2", "ü", &"x".repeat(65)] {
            assert!(!valid_version(bad), "{bad:?}");
        }
    }

    #[test]
    fn keeps_comments_and_env_references() {
        let src = "# Orders\nkind: Workflow\nmetadata:\n  name: orders   # the name\n  schema_version: \"v1\"\nspec:\n  steps:\n    - { id: a, kind: functional, runner: noop, params: { key: \"${API_KEY}\" } }\n";
        let out = fork_text(src, "v3").unwrap();
        assert!(
            out.contains("# Orders") && out.contains("# the name") && out.contains("${API_KEY}"),
            "{out}"
        );
        assert!(out.contains("schema_version: \"v3\""), "{out}");
        assert!(out.contains("enabled: false"), "{out}");
        assert!(verify(&out, "v3"));
    }

    #[test]
    fn inserts_missing_version_and_flips_enabled() {
        let src = "kind: Workflow\nenabled: true\nmetadata:\n  name: x\nsteps: []\n";
        let out = fork_text(src, "v2").unwrap();
        assert!(out.contains("  schema_version: \"v2\"\n"), "{out}");
        assert!(out.contains("enabled: false\n"), "{out}");
        let flow = "kind: Workflow\nmetadata: { name: x }\nsteps: []\n";
        let out = fork_text(flow, "v2").unwrap();
        assert!(verify(&out, "v2"), "{out}");
    }
}
