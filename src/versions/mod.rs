//! Workflow versions: the registry of every loaded version, which one serves each trigger, and
//! the admin operations (toggle, fork, reload).

mod fork;
mod registry;
mod snapshot;

pub use fork::{fork_text, valid_version};
pub use registry::{Error, Forked, Registry, Reloaded, StartError};
pub use snapshot::{Entry, Lookup, RouteConflict, Snapshot};

use std::cmp::Ordering;

/// Natural order for version strings: `v2 < v10`, `v1.9 < v1.10`, `v1 < v1.1`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (chunks(a), chunks(b));
    loop {
        match (x.next(), y.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(p), Some(q)) => {
                let ord = match (p.parse::<u128>(), q.parse::<u128>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    _ => p.cmp(q),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
        }
    }
}

/// Splits into runs of digits and runs of non-digits.
fn chunks(s: &str) -> impl Iterator<Item = &str> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        let digit = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (head, tail) = rest.split_at(end);
        rest = tail;
        Some(head)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        let mut v = vec!["v10", "v2", "v1", "v1.10", "v1.9", "v1.1"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["v1", "v1.1", "v1.9", "v1.10", "v2", "v10"]);
    }
}
