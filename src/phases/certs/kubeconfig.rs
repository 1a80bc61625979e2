//! Phase: after a renewal, the first control plane's new admin.conf into the state directory (apply's kubeconfig, made the same way).

use super::CertsRun;
use crate::phases::kubeconfig::store_admin_kubeconfig;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::Event;
use crate::ExitCode;

pub struct RefreshKubeconfig;

impl<'r> Phase<CertsRun<'r>> for RefreshKubeconfig {
    fn title(&self) -> &'static str {
        "kubeconfig"
    }

    fn runs_in_check(&self) -> bool {
        false
    }

    fn run<'a>(&'a mut self, ctx: &'a mut CertsRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let host = ctx.first_control_plane.clone();
            match store_admin_kubeconfig(ctx.runner, &ctx.state_path, &host, &ctx.endpoint).await {
                Ok(path) => {
                    ctx.runner.emit(Event::Section {
                        title: "KUBECONFIG".into(),
                        lines: vec![format!(
                            "kubeconfig: {} (refreshed from {host}'s renewed admin.conf; kubestrap kubeconfig -i INVENTORY prints it)",
                            path.display()
                        )],
                    });
                    Flow::Next(ExitCode::Ok)
                }
                Err(e) => {
                    ctx.runner.emit(Event::Error(format!("kubeconfig: {e}")));
                    Flow::Next(e.exit_code())
                }
            }
        })
    }
}
