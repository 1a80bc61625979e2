//! Phase: open one SSH connection to every host of the inventory (not only `--limit`'s: preflight looks at the whole cluster).

use super::cluster_run::ClusterRun;
use super::manager::{Flow, Phase, PhaseFuture};
use crate::ExitCode;

pub struct Connect;

impl<'r> Phase<ClusterRun<'r>> for Connect {
    fn title(&self) -> &'static str {
        "connect"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let all = ctx.all_hosts();
            // A host that cannot be reached is preflight's to report.
            ctx.runner.connect(&all).await;
            Flow::Next(ExitCode::Ok)
        })
    }
}
