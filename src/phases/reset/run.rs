//! Phase: the hosts torn down batch by batch with playbooks/reset.yaml: the workers together, then each control plane alone, the first one last.
//!
//! A host that cannot be reached, or fails, is not reset; the others are
//! (the cluster is being taken down anyway), and the recap and the STATE
//! block name it. Under `--check` the playbook runs in check mode.

use std::sync::Arc;

use super::{kubeadm_was_here, Order};
use crate::phases::cluster_plan::plan::plan;
use crate::phases::cluster_run::ClusterRun;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::playbook::Playbook;
use crate::report::{Event, Outcome};
use crate::ExitCode;

/// The teardown, with the playbook it runs per batch.
pub struct ResetHosts {
    pub book: Arc<Playbook>,
    pub base: std::path::PathBuf,
}

impl<'r> Phase<ClusterRun<'r>> for ResetHosts {
    fn title(&self) -> &'static str {
        "reset"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            fail_ungathered(ctx);
            let runner = &mut *ctx.runner;
            let inv = runner.inventory.clone();
            // The control plane kubeadm init ran on (the one with
            // admin.conf), as apply's cluster plan names it, goes last.
            let first = plan(&inv, |n| runner.facts_of(n), &[])
                .ok()
                .map(|p| p.first_control_plane);
            let order = Order::new(&inv, first.as_deref());
            let kubeadm: Vec<String> = order
                .hosts()
                .into_iter()
                .filter(|h| runner.facts_of(h).is_some_and(kubeadm_was_here))
                .collect();
            let everyone = runner.limit.clone();
            let mut code = ExitCode::Ok;
            for batch in order.batches() {
                if crate::interrupt::interrupted() {
                    code = code.max(ExitCode::Interrupted);
                    break;
                }
                let hosts: Vec<String> = batch
                    .into_iter()
                    .filter(|h| runner.session_named(h).is_some_and(|s| s.active()))
                    .collect();
                if hosts.is_empty() {
                    continue;
                }
                let mut vars = serde_json::Map::new();
                vars.insert(
                    "kubestrap_reset".into(),
                    serde_json::json!({ "hosts": hosts, "kubeadm": kubeadm }),
                );
                runner.add_extra_vars(vars);
                runner.limit = hosts;
                runner.switch_playbook(self.book.clone(), self.base.clone());
                code = code.max(runner.run().await);
            }
            runner.limit = everyone;
            Flow::Next(code)
        })
    }
}

/// A host whose facts could not be gathered (but that answered) cannot be
/// judged: it fails here, so it is named as not reset.
fn fail_ungathered(ctx: &mut ClusterRun<'_>) {
    let failed: Vec<(usize, String)> = ctx
        .gathered
        .iter()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (*i, e.to_string())))
        .collect();
    for (i, why) in failed {
        let Some(s) = ctx.runner.sessions[i].as_mut() else {
            continue;
        };
        if !s.active() {
            continue;
        }
        s.failed = true;
        s.worst = s.worst.max(ExitCode::HostFailed);
        s.stats.record(Outcome::Failed);
        let host = s.name.clone();
        ctx.runner.emit(Event::Gathered {
            host,
            error: Some(why),
        });
    }
}
