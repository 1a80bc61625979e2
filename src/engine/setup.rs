//! A run of playbooks set up from a request: sessions, runtime, then the recap and the report at the end.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Map;

use super::play_run::Runner;
use super::session::HostSession;
use super::task_run::RunEnv;
use crate::inventory::Inventory;
use crate::playbook::Playbook;
use crate::render::vars::{groups_var, inventory_vars, parse_extra_vars};
use crate::render::Renderer;
use crate::report::adhoc::AdHoc;
use crate::report::progress::Progress;
use crate::report::text::Text;
use crate::report::timings::{Phase, PhaseKind};
use crate::report::{json, Event, Fanout, HostTotals, Sink};
use crate::ssh::{Options, Target};
use crate::{pattern, Error, ExitCode};

/// What `kubestrap run` and `apply` share from the command line.
#[derive(Default)]
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
    /// `--start-at-task`: skip the tasks before the first so named.
    pub start_at_task: Option<String>,
    /// `--step`: ask on the terminal before each task.
    pub step: bool,
    /// Show results as Ansible's ad-hoc mode does (`exec -m`), without
    /// play and task banners.
    pub adhoc: bool,
}

impl RunRequest {
    /// A cluster command's request: `hosts` of `inventory` all at once, no
    /// tags, extra vars or diff; the rest left to the command.
    pub fn on_hosts(inventory: &Path, hosts: &[String], check: bool, verbose: bool) -> Self {
        RunRequest {
            inventory: inventory.to_path_buf(),
            limit: hosts.join(","),
            forks: hosts.len().max(1),
            check,
            verbose,
            ..RunRequest::default()
        }
    }
}

/// A runner with its async runtime, ready to run playbooks on the inventory.
pub struct Session {
    pub runner: Runner,
    runtime: tokio::runtime::Runtime,
    /// `--report`: where to write it, and the reporter that builds it.
    report: Option<(PathBuf, Arc<json::Json>)>,
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
        playbook: impl Into<Arc<Playbook>>,
        base_dir: PathBuf,
    ) -> Result<Session, Error> {
        let playbook = playbook.into();
        let limit = pattern::select(&inv, &req.limit)?;
        let mut extra = Map::new();
        for e in &req.extra_vars {
            extra.extend(parse_extra_vars(e)?);
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
            verbosity: u8::from(req.verbose),
            base_dir,
            extra_vars: extra,
            groups: crate::render::to_jinja(&groups_var(&inv)),
            hostvars: Default::default(),
            failed_hosts: std::sync::RwLock::new(serde_json::Value::Array(Vec::new())),
            play_hosts: Default::default(),
            delegate_facts_under_check: Default::default(),
        };
        // Progress first: it takes its lines down before the recap is printed.
        let progress = Arc::new(Progress::new(&limit));
        let sink = progress.clone() as Arc<dyn Sink>;
        let shown: Arc<dyn crate::report::Reporter> = if req.adhoc {
            let mut adhoc = AdHoc::new(sink);
            adhoc.diff = req.diff;
            Arc::new(adhoc)
        } else {
            let mut text = Text::new(sink);
            text.diff = req.diff;
            text.verbose = req.verbose;
            Arc::new(text)
        };
        let mut reporter = Fanout::new(vec![progress, shown]);
        let report = req.report.map(|path| {
            let json = Arc::new(json::Json::new(
                &playbook.path.display().to_string(),
                req.check,
            ));
            reporter.push(json.clone());
            (path, json)
        });
        let mut runner = Runner {
            env: Arc::new(env),
            playbook,
            inventory: Arc::new(inv),
            sessions,
            reporter: Arc::new(reporter),
            limit,
            forks: req.forks,
            tags: req.tags,
            skip_tags: req.skip_tags,
            aborted: false,
            between_tasks: None,
            stepping: super::step::Stepping {
                start_at: req.start_at_task,
                step: req.step,
            },
        };
        // Every host's inventory vars are in `hostvars` from the start, for
        // plays that gather no facts too.
        runner.refresh_hostvars();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        Ok(Session {
            runner,
            runtime,
            report,
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
        let (code, totals) = self.runtime.block_on(async {
            let reporter = runner.reporter.clone();
            crate::interrupt::watch(move |notice| reporter.emit(&Event::Notice(notice.into())));
            let mut code = work(runner).await;
            recap_started = std::time::Instant::now();
            if crate::interrupt::interrupted() {
                runner.emit(Event::Interrupted);
                code = code.max(ExitCode::Interrupted);
            }
            // Counted before closing: the report's ssh_execs is the real cost.
            let totals: Vec<HostTotals> = runner
                .sessions
                .iter()
                .flatten()
                .filter(|s| runner.limit.contains(&s.name))
                .map(|s| HostTotals {
                    host: s.name.clone(),
                    stats: s.stats,
                    ssh_execs: s.exec_count(),
                })
                .collect();
            for s in runner.sessions.iter_mut().flatten() {
                if let Some(c) = s.conn.take().and_then(|c| Arc::try_unwrap(c).ok()) {
                    c.close().await;
                }
            }
            (code, totals)
        });
        let hosts = totals.len();
        runner.emit(Event::Recap { hosts: totals });
        let recap = Phase::since(PhaseKind::Recap, "PLAY RECAP", hosts, recap_started);
        runner.emit(Event::Phase(recap));
        runner.emit(Event::RunEnd {
            total_s: run_started.elapsed().as_secs_f64(),
        });
        if let Some((path, json)) = &self.report {
            json.write(path).map_err(|e| Error::Io {
                path: path.clone(),
                source: e,
            })?;
        }
        Ok(code)
    }
}
