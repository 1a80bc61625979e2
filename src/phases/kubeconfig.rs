//! Phase: the admin kubeconfig into the state directory, and the node table as the run's last word.
//!
//! It runs when the cluster stage initialised or joined hosts, or when the
//! stored kubeconfig is missing or was made from another admin.conf than
//! the first control plane's now (its SHA-256 is a fact): a re-run with
//! nothing to do costs no command here.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::cluster_plan::plan::ADMIN_CONF;
use super::cluster_run::ClusterRun;
use super::manager::{Flow, Phase, PhaseFuture};
use crate::cluster::state::{kubeconfig_with_server, StateDir};
use crate::engine::Runner;
use crate::report::Event;
use crate::ExitCode;

pub struct Kubeconfig;

impl<'r> Phase<ClusterRun<'r>> for Kubeconfig {
    fn title(&self) -> &'static str {
        "kubeconfig"
    }

    fn stage(&self) -> Option<&'static str> {
        Some("cluster")
    }

    fn runs_in_check(&self) -> bool {
        false
    }

    fn should_run(&self, ctx: &ClusterRun<'r>) -> bool {
        let Some(plan) = &ctx.plan else {
            return false;
        };
        if plan.init_needed || !plan.joins.is_empty() {
            return true;
        }
        let now = ctx
            .runner
            .facts_of(&plan.first_control_plane)
            .and_then(|f| f.files.get(ADMIN_CONF)?.sha256.clone());
        let stored = StateDir::open_existing(&ctx.state_path)
            .ok()
            .flatten()
            .and_then(|state| state.kubeconfig_source().ok().flatten());
        now.is_none() || stored != now
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let Some(plan) = ctx.plan.clone() else {
                return Flow::Next(ExitCode::Ok);
            };
            Flow::Next(kubeconfig_and_nodes(ctx, &plan.first_control_plane, &plan.endpoint).await)
        })
    }
}

/// Why the admin kubeconfig could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The host answered, but admin.conf could not be read.
    #[error("{host}: cannot read {ADMIN_CONF} (rc={rc})")]
    Read { host: String, rc: i64 },
    /// The host could not be asked.
    #[error("{0}")]
    Ssh(String),
    /// admin.conf is not a kubeconfig, or the state directory refused it.
    #[error("{0}")]
    Store(String),
}

impl FetchError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            FetchError::Read { .. } => ExitCode::HostFailed,
            FetchError::Ssh(_) => ExitCode::Unreachable,
            FetchError::Store(_) => ExitCode::Internal,
        }
    }
}

/// Fetch admin.conf (never super-admin.conf) from `host`, point it at the
/// cluster endpoint and keep it 0600 in the state directory (written
/// atomically, and only when it changed), with the SHA-256 of the
/// admin.conf it was made from. Returns the stored file's path.
pub async fn store_admin_kubeconfig(
    runner: &Runner,
    state_path: &Path,
    host: &str,
    endpoint: &str,
) -> Result<PathBuf, FetchError> {
    let admin = match runner.run_command(host, &format!("cat {ADMIN_CONF}")).await {
        Ok(out) if out.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => {
            return Err(FetchError::Read {
                host: host.to_string(),
                rc: out.rc(),
            })
        }
        Err(e) => return Err(FetchError::Ssh(e.to_string())),
    };
    let source = data_encoding::HEXLOWER.encode(&Sha256::digest(admin.as_bytes()));
    let text = kubeconfig_with_server(&admin, &format!("https://{endpoint}"))
        .map_err(|e| FetchError::Store(format!("{host}: {ADMIN_CONF}: {e}")))?;
    let store = |e: crate::cluster::error::StateError| FetchError::Store(e.to_string());
    let state = StateDir::open(state_path).map_err(store)?;
    let unchanged = state
        .kubeconfig()
        .ok()
        .flatten()
        .is_some_and(|k| k.expose() == text);
    if !unchanged {
        state.write_kubeconfig(&text).map_err(store)?;
    }
    state.write_kubeconfig_source(&source).map_err(store)?;
    Ok(state.kubeconfig_path())
}

/// The admin kubeconfig from the first control plane into the state
/// directory, then `kubectl get nodes -o wide`.
async fn kubeconfig_and_nodes(ctx: &mut ClusterRun<'_>, host: &str, endpoint: &str) -> ExitCode {
    let runner = &*ctx.runner;
    let (line, code) = match store_admin_kubeconfig(runner, &ctx.state_path, host, endpoint).await {
        Ok(path) => (
            format!(
                "kubeconfig: {} (kubestrap kubeconfig -i INVENTORY prints it)",
                path.display()
            ),
            ExitCode::Ok,
        ),
        Err(e @ (FetchError::Read { .. } | FetchError::Ssh(_))) => {
            runner.emit(Event::Line(format!("error: {e}")));
            return e.exit_code();
        }
        Err(e) => (format!("error: {e}"), e.exit_code()),
    };
    runner.emit(Event::Section {
        title: "NODES".into(),
        lines: vec![line],
    });
    match runner
        .run_command(
            host,
            &format!("kubectl --kubeconfig {ADMIN_CONF} get nodes -o wide"),
        )
        .await
    {
        Ok(out) if out.success() => runner.emit(Event::Document(
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )),
        Ok(out) => runner.emit(Event::Line(format!(
            "{host}: kubectl get nodes failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
        Err(e) => runner.emit(Event::Line(format!("error: {e}"))),
    }
    code
}
