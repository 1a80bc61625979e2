//! `kubestrap apply`: preflight over every host, then the shipped playbooks, stage by stage.
//!
//! Stages, in order (each a list of playbooks from `playbooks/`):
//! - `prepared`: prepare.yaml (sources, swap, kernel, static IP, hostname,
//!   /etc/hosts), runtime.yaml (containerd), packages.yaml (kubeadm,
//!   kubelet, kubectl).
//! - `cluster`: control-plane.yaml (CA upload, `kubeadm init`, tokens and
//!   certificate uploads for later joins), nodes.yaml (`kubeadm join`),
//!   cni.yaml (Calico, then every node Ready).
//!
//! `--until STAGE` stops after that stage. Nothing changes on any host
//! unless preflight passes on all of them. When the inventory's version is
//! newer than the running cluster's, the cluster is upgraded between the
//! two stages (see [`crate::phases::upgrade`]), before new hosts join.
//!
//! The command is the list of phases in [`run`]; each phase is a file of
//! [`crate::phases`], and the manager runs them (`--until`, `--check`,
//! clean-up on failure or SIGINT).

mod finish;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::connect::SshRequest;
use crate::cluster::preflight;
use crate::cluster::state::StateDir;
use crate::engine::{RunRequest, Session};
use crate::phases::cluster_run::{ClusterRun, StageBook};
use crate::phases::manager::{self, Manager, Phase};
use crate::phases::{
    cluster_plan::ClusterPlan,
    connect::Connect,
    gather::Gather,
    kubeconfig::Kubeconfig,
    locking,
    preflight::Preflight,
    stage::Stage,
    upgrade::{check::UpgradeCheck, run::Upgrade},
};
use crate::playbook::{load, load_str, Playbook, PlaybookError};
use crate::{bundle, inventory, Error, ExitCode};

/// The stages `apply` knows, in order, with their playbooks.
pub const STAGES: &[(&str, &[&str])] = &[
    (
        "prepared",
        &["prepare.yaml", "runtime.yaml", "packages.yaml"],
    ),
    ("cluster", &["control-plane.yaml", "nodes.yaml", "cni.yaml"]),
];

/// The stages' names, in order (what `--until` takes), read from [`STAGES`].
const STAGE_NAMES: &[&str] = &{
    let mut names = [""; STAGES.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = STAGES[i].0;
        i += 1;
    }
    names
};

/// apply, phase by phase.
fn phases<'p, 'r: 'p>(upgrade: Upgrade) -> Vec<Box<dyn Phase<ClusterRun<'r>> + 'p>> {
    vec![
        Box::new(Connect),
        Box::new(Gather),
        Box::new(Preflight),
        Box::new(crate::phases::certs::warn::ExpiryWarning),
        Box::new(UpgradeCheck),
        Box::new(locking::Lock),
        Box::new(Stage("prepared")),
        Box::new(upgrade),
        Box::new(ClusterPlan),
        Box::new(Stage("cluster")),
        Box::new(Kubeconfig),
        Box::new(crate::phases::members::RecordMembers),
        Box::new(locking::Unlock),
    ]
}

/// The playbooks up to and including `until` (all stages when None), each
/// with its stage.
fn playbooks_until(until: Option<&str>) -> Result<Vec<(&'static str, &'static str)>, Error> {
    let last = manager::stage_position(STAGE_NAMES, until).ok_or_else(|| Error::UnknownStage {
        given: until.unwrap_or_default().to_string(),
        known: STAGE_NAMES.iter().map(|s| s.to_string()).collect(),
    })?;
    Ok(STAGES[..=last]
        .iter()
        .flat_map(|(stage, books)| books.iter().map(move |b| (*stage, *b)))
        .collect())
}

/// A shipped playbook, or the sysadmin's own copy from `--playbooks DIR`.
pub(crate) fn load_playbook(name: &str, dir: Option<&Path>) -> Result<(Playbook, PathBuf), Error> {
    let located =
        |errs: Vec<PlaybookError>| Error::Playbook(errs.iter().map(|e| e.to_string()).collect());
    if let Some(dir) = dir {
        let path = dir.join(name);
        if path.is_file() {
            return Ok((load(&path).map_err(located)?, dir.to_path_buf()));
        }
    }
    let text = bundle::playbook(name).ok_or_else(|| Error::NoShippedPlaybook(name.to_string()))?;
    let shown = PathBuf::from("playbooks").join(name);
    // Templates: the override directory's own `templates/` first, then the
    // shipped ones; with no directory (an empty base), only the shipped ones.
    let base = dir.map(Path::to_path_buf).unwrap_or_default();
    Ok((load_str(&shown, text).map_err(located)?, base))
}

/// What `kubestrap apply` was asked to do (the command line's flags).
#[derive(Debug, Clone, Default)]
pub struct ApplyRequest {
    pub inventory: PathBuf,
    /// Stop after this stage.
    pub until: Option<String>,
    pub state_dir: Option<PathBuf>,
    /// The sysadmin's own playbooks, used in place of the shipped ones.
    pub playbooks: Option<PathBuf>,
    pub skip_preflight: Vec<String>,
    pub limit: String,
    pub forks: usize,
    pub check: bool,
    pub diff: bool,
    pub force_handlers: bool,
    pub extra_vars: Vec<String>,
    pub report: Option<PathBuf>,
    pub force_unlock: bool,
    pub max_worker_failure_percent: u32,
    /// Workers upgraded at once.
    pub max_unavailable: usize,
    pub verbose: bool,
    pub ssh: SshRequest,
}

/// Run `kubestrap apply`.
pub fn run(args: ApplyRequest) -> Result<ExitCode, Error> {
    let verbose = args.verbose;
    let inv = inventory::load(&args.inventory).map_err(Error::Inventory)?;
    preflight::validate_skip(&args.skip_preflight)?;
    let names = playbooks_until(args.until.as_deref())?;
    let mut books = Vec::new();
    for &(stage, name) in &names {
        let (book, base) = load_playbook(name, args.playbooks.as_deref())?;
        books.push(StageBook {
            stage,
            book: Arc::new(book),
            base,
        });
    }
    let state_path = args
        .state_dir
        .clone()
        .unwrap_or_else(|| StateDir::default_path(&args.inventory, inv.cluster.name.as_deref()));
    let cluster_name = inv
        .cluster
        .name
        .clone()
        .unwrap_or_else(|| crate::cluster::defaults::CLUSTER_NAME.into());
    let req = RunRequest {
        inventory: args.inventory.clone(),
        limit: args.limit.clone(),
        forks: args.forks,
        check: args.check,
        force_handlers: args.force_handlers,
        diff: args.diff,
        extra_vars: args.extra_vars.clone(),
        tags: Vec::new(),
        skip_tags: Vec::new(),
        report: args.report.clone(),
        verbose,
        adhoc: false,
        start_at_task: None,
        step: false,
    };
    let (upgrade_book, upgrade_base) = load_playbook("upgrade.yaml", args.playbooks.as_deref())?;
    let upgrade = Upgrade {
        book: Arc::new(upgrade_book),
        base: upgrade_base,
    };
    // The runner starts on the first playbook; each stage switches to its own.
    let (first, first_base) = (books[0].book.clone(), books[0].base.clone());
    let reach = args.ssh.reach_all(&inv)?;
    let session = Session::with_inventory(req, reach, inv, first, first_base)?;
    let until = args.until.clone();
    session.finish(async move |runner| {
        runner.add_extra_vars(crate::phases::upgrade::repository_vars(&runner.inventory));
        let mut ctx = ClusterRun::new(
            runner,
            args.check,
            args.force_unlock,
            state_path,
            cluster_name,
        );
        ctx.skip_preflight = args.skip_preflight.clone();
        ctx.worker_failure_percent = args.max_worker_failure_percent;
        ctx.books = books;
        ctx.max_unavailable = args.max_unavailable;
        let manager = Manager::new(STAGE_NAMES, phases(upgrade))
            .check(args.check)
            .until(until.as_deref())
            .expect("--until was checked when the playbooks were loaded");
        let code = manager.run(&mut ctx).await;
        finish::failed_workers(ctx.runner, &ctx.budget);
        code
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_picks_the_stages_up_to_it() {
        let prepared: Vec<&str> = playbooks_until(Some("prepared"))
            .unwrap()
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        assert_eq!(prepared, ["prepare.yaml", "runtime.yaml", "packages.yaml"]);
        let all = playbooks_until(None).unwrap();
        assert_eq!(
            all.len(),
            STAGES.iter().map(|(_, b)| b.len()).sum::<usize>()
        );
        assert_eq!(all.last().unwrap(), &("cluster", "cni.yaml"));
        let err = playbooks_until(Some("prepard")).unwrap_err().to_string();
        assert!(
            err.contains("no such stage") && err.contains("prepared"),
            "{err}"
        );
    }

    #[test]
    fn the_stage_names_are_the_stages() {
        let names: Vec<&str> = STAGES.iter().map(|(s, _)| *s).collect();
        assert_eq!(names, STAGE_NAMES);
    }

    #[test]
    fn every_stage_playbook_is_shipped() {
        for (_, books) in STAGES {
            for b in *books {
                assert!(bundle::playbook(b).is_some(), "{b}");
            }
        }
    }
}
