//! `ansible_play_hosts_all`, `ansible_play_hosts` and `ansible_play_batch`: the play's hosts as Ansible's magic variables.
//!
//! As ansible-core computes them: every host the play targets; those of
//! them not failed nor unreachable; and those of the current `serial`
//! batch not failed nor unreachable (`play_hosts` is its old name). The
//! values are built once per task (when the failed hosts are published),
//! so each host's scope only clones a shared list.

use std::collections::HashSet;

use minijinja::Value;

/// The play's hosts and batch, by name, and their variables as of the last publish.
#[derive(Debug, Default)]
pub struct PlayHosts {
    all: Vec<String>,
    batch: Vec<String>,
    vars: Vec<(&'static str, Value)>,
}

impl PlayHosts {
    /// A play starts on `all` (before its first batch).
    pub fn start_play(&mut self, all: Vec<String>) {
        self.all = all;
        self.batch.clear();
        self.publish(&HashSet::new());
    }

    /// A batch of the play starts.
    pub fn start_batch(&mut self, batch: Vec<String>) {
        self.batch = batch;
    }

    /// Rebuild the variables, leaving out the hosts in `failed`.
    pub fn publish(&mut self, failed: &HashSet<&str>) {
        let active = |list: &[String]| {
            Value::from(
                list.iter()
                    .filter(|h| !failed.contains(h.as_str()))
                    .map(|h| Value::from(h.as_str()))
                    .collect::<Vec<_>>(),
            )
        };
        let all = Value::from(
            self.all
                .iter()
                .map(|h| Value::from(h.as_str()))
                .collect::<Vec<_>>(),
        );
        let batch = active(&self.batch);
        self.vars = vec![
            ("ansible_play_hosts_all", all),
            ("ansible_play_hosts", active(&self.all)),
            ("ansible_play_batch", batch.clone()),
            ("play_hosts", batch),
        ];
    }

    /// The variables, for a host's scope.
    pub fn vars(&self) -> &[(&'static str, Value)] {
        &self.vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_hosts_leave_the_play_hosts_and_the_batch_but_not_all() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut p = PlayHosts::default();
        p.start_play(names(&["a", "b", "c"]));
        p.start_batch(names(&["b", "c"]));
        p.publish(&HashSet::from(["c"]));
        let shown: Vec<(&str, String)> =
            p.vars().iter().map(|(k, v)| (*k, v.to_string())).collect();
        assert_eq!(
            shown,
            [
                ("ansible_play_hosts_all", "['a', 'b', 'c']".to_string()),
                ("ansible_play_hosts", "['a', 'b']".to_string()),
                ("ansible_play_batch", "['b']".to_string()),
                ("play_hosts", "['b']".to_string()),
            ]
        );
    }
}
