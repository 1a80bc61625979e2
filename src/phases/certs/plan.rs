//! Phase (`certs renew --check` only): what the renewal would do, host by host, with nothing changed.

use super::restart::{KUBELET_CONFIG, MANIFESTS};
use super::CertsRun;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::Event;
use crate::ExitCode;

pub struct RenewPlan;

impl<'r> Phase<CertsRun<'r>> for RenewPlan {
    fn title(&self) -> &'static str {
        "renew plan"
    }

    fn should_run(&self, ctx: &CertsRun<'r>) -> bool {
        ctx.check
    }

    fn run<'a>(&'a mut self, ctx: &'a mut CertsRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let mut lines: Vec<String> = ctx
                .control_planes
                .iter()
                .map(|h| {
                    format!(
                        "{h}: would run `{}`, move the static Pod manifests out of {MANIFESTS} for the kubelet's fileCheckFrequency ({KUBELET_CONFIG}, 20s by default) and back, and wait until the API server answers",
                        super::renew::RENEW
                    )
                })
                .collect();
            lines.push(format!(
                "would store {}'s renewed admin.conf in {} (kubeconfig)",
                ctx.first_control_plane,
                ctx.state_path.display()
            ));
            lines.push("--check: nothing was changed".into());
            ctx.runner.emit(Event::Section {
                title: "RENEW".into(),
                lines,
            });
            Flow::Next(ExitCode::Ok)
        })
    }
}
