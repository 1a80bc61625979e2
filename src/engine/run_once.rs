//! `run_once`: a task run by the first host of its batch, its outcome shared by all, as in Ansible's linear strategy.
//!
//! Only the first host runs the task (its `when` decides, its result is
//! shown and counted). What the task registers or sets with `set_fact` is
//! every host's; when it fails, every host fails with it (each into its own
//! `rescue` where a block has one). Handlers are notified on the first
//! host only, as ansible-core does.

use serde_json::{Map, Value as Json};

use super::block_flow::Caught;
use super::play_run::Runner;
use super::task_run::TaskResult;
use crate::playbook::Play;
use crate::report::Outcome;

impl Runner {
    /// Task `t` of `play` (number `index`) run once, by the first of `hosts`.
    pub(super) async fn run_once(
        &mut self,
        hosts: &[usize],
        index: usize,
        t: usize,
        play: &Play,
    ) -> Vec<(usize, TaskResult)> {
        let Some((&first, others)) = hosts.split_first() else {
            return Vec::new();
        };
        let before = self.session(first).registered.clone();
        let results = self.run_on(&[first], index, t, false).await;
        let shared: Map<String, Json> = self
            .session(first)
            .registered
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let failed = results
            .iter()
            .any(|(_, r)| r.outcome == Outcome::Failed && !r.ignored);
        let task = &play.tasks[t];
        for &i in others {
            let Some(s) = self.sessions[i].as_mut() else {
                continue;
            };
            s.registered.extend(shared.clone());
            if failed && s.flow.on_failure(&task.blocks, &play.blocks) == Caught::Uncaught {
                s.fail();
            }
        }
        if !shared.is_empty() {
            self.refresh_hostvars();
        }
        results
    }
}
