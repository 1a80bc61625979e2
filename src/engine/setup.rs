//! A run of playbooks set up from a request: sessions, runtime, then the recap and the report at the end.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Map;

use super::play_run::Runner;
use super::session::HostSession;
use super::task_run::RunEnv;
use crate::inventory::Inventory;
use crate::playbook::Playbook;
use crate::render::vars::{groups_var, inventory_vars, parse_extra_vars};
use crate::render::Renderer;
use crate::report::timings::PhaseKind;
use crate::report::{recap, write_report, HostReport, RunReport};
use crate::ssh::{Options, Target};
use crate::ui::Progress;
use crate::{pattern, Error, ExitCode};

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
    /// A runner over `inv`'s hosts, reached at `targets` (every host of the
    /// inventory, in its order) with `opts`, whose first playbook is
    /// `playbook` (templates found beside `base_dir`, then among the
    /// shipped ones).
    pub fn with_inventory(
        req: RunRequest,
        (opts, targets): (Options, Vec<Target>),
        inv: Inventory,
        playbook: Playbook,
        base_dir: PathBuf,
    ) -> Result<Session, Error> {
        let limit = pattern::select(&inv, &req.limit).map_err(Error::BadInput)?;
        let mut extra = Map::new();
        for e in &req.extra_vars {
            extra.extend(parse_extra_vars(e).map_err(Error::BadInput)?);
        }
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
            groups: crate::render::to_jinja(&groups_var(&inv)),
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
            between_tasks: None,
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
            crate::interrupt::watch(|notice| crate::errln!("{notice}"));
            let mut code = work(runner).await;
            recap_started = std::time::Instant::now();
            if crate::interrupt::interrupted() {
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
