//! Phase: open one SSH connection to every host the command works on (apply: the whole inventory, not only `--limit`'s, since preflight looks at the whole cluster).

use super::cluster_run::ClusterRun;
use super::manager::{Flow, Phase, PhaseFuture};
use crate::engine::Runner;
use crate::ExitCode;

pub struct Connect;

/// A command's context that [`Connect`] can work on: its runner, and the
/// hosts it connects to.
pub trait Reach {
    fn runner(&mut self) -> &mut Runner;
    /// Session indices of the hosts to connect to.
    fn hosts(&self) -> Vec<usize>;
}

impl Reach for ClusterRun<'_> {
    fn runner(&mut self) -> &mut Runner {
        self.runner
    }

    fn hosts(&self) -> Vec<usize> {
        self.all_hosts()
    }
}

impl<C: Reach> Phase<C> for Connect {
    fn title(&self) -> &'static str {
        "connect"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut C) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let hosts = ctx.hosts();
            // A host that cannot be reached is the next phase's to report
            // (apply: preflight's).
            ctx.runner().connect(&hosts).await;
            Flow::Next(ExitCode::Ok)
        })
    }
}
