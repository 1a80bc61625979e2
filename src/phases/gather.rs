//! Phase: one round trip per host for every fact the whole command needs, with the host lock taken in the same command.
//!
//! The facts asked for are preflight's and the cluster plan's (the cluster's
//! files, the lock file) and everything the tasks of every stage's playbooks
//! will look at, predicted by rendering their arguments; so a converged
//! cluster's playbooks run on facts alone. Unless under `--check`, the lock
//! script rides along on the `--limit` hosts (see [`crate::facts::rider`]):
//! a host that is free or already this run's is locked at once, and a lock
//! held by another run is seen in the facts, so preflight refuses before
//! anything changes. The clean-up gives back the locks taken here.

use std::collections::HashMap;

use super::cluster_run::ClusterRun;
use super::manager::{Flow, Phase, PhaseFuture};
use crate::facts::FactRequest;
use crate::phases::cluster_plan::plan as cluster;
use crate::phases::lock;
use crate::ssh::run_as::run_as;
use crate::ExitCode;

pub struct Gather;

/// Facts preflight and the cluster plan need beyond the base ones.
pub fn cluster_requests() -> Vec<FactRequest> {
    let file = |path: &str, content: bool| FactRequest::File {
        path: path.into(),
        content,
    };
    let mut out = vec![
        file(cluster::KUBELET_CONF, false),
        file(cluster::ADMIN_CONF, false),
        file(cluster::CA_CERT, true),
        file(lock::LOCK_PATH, true),
        FactRequest::CertExpiry,
        // The versions an upgrade starts from.
        FactRequest::KubeCluster,
    ];
    out.extend(cluster::LEFTOVERS.iter().map(|p| file(p, false)));
    out
}

impl<'r> Phase<ClusterRun<'r>> for Gather {
    fn title(&self) -> &'static str {
        "facts"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let mut requests = cluster_requests();
            let books: Vec<&crate::playbook::Playbook> =
                ctx.books.iter().map(|b| &*b.book).collect();
            for r in ctx.runner.predicted_needs(&books) {
                if !requests.contains(&r) {
                    requests.push(r);
                }
            }
            let riders = if ctx.check {
                HashMap::new()
            } else {
                let script = lock::take_script(&ctx.locks.me, ctx.force_unlock);
                ctx.runner
                    .sessions
                    .iter()
                    .flatten()
                    .filter(|s| ctx.runner.limit.contains(&s.name) && gathers_as_root(&s.target))
                    .map(|s| (s.name.clone(), script.clone()))
                    .collect()
            };
            let all = ctx.all_hosts();
            let ridden_on: Vec<String> = riders.keys().cloned().collect();
            let gathered = ctx.runner.gather_riding(&all, requests, riders).await;
            for (i, r, ridden) in gathered {
                let s = ctx.runner.sessions[i].as_ref().expect("home");
                if ridden_on.contains(&s.name) {
                    let verdict = ridden.map(|out| {
                        let status = u32::try_from(out.status).ok();
                        lock::taken(&s.name, status, &out.output, b"")
                    });
                    match verdict {
                        // Held elsewhere: preflight refuses it from the facts.
                        Some(Err(lock::Refused::Held(..))) => {}
                        Some(Err(why)) => ctx.refused.push(why),
                        // Taken, or not known whether (the gather failed
                        // after the lock script ran): given back at the end
                        // either way; a release removes only this run's lock.
                        Some(Ok(())) | None => {
                            if let Some(c) = &s.conn {
                                ctx.locks.add(&s.name, c);
                            }
                        }
                    }
                }
                ctx.gathered.push((i, r));
            }
            Flow::Next(ExitCode::Ok)
        })
    }

    fn clean_up<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, ()> {
        Box::pin(ctx.release_locks())
    }
}

/// The gather runs as root (logged in as root, or become root, by the one
/// run-as rule the gather itself follows): the lock file is root's, so only
/// then can the lock ride along.
fn gathers_as_root(t: &crate::ssh::Target) -> bool {
    run_as(t, &[]).as_deref().unwrap_or(&t.user) == "root"
}
