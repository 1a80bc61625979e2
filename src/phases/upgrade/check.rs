//! Phase: the upgrade plan, before anything changes: versions from the cluster, skew rules, each step's repository.
//!
//! Runs under `--check` too (it only reads): the UPGRADE block is what
//! `apply --check --diff` shows. A broken rule stops the run with every
//! problem on its own line; nothing has changed on any host by then.

use std::collections::BTreeMap;

use super::{cordoned, lines::upgrade_lines, UpgradeWork, UPGRADING_VAR};
use crate::cluster::defaults::KUBERNETES_VERSION;
use crate::cluster::upgrade::{self, repo, Member, Problem};
use crate::cluster::versions::KubeVersion;
use crate::engine::Runner;
use crate::inventory::Role;
use crate::phases::cluster_run::ClusterRun;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::Event;
use crate::ExitCode;

pub struct UpgradeCheck;

impl<'r> Phase<ClusterRun<'r>> for UpgradeCheck {
    fn title(&self) -> &'static str {
        "upgrade plan"
    }

    /// Only when some control plane could list the cluster's nodes.
    fn should_run(&self, ctx: &ClusterRun<'r>) -> bool {
        first_control_plane(ctx.runner).is_some()
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            match plan(ctx).await {
                Ok(None) => Flow::Next(ExitCode::Ok),
                Ok(Some(work)) => {
                    mark_upgrading(ctx.runner, &work);
                    ctx.upgrade = Some(work);
                    Flow::Next(ExitCode::Ok)
                }
                Err(problems) => {
                    let code = problems
                        .iter()
                        .map(exit_code)
                        .max()
                        .unwrap_or(ExitCode::BadInput);
                    let mut lines: Vec<String> =
                        problems.iter().map(|p| format!("refused: {p}")).collect();
                    lines.push("nothing was changed on any host".into());
                    ctx.runner.emit(Event::Section {
                        title: "UPGRADE".into(),
                        lines,
                    });
                    Flow::Stop(code)
                }
            }
        })
    }
}

/// A rule the inventory breaks is bad input; a repository the hosts
/// cannot read is a failure on the host that tried.
fn exit_code(p: &Problem) -> ExitCode {
    match p {
        Problem::NoRepository { .. } | Problem::NotInRepository { .. } => ExitCode::HostFailed,
        _ => ExitCode::BadInput,
    }
}

/// The first control plane (inventory order) that could list the nodes.
fn first_control_plane(runner: &Runner) -> Option<String> {
    runner
        .inventory
        .hosts
        .iter()
        .filter(|h| h.roles.contains(&Role::ControlPlane))
        .find(|h| {
            runner
                .facts_of(&h.name)
                .and_then(|f| f.kube.as_ref()?.nodes.as_ref())
                .is_some()
        })
        .map(|h| h.name.clone())
}

/// The cluster's members as the first control plane and each host see them.
fn members(ctx: &ClusterRun<'_>, first: &str) -> Vec<Member> {
    let runner = &*ctx.runner;
    let facts_of = |n: &str| runner.facts_of(n);
    let nodes = facts_of(first)
        .and_then(|f| f.kube.as_ref()?.nodes.clone())
        .unwrap_or_default();
    let ours = cordoned::read(&ctx.state_path);
    runner
        .inventory
        .hosts
        .iter()
        .map(|h| {
            let node = nodes.iter().find(|n| n.name == h.name);
            let session = runner.session_named(&h.name);
            let apiserver = facts_of(&h.name)
                .and_then(|f| f.kube.as_ref()?.apiserver_image.clone())
                .and_then(|image| KubeVersion::parse(image.rsplit(':').next()?));
            Member {
                name: h.name.clone(),
                control_plane: h.roles.contains(&Role::ControlPlane),
                kubelet: node.and_then(|n| KubeVersion::parse(&n.kubelet_version)),
                apiserver: node.and(apiserver),
                cordoned_by_us: node.is_some_and(|n| n.unschedulable) && ours.contains(&h.name),
                in_run: runner.limit.contains(&h.name)
                    && session.is_some_and(|s| s.active() && !s.failed),
            }
        })
        .collect()
}

/// The whole plan; None when the cluster runs the inventory's version.
async fn plan(ctx: &mut ClusterRun<'_>) -> Result<Option<UpgradeWork>, Vec<Problem>> {
    let Some(first) = first_control_plane(ctx.runner) else {
        return Ok(None);
    };
    let given = ctx.runner.inventory.cluster.kubernetes_version.clone();
    // The inventory's validation already refused a malformed version.
    let Some(target) = KubeVersion::parse(given.as_deref().unwrap_or(KUBERNETES_VERSION)) else {
        return Ok(None);
    };
    let members = members(ctx, &first);
    let Some(steps) = upgrade::walk(target, &first, &members)? else {
        return Ok(None);
    };
    let configured = super::configured_repository(&ctx.runner.inventory).map_or_else(
        || repo::default_repository(&target.minor_name()),
        String::from,
    );
    let repositories: BTreeMap<String, String> = steps
        .iter()
        .map(|s| {
            let minor = s.minor_name();
            let url = repo::repository_for(&configured, &minor);
            (minor, url)
        })
        .collect();
    let listing = read_repositories(ctx.runner, &first, &repositories).await?;
    let versions = upgrade::resolve(&steps, |minor| {
        let url = repositories[minor].clone();
        let found = listing
            .iter()
            .find(|(m, _)| m == minor)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| Err("the listing printed nothing for it".into()));
        Ok((url, found))
    })?;
    let max = ctx.max_unavailable;
    let schedule = upgrade::schedule(&versions, &first, &members, max)?;
    ctx.runner.emit(Event::Section {
        title: "UPGRADE".into(),
        lines: upgrade_lines(&schedule, &members, target, max),
    });
    // Nodes cordoned by someone else: upgraded, and left cordoned.
    let nodes = ctx
        .runner
        .facts_of(&first)
        .and_then(|f| f.kube.as_ref()?.nodes.clone())
        .unwrap_or_default();
    let cordoned_before = members
        .iter()
        .filter(|m| !m.cordoned_by_us)
        .filter(|m| nodes.iter().any(|n| n.name == m.name && n.unschedulable))
        .map(|m| m.name.clone())
        .collect();
    Ok(Some(UpgradeWork {
        via: first,
        schedule,
        repositories,
        cordoned_before,
    }))
}

/// Every step's repository listing, read on the first control plane in one
/// command (it reaches the repositories; the operator's machine may not).
async fn read_repositories(
    runner: &Runner,
    first: &str,
    repositories: &BTreeMap<String, String>,
) -> Result<Vec<(String, Result<Vec<KubeVersion>, String>)>, Vec<Problem>> {
    let pairs: Vec<(String, String)> = repositories
        .iter()
        .map(|(m, u)| (m.clone(), u.clone()))
        .collect();
    let script = repo::listing_script(&pairs);
    let failed = |why: String| {
        pairs
            .iter()
            .map(|(minor, url)| Problem::NoRepository {
                minor: minor.clone(),
                url: url.clone(),
                why: format!("{first} could not read it: {why}"),
            })
            .collect::<Vec<_>>()
    };
    let out = runner
        .run_command(first, &crate::engine::session::sh_c(&script))
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(repo::parse_listing(&String::from_utf8_lossy(&out.stdout)))
}

/// The hosts whose packages the upgrade moves: the prepared stage leaves
/// their Kubernetes packages and repository as they are.
fn mark_upgrading(runner: &mut Runner, work: &UpgradeWork) {
    let hosts = work.schedule.hosts();
    for s in runner.sessions.iter_mut().flatten() {
        if hosts.contains(&s.name.as_str()) {
            s.inventory_vars
                .insert(UPGRADING_VAR.into(), serde_json::Value::Bool(true));
        }
    }
}
