//! Phase: decide the cluster plan from facts (who inits, who joins, the secrets) and hand it to the cluster stage's playbooks.

pub mod error;
pub mod plan;

use std::path::Path;

use crate::cluster::state::StateDir;
use crate::engine::session::GatherError;
use crate::engine::Runner;
use crate::phases::cluster_run::ClusterRun;
use crate::phases::gather::cluster_requests;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::Event;
use crate::ExitCode;
use error::PlanError;
use plan as cluster;

pub struct ClusterPlan;

impl<'r> Phase<ClusterRun<'r>> for ClusterPlan {
    fn title(&self) -> &'static str {
        "cluster plan"
    }

    fn stage(&self) -> Option<&'static str> {
        Some("cluster")
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            if ctx.runner.aborted || ctx.runner.stop_for_budget(&ctx.budget) {
                return Flow::Stop(ExitCode::Ok);
            }
            let plan = match refresh_cluster_facts(ctx.runner).await {
                Ok(()) => prepare_cluster(ctx.runner, &ctx.state_path, &ctx.cluster_name),
                Err(e) => Err(e),
            };
            match plan {
                Ok(plan) => {
                    ctx.plan = Some(plan);
                    Flow::Next(ExitCode::Ok)
                }
                Err(e) => {
                    ctx.runner.emit(Event::Line(format!("\nerror: {e}")));
                    Flow::Stop(ExitCode::HostFailed)
                }
            }
        })
    }
}

/// The cluster plan is made from the files gathered before preflight; a
/// package install or command in the prepared stage made kubestrap forget
/// them (they may have changed), so the hosts that lack them are asked
/// again. A run that changed nothing costs no round trip here.
async fn refresh_cluster_facts(runner: &mut Runner) -> Result<(), PlanError> {
    let wanted = cluster_requests();
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
    let failed: Vec<(String, GatherError)> = runner
        .gather_for_preflight(&stale, wanted)
        .await
        .into_iter()
        .filter_map(|(i, r)| {
            let name = runner.sessions[i].as_ref()?.name.clone();
            r.err().map(|e| (name, e))
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(PlanError::Refresh { failed })
    }
}

/// Decide the cluster plan from facts and hand it, secrets included, to the
/// cluster playbooks as extra vars.
fn prepare_cluster(
    runner: &mut Runner,
    state_path: &Path,
    name: &str,
) -> Result<cluster::ClusterPlan, PlanError> {
    let inv = runner.inventory.clone();
    let facts_of = |n: &str| runner.facts_of(n);
    let plan = cluster::plan(&inv, facts_of, &runner.limit)?;
    // --check writes nothing here either: missing secrets are made in
    // memory, for the plan only.
    let state = if runner.env.check_mode {
        StateDir::open_dry(state_path)
    } else {
        StateDir::open(state_path)
    }?;
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
