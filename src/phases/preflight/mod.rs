//! Phase: refuse hosts another run holds, then preflight over every host; nothing changes unless all pass.

pub mod verdict;

use crate::cluster::preflight::{self, HostFacts};
use crate::facts::FileKind;
use crate::phases::cluster_plan::plan as cluster;
use crate::phases::cluster_run::ClusterRun;
use crate::phases::lock;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::Event;
use crate::ExitCode;

pub struct Preflight;

impl<'r> Phase<ClusterRun<'r>> for Preflight {
    fn title(&self) -> &'static str {
        "preflight"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            // Another run is changing these hosts: refuse before anything else.
            let held = lock::check(&ctx.runner.sessions, &ctx.runner.limit, &ctx.locks.me);
            if !held.is_empty() && !ctx.force_unlock {
                let lines = held.iter().map(ToString::to_string).collect();
                return refuse(ctx.runner, lines);
            }
            match preflight(ctx) {
                Some(code) => Flow::Stop(code),
                None => Flow::Next(ExitCode::Ok),
            }
        })
    }
}

/// The LOCK block, and the run stops before changing anything.
pub fn refuse(runner: &crate::engine::Runner, mut lines: Vec<String>) -> Flow {
    lines.push("nothing was changed on any host".into());
    runner.emit(Event::Section {
        title: "LOCK".into(),
        lines,
    });
    Flow::Stop(ExitCode::HostFailed)
}

/// Preflight over every host (not only `--limit`'s: uniqueness and subnet
/// checks are about the whole cluster). Some(exit code) when it failed.
fn preflight(ctx: &mut ClusterRun<'_>) -> Option<ExitCode> {
    let runner = &mut *ctx.runner;
    let hosts: Vec<HostFacts> = ctx
        .gathered
        .iter()
        .map(|(i, r)| {
            let s = runner.sessions[*i].as_ref().expect("home");
            let facts = s.facts.clone();
            let is_node = facts.as_ref().is_some_and(|f| {
                f.files
                    .get(cluster::KUBELET_CONF)
                    .is_some_and(|st| st.kind != FileKind::Missing)
            });
            let (skew, err) = match r {
                Ok(skew) => (Some(*skew), None),
                Err(e) => (None, Some(e.to_string())),
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
    let problems = preflight::preflight(&runner.inventory, &hosts, &ctx.skip_preflight);
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
    ctx.runner.emit(Event::Section {
        title: "PREFLIGHT".into(),
        lines,
    });
    stop
}
