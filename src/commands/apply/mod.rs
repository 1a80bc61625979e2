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
//! unless preflight passes on all of them.

mod cluster;
mod finish;
mod verdict;

use std::path::{Path, PathBuf};

use super::connect::SshRequest;
use crate::cluster::preflight::{self, HostFacts};
use crate::cluster::state::StateDir;
use crate::engine::{RunBudget, RunRequest, Runner, Session};
use crate::facts::{FactRequest, FileKind};
use crate::interrupt;
use crate::inventory::Role;
use crate::phases::lock;
use crate::playbook::{load, load_str, Playbook, PlaybookError};
use crate::report::Event;
use crate::{bundle, inventory, Error, ExitCode};

/// The stages `apply` knows, in order, with their playbooks.
pub const STAGES: &[(&str, &[&str])] = &[
    (
        "prepared",
        &["prepare.yaml", "runtime.yaml", "packages.yaml"],
    ),
    ("cluster", &["control-plane.yaml", "nodes.yaml", "cni.yaml"]),
];

/// The stage whose playbooks need the cluster plan and its secrets.
const CLUSTER: &str = "cluster";

/// The playbooks up to and including `until` (all stages when None), each
/// with its stage.
fn playbooks_until(until: Option<&str>) -> Result<Vec<(&'static str, &'static str)>, Error> {
    let last = match until {
        None => STAGES.len() - 1,
        Some(u) => STAGES
            .iter()
            .position(|(s, _)| *s == u)
            .ok_or_else(|| Error::UnknownStage {
                given: u.to_string(),
                known: STAGES.iter().map(|(s, _)| s.to_string()).collect(),
            })?,
    };
    Ok(STAGES[..=last]
        .iter()
        .flat_map(|(stage, books)| books.iter().map(move |b| (*stage, *b)))
        .collect())
}

/// A shipped playbook, or the sysadmin's own copy from `--playbooks DIR`.
fn load_playbook(name: &str, dir: Option<&Path>) -> Result<(Playbook, PathBuf), Error> {
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

/// Facts preflight and the cluster plan need beyond the base ones.
fn preflight_requests() -> Vec<FactRequest> {
    let file = |path: &str, content: bool| FactRequest::File {
        path: path.into(),
        content,
    };
    let mut out = vec![
        file(cluster::KUBELET_CONF, false),
        file(cluster::ADMIN_CONF, false),
        file(cluster::CA_CERT, true),
        file(crate::phases::lock::LOCK_PATH, true),
    ];
    out.extend(cluster::LEFTOVERS.iter().map(|p| file(p, false)));
    out
}

/// Control planes stop the apply when one fails; workers share a budget.
fn run_budget(inv: &inventory::Inventory, limit: &[String], percent: u32) -> RunBudget {
    let in_run = |h: &&inventory::Host| limit.contains(&h.name);
    let names = |role: Role, not: Option<Role>| -> Vec<String> {
        inv.hosts
            .iter()
            .filter(in_run)
            .filter(|h| h.roles.contains(&role) && not.is_none_or(|n| !h.roles.contains(&n)))
            .map(|h| h.name.clone())
            .collect()
    };
    RunBudget {
        fatal: names(Role::ControlPlane, None),
        shared: names(Role::Worker, Some(Role::ControlPlane)),
        percent: f64::from(percent),
        fatal_label: "control plane".into(),
        shared_label: "workers".into(),
    }
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
    pub verbose: bool,
    pub ssh: SshRequest,
}

/// Run `kubestrap apply`.
pub fn run(args: ApplyRequest) -> Result<ExitCode, Error> {
    let verbose = args.verbose;
    let inv = inventory::load(&args.inventory).map_err(Error::Inventory)?;
    preflight::validate_skip(&args.skip_preflight).map_err(Error::SkipPreflight)?;
    let mut books = Vec::new();
    for (stage, name) in playbooks_until(args.until.as_deref())? {
        let (book, base) = load_playbook(name, args.playbooks.as_deref())?;
        books.push((stage, book, base));
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
    };
    let mut books = books.into_iter();
    let (_, first, first_base) = books.next().expect("every stage has a playbook");
    let reach = args.ssh.reach_all(&inv)?;
    let session = Session::with_inventory(req, reach, inv, first, first_base)?;
    let rest: Vec<(&'static str, Playbook, PathBuf)> = books.collect();
    let skip = args.skip_preflight.clone();
    let check = args.check;
    let force_unlock = args.force_unlock;
    let worker_percent = args.max_worker_failure_percent;
    session.finish(async move |runner| {
        let me = lock::Me::new();
        if let Some(code) = preflight(runner, &skip, &me, force_unlock).await {
            return code;
        }
        if interrupt::interrupted() {
            return ExitCode::Interrupted;
        }
        // --check changes nothing, so it takes no lock (but refused above
        // when another run holds one: its plan would be moving under it).
        let mut locks = None;
        if !check {
            let names = runner.limit.clone();
            match lock::take(runner, &names, me, force_unlock).await {
                Ok(taken) => {
                    runner.between_tasks = Some(taken.follower());
                    locks = Some(taken);
                }
                Err(refused) => {
                    lock_refused(runner, &refused);
                    return ExitCode::HostFailed;
                }
            }
        }
        let code = stages(
            runner,
            rest,
            &state_path,
            &cluster_name,
            check,
            worker_percent,
        )
        .await;
        // Also after a failure or SIGINT: a lock left behind would make the
        // next run wait for its lease.
        runner.between_tasks = None;
        if let Some(mut locks) = locks {
            locks.refresh(runner);
            locks.release().await;
        }
        code
    })
}

/// The stages' playbooks in order (the first is the runner's already), the
/// cluster plan before the cluster stage, the kubeconfig at the end.
async fn stages(
    runner: &mut Runner,
    rest: Vec<(&'static str, Playbook, PathBuf)>,
    state_path: &Path,
    cluster_name: &str,
    check: bool,
    worker_percent: u32,
) -> ExitCode {
    runner.budget = run_budget(&runner.inventory, &runner.limit, worker_percent);
    let mut code = runner.run().await;
    let mut cluster_plan = None;
    for (stage, book, base) in rest {
        if runner.aborted || interrupt::interrupted() || runner.stop_for_budget() {
            break;
        }
        runner.switch_playbook(book, base);
        if stage == CLUSTER && cluster_plan.is_none() {
            let plan = match refresh_cluster_facts(runner).await {
                Ok(()) => prepare_cluster(runner, state_path, cluster_name),
                Err(e) => Err(e),
            };
            match plan {
                Ok(plan) => cluster_plan = Some(plan),
                Err(e) => {
                    runner.emit(Event::Line(format!("\nerror: {e}")));
                    return code.max(ExitCode::HostFailed);
                }
            }
        }
        code = code.max(runner.run().await);
    }
    let done = !runner.aborted && !interrupt::interrupted();
    if let (Some(plan), false, true) = (&cluster_plan, check, done) {
        code = code.max(finish::kubeconfig_and_nodes(runner, plan, state_path).await);
    }
    finish::failed_workers(runner);
    code
}

/// Preflight over every host (not only `--limit`'s: uniqueness and subnet
/// checks are about the whole cluster). Some(exit code) when it failed.
async fn preflight(
    runner: &mut Runner,
    skip: &[String],
    me: &lock::Me,
    force_unlock: bool,
) -> Option<ExitCode> {
    let all: Vec<usize> = (0..runner.sessions.len()).collect();
    runner.connect(&all).await;
    let gathered = runner
        .gather_for_preflight(&all, preflight_requests())
        .await;
    // Another run is changing these hosts: refuse before anything else.
    let held = lock::check(runner, &runner.limit, me);
    if !held.is_empty() && !force_unlock {
        lock_refused(runner, &held);
        return Some(ExitCode::HostFailed);
    }
    let hosts: Vec<HostFacts> = gathered
        .into_iter()
        .map(|(i, r)| {
            let s = runner.sessions[i].as_ref().expect("home");
            let facts = s.facts.clone();
            let is_node = facts.as_ref().is_some_and(|f| {
                f.files
                    .get(cluster::KUBELET_CONF)
                    .is_some_and(|st| st.kind != FileKind::Missing)
            });
            let (skew, err) = match r {
                Ok(skew) => (Some(skew), None),
                Err(e) => (None, Some(e)),
            };
            HostFacts {
                name: s.name.clone(),
                facts,
                gather_error: err,
                clock_skew_secs: skew,
                is_node,
            }
        })
        .collect();
    // Whether each host is a node already: playbooks leave nodes alone when
    // others join (`kubestrap_is_node`).
    for h in &hosts {
        if let Some(s) = runner
            .sessions
            .iter_mut()
            .flatten()
            .find(|s| s.name == h.name)
        {
            s.inventory_vars.insert(
                "kubestrap_is_node".into(),
                serde_json::Value::from(h.is_node),
            );
        }
    }
    let problems = preflight::preflight(&runner.inventory, &hosts, skip);
    let not_reached: Vec<verdict::NotReached> = runner
        .sessions
        .iter()
        .flatten()
        .filter(|s| s.unreachable.is_some())
        .map(|s| verdict::NotReached {
            host: s.name.clone(),
            code: s.worst,
        })
        .collect();
    let (lines, stop) = verdict::verdict(&problems, &not_reached, hosts.len());
    runner.emit(Event::Section {
        title: "PREFLIGHT".into(),
        lines,
    });
    stop
}

/// The LOCK block: who holds the hosts, and that nothing was changed.
fn lock_refused(runner: &Runner, holders: &[impl std::fmt::Display]) {
    let mut lines: Vec<String> = holders.iter().map(|h| h.to_string()).collect();
    lines.push("nothing was changed on any host".into());
    runner.emit(Event::Section {
        title: "LOCK".into(),
        lines,
    });
}

/// The cluster plan is made from the files preflight gathered; a package
/// install or command in the prepared stage made kubestrap forget them (they
/// may have changed), so the hosts that lack them are asked again. A run
/// that changed nothing costs no round trip here.
async fn refresh_cluster_facts(runner: &mut Runner) -> Result<(), String> {
    let wanted = preflight_requests();
    let stale: Vec<usize> = runner
        .sessions
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let s = s.as_ref()?;
            let f = s.facts.as_ref()?;
            (s.active() && !wanted.iter().all(|r| f.has(r))).then_some(i)
        })
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    let failed: Vec<String> = runner
        .gather_for_preflight(&stale, wanted)
        .await
        .into_iter()
        .filter_map(|(i, r)| {
            let name = &runner.sessions[i].as_ref()?.name;
            r.err().map(|e| format!("{name}: {e}"))
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "cannot read the cluster's files again before planning it: {}",
            failed.join("; ")
        ))
    }
}

/// Decide the cluster plan from facts and hand it, secrets included, to the
/// cluster playbooks as extra vars.
fn prepare_cluster(
    runner: &mut Runner,
    state_path: &Path,
    name: &str,
) -> Result<cluster::ClusterPlan, String> {
    let inv = runner.inventory.clone();
    let facts_of = |n: &str| {
        runner
            .sessions
            .iter()
            .flatten()
            .find(|s| s.name == n)
            .and_then(|s| s.facts.as_ref())
    };
    let plan = cluster::plan(&inv, facts_of, &runner.limit)?;
    // --check writes nothing here either: missing secrets are made in
    // memory, for the plan only.
    let state = if runner.env.check_mode {
        StateDir::open_dry(state_path)
    } else {
        StateDir::open(state_path)
    }
    .map_err(|e| e.to_string())?;
    let ca = cluster::cluster_ca(&state, &plan, facts_of(&plan.first_control_plane), name)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let vars = cluster::vars(&state, &plan, &ca, now)?;
    register_secrets(&vars);
    let mut lines = vec![if state.is_dry() {
        format!(
            "cluster CA: {} (--check: nothing is saved in {})",
            ca.hash,
            state.path().display()
        )
    } else {
        format!(
            "cluster CA: {} (state in {})",
            ca.hash,
            state.path().display()
        )
    }];
    lines.push(format!(
        "endpoint: {}{}",
        plan.endpoint,
        plan.vip
            .as_ref()
            .map(|_| " (virtual IP held by kube-vip)")
            .unwrap_or("")
    ));
    if plan.init_needed {
        lines.push(format!("init: {}", plan.first_control_plane));
    }
    if !plan.joins.is_empty() {
        lines.push(format!("join: {}", plan.joins.join(", ")));
    }
    if !plan.resets.is_empty() {
        lines.push(format!(
            "reset first (an earlier init or join failed midway): {}",
            plan.resets.join(", ")
        ));
    }
    runner.emit(Event::Section {
        title: "CLUSTER".into(),
        lines,
    });
    runner.add_extra_vars(vars);
    Ok(plan)
}

/// Every secret handed to the playbooks is masked in all output from now on.
fn register_secrets(vars: &serde_json::Map<String, serde_json::Value>) {
    use crate::report::redact;
    let secret = |k: &str| vars["kubestrap_secrets"][k].as_str().unwrap_or_default();
    redact::register(secret("token"));
    redact::register(secret("certificate_key"));
    redact::register(secret("ca_key"));
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
    fn every_stage_playbook_is_shipped() {
        for (_, books) in STAGES {
            for b in *books {
                assert!(bundle::playbook(b).is_some(), "{b}");
            }
        }
    }
}
