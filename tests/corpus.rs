//! The diagnostics corpus: broken projects, each stating in its header exactly which diagnostics
//! loading it must produce: severity, code, file, line:column, JSON path and, where given, the
//! hint. No more and no fewer. The rendered cargo-style output is snapshotted on top, in
//! `tests/corpus/snapshots/`, never instead.
//!
//! A case is one YAML file `tests/corpus/<case>.yaml`, placed at `workflows/<case>.yaml` in a
//! fresh project unless its header says otherwise, or a directory `tests/corpus/<case>/` holding
//! a `project/` tree and an `expect` file, for cases that need several files. Header lines:
//!
//! ```text
//! # What the case is about (the first line, free text).
//! # expect: error[W0004] 8:7 spec.steps[0].runer
//! #   help: did you mean `runner`?
//! # expect: warning[W0009] workflows/b.yaml:12:11 spec.steps[2]
//! # env: NAME=value
//! # path: weft.yaml
//! ```
//!
//! `expect:` is `severity[code] [file:]line:col [json.path]`; the file is required in directory
//! cases, and `-` stands for "no position". An expectation without a JSON path only matches a
//! diagnostic without one. `help:` pins the hint of the expectation above it. `env:` sets a
//! variable for `${VAR}` expansion; nothing else is visible, so the machine's environment never
//! matters. `path:` is where the file goes in the project.
//!
//! `WEFT_BLESS=1 cargo test --test corpus` rewrites the snapshots after an intended change.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use common::{TestProject, copy_dir, repo_root};
use weft::Project;
use weft::spec::{Code, Diagnostic, Diagnostics, Severity};

/// Codes no corpus case can produce: their checks belong to features still being built
/// (LLM presets), or need live MCP servers (`weft validate --connect` reports W0026 and W0027;
/// tests/mcp.rs checks them).
const NOT_YET_CHECKED: &[&str] = &["W0023", "W0026", "W0027"];

const MIN_CASES: usize = 30;

/// One expected diagnostic, or one produced, in the same comparable form.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Expect {
    severity: &'static str,
    code: String,
    file: PathBuf,
    /// Line and column; `None` for a diagnostic without a position.
    pos: Option<(u32, u32)>,
    path: Option<String>,
    help: Option<String>,
}

impl Expect {
    fn of(d: &Diagnostic) -> Self {
        Expect {
            severity: severity_name(d.severity),
            code: d.code.id().to_string(),
            file: d.file.clone().unwrap_or_default(),
            pos: d.pos.map(|p| (p.line, p.col)),
            path: d.path.clone(),
            help: d.help.clone(),
        }
    }

    /// Whether `actual` is this expectation; the hint is compared only when one is expected.
    fn matches(&self, actual: &Expect) -> bool {
        let same = (self.severity, &self.code, &self.file, self.pos, &self.path)
            == (
                actual.severity,
                &actual.code,
                &actual.file,
                actual.pos,
                &actual.path,
            );
        same && (self.help.is_none() || self.help == actual.help)
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}] {}:",
            self.severity,
            self.code,
            self.file.display()
        )?;
        match self.pos {
            Some((line, col)) => write!(f, "{line}:{col}")?,
            None => f.write_str("-")?,
        }
        if let Some(path) = &self.path {
            write!(f, " {path}")?;
        }
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A case as read from the corpus.
struct Case {
    name: String,
    /// Files to write into the project: path relative to its root, and content.
    files: Vec<(PathBuf, Vec<u8>)>,
    /// A directory to copy into the project (directory cases).
    tree: Option<PathBuf>,
    description: String,
    expects: Vec<Expect>,
    env: HashMap<String, String>,
}

fn corpus_dir() -> PathBuf {
    repo_root().join("tests/corpus")
}

fn snapshot_path(name: &str) -> PathBuf {
    corpus_dir().join("snapshots").join(format!("{name}.txt"))
}

/// Every case in the corpus, in name order.
fn read_corpus() -> Result<Vec<Case>, String> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .map_err(|e| format!("cannot read tests/corpus: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut cases = Vec::new();
    for entry in entries {
        let name = entry
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        if entry.is_dir() && name != "snapshots" {
            cases.push(read_dir_case(&entry, name)?);
        } else if entry.extension().is_some_and(|e| e == "yaml") {
            cases.push(read_file_case(&entry, name)?);
        }
    }
    Ok(cases)
}

fn read_file_case(file: &Path, name: String) -> Result<Case, String> {
    let bytes = std::fs::read(file).map_err(|e| format!("{name}: {e}"))?;
    // Lossy: one case is deliberately not UTF-8 below its header.
    let text = String::from_utf8_lossy(&bytes);
    let header: Vec<&str> = text.lines().take_while(|l| l.starts_with('#')).collect();
    let mut placed = PathBuf::from(format!("workflows/{name}.yaml"));
    let mut case = Case {
        name: name.clone(),
        files: Vec::new(),
        tree: None,
        description: String::new(),
        expects: Vec::new(),
        env: HashMap::new(),
    };
    // `path:` may come after the expectations; they default to wherever the file ends up.
    for line in &header {
        if let Some(p) = directive(line, "path") {
            placed = PathBuf::from(p);
        }
    }
    parse_header(&mut case, &header, Some(&placed))?;
    case.files.push((placed, bytes));
    Ok(case)
}

fn read_dir_case(dir: &Path, name: String) -> Result<Case, String> {
    let expect =
        std::fs::read_to_string(dir.join("expect")).map_err(|e| format!("{name}/expect: {e}"))?;
    let header: Vec<&str> = expect.lines().filter(|l| !l.trim().is_empty()).collect();
    let tree = dir.join("project");
    if !tree.is_dir() {
        return Err(format!("{name}: a directory case needs a `project/` tree"));
    }
    let mut case = Case {
        name,
        files: Vec::new(),
        tree: Some(tree),
        description: String::new(),
        expects: Vec::new(),
        env: HashMap::new(),
    };
    parse_header(&mut case, &header, None)?;
    Ok(case)
}

/// The value of `# <key>: value`, if `line` is that directive.
fn directive<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix('#')?.trim_start();
    rest.strip_prefix(key)?.strip_prefix(':').map(str::trim)
}

/// Reads description, `expect:`, `help:` and `env:` lines. `file` is where a single-file case's
/// file is placed (locations may then omit it).
fn parse_header(case: &mut Case, lines: &[&str], file: Option<&Path>) -> Result<(), String> {
    let name = case.name.clone();
    let bad = |line: &str, why: &str| format!("{name}: {why}: `{line}`");
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with('#') {
            return Err(bad(line, "header lines start with `#`"));
        }
        if let Some(spec) = directive(line, "expect") {
            case.expects
                .push(parse_expect(spec, file).map_err(|why| bad(line, &why))?);
        } else if let Some(help) = directive(line, "help") {
            let last = case
                .expects
                .last_mut()
                .ok_or_else(|| bad(line, "`help:` needs an `expect:` above"))?;
            last.help = Some(help.to_string());
        } else if let Some(var) = directive(line, "env") {
            let (k, v) = var
                .split_once('=')
                .ok_or_else(|| bad(line, "expected `env: NAME=value`"))?;
            case.env.insert(k.trim().to_string(), v.trim().to_string());
        } else if directive(line, "path").is_some() {
            if file.is_none() {
                return Err(bad(line, "`path:` is for single-file cases"));
            }
        } else if i == 0 {
            case.description = line.trim_start_matches('#').trim().to_string();
        }
    }
    if case.description.is_empty() {
        return Err(format!(
            "{name}: the first header line must say what the case is about"
        ));
    }
    if case.expects.is_empty() {
        return Err(format!(
            "{name}: no `expect:` line; a case must assert something"
        ));
    }
    Ok(())
}

/// `severity[code] [file:]line:col [json.path]`.
fn parse_expect(spec: &str, file: Option<&Path>) -> Result<Expect, String> {
    let mut words = spec.split_whitespace();
    let head = words.next().ok_or("empty expectation")?;
    let (severity, code) = head
        .strip_suffix(']')
        .and_then(|h| h.split_once('['))
        .ok_or("expected `error[W0001]` or `warning[W0001]`")?;
    let severity = match severity {
        "error" => "error",
        "warning" => "warning",
        _ => return Err("the severity is `error` or `warning`".into()),
    };
    let location = words.next().ok_or("missing location")?;
    let path = words.next().map(str::to_string);
    if words.next().is_some() {
        return Err("too many words".into());
    }
    let (file_part, pos) = match location.rsplit_once(':') {
        Some((rest, "-")) => (Some(rest), None),
        None if location == "-" => (None, None),
        _ => {
            let mut parts = location.rsplitn(3, ':');
            let col = parts
                .next()
                .and_then(|c| c.parse().ok())
                .ok_or("bad column")?;
            let line = parts
                .next()
                .and_then(|l| l.parse().ok())
                .ok_or("bad line")?;
            (parts.next(), Some((line, col)))
        }
    };
    let file = match (file_part, file) {
        (Some(f), _) => PathBuf::from(f),
        (None, Some(f)) => f.to_path_buf(),
        (None, None) => return Err("directory cases name the file: `workflows/a.yaml:3:5`".into()),
    };
    Ok(Expect {
        severity,
        code: code.to_string(),
        file,
        pos,
        path,
        help: None,
    })
}

/// Loads the case's project; the diagnostics and whether loading failed.
fn load(case: &Case) -> (Diagnostics, bool, TestProject) {
    let p = TestProject::new();
    if let Some(tree) = &case.tree {
        copy_dir(tree, p.path());
    }
    for (rel, bytes) in &case.files {
        let path = p.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, bytes).expect("write case file");
    }
    match Project::load_with_env(p.path(), &p.app, &case.env) {
        Ok((_, diags)) => (diags, false, p),
        Err(e) => (e.diagnostics, true, p),
    }
}

/// What is wrong with one case, or nothing.
fn check(case: &Case) -> Option<String> {
    let (diags, failed, project) = load(case);
    let actual: Vec<Expect> = diags.iter().map(Expect::of).collect();
    let mut unmatched: Vec<&Expect> = actual.iter().collect();
    let mut missing = Vec::new();
    for want in &case.expects {
        match unmatched.iter().position(|got| want.matches(got)) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => missing.push(want),
        }
    }
    let rendered = diags.render(project.path());
    let mut problems = String::new();
    for m in &missing {
        problems.push_str(&format!("  missing:    {m}\n"));
    }
    for u in &unmatched {
        problems.push_str(&format!("  unexpected: {u}\n"));
    }
    let should_fail = case.expects.iter().any(|e| e.severity == "error");
    if failed != should_fail {
        problems.push_str(&format!(
            "  loading failed: {failed}, expected: {should_fail}\n"
        ));
    }
    if problems.is_empty() {
        problems.push_str(&compare_snapshot(&case.name, &rendered));
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{} ({}):\n{problems}{rendered}",
            case.name, case.description
        )
    })
}

/// Compares with (or, with `WEFT_BLESS=1`, rewrites) the snapshot; a problem, or "".
fn compare_snapshot(name: &str, rendered: &str) -> String {
    let path = snapshot_path(name);
    if std::env::var_os("WEFT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir snapshots");
        std::fs::write(&path, rendered).expect("write snapshot");
        return String::new();
    }
    match std::fs::read_to_string(&path) {
        Ok(want) if want == rendered => String::new(),
        Ok(want) => format!(
            "  rendered output differs from snapshots/{name}.txt:\n--- expected\n{want}--- actual\n"
        ),
        Err(_) => format!("  no snapshot snapshots/{name}.txt (WEFT_BLESS=1 writes it)\n"),
    }
}

#[test]
fn every_case_produces_exactly_its_diagnostics() {
    let cases = read_corpus().unwrap_or_else(|e| panic!("{e}"));
    let failures: Vec<String> = cases.iter().filter_map(check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    assert!(
        cases.len() >= MIN_CASES,
        "the corpus has {} cases; it needs at least {MIN_CASES}",
        cases.len()
    );
}

#[test]
fn the_corpus_covers_every_code_with_a_check() {
    let cases = read_corpus().unwrap_or_else(|e| panic!("{e}"));
    let covered: BTreeSet<&str> = cases
        .iter()
        .flat_map(|c| c.expects.iter().map(|e| e.code.as_str()))
        .collect();
    let uncovered: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.id())
        .filter(|id| !covered.contains(id) && !NOT_YET_CHECKED.contains(id))
        .collect();
    assert!(
        uncovered.is_empty(),
        "no corpus case produces {uncovered:?}; add one"
    );
    let unknown: Vec<&&str> = covered
        .iter()
        .filter(|id| !Code::ALL.iter().any(|c| c.id() == **id))
        .collect();
    assert!(
        unknown.is_empty(),
        "corpus expectations name codes that do not exist: {unknown:?}"
    );
}

#[test]
fn every_snapshot_belongs_to_a_case() {
    let cases = read_corpus().unwrap_or_else(|e| panic!("{e}"));
    let names: BTreeSet<String> = cases.iter().map(|c| format!("{}.txt", c.name)).collect();
    let dir = corpus_dir().join("snapshots");
    let stale: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().into_string().ok())
                .filter(|n| !names.contains(n))
                .collect()
        })
        .unwrap_or_default();
    assert!(stale.is_empty(), "snapshots without a case: {stale:?}");
}

#[test]
fn headers_are_parsed_strictly() {
    let file = Path::new("workflows/x.yaml");
    let e = parse_expect("error[W0004] 8:7 spec.steps[0].runer", Some(file)).expect("valid");
    assert_eq!(
        (e.severity, e.code.as_str(), e.pos, e.path.as_deref()),
        ("error", "W0004", Some((8, 7)), Some("spec.steps[0].runer"))
    );
    assert_eq!(e.file, file);
    let e = parse_expect("warning[W0018] nodes/x.sh:1:1", None).expect("valid");
    assert_eq!(
        (e.file.as_path(), e.pos, e.path),
        (Path::new("nodes/x.sh"), Some((1, 1)), None)
    );
    let e = parse_expect("error[W0020] -", Some(file)).expect("valid");
    assert_eq!((e.file.as_path(), e.pos), (file, None));
    assert!(parse_expect("W0004 8:7", Some(file)).is_err());
    assert!(parse_expect("error[W0004] 8:x", Some(file)).is_err());
    assert!(
        parse_expect("error[W0004] 8:7", None).is_err(),
        "directory cases must name the file"
    );
    assert!(parse_expect("fatal[W0004] 8:7", Some(file)).is_err());
}
