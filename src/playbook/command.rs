//! `kubestrap run PLAYBOOK`: load everything, run the plays, print the recap, write the report.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Map;

use super::play_run::Runner;
use super::render::Renderer;
use super::session::HostSession;
use super::task_run::RunEnv;
use super::vars::{groups_var, inventory_vars, parse_extra_vars};
use crate::adhoc::{load_ssh_config, resolve_targets};
use crate::cli::SshArgs;
use crate::report::{recap, write_report, HostReport, RunReport};
use crate::ui::Progress;
use crate::{inventory, pattern, Error, ExitCode};

/// What `kubestrap run` was asked to do (from the CLI).
pub struct RunRequest {
    pub playbook: PathBuf,
    pub inventory: PathBuf,
    pub limit: String,
    pub forks: usize,
    pub check: bool,
    pub diff: bool,
    pub extra_vars: Vec<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    pub report: Option<PathBuf>,
    pub verbose: bool,
}

/// Run a playbook; the exit code covers every host.
pub fn run(req: RunRequest, ssh: &SshArgs) -> Result<ExitCode, Error> {
    let inv = inventory::load(&req.inventory).map_err(Error::Inventory)?;
    let playbook = super::parse::load(&req.playbook)
        .map_err(|errs| Error::Playbook(errs.iter().map(|e| e.to_string()).collect()))?;
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
    let base_dir = req
        .playbook
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        })
        .unwrap_or_else(|| PathBuf::from("."));
    let env = RunEnv {
        renderer: Renderer::new(),
        opts,
        check_mode: req.check,
        diff: req.diff,
        base_dir,
        extra_vars: extra,
        groups: super::to_jinja(&groups_var(&inv)),
        hostvars: Default::default(),
    };
    let progress = Arc::new(Progress::new(&limit));
    let mut runner = Runner {
        env: Arc::new(env),
        playbook: Arc::new(playbook),
        inventory: Arc::new(inv),
        sessions,
        limit,
        forks: req.forks,
        tags: req.tags,
        skip_tags: req.skip_tags,
        verbose: req.verbose,
        progress: progress.clone(),
        report: RunReport {
            playbook: req.playbook.display().to_string(),
            check_mode: req.check,
            ..Default::default()
        },
        aborted: false,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::BadInput(format!("cannot start the async runtime: {e}")))?;
    let code = runtime.block_on(async {
        let code = runner.run().await;
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
            if let Some(c) = s.conn.take() {
                c.close().await;
            }
        }
        code
    });
    progress.clear();
    let stats: Vec<(String, crate::report::HostStats)> = runner
        .sessions
        .iter()
        .flatten()
        .filter(|s| runner.limit.contains(&s.name))
        .map(|s| (s.name.clone(), s.stats))
        .collect();
    println!("\n{}", recap(&stats));
    if let Some(path) = &req.report {
        write_report(path, &runner.report).map_err(|e| Error::Io {
            path: path.clone(),
            source: e,
        })?;
    }
    Ok(code)
}
