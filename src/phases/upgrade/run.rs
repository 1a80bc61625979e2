//! Phase: the upgrade's batches, in order, each a run of playbooks/upgrade.yaml; clean-up uncordons what it cordoned.
//!
//! A batch that fails stops the upgrade (the hosts after it stay fully at
//! their old version, the ones before are fully new): the clean-up then
//! uncordons every node this run cordoned, or names the ones it could not.

use std::sync::Arc;

use super::{cordoned, UpgradeWork, DRAIN_TIMEOUT};
use crate::cluster::upgrade::Batch;
use crate::cluster::versions::KubeVersion;
use crate::engine::session::sh_c;
use crate::phases::cluster_plan::plan::ADMIN_CONF;
use crate::phases::cluster_run::ClusterRun;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::playbook::Playbook;
use crate::report::Event;
use crate::ssh::shell_quote;
use crate::ExitCode;

/// The upgrade, with the playbook it runs per batch.
pub struct Upgrade {
    pub book: Arc<Playbook>,
    pub base: std::path::PathBuf,
}

impl<'r> Phase<ClusterRun<'r>> for Upgrade {
    fn title(&self) -> &'static str {
        "upgrade"
    }

    fn stage(&self) -> Option<&'static str> {
        Some("cluster")
    }

    fn runs_in_check(&self) -> bool {
        false
    }

    fn should_run(&self, ctx: &ClusterRun<'r>) -> bool {
        ctx.upgrade
            .as_ref()
            .is_some_and(|w| !w.schedule.steps.is_empty())
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let Some(work) = ctx.upgrade.clone() else {
                return Flow::Next(ExitCode::Ok);
            };
            let limit = ctx.runner.limit.clone();
            let flow = self.batches(ctx, &work).await;
            ctx.runner.limit = limit;
            // admin.conf carries renewed certificates now: forget its
            // hash, so the cluster plan reads it again and the kubeconfig
            // phase fetches it.
            for s in ctx.runner.sessions.iter_mut().flatten() {
                if s.name == work.via {
                    if let Some(f) = s.facts.as_mut() {
                        f.files.remove(ADMIN_CONF);
                    }
                }
            }
            flow
        })
    }

    fn clean_up<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, ()> {
        Box::pin(async move {
            let Some(work) = ctx.upgrade.clone() else {
                return;
            };
            let left = cordoned::read(&ctx.state_path);
            if left.is_empty() || ctx.check {
                return;
            }
            let mut lines = Vec::new();
            let mut done = Vec::new();
            for node in &left {
                let cmd = format!(
                    "kubectl --kubeconfig {ADMIN_CONF} uncordon {}",
                    shell_quote(node)
                );
                match ctx.runner.run_command(&work.via, &sh_c(&cmd)).await {
                    Ok(out) if out.exit_status == Some(0) => {
                        lines.push(format!("{node}: uncordoned"));
                        done.push(node.clone());
                    }
                    Ok(out) => lines.push(format!(
                        "{node}: still cordoned, uncordon it with `kubectl uncordon {node}`: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )),
                    Err(e) => lines.push(format!(
                        "{node}: still cordoned, uncordon it with `kubectl uncordon {node}`: {e}"
                    )),
                }
            }
            if let Err(e) = cordoned::remove(&ctx.state_path, &done) {
                lines.push(format!(
                    "could not update the record of cordoned nodes: {e}"
                ));
            }
            ctx.runner.emit(Event::Section {
                title: "UPGRADE STOPPED".into(),
                lines,
            });
        })
    }
}

impl Upgrade {
    async fn batches(&self, ctx: &mut ClusterRun<'_>, work: &UpgradeWork) -> Flow {
        for step in &work.schedule.steps {
            for batch in &step.batches {
                if crate::interrupt::interrupted() {
                    return Flow::Stop(ExitCode::Interrupted);
                }
                let code = self.batch(ctx, work, step.version, batch).await;
                if code != ExitCode::Ok {
                    return Flow::Stop(code);
                }
            }
        }
        Flow::Next(ExitCode::Ok)
    }

    /// One batch: recorded as cordoned, the playbook, the record cleared.
    async fn batch(
        &self,
        ctx: &mut ClusterRun<'_>,
        work: &UpgradeWork,
        version: KubeVersion,
        batch: &Batch,
    ) -> ExitCode {
        let uncordon: Vec<String> = batch
            .hosts
            .iter()
            .filter(|h| !work.cordoned_before.contains(h))
            .cloned()
            .collect();
        if let Err(e) = cordoned::add(&ctx.state_path, &uncordon) {
            ctx.runner.emit(Event::Line(format!("\nerror: {e}")));
            return e.exit_code();
        }
        let repository = work
            .repositories
            .get(&version.minor_name())
            .cloned()
            .unwrap_or_default();
        let vars = serde_json::json!({
            "version": version.to_string(),
            "package_version": format!("{version}-1.1"),
            "repository": repository,
            "via": work.via,
            "hosts": batch.hosts,
            "apply": batch.apply,
            "uncordon": uncordon,
            "drain_timeout": DRAIN_TIMEOUT,
        });
        let mut limit = batch.hosts.clone();
        if !limit.contains(&work.via) {
            limit.push(work.via.clone());
        }
        ctx.runner.limit = limit;
        let (code, failed) = ctx
            .run_book(
                "kubestrap_upgrade",
                vars,
                self.book.clone(),
                self.base.clone(),
            )
            .await;
        // An interrupted run ends Ok on the hosts it reached: the batch is
        // unfinished all the same, and its nodes stay on the record.
        if crate::interrupt::interrupted() {
            return code.max(ExitCode::Interrupted);
        }
        if code != ExitCode::Ok || failed {
            return code.max(ExitCode::HostFailed);
        }
        if let Err(e) = cordoned::remove(&ctx.state_path, &uncordon) {
            ctx.runner.emit(Event::Line(format!("\nerror: {e}")));
            return e.exit_code();
        }
        ExitCode::Ok
    }
}
