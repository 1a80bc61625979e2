//! What a cluster command's phases share (apply's and remove's): the runner, this run's settings, and what earlier phases found.

use std::path::PathBuf;
use std::sync::Arc;

use crate::engine::session::GatherError;
use crate::engine::{RunBudget, Runner};
use crate::phases::cluster_plan::plan::ClusterPlan;
use crate::phases::lock::{Locks, Refused};
use crate::playbook::Playbook;

/// One playbook of a stage, loaded before anything runs.
pub struct StageBook {
    pub stage: &'static str,
    pub book: Arc<Playbook>,
    /// Where its templates are looked for first.
    pub base: PathBuf,
}

/// The state of one `apply` (or a later lifecycle command) across its phases.
pub struct ClusterRun<'r> {
    pub runner: &'r mut Runner,
    /// `--check`: predict, change nothing, take no lock.
    pub check: bool,
    pub force_unlock: bool,
    pub skip_preflight: Vec<String>,
    pub worker_failure_percent: u32,
    pub state_path: PathBuf,
    pub cluster_name: String,
    /// The playbooks of every stage this run reaches, in order.
    pub books: Vec<StageBook>,
    /// The host locks this run holds (taken with the facts where it can).
    pub locks: Locks,
    /// Hosts whose lock could not be taken with the facts, and why.
    pub refused: Vec<Refused>,
    /// Per host index: preflight's facts gather (clock skew, or why not).
    pub gathered: Vec<(usize, Result<i64, GatherError>)>,
    /// When failures stop the run (set by the first stage that runs).
    pub budget: RunBudget,
    /// Playbooks run so far (the budget is checked between them).
    pub books_run: usize,
    /// Made before the cluster stage.
    pub plan: Option<ClusterPlan>,
    /// Workers upgraded at once (`--max-unavailable`).
    pub max_unavailable: usize,
    /// The upgrade this run carries out, decided before anything changes.
    pub upgrade: Option<crate::phases::upgrade::UpgradeWork>,
    /// `remove`: what it does, decided before anything changes.
    pub remove: Option<crate::phases::remove::RemoveWork>,
}

impl<'r> ClusterRun<'r> {
    /// A cluster command's context on `runner`, nothing found yet: no
    /// playbooks, no preflight skips, no worker failures allowed, workers
    /// one at a time; the command sets what it uses beyond that.
    pub fn new(
        runner: &'r mut Runner,
        check: bool,
        force_unlock: bool,
        state_path: PathBuf,
        cluster_name: String,
    ) -> Self {
        let locks = Locks::new(
            crate::phases::lock::Me::new(),
            runner.env.opts.clone(),
            runner.reporter.clone(),
        );
        ClusterRun {
            runner,
            check,
            force_unlock,
            skip_preflight: Vec::new(),
            worker_failure_percent: 0,
            state_path,
            cluster_name,
            books: Vec::new(),
            locks,
            refused: Vec::new(),
            gathered: Vec::new(),
            budget: Default::default(),
            books_run: 0,
            plan: None,
            max_unavailable: 1,
            upgrade: None,
            remove: None,
        }
    }

    /// Give back every lock this run holds (bounded; idempotent).
    pub async fn release_locks(&mut self) {
        self.runner.between_tasks = None;
        self.locks.refresh(self.runner);
        self.locks.release().await;
    }

    /// The playbooks of `stage`, in order.
    pub fn books_of(&self, stage: &str) -> Vec<(Arc<Playbook>, PathBuf)> {
        self.books
            .iter()
            .filter(|b| b.stage == stage)
            .map(|b| (b.book.clone(), b.base.clone()))
            .collect()
    }

    /// Run `book` on the hosts of `runner.limit` with `vars` as the extra
    /// variable `key`: the run's exit code, and whether one of those hosts
    /// failed or was lost (or the run was aborted).
    pub async fn run_book(
        &mut self,
        key: &str,
        vars: serde_json::Value,
        book: Arc<Playbook>,
        base: PathBuf,
    ) -> (crate::ExitCode, bool) {
        let mut extra = serde_json::Map::new();
        extra.insert(key.into(), vars);
        self.runner.add_extra_vars(extra);
        self.runner.switch_playbook(book, base);
        let code = self.runner.run().await;
        let failed = self
            .runner
            .sessions
            .iter()
            .flatten()
            .any(|s| self.runner.limit.contains(&s.name) && (s.failed || !s.active()));
        (code, failed || self.runner.aborted)
    }

    /// Session indices of every host, in or out of `--limit`.
    pub fn all_hosts(&self) -> Vec<usize> {
        (0..self.runner.sessions.len()).collect()
    }
}
