//! `meta:` tasks: what the play loop does for `flush_handlers`, `end_host`, `end_batch`, `end_play` and `noop`.
//!
//! As ansible-core: `flush_handlers` runs the handlers notified so far on
//! the batch's hosts (its `when` is not looked at); `end_host` ends the
//! play for each host whose `when` holds (not a failure; its handlers do
//! not run); `end_batch` and `end_play` end it for every host of the batch
//! when the `when` holds for one of them (their handlers do not run
//! either), `end_play` also for the batches to come. A meta task prints no status line of its own.

use super::play_run::Runner;
use super::task_run::{all_true, scope};
use crate::playbook::{Play, Task};

/// What the play loop does after a meta task.
pub(super) enum MetaOutcome {
    /// Go on with the next task.
    Next,
    /// No more tasks for this batch (its handlers still run).
    EndBatch,
    /// No more tasks nor batches.
    EndPlay,
}

/// Is `task` a `meta:` task?
pub(super) fn is_meta(task: &Task) -> bool {
    task.module.name() == "meta"
}

impl Runner {
    /// Carry out meta `action` (task `t` of `play`) on the batch's `hosts`.
    pub(super) async fn meta(
        &mut self,
        action: &str,
        hosts: &[usize],
        index: usize,
        t: usize,
        play: &Play,
    ) -> MetaOutcome {
        let task = &play.tasks[t];
        match action {
            "flush_handlers" => {
                let force = self.env.force_handlers || play.force_handlers;
                self.run_handlers(hosts, index, play, force).await;
                MetaOutcome::Next
            }
            "end_host" => {
                for &i in hosts {
                    if self.holds(i, task) {
                        if let Some(s) = self.sessions[i].as_mut() {
                            s.ended = true;
                        }
                    }
                }
                MetaOutcome::Next
            }
            "end_batch" | "end_play" if hosts.iter().any(|&i| self.holds(i, task)) => {
                // Their play is complete: no handlers either.
                for &i in hosts {
                    if let Some(s) = self.sessions[i].as_mut() {
                        s.ended = true;
                    }
                }
                if action == "end_play" {
                    MetaOutcome::EndPlay
                } else {
                    MetaOutcome::EndBatch
                }
            }
            _ => MetaOutcome::Next,
        }
    }

    /// Whether the task's `when` holds on host `i` (an error counts as not).
    fn holds(&self, i: usize, task: &Task) -> bool {
        let s = self.session(i);
        scope(&self.env, s, Some(task))
            .ok()
            .and_then(|sc| all_true(&self.env, &task.when, &sc.value()).ok())
            .unwrap_or(false)
    }
}
