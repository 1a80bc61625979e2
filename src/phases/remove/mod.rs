//! `kubestrap remove`'s own phases: the plan from the cluster's Node list, the removal itself, and the member record.
//!
//! ```text
//! remove  connect → facts (+ lock riding along) → plan (REMOVE block,
//!         refusals) → lock → etcd members of unreachable control planes
//!         → playbooks/remove.yaml → etcd members a reset left behind
//!         → member record → unlock
//! ```
//! [`plan::decide`] is the pure decision; [`RemovePlan`] finds a healthy
//! control plane in the facts (its `kube` fact lists every Node), prints
//! the REMOVE block and refuses, one line each, before anything changes.
//! [`Remove`] removes the etcd members of control planes whose host is
//! dead ([`etcd`]) and runs playbooks/remove.yaml: drain, reset and clean
//! the reachable hosts, delete every Node; then it makes sure each reset
//! control plane's member is gone (kubeadm reset only warns when it is not).

pub mod etcd;
pub mod plan;

use std::path::PathBuf;
use std::sync::Arc;

use plan::{Action, Removal};

use crate::phases::cluster_run::ClusterRun;
use crate::phases::lock;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::phases::members;
use crate::playbook::Playbook;
use crate::report::Event;
use crate::ExitCode;

/// What this `remove` does, decided before anything changes.
#[derive(Debug, Clone, Default)]
pub struct RemoveWork {
    /// The healthy control plane kubectl and etcdctl run on.
    pub via: String,
    pub removals: Vec<Removal>,
}

impl RemoveWork {
    fn with(&self, action: Action) -> Vec<&Removal> {
        self.removals
            .iter()
            .filter(|r| r.action == action)
            .collect()
    }
}

/// Phase: read the Node list, decide, print the REMOVE block or refuse.
pub struct RemovePlan {
    pub asked: Vec<String>,
    /// `--force`: a drain a PodDisruptionBudget blocks does not stop the removal.
    pub force: bool,
    /// `--purge`: the Kubernetes packages are purged, not kept held.
    pub purge: bool,
}

impl<'r> Phase<ClusterRun<'r>> for RemovePlan {
    fn title(&self) -> &'static str {
        "remove plan"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            // Another run is changing these hosts: refuse before anything else.
            let held = lock::check(&ctx.runner.sessions, &ctx.runner.limit, &ctx.locks.me);
            if !held.is_empty() && !ctx.force_unlock {
                let lines = held.iter().map(ToString::to_string).collect();
                return crate::phases::preflight::refuse(ctx.runner, lines);
            }
            let (via, nodes) = match healthy_control_plane(ctx, &self.asked) {
                Ok(found) => found,
                Err(lines) => return refuse(ctx, lines, ExitCode::HostFailed),
            };
            // A host that answers but could not be read is no dead server:
            // deleting its Node alone would see its kubelet register it again.
            let unread: Vec<String> = ctx
                .gathered
                .iter()
                .filter_map(|(i, r)| {
                    let s = ctx.runner.sessions[*i].as_ref()?;
                    let why = r.as_ref().err()?;
                    (self.asked.contains(&s.name) && s.unreachable.is_none()).then(|| {
                        format!(
                            "{}: the host answers but its facts could not be gathered: {why}",
                            s.name
                        )
                    })
                })
                .collect();
            if !unread.is_empty() {
                return refuse(ctx, unread, ExitCode::HostFailed);
            }
            let answered: Vec<String> = ctx
                .runner
                .sessions
                .iter()
                .flatten()
                .filter(|s| s.active() && s.facts.is_some())
                .map(|s| s.name.clone())
                .collect();
            let reachable = |name: &str| answered.iter().any(|a| a == name);
            let inventory = &ctx.runner.inventory;
            let known = |name: &str| inventory.hosts.iter().any(|h| h.name == name);
            match plan::decide(&self.asked, &nodes, known, reachable) {
                // What was asked is unsafe or names no member: bad input.
                Err(lines) => refuse(ctx, lines, ExitCode::BadInput),
                Ok(removals) => {
                    let mut lines = vec![format!(
                        "through control plane {via}, each node's steps in order:"
                    )];
                    lines.extend(
                        removals
                            .iter()
                            .map(|r| format!("  {}", plan::line(r, self.force, self.purge))),
                    );
                    ctx.runner.emit(Event::Section {
                        title: "REMOVE".into(),
                        lines,
                    });
                    // The run, its locks and its recap: the control plane it
                    // works through and the nodes whose host answers (a dead
                    // host, or one this command leaves alone, is no part of it).
                    let mut limit = vec![via.clone()];
                    limit.extend(
                        removals
                            .iter()
                            .filter(|r| r.action != Action::Forget && reachable(&r.node))
                            .map(|r| r.node.clone()),
                    );
                    ctx.runner.limit = limit;
                    ctx.remove = Some(RemoveWork { via, removals });
                    Flow::Next(ExitCode::Ok)
                }
            }
        })
    }
}

/// The REMOVE block with the reasons, and the run stops with `code`
/// before changing anything.
fn refuse(ctx: &ClusterRun<'_>, mut lines: Vec<String>, code: ExitCode) -> Flow {
    lines.push("refused: nothing was changed on any host".into());
    ctx.runner.emit(Event::Section {
        title: "REMOVE".into(),
        lines,
    });
    Flow::Stop(code)
}

/// The first control plane (inventory order, those not being removed
/// first) that listed the Nodes in the gather; else why none could.
fn healthy_control_plane(
    ctx: &ClusterRun<'_>,
    asked: &[String],
) -> Result<(String, Vec<crate::facts::KubeNode>), Vec<String>> {
    let mut why = Vec::new();
    // Control planes being removed come last: their Node list still tells
    // the refusal (every control plane asked is the last one removed).
    let (staying, leaving): (Vec<_>, Vec<_>) = ctx
        .runner
        .inventory
        .hosts
        .iter()
        .filter(|h| h.roles.contains(&crate::inventory::Role::ControlPlane))
        .partition(|h| !asked.contains(&h.name));
    for host in staying.into_iter().chain(leaving) {
        let Some(s) = ctx
            .runner
            .sessions
            .iter()
            .flatten()
            .find(|s| s.name == host.name)
        else {
            continue;
        };
        match s.facts.as_ref().and_then(|f| f.kube.as_ref()) {
            Some(k) => match (&k.nodes, &k.nodes_error) {
                (Some(nodes), _) => return Ok((host.name.clone(), nodes.clone())),
                (None, Some(e)) => why.push(format!("{}: kubectl get nodes: {e}", host.name)),
                (None, None) => why.push(format!(
                    "{}: no /etc/kubernetes/admin.conf or kubectl: not a control plane of a running cluster",
                    host.name
                )),
            },
            None => why.push(format!(
                "{}: unreachable: {}",
                host.name,
                s.unreachable.as_deref().unwrap_or("no facts")
            )),
        }
    }
    let mut lines = vec![
        "no control plane outside the nodes to remove could list the cluster's Nodes".to_string(),
    ];
    lines.extend(why);
    Err(lines)
}

/// Phase: etcd members of dead control planes, then playbooks/remove.yaml.
pub struct Remove {
    pub book: Arc<Playbook>,
    pub base: PathBuf,
    pub force: bool,
    pub purge: bool,
    pub drain_timeout: String,
}

impl<'r> Phase<ClusterRun<'r>> for Remove {
    fn title(&self) -> &'static str {
        "remove"
    }

    fn runs_in_check(&self) -> bool {
        false
    }

    fn should_run(&self, ctx: &ClusterRun<'r>) -> bool {
        ctx.remove
            .as_ref()
            .is_some_and(|w| w.removals.iter().any(|r| r.action != Action::Gone))
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let Some(work) = ctx.remove.clone() else {
                return Flow::Next(ExitCode::Ok);
            };
            for r in work.with(Action::Forget) {
                if !r.control_plane {
                    continue;
                }
                if let Err(e) = etcd::remove_member(ctx.runner, &work.via, &r.node).await {
                    ctx.runner.emit(Event::Error(e.to_string()));
                    return Flow::Stop(e.exit_code());
                }
            }
            let name = |rs: Vec<&Removal>| -> Vec<String> {
                rs.into_iter().map(|r| r.node.clone()).collect()
            };
            let reset = name(work.with(Action::Reset));
            let mut delete = reset.clone();
            delete.extend(name(work.with(Action::Forget)));
            let vars = serde_json::json!({
                "via": work.via,
                "reset": reset,
                "delete": delete,
                "force": self.force,
                "purge": self.purge,
                "drain_timeout": self.drain_timeout,
            });
            let (code, failed) = ctx
                .run_book(
                    "kubestrap_remove",
                    vars,
                    self.book.clone(),
                    self.base.clone(),
                )
                .await;
            // The run's own code also counts the dead hosts left out of it
            // (unreachable at connect): only the hosts of the run decide.
            if failed {
                return Flow::Stop(code.max(ExitCode::HostFailed));
            }
            // kubeadm reset only warns when it cannot remove its own etcd
            // member ("please manually remove this etcd member using
            // etcdctl") and carries on: a member left behind is removed here.
            for r in work.with(Action::Reset) {
                if !r.control_plane {
                    continue;
                }
                match etcd::remove_member(ctx.runner, &work.via, &r.node).await {
                    Ok(false) => {}
                    Ok(true) => ctx.runner.emit(Event::Warning {
                        host: r.node.clone(),
                        msg: format!(
                            "kubeadm reset left its etcd member behind; removed it through {}",
                            work.via
                        ),
                    }),
                    Err(e) => {
                        ctx.runner.emit(Event::Error(e.to_string()));
                        return Flow::Stop(e.exit_code());
                    }
                }
            }
            Flow::Next(ExitCode::Ok)
        })
    }
}

/// Phase: the removed nodes stay in the state directory's member record,
/// so a second `remove` of them finds nothing to do.
pub struct RecordRemoved;

impl<'r> Phase<ClusterRun<'r>> for RecordRemoved {
    fn title(&self) -> &'static str {
        "member record"
    }

    fn runs_in_check(&self) -> bool {
        false
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let Some(work) = ctx.remove.as_ref() else {
                return Flow::Next(ExitCode::Ok);
            };
            let seen: Vec<members::Member> = members::of_inventory(&ctx.runner.inventory)
                .into_iter()
                .filter(|m| work.removals.iter().any(|r| r.node == m.name))
                .collect();
            members::record(ctx, &seen)
        })
    }
}
