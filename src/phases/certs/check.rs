//! Phase: `kubeadm certs check-expiration` on every control plane, read into typed rows.

use super::step::{self, StepError};
use super::CertsRun;
use crate::cluster::expiration;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::{Event, Outcome};
use crate::ExitCode;

pub const CHECK_EXPIRATION: &str = "kubeadm certs check-expiration";

pub struct CheckExpiration;

impl<'r> Phase<CertsRun<'r>> for CheckExpiration {
    fn title(&self) -> &'static str {
        "check expiration"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut CertsRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let mut code = ExitCode::Ok;
            if !ctx.unreachable().is_empty() {
                // Connect has said why, host by host.
                code = ExitCode::Unreachable;
            }
            ctx.expiries.clear();
            let reachable: Vec<String> = ctx
                .control_planes
                .iter()
                .filter(|h| !ctx.unreachable().contains(h))
                .cloned()
                .collect();
            for host in reachable {
                match check(ctx, &host).await {
                    Ok(tables) => {
                        ctx.record(&host, Outcome::Ok);
                        ctx.expiries.push((host, tables));
                    }
                    Err(e) => {
                        ctx.record(&host, Outcome::Failed);
                        code = code.max(e.exit_code());
                        ctx.runner.emit(Event::Error(e.to_string()));
                    }
                }
            }
            Flow::Next(code)
        })
    }
}

async fn check(ctx: &CertsRun<'_>, host: &str) -> Result<expiration::Expirations, StepError> {
    ctx.runner.emit(Event::HostStatus {
        host: host.into(),
        status: "checking expiration".into(),
    });
    let out = step::run(ctx.runner, host, "check expiration", CHECK_EXPIRATION).await;
    ctx.runner.emit(Event::HostDone { host: host.into() });
    expiration::parse(&out?).map_err(|e| StepError::Output {
        host: host.to_string(),
        step: "check expiration",
        problem: format!("`{CHECK_EXPIRATION}` printed what kubestrap cannot read: {e}"),
    })
}
