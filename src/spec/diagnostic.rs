//! Diagnostics: every problem found while loading a project, with a stable code, a position, the
//! JSON path of the offending value, what was expected and found, and a hint. Rendered like cargo.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use super::code::Code;

/// A 1-based line and column in a source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

impl Pos {
    pub const fn new(line: u32, col: u32) -> Self {
        Pos { line, col }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem in a project.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The file, relative to the project root when it lies inside it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos: Option<Pos>,
    /// JSON path of the offending value inside its document, e.g. `spec.steps[3].routes.error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: None,
            pos: None,
            path: None,
            expected: None,
            found: None,
            help: None,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn in_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn at(mut self, pos: Pos) -> Self {
        if pos.line > 0 {
            self.pos = Some(pos);
        }
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self
    }

    pub fn found(mut self, found: impl Into<String>) -> Self {
        self.found = Some(found.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn maybe_help(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// "unknown {what} `found`", expecting one of `candidates`, with a did-you-mean.
    pub fn unknown(code: Code, what: &str, found: &str, candidates: &[&str]) -> Self {
        Diagnostic::error(code, format!("unknown {what} `{found}`"))
            .expected(format!("one of {}", super::quote_list(candidates)))
            .found(format!("`{found}`"))
            .maybe_help(did_you_mean(found, candidates.iter().copied()))
    }

    /// "unknown {what} `found`" among names the project declares; `when_none` is what is expected
    /// when it declares none.
    pub fn unknown_declared(
        code: Code,
        what: &str,
        found: &str,
        declared: &[String],
        when_none: &str,
    ) -> Self {
        let expected = if declared.is_empty() {
            when_none.to_string()
        } else {
            format!(
                "one of {}",
                declared
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        Diagnostic::error(code, format!("unknown {what} `{found}`"))
            .expected(expected)
            .found(format!("`{found}`"))
            .maybe_help(did_you_mean(found, declared.iter().map(String::as_str)))
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:col`, or as much of it as is known.
    pub fn location(&self) -> String {
        let mut s = match &self.file {
            Some(f) => f.display().to_string(),
            None => "<project>".to_string(),
        };
        if let Some(p) = self.pos {
            let _ = write!(s, ":{}:{}", p.line, p.col);
        }
        s
    }

    /// Render like cargo: header, `-->` location, the source line with a caret, then notes.
    /// `source` is the full text of `self.file`, when available.
    pub fn render(&self, source: Option<&str>) -> String {
        let mut out = String::new();
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{sev}[{}]: {}", self.code.id(), self.message);
        let line_text = match (source, self.pos) {
            (Some(src), Some(p)) => src.lines().nth(p.line.saturating_sub(1) as usize),
            _ => None,
        };
        let gutter = self.pos.map(|p| p.line.to_string().len()).unwrap_or(1);
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, "{pad}--> {}", self.location());
        if let (Some(text), Some(p)) = (line_text, self.pos) {
            let col = p.col.max(1) as usize;
            let prefix: String = text
                .chars()
                .take(col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let width = token_width(text, col);
            let _ = writeln!(out, "{pad} |");
            let _ = writeln!(out, "{} | {}", p.line, text);
            let _ = writeln!(out, "{pad} | {prefix}{}", "^".repeat(width));
        }
        if let Some(path) = &self.path {
            let _ = writeln!(out, "{pad} = at: {path}");
        }
        if let Some(e) = &self.expected {
            let _ = writeln!(out, "{pad} = expected: {e}");
        }
        if let Some(f) = &self.found {
            let _ = writeln!(out, "{pad} = found: {f}");
        }
        if let Some(h) = &self.help {
            let _ = writeln!(out, "{pad} = help: {h}");
        }
        out
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} [{}]",
            self.location(),
            self.message,
            self.code.id()
        )
    }
}

/// Width of the token starting at 1-based `col`: up to the next YAML delimiter.
fn token_width(line: &str, col: usize) -> usize {
    let rest: String = line.chars().skip(col - 1).collect();
    let quoted = rest.starts_with('"') || rest.starts_with('\'');
    let flow = rest.starts_with(['[', '{']);
    if rest.starts_with([' ', '\t']) {
        return 1; // whitespace itself is the problem (a tab in indentation): mark just it
    }
    let n = if flow {
        // A flow collection: through its matching bracket when that is on this line.
        let mut depth = 0usize;
        rest.chars()
            .position(|c| {
                match c {
                    '[' | '{' => depth += 1,
                    ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                depth == 0
            })
            .map_or(rest.chars().count(), |i| i + 1)
    } else if quoted {
        let q = rest.chars().next().unwrap_or('"');
        rest.chars()
            .skip(1)
            .position(|c| c == q)
            .map(|i| i + 2)
            .unwrap_or(rest.chars().count())
    } else {
        let stop = |c: char| matches!(c, ',' | ']' | '}' | '#') || c == ':';
        rest.chars().take_while(|&c| !stop(c)).count()
    };
    let trimmed = rest.chars().take(n).collect::<String>();
    trimmed.trim_end().chars().count().max(1)
}

/// The suggestion for a misspelt name: a candidate equal up to case and `-`/`_`, else the closest
/// one within a small edit distance. Earlier candidates win ties (list canonical names first).
pub fn did_you_mean<'a>(
    found: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_', ' '], "");
    let found_norm = norm(found);
    let candidates: Vec<&str> = candidates.into_iter().collect();
    if let Some(c) = candidates
        .iter()
        .find(|c| norm(c) == found_norm && **c != found)
    {
        return Some(format!("did you mean `{c}`?"));
    }
    let mut best: Option<(f64, &str)> = None;
    for cand in candidates {
        let score = strsim::jaro_winkler(&found_norm, &norm(cand));
        let distance = strsim::levenshtein(&found_norm, &norm(cand));
        let close = score >= 0.85 || (distance <= 2 && found_norm.chars().count() > 3);
        if close && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, cand));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Every problem found while loading, in the order found.
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.items.push(d);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.items.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.items.len() - self.error_count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }

    /// Drops the errors reported at the very value whose `${VAR}` could not be expanded: that
    /// value was left as written, so any further complaint about it (an invalid duration, an
    /// unknown runner `${RUNNER}`) is a consequence of the unset variable, not a second problem.
    pub fn drop_unset_var_consequences(&mut self) {
        let unset: Vec<(Option<PathBuf>, Pos)> = self
            .items
            .iter()
            .filter(|d| d.code == Code::UnsetEnvVar)
            .filter_map(|d| Some((d.file.clone(), d.pos?)))
            .collect();
        if unset.is_empty() {
            return;
        }
        self.items.retain(|d| {
            d.code == Code::UnsetEnvVar
                || d.pos
                    .is_none_or(|p| !unset.iter().any(|(f, at)| *at == p && *f == d.file))
        });
    }

    /// Sorts by file, then position, so output is stable whatever the walk order was.
    pub fn sort(&mut self) {
        self.items
            .sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
    }

    /// Renders every diagnostic with its source line, reading files relative to `root`.
    pub fn render(&self, root: &Path) -> String {
        let mut out = String::new();
        let mut cache: std::collections::HashMap<&Path, Option<String>> = Default::default();
        for d in &self.items {
            let src = d.file.as_deref().and_then(|f| {
                cache
                    .entry(f)
                    .or_insert_with(|| std::fs::read_to_string(root.join(f)).ok())
                    .clone()
            });
            out.push_str(&d.render(src.as_deref()));
            out.push('\n');
        }
        out
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_cargo() {
        let d = Diagnostic::error(Code::UnknownStepKind, "unknown step kind `api-call`")
            .in_file("workflows/x.yaml")
            .at(Pos::new(2, 11))
            .path("spec.steps[0].kind")
            .help("did you mean `api_call`?");
        let src = "steps:\n  - kind: api-call\n";
        let out = d.render(Some(src));
        assert_eq!(
            out,
            "error[W0006]: unknown step kind `api-call`\n --> workflows/x.yaml:2:11\n  |\n2 |   - kind: api-call\n  |           ^^^^^^^^\n  = at: spec.steps[0].kind\n  = help: did you mean `api_call`?\n"
        );
    }

    #[test]
    fn caret_spans_a_whole_flow_collection() {
        assert_eq!(token_width("  timeout: [1, 2]  # x", 12), 6);
        assert_eq!(token_width("a: {b: [c]}, d", 4), 8);
        assert_eq!(token_width("a: [1, 2", 4), 5);
        assert_eq!(token_width("a: plain, x", 4), 5);
        assert_eq!(token_width("\t  timeout: 5s", 1), 1);
    }

    #[test]
    fn suggests_close_names_only() {
        let c = ["api_call", "agent", "router"];
        assert_eq!(
            did_you_mean("api-call", c).as_deref(),
            Some("did you mean `api_call`?")
        );
        assert_eq!(
            did_you_mean("routr", c).as_deref(),
            Some("did you mean `router`?")
        );
        assert_eq!(did_you_mean("zzzzzz", c), None);
        assert_eq!(
            did_you_mean("api-call", ["api_call", "APICall"]).as_deref(),
            Some("did you mean `api_call`?")
        );
        assert_eq!(did_you_mean("d", ["a", "b"]), None);
        assert_eq!(
            did_you_mean("ENDD", ["a", "END"]).as_deref(),
            Some("did you mean `END`?")
        );
    }

    #[test]
    fn consequences_of_an_unset_variable_are_dropped() {
        let at = |code, line| {
            Diagnostic::error(code, "x")
                .in_file("w.yaml")
                .at(Pos::new(line, 5))
        };
        let mut d = Diagnostics::default();
        d.push(at(Code::UnsetEnvVar, 3));
        d.push(at(Code::InvalidValue, 3));
        d.push(at(Code::InvalidValue, 4));
        d.push(at(Code::InvalidValue, 3).in_file("other.yaml"));
        d.drop_unset_var_consequences();
        let kept: Vec<_> = d
            .iter()
            .map(|d| (d.code, d.pos.map(|p| p.line), d.file.clone()))
            .collect();
        assert_eq!(
            kept,
            vec![
                (Code::UnsetEnvVar, Some(3), Some("w.yaml".into())),
                (Code::InvalidValue, Some(4), Some("w.yaml".into())),
                (Code::InvalidValue, Some(3), Some("other.yaml".into())),
            ]
        );
    }

    #[test]
    fn codes_are_unique() {
        let mut ids: Vec<_> = Code::ALL.iter().map(|c| c.id()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), Code::ALL.len());
    }
}
