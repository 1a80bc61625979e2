//! `kubestrap run PLAYBOOK`, and the setup and wrap-up it shares with `apply`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Map;

use super::play_run::Runner;
use super::render::Renderer;
use super::session::HostSession;
use super::task_run::RunEnv;
use super::vars::{groups_var, inventory_vars, parse_extra_vars};
use super::Playbook;
use crate::adhoc::{load_ssh_config, resolve_targets};
use crate::cli::SshArgs;
use crate::inventory::Inventory;
use crate::report::timings::PhaseKind;
use crate::report::{recap, write_report, HostReport, RunReport};
use crate::ui::Progress;
use crate::{inventory, pattern, Error, ExitCode};

/// What `kubestrap run` and `apply` share from the command line.
pub struct RunRequest {
    pub inventory: PathBuf,
    pub limit: String,
    pub forks: usize,
    pub check: bool,
    pub force_handlers: bool,
    pub diff: bool,
    pub extra_vars: Vec<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub report: Option<PathBuf>,
    pub verbose: bool,
}

/// A runner with its async runtime, ready to run playbooks on the inventory.
pub struct Session {
    pub runner: Runner,
    runtime: tokio::runtime::Runtime,
    report: Option<PathBuf>,
}

impl Session {
    /// Load the inventory, resolve every host's SSH target, and build a
    /// runner whose first playbook is `playbook` (templates found beside
    /// `base_dir`, then among the shipped ones).
    pub fn open(
        req: RunRequest,
        ssh: &SshArgs,
        playbook: Playbook,
        base_dir: PathBuf,
    ) -> Result<Session, Error> {
        let inv = inventory::load(&req.inventory).map_err(Error::Inventory)?;
        Session::with_inventory(req, ssh, inv, playbook, base_dir)
    }

    pub fn with_inventory(
        req: RunRequest,
        ssh: &SshArgs,
        inv: Inventory,
        playbook: Playbook,
        base_dir: PathBuf,
    ) -> Result<Session, Error> {
        let limit = pattern::select(&inv, &req.limit).map_err(Error::BadInput)?;
        let mut extra = Map::new();
        for e in &req.extra_vars {
            extra.extend(parse_extra_vars(e).map_err(Error::BadInput)?);
        }
        let opts = ssh.options()?;
        let config = load_ssh_config(ssh.ssh_config.as_deref())?;
        let all: Vec<String> = inv.hosts.iter().map(|h| h.name.clone()).collect();
        let mut targets = resolve_targets(&inv, &all, &config, &opts)?;
        ssh.apply_become(&mut targets);
        let sessions: Vec<Option<HostSession>> = targets
            .into_iter()
            .map(|t| {
                let vars = inv
                    .host(&t.name)
                    .map(|h| inventory_vars(h, &inv.cluster))
                    .unwrap_or_default();
                Some(HostSession::new(t, vars))
            })
            .collect();
        let env = RunEnv {
            renderer: Renderer::new(),
            opts,
            check_mode: req.check,
            force_handlers: req.force_handlers,
            diff: req.diff,
            base_dir,
            extra_vars: extra,
            groups: super::to_jinja(&groups_var(&inv)),
            hostvars: Default::default(),
            failed_hosts: std::sync::RwLock::new(serde_json::Value::Array(Vec::new())),
        };
        let runner = Runner {
            env: Arc::new(env),
            report: RunReport {
                playbook: playbook.path.display().to_string(),
                check_mode: req.check,
                ..Default::default()
            },
            playbook: Arc::new(playbook),
            inventory: Arc::new(inv),
            sessions,
            progress: Arc::new(Progress::new(&limit)),
            limit,
            forks: req.forks,
            tags: req.tags,
            skip_tags: req.skip_tags,
            verbose: req.verbose,
            aborted: false,
            budget: Default::default(),
            locks: None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::BadInput(format!("cannot start the async runtime: {e}")))?;
        Ok(Session {
            runner,
            runtime,
            report: req.report,
        })
    }

    /// Run `work` on the runner, then close every connection, print the
    /// recap and write the report. The exit code is `work`'s.
    pub fn finish<F>(mut self, work: F) -> Result<ExitCode, Error>
    where
        F: AsyncFnOnce(&mut Runner) -> ExitCode,
    {
        let runner = &mut self.runner;
        let run_started = std::time::Instant::now();
        let mut recap_started = run_started;
        let code = self.runtime.block_on(async {
            crate::lock::interrupt::watch();
            let mut code = work(runner).await;
            recap_started = std::time::Instant::now();
            // Also after a failure or SIGINT: a lock left behind would make
            // the next run wait for its lease.
            if let Some(mut locks) = runner.locks.take() {
                locks.refresh(runner);
                locks.release().await;
            }
            if crate::lock::interrupt::interrupted() {
                crate::outln!("\nINTERRUPTED: no new task was started after SIGINT");
                code = code.max(ExitCode::Interrupted);
            }
            // Counted before closing: the report's ssh_execs is the real cost.
            for s in runner
                .sessions
                .iter()
                .flatten()
                .filter(|s| runner.limit.contains(&s.name))
            {
                runner.report.stats.insert(
                    s.name.clone(),
                    HostReport {
                        stats: s.stats,
                        ssh_execs: s.exec_count(),
                    },
                );
            }
            for s in runner.sessions.iter_mut().flatten() {
                if let Some(c) = s.conn.take().and_then(|c| Arc::try_unwrap(c).ok()) {
                    c.close().await;
                }
            }
            code
        });
        runner.progress.clear();
        let stats: Vec<(String, crate::report::HostStats)> = runner
            .sessions
            .iter()
            .flatten()
            .filter(|s| runner.limit.contains(&s.name))
            .map(|s| (s.name.clone(), s.stats))
            .collect();
        crate::outln!("\n{}", recap(&stats));
        let timings = &mut runner.report.timings;
        timings.add(PhaseKind::Recap, "PLAY RECAP", stats.len(), recap_started);
        timings.total_s = run_started.elapsed().as_secs_f64();
        if let Some(path) = &self.report {
            write_report(path, &runner.report).map_err(|e| Error::Io {
                path: path.clone(),
                source: e,
            })?;
        }
        Ok(code)
    }
}

/// The directory a playbook's relative paths start from.
pub fn base_dir_of(playbook: &Path) -> PathBuf {
    match playbook.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Run a playbook; the exit code covers every host.
pub fn run(req: RunRequest, playbook: &Path, ssh: &SshArgs) -> Result<ExitCode, Error> {
    let inv = inventory::load(&req.inventory).map_err(Error::Inventory)?;
    let book = super::parse::load(playbook)
        .map_err(|errs| Error::Playbook(errs.iter().map(|e| e.to_string()).collect()))?;
    let session = Session::with_inventory(req, ssh, inv, book, base_dir_of(playbook))?;
    session.finish(async |runner| runner.run().await)
}
