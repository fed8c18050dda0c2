//! Signal routing, resolved at load time. The rules:
//! - after a signal S: `routes[S]`, else `routes.default`, else the next step, else END;
//! - after a failure of kind K: `routes[K]`, else `routes.error`, else the run fails;
//! - `END` stops the run.

/// Where to go next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Step(usize),
    End,
}

/// A step's routes with every target resolved to an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routes {
    /// Signal → target, as written (includes `default` and `error` when present). Few entries:
    /// a linear scan beats hashing here.
    table: Box<[(Box<str>, Target)]>,
    default: Option<Target>,
    error: Option<Target>,
    /// The next step in the list, or END after the last step.
    fall_through: Target,
}

impl Routes {
    pub fn new(table: Vec<(String, Target)>, fall_through: Target) -> Self {
        let find = |key: &str| table.iter().find(|(k, _)| k == key).map(|(_, t)| *t);
        let default = find("default");
        let error = find("error");
        Routes {
            table: table
                .into_iter()
                .map(|(k, t)| (k.into_boxed_str(), t))
                .collect(),
            default,
            error,
            fall_through,
        }
    }

    fn lookup(&self, key: &str) -> Option<Target> {
        self.table
            .iter()
            .find(|(k, _)| &**k == key)
            .map(|(_, t)| *t)
    }

    /// Where a signal leads.
    pub fn after_signal(&self, signal: &str) -> Target {
        self.lookup(signal)
            .or(self.default)
            .unwrap_or(self.fall_through)
    }

    /// Where a failure of `kind` leads; `None` fails the run.
    pub fn after_failure(&self, kind: &str) -> Option<Target> {
        self.lookup(kind).or(self.error)
    }

    /// The signals named in the routes (route keys), in the order written.
    pub fn signals(&self) -> impl Iterator<Item = &str> {
        self.table.iter().map(|(k, _)| &**k)
    }

    pub fn has(&self, key: &str) -> bool {
        self.lookup(key).is_some()
    }

    /// Every place control can go after this step (for reachability).
    pub fn successors(&self) -> impl Iterator<Item = Target> + '_ {
        let fall = if self.default.is_none() {
            Some(self.fall_through)
        } else {
            None
        };
        self.table.iter().map(|(_, t)| *t).chain(fall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_rules() {
        let r = Routes::new(
            vec![
                ("valid".into(), Target::Step(3)),
                ("default".into(), Target::Step(5)),
            ],
            Target::Step(1),
        );
        assert_eq!(r.after_signal("valid"), Target::Step(3));
        assert_eq!(r.after_signal("other"), Target::Step(5));
        let r = Routes::new(vec![("valid".into(), Target::End)], Target::Step(1));
        assert_eq!(r.after_signal("other"), Target::Step(1));
        assert_eq!(r.after_signal("valid"), Target::End);
    }

    #[test]
    fn failure_rules() {
        let r = Routes::new(
            vec![
                ("timeout".into(), Target::Step(2)),
                ("error".into(), Target::Step(4)),
                ("default".into(), Target::Step(9)),
            ],
            Target::Step(1),
        );
        assert_eq!(r.after_failure("timeout"), Target::Step(2).into());
        assert_eq!(r.after_failure("node_error"), Some(Target::Step(4)));
        let r = Routes::new(vec![("default".into(), Target::Step(9))], Target::Step(1));
        assert_eq!(
            r.after_failure("node_error"),
            None,
            "a failure never takes default or falls through"
        );
    }
}
