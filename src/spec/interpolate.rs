//! `${VAR}` / `${VAR:default}` expansion, applied per string scalar *after* parsing so positions
//! stay those of the text as written. `$${` is a literal `${`.

use super::diagnostic::{Code, Diagnostic};
use super::yaml::{Node, Value, infer_plain_scalar};

/// Where variables come from: the process environment in production, a map in tests.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// An unset variable without a default.
#[derive(Debug, PartialEq)]
pub struct Unset(pub String);

/// Expands one string. Returns the expanded text, or every unset variable it references.
pub fn expand(text: &str, env: &dyn Env) -> Result<String, Vec<Unset>> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut unset = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${")
            && let Some(end) = tail.find('}')
        {
            let inner = &tail[..end];
            let (name, default) = match inner.split_once(':') {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            match (env.var(name), default) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => unset.push(Unset(name.to_string())),
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    if unset.is_empty() {
        Ok(out)
    } else {
        Err(unset)
    }
}

/// Expands every string scalar of `node` in place. A plain scalar that was exactly one `${…}`
/// reference is re-typed after expansion (`port: ${PORT:8080}` becomes the number 8080).
/// Unset variables are reported with the JSON path of their scalar below `node`.
pub fn expand_node(node: &mut Node, env: &dyn Env) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    expand_in(node, &mut String::new(), env, &mut diags);
    diags
}

fn expand_in(node: &mut Node, path: &mut String, env: &dyn Env, diags: &mut Vec<Diagnostic>) {
    let len = path.len();
    match &mut node.value {
        Value::Str(_) => expand_scalar(node, path, env, diags),
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push_str(&format!("[{i}]"));
                expand_in(item, path, env, diags);
                path.truncate(len);
            }
        }
        Value::Map(entries) => {
            for (k, v) in entries.iter_mut() {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.key_text().unwrap_or_default());
                expand_in(v, path, env, diags);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn expand_scalar(n: &mut Node, path: &str, env: &dyn Env, diags: &mut Vec<Diagnostic>) {
    let Value::Str(s) = &n.value else { return };
    if !s.contains('$') {
        return;
    }
    let whole_ref = n.plain.is_some() && is_single_reference(s);
    match expand(s, env) {
        Ok(expanded) => {
            n.value = if whole_ref {
                infer_plain_scalar(&expanded)
            } else {
                Value::Str(expanded)
            };
        }
        Err(unset) => {
            for Unset(name) in unset {
                let d = Diagnostic::error(
                    Code::UnsetEnvVar,
                    format!("environment variable `{name}` is not set"),
                )
                .at(n.pos)
                .help(format!(
                    "set `{name}`, or give a default: `${{{name}:default}}`"
                ));
                diags.push(if path.is_empty() { d } else { d.path(path) });
            }
        }
    }
}

fn is_single_reference(s: &str) -> bool {
    s.starts_with("${") && s.ends_with('}') && s[2..].find('}') == Some(s.len() - 3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env() -> HashMap<String, String> {
        HashMap::from([
            ("HOST".to_string(), "db".to_string()),
            ("PORT".to_string(), "5432".to_string()),
        ])
    }

    #[test]
    fn expands_defaults_and_literals() {
        let e = env();
        assert_eq!(expand("${HOST}:${PORT}", &e).unwrap(), "db:5432");
        assert_eq!(expand("${NOPE:fallback}", &e).unwrap(), "fallback");
        assert_eq!(expand("${NOPE:}", &e).unwrap(), "");
        assert_eq!(expand("$${HOST} costs $5", &e).unwrap(), "${HOST} costs $5");
        assert_eq!(
            expand("${A}${B}", &e).unwrap_err(),
            vec![Unset("A".into()), Unset("B".into())]
        );
        assert_eq!(expand("${unterminated", &e).unwrap(), "${unterminated");
    }

    #[test]
    fn retypes_whole_plain_references_only() {
        let mut n = super::super::yaml::parse_documents(
            "a: ${PORT}\nb: \"${PORT}\"\nc: x${PORT}\nd: ${NOPE}\n",
        )
        .unwrap()
        .remove(0);
        let diags = expand_node(&mut n, &env());
        assert_eq!(n.get("a").unwrap().value, Value::Int(5432));
        assert_eq!(n.get("b").unwrap().value, Value::Str("5432".into()));
        assert_eq!(n.get("c").unwrap().value, Value::Str("x5432".into()));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].pos.unwrap().line, 4);
        assert_eq!(diags[0].path.as_deref(), Some("d"));
    }

    #[test]
    fn unset_variables_carry_their_json_path() {
        let text =
            "spec:\n  steps:\n    - params: {url: \"${HOST}/${NOPE}\", list: [a, \"${GONE}\"]}\n";
        let mut n = super::super::yaml::parse_documents(text).unwrap().remove(0);
        let diags = expand_node(&mut n, &env());
        let paths: Vec<_> = diags
            .iter()
            .map(|d| d.path.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(
            paths,
            ["spec.steps[0].params.url", "spec.steps[0].params.list[1]"]
        );
    }
}
