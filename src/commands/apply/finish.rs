//! After the phases: the recap's word on the workers that failed.

use crate::engine::{RunBudget, Runner};
use crate::report::Event;

/// Name the workers that failed, saying which of them are nodes already
/// (joined before this run, or by its `kubeadm join`) and which are not.
pub fn failed_workers(runner: &Runner, budget: &RunBudget) {
    let failed: Vec<(&str, bool)> = runner
        .sessions
        .iter()
        .flatten()
        .filter(|s| !s.active() && budget.shared.contains(&s.name))
        .map(|s| {
            let was_node = s.inventory_vars.get("kubestrap_is_node") == Some(&true.into());
            let joined_now =
                s.registered.get(JOIN_RESULT).and_then(|r| r.get("changed")) == Some(&true.into());
            (s.name.as_str(), was_node || joined_now)
        })
        .collect();
    for line in failed_worker_lines(&failed) {
        runner.emit(Event::Line(format!("\n{line}")));
    }
}

/// What nodes.yaml registers its `kubeadm join` task as.
const JOIN_RESULT: &str = "kubestrap_join";

/// The recap's lines for failed workers: (name, is a node).
fn failed_worker_lines(failed: &[(&str, bool)]) -> Vec<String> {
    let names = |joined: bool| -> Vec<&str> {
        failed
            .iter()
            .filter(|(_, j)| *j == joined)
            .map(|(n, _)| *n)
            .collect()
    };
    let (joined, not_joined) = (names(true), names(false));
    let mut out = Vec::new();
    if !not_joined.is_empty() {
        out.push(format!(
            "failed workers: {} (not joined; the next apply retries them)",
            not_joined.join(", ")
        ));
    }
    if !joined.is_empty() {
        out.push(format!(
            "failed workers: {} (nodes of the cluster, but a later step failed; the next apply retries it)",
            joined.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_workers_are_not_called_not_joined() {
        type Case<'a> = (&'a [(&'a str, bool)], &'a [&'a str]);
        let table: &[Case] = &[
            (&[], &[]),
            (
                &[("w1", false), ("w2", false)],
                &["failed workers: w1, w2 (not joined; the next apply retries them)"],
            ),
            (
                &[("w1", true), ("w2", false), ("w3", true)],
                &[
                    "failed workers: w2 (not joined; the next apply retries them)",
                    "failed workers: w1, w3 (nodes of the cluster, but a later step failed; the next apply retries it)",
                ],
            ),
        ];
        for (failed, want) in table {
            assert_eq!(failed_worker_lines(failed), *want, "{failed:?}");
        }
    }
}
