//! An immutable view of every loaded workflow version: which are enabled, which serves each
//! trigger path. Built on every change (load, toggle, fork, reload) and swapped in atomically, so
//! a request sees one consistent state and dispatch never rebuilds anything.

use std::collections::HashMap;
use std::sync::Arc;

use super::natural_cmp;
use crate::graph::{Workflow, pattern_key};
use crate::store::Overrides;

/// One workflow version and its effective `enabled` flag.
#[derive(Clone, Debug)]
pub struct Entry {
    pub workflow: Arc<Workflow>,
    /// Effective: the admin's stored override, else the YAML flag.
    pub enabled: bool,
    /// Whether an admin override decides `enabled`.
    pub overridden: bool,
}

/// All versions that share one method + path pattern.
#[derive(Debug)]
struct Group {
    /// Indices into `Snapshot::entries`, highest version first.
    members: Vec<usize>,
}

/// What a trigger lookup found.
#[derive(Debug)]
pub enum Lookup<'a> {
    /// The version that serves, and the path parameters under its own names.
    Serve(&'a Entry, Vec<(String, String)>),
    /// The path exists but every version on it is disabled; names the workflow(s).
    Disabled(Vec<&'a str>),
    /// The path exists for other methods only.
    MethodNotAllowed(Vec<&'static str>),
    NotFound,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    entries: Vec<Entry>,
    by_key: HashMap<(Arc<str>, Arc<str>), usize>,
    routers: HashMap<&'static str, matchit::Router<usize>>,
    groups: Vec<Group>,
    /// The group of each entry (None without a trigger).
    entry_group: Vec<Option<usize>>,
}

/// Two triggers whose patterns the router cannot hold together (e.g. `/a/{x}` and `/a/{*y}`).
#[derive(Debug, thiserror::Error)]
#[error("cannot route `{method} {path}` of workflow `{workflow}`: {reason}")]
pub struct RouteConflict {
    pub method: String,
    pub path: String,
    pub workflow: String,
    pub reason: String,
}

impl Snapshot {
    pub fn build(
        workflows: Vec<Arc<Workflow>>,
        overrides: &Overrides,
    ) -> Result<Snapshot, RouteConflict> {
        let entries: Vec<Entry> = workflows
            .into_iter()
            .map(|w| {
                let key = (w.name.to_string(), w.version.to_string());
                let stored = overrides.get(&key).copied();
                Entry {
                    enabled: stored.unwrap_or(w.enabled),
                    overridden: stored.is_some(),
                    workflow: w,
                }
            })
            .collect();
        Snapshot::from_entries(entries)
    }

    fn from_entries(entries: Vec<Entry>) -> Result<Snapshot, RouteConflict> {
        let mut snap = Snapshot {
            entry_group: vec![None; entries.len()],
            entries,
            ..Default::default()
        };
        let mut group_of: HashMap<(&'static str, String), usize> = HashMap::new();
        for (i, e) in snap.entries.iter().enumerate() {
            snap.by_key
                .insert((e.workflow.name.clone(), e.workflow.version.clone()), i);
            let Some(t) = &e.workflow.trigger else {
                continue;
            };
            let method = static_method(&t.method);
            let key = (method, pattern_key(&t.path));
            let g = match group_of.get(&key) {
                Some(&g) => g,
                None => {
                    let g = snap.groups.len();
                    snap.groups.push(Group {
                        members: Vec::new(),
                    });
                    snap.routers
                        .entry(method)
                        .or_default()
                        .insert(router_pattern(&t.path), g)
                        .map_err(|err| RouteConflict {
                            method: t.method.clone(),
                            path: t.path.clone(),
                            workflow: e.workflow.name.to_string(),
                            reason: err.to_string(),
                        })?;
                    group_of.insert(key, g);
                    g
                }
            };
            snap.groups[g].members.push(i);
            snap.entry_group[i] = Some(g);
        }
        let entries = &snap.entries;
        for g in &mut snap.groups {
            g.members.sort_by(|&a, &b| {
                natural_cmp(&entries[b].workflow.version, &entries[a].workflow.version)
            });
        }
        Ok(snap)
    }

    /// The same versions with one flag changed.
    pub fn with_enabled(&self, name: &str, version: &str, enabled: bool) -> Snapshot {
        let mut entries = self.entries.clone();
        if let Some(&i) = self.by_key.get(&(Arc::from(name), Arc::from(version))) {
            entries[i].enabled = enabled;
            entries[i].overridden = true;
        }
        Snapshot::from_entries(entries).expect("the same routes were accepted before")
    }

    /// The same versions plus `added` (e.g. a fork).
    pub fn with_added(&self, added: Vec<Entry>) -> Result<Snapshot, RouteConflict> {
        let mut entries = self.entries.clone();
        entries.extend(added);
        Snapshot::from_entries(entries)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn get(&self, name: &str, version: &str) -> Option<&Entry> {
        self.by_key
            .get(&(Arc::from(name), Arc::from(version)))
            .map(|&i| &self.entries[i])
    }

    /// Finds what serves `method path`.
    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_> {
        let found = self.routers.get(method).and_then(|r| r.at(path).ok());
        let Some(m) = found else {
            let allowed: Vec<&'static str> = crate::graph::trigger::METHODS
                .iter()
                .copied()
                .filter(|other| {
                    *other != method && self.routers.get(other).is_some_and(|r| r.at(path).is_ok())
                })
                .collect();
            return if allowed.is_empty() {
                Lookup::NotFound
            } else {
                Lookup::MethodNotAllowed(allowed)
            };
        };
        let group = &self.groups[*m.value];
        match self.serving_in(group) {
            Some(i) => {
                let entry = &self.entries[i];
                let names = entry
                    .workflow
                    .trigger
                    .as_ref()
                    .map(|t| t.params.as_slice())
                    .unwrap_or_default();
                let params = names
                    .iter()
                    .cloned()
                    .zip(m.params.iter().map(|(_, v)| v.to_string()))
                    .collect();
                Lookup::Serve(entry, params)
            }
            None => {
                let mut names: Vec<&str> = group
                    .members
                    .iter()
                    .map(|&i| &*self.entries[i].workflow.name)
                    .collect();
                names.dedup();
                Lookup::Disabled(names)
            }
        }
    }

    /// The highest enabled version in a group (members are sorted highest first). Should two
    /// different workflows both be enabled (load-time checks and toggles prevent it), the one
    /// whose name sorts first wins, deterministically.
    fn serving_in(&self, group: &Group) -> Option<usize> {
        let enabled = group
            .members
            .iter()
            .copied()
            .filter(|&i| self.entries[i].enabled);
        enabled.min_by(|&a, &b| {
            let (x, y) = (&self.entries[a].workflow, &self.entries[b].workflow);
            x.name
                .cmp(&y.name)
                .then_with(|| natural_cmp(&y.version, &x.version))
        })
    }

    /// Whether this exact version is the one its trigger path is served by.
    pub fn is_serving(&self, name: &str, version: &str) -> bool {
        let Some(&i) = self.by_key.get(&(Arc::from(name), Arc::from(version))) else {
            return false;
        };
        let Some(g) = self.entry_group[i] else {
            return false;
        };
        self.serving_in(&self.groups[g]) == Some(i)
    }

    /// An enabled version of a *different* workflow on the same method + path as `name`/`version`.
    pub fn clash_if_enabled(&self, name: &str, version: &str) -> Option<&Entry> {
        let e = self.get(name, version)?;
        let t = e.workflow.trigger.as_ref()?;
        let key = pattern_key(&t.path);
        self.entries.iter().find(|o| {
            &*o.workflow.name != name
                && o.enabled
                && o.workflow
                    .trigger
                    .as_ref()
                    .is_some_and(|ot| ot.method == t.method && pattern_key(&ot.path) == key)
        })
    }

    /// The highest enabled version of `name` (what `weft run` without `--version` runs).
    pub fn highest_enabled(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .filter(|e| &*e.workflow.name == name && e.enabled)
            .max_by(|a, b| natural_cmp(&a.workflow.version, &b.workflow.version))
    }
}

fn static_method(m: &str) -> &'static str {
    crate::graph::trigger::METHODS
        .iter()
        .copied()
        .find(|x| *x == m)
        .unwrap_or("POST")
}

/// matchit needs consistent parameter names per position: `{id}` → `{p0}`, `{*rest}` → `{*p1}`.
fn router_pattern(path: &str) -> String {
    let mut n = 0;
    path.split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(inner) => {
                    let star = if inner.starts_with('*') { "*" } else { "" };
                    n += 1;
                    format!("{{{star}p{}}}", n - 1)
                }
                None => seg.to_string(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::router_pattern;

    #[test]
    fn normalises_parameter_names() {
        assert_eq!(router_pattern("/o/{id}/items/{item}"), "/o/{p0}/items/{p1}");
        assert_eq!(router_pattern("/files/{*rest}"), "/files/{*p0}");
        assert_eq!(router_pattern("/plain"), "/plain");
    }
}
