//! Running plays: connect, render play vars, gather facts, run tasks with a barrier per task, then handlers.

use std::sync::Arc;

use serde_json::Value as Json;

use super::block_flow::Step;
use super::error::PlayError;
use super::handlers;
use super::include_flow::Includes;
use super::meta::{is_meta, MetaOutcome};
use super::session::HostSession;
use super::tags::selected;
use super::task_run::{RunEnv, TaskResult};
use crate::playbook::{meta_action, Frame, Play, Playbook};
use crate::report::timings::{Phase, PhaseKind};
use crate::report::{Event, Outcome, Reporter, Stop};
use crate::ssh::run_as::Become;
use crate::{pattern, ExitCode};

/// A whole `kubestrap run`: the playbook, the hosts' sessions and where its events go.
pub struct Runner {
    pub env: Arc<RunEnv>,
    pub playbook: Arc<Playbook>,
    pub inventory: Arc<crate::inventory::Inventory>,
    /// Sessions in inventory order; `None` while a host is being worked on.
    pub sessions: Vec<Option<HostSession>>,
    /// Host names allowed by `--limit`.
    pub limit: Vec<String>,
    pub forks: usize,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// Where everything the run has to say goes (text, reporter, --report).
    pub reporter: Arc<dyn Reporter>,
    /// A play was aborted by any_errors_fatal or max_fail_percentage, or
    /// the run by its failure budget.
    pub aborted: bool,
    /// Work the command wants done between tasks (apply: its host locks
    /// follow connections a task replaced).
    pub between_tasks: Option<Arc<dyn BetweenTasks>>,
    /// `--start-at-task` and `--step`.
    pub stepping: super::step::Stepping,
}

/// Something a command needs done between two tasks of a run.
pub trait BetweenTasks: Send + Sync {
    fn between_tasks(&self, runner: &Runner);
}

/// When a failure on some hosts stops the whole run, not just those hosts.
#[derive(Debug, Clone, Default)]
pub struct RunBudget {
    /// Any failure of one of these stops the run (apply: the control planes).
    pub fatal: Vec<String>,
    /// These may fail up to `percent` of them before the run stops (apply: the workers).
    pub shared: Vec<String>,
    pub percent: f64,
    /// What the hosts are called in messages ("control plane", "workers").
    pub fatal_label: String,
    pub shared_label: String,
}

impl RunBudget {
    /// Why the run must stop, given the hosts that failed or are unreachable.
    pub fn exceeded(&self, failed: &[&str]) -> Option<String> {
        if let Some(h) = self.fatal.iter().find(|h| failed.contains(&h.as_str())) {
            return Some(format!("{} {h} failed", self.fatal_label));
        }
        let bad = self
            .shared
            .iter()
            .filter(|h| failed.contains(&h.as_str()))
            .count();
        let share = if self.shared.is_empty() {
            0.0
        } else {
            bad as f64 * 100.0 / self.shared.len() as f64
        };
        (share > self.percent).then(|| {
            format!(
                "{bad} of {} {} failed ({share:.0}% > {}%)",
                self.shared.len(),
                self.shared_label,
                self.percent
            )
        })
    }
}

impl Runner {
    /// Tell the run's reporters.
    pub fn emit(&self, event: Event) {
        self.reporter.emit(&event);
    }

    /// Run every play in order; the exit code covers all hosts.
    pub async fn run(&mut self) -> ExitCode {
        self.run_budgeted(&RunBudget::default()).await
    }

    /// [`Runner::run`], stopping every host once `budget` is spent.
    pub async fn run_budgeted(&mut self, budget: &RunBudget) -> ExitCode {
        let playbook = self.playbook.clone();
        for (index, play) in playbook.plays.iter().enumerate() {
            if crate::interrupt::interrupted() {
                break;
            }
            if let Err(e) = self.run_play(index, play, budget).await {
                self.emit(Event::Error(e.to_string()));
                return ExitCode::BadInput;
            }
            if self.aborted {
                break;
            }
        }
        let mut code = ExitCode::Ok;
        for s in self.sessions.iter().flatten() {
            code = code.max(s.worst);
        }
        if self.aborted {
            code = code.max(ExitCode::HostFailed);
        }
        code
    }

    /// Indices of the sessions a play runs on: its pattern (`hosts` as
    /// rendered, else as written), within --limit, still active.
    pub(super) fn play_hosts(
        &self,
        play: &Play,
        rendered: Option<&str>,
    ) -> Result<Vec<usize>, PlayError> {
        let pattern = rendered.unwrap_or(&play.hosts);
        let names =
            pattern::select(&self.inventory, pattern).map_err(|source| PlayError::Pattern {
                playbook: self.playbook.path.clone(),
                line: play.line,
                play: play.name.clone(),
                source: Box::new(source),
            })?;
        Ok(self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
            .filter(|(_, s)| names.contains(&s.name) && self.limit.contains(&s.name) && s.active())
            .map(|(i, _)| i)
            .collect())
    }

    async fn run_play(
        &mut self,
        index: usize,
        play: &Arc<Play>,
        budget: &RunBudget,
    ) -> Result<(), PlayError> {
        let (play, pattern) = self.play_as_run(index, play)?;
        let play = &*play;
        let hosts = self.play_hosts(play, pattern.as_deref())?;
        self.emit(Event::PlayStart {
            name: play.name.clone(),
        });
        if hosts.is_empty() {
            self.emit(Event::NoHostsMatched);
            return Ok(());
        }
        let all = self.names(&hosts);
        if let Ok(mut p) = self.env.play_hosts.write() {
            p.start_play(all);
        }
        let sizes = crate::playbook::batch_sizes(&play.serial, hosts.len());
        let mut rest = hosts.as_slice();
        for size in sizes {
            let (batch, later) = rest.split_at(size);
            rest = later;
            let names = self.names(batch);
            if let Ok(mut p) = self.env.play_hosts.write() {
                p.start_batch(names);
            }
            let go_on = self.run_batch(index, play, batch, budget).await;
            if !go_on || self.aborted || crate::interrupt::interrupted() {
                break;
            }
        }
        Ok(())
    }

    /// The whole play on one batch of its hosts (all of them without
    /// `serial`), handlers included; false when the play must not go on
    /// with the next batch (`meta: end_play`, every host of the batch
    /// failed), as in ansible-core.
    async fn run_batch(
        &mut self,
        index: usize,
        play: &Play,
        hosts: &[usize],
        budget: &RunBudget,
    ) -> bool {
        let hosts = hosts.to_vec();
        let started = std::time::Instant::now();
        self.connect(&hosts).await;
        let phase = Phase::since(PhaseKind::Connect, &play.name, hosts.len(), started);
        self.emit(Event::Phase(phase));
        self.render_play_vars(&hosts, play);
        if play.gather_facts {
            let started = std::time::Instant::now();
            self.gather(&hosts, index, play).await;
            let phase = Phase::since(PhaseKind::Gather, &play.name, hosts.len(), started);
            self.emit(Event::Phase(phase));
        }
        for &i in &hosts {
            if let Some(s) = self.sessions[i].as_mut() {
                s.flow = Default::default();
                s.ended = false;
            }
        }
        let tasks: Vec<usize> = (0..play.tasks.len())
            .filter(|&t| {
                let tags: Vec<String> = play.tasks[t]
                    .tags
                    .iter()
                    .chain(&play.tags)
                    .cloned()
                    .collect();
                selected(&tags, &self.tags, &self.skip_tags)
            })
            .collect();
        let mut end_play = false;
        // An include's file may run again for its next item (include_flow).
        let mut includes = Includes::new(play);
        let mut last = None;
        loop {
            let k = match last {
                None => 0,
                Some(k) => self.after_task(&mut includes, play, &tasks, k, &hosts),
            };
            let Some(&t) = tasks.get(k) else { break };
            last = Some(k);
            if crate::interrupt::interrupted() || self.stop_for_budget(budget) {
                break;
            }
            let task = &play.tasks[t];
            if !self
                .stepping
                .runs(task, &task.title(), &mut std::io::stdin().lock())
            {
                continue;
            }
            if let Some(hook) = self.between_tasks.clone() {
                hook.between_tasks(self);
            }
            let active = self.still_in(&hosts);
            if active.is_empty() {
                break;
            }
            let active = self.in_block_flow(&active, play, &play.tasks[t].blocks);
            let active = self.in_includes(&includes, &play.tasks[t], active);
            if active.is_empty() {
                continue;
            }
            if let Some(action) =
                meta_action(&play.tasks[t].args).filter(|_| is_meta(&play.tasks[t]))
            {
                match self.meta(action, &active, index, t, play).await {
                    MetaOutcome::Next => continue,
                    MetaOutcome::EndBatch => break,
                    MetaOutcome::EndPlay => {
                        end_play = true;
                        break;
                    }
                }
            }
            let results = if play.tasks[t].run_once {
                self.run_once(&active, index, t, play).await
            } else {
                self.run_on(&active, index, t, false).await
            };
            includes.after(&play.tasks[t], &results);
            if self.over_budget(play, &results, &hosts) {
                self.aborted = true;
                self.emit(Event::Stopped(Stop::PlayBudget {
                    play: play.name.clone(),
                }));
                break;
            }
        }
        // A host still in a failed block's `always` fails as it leaves it.
        let active = self.still_in(&hosts);
        self.in_block_flow(&active, play, &[]);
        // Handlers that do not run now stay in the hosts' records.
        let force = self.env.force_handlers || play.force_handlers;
        let interrupted = crate::interrupt::interrupted();
        let stopped = interrupted || self.aborted || self.stop_for_budget(budget);
        if handlers::run_at_end(force, stopped, interrupted) {
            let running: Vec<usize> = hosts
                .iter()
                .copied()
                .filter(|&i| !self.session(i).ended)
                .collect();
            self.run_handlers(&running, index, play, force).await;
        }
        !end_play && hosts.iter().any(|&i| self.session(i).active())
    }

    /// Those of `hosts` still taking part in the play (not failed, nor
    /// ended by `meta: end_host`).
    fn still_in(&self, hosts: &[usize]) -> Vec<usize> {
        hosts
            .iter()
            .copied()
            .filter(|&i| self.session(i).active() && !self.session(i).ended)
            .collect()
    }

    /// Those of `hosts` that run the next task, in the blocks of `frames`
    /// (none: the play's end): a host that failed in a block runs only its
    /// `rescue` and `always`, and fails for good once it leaves the block
    /// with its failure uncaught (see [`super::block_flow`]).
    fn in_block_flow(&mut self, hosts: &[usize], play: &Play, frames: &[Frame]) -> Vec<usize> {
        let mut runs = Vec::with_capacity(hosts.len());
        for &i in hosts {
            let Some(s) = self.sessions[i].as_mut() else {
                continue;
            };
            if frames.is_empty() && s.flow.idle() {
                runs.push(i);
                continue;
            }
            match s.flow.before(frames, &play.blocks) {
                Step::Run => runs.push(i),
                Step::Skip => {}
                Step::Fail => s.fail(),
            }
        }
        runs
    }

    /// Stop the run when its failure budget is spent (the hosts that failed
    /// already stopped; this stops the others).
    pub fn stop_for_budget(&mut self, budget: &RunBudget) -> bool {
        if self.aborted {
            return true;
        }
        let failed: Vec<&str> = self
            .sessions
            .iter()
            .flatten()
            .filter(|s| !s.active() && self.limit.contains(&s.name))
            .map(|s| s.name.as_str())
            .collect();
        match budget.exceeded(&failed) {
            Some(why) => {
                self.emit(Event::Stopped(Stop::RunBudget { why }));
                self.aborted = true;
                true
            }
            None => false,
        }
    }

    /// any_errors_fatal, or more than max_fail_percentage of the play's
    /// hosts (of its batch) failed.
    fn over_budget(&self, play: &Play, results: &[(usize, TaskResult)], batch: &[usize]) -> bool {
        // A failure a block rescues (or still runs `always` for) is not the host's yet.
        let failed_now = results.iter().any(|(i, r)| {
            matches!(r.outcome, Outcome::Failed | Outcome::Unreachable)
                && !r.ignored
                && !self.session(*i).active()
        });
        if play.any_errors_fatal && failed_now {
            return true;
        }
        if let Some(pct) = play.max_fail_percentage {
            let failed = batch.iter().filter(|&&i| !self.session(i).active()).count();
            let total = batch.len();
            return total > 0 && (failed as f64) * 100.0 / (total as f64) > pct;
        }
        false
    }

    /// The inventory names of `hosts`.
    fn names(&self, hosts: &[usize]) -> Vec<String> {
        hosts
            .iter()
            .map(|&i| self.session(i).name.clone())
            .collect()
    }

    /// Tell the tasks to come which hosts failed or were unreachable so far
    /// (`kubestrap_failed_hosts`, in inventory order; `ansible_play_hosts`
    /// and `ansible_play_batch` without them).
    pub(super) fn publish_failed_hosts(&self) {
        let failed: Vec<&str> = self
            .sessions
            .iter()
            .flatten()
            .filter(|s| !s.active())
            .map(|s| s.name.as_str())
            .collect();
        if let Ok(mut p) = self.env.play_hosts.write() {
            p.publish(&failed.iter().copied().collect());
        }
        if let Ok(mut f) = self.env.failed_hosts.write() {
            *f = Json::Array(failed.into_iter().map(Json::from).collect());
        }
    }
}

/// A play's become settings, as the run-as rule takes them.
pub(super) fn play_become(play: &Play) -> Become<'_> {
    Become {
        on: play.become_,
        user: play.become_user.as_deref(),
    }
}

/// Tell the reporters what a host is doing now.
pub(super) fn say_status(reporter: &dyn Reporter, host: &str, status: &str) {
    reporter.emit(&Event::HostStatus {
        host: host.into(),
        status: status.into(),
    });
}
