//! Phase: every play of the runner's playbook, in order (`kubestrap run`'s one phase).
//!
//! `run` connects and gathers per play, as ansible-playbook does, so the
//! engine does both inside the plays; `apply` reuses the runner with its
//! own phases around it.

use super::manager::{Flow, Phase, PhaseFuture};
use crate::engine::Runner;

pub struct Plays;

impl Phase<Runner> for Plays {
    fn title(&self) -> &'static str {
        "plays"
    }

    fn run<'a>(&'a mut self, runner: &'a mut Runner) -> PhaseFuture<'a, Flow> {
        Box::pin(async move { Flow::Next(runner.run().await) })
    }
}
