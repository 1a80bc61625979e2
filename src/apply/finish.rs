//! After the cluster stage: the admin kubeconfig into the state directory, and the node table.

use std::path::Path;

use super::cluster::{ClusterPlan, ADMIN_CONF};
use crate::cluster::state::{kubeconfig_with_server, StateDir};
use crate::playbook::play_run::Runner;
use crate::ExitCode;

/// Fetch admin.conf (never super-admin.conf) from the first control plane,
/// point it at the cluster endpoint, keep it 0600 in the state directory,
/// and print `kubectl get nodes -o wide` as the run's last word.
pub async fn kubeconfig_and_nodes(
    runner: &mut Runner,
    plan: &ClusterPlan,
    state_path: &Path,
) -> ExitCode {
    let host = &plan.first_control_plane;
    let admin = match runner.run_command(host, &format!("cat {ADMIN_CONF}")).await {
        Ok(out) if out.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => {
            crate::outln!("error: {host}: cannot read {ADMIN_CONF} (rc={})", out.rc());
            return ExitCode::HostFailed;
        }
        Err(e) => {
            crate::outln!("error: {e}");
            return ExitCode::Unreachable;
        }
    };
    let written = kubeconfig_with_server(&admin, &format!("https://{}", plan.endpoint))
        .map_err(|e| format!("{host}: {ADMIN_CONF}: {e}"))
        .and_then(|text| {
            let state = StateDir::open(state_path).map_err(|e| e.to_string())?;
            let unchanged = state
                .kubeconfig()
                .ok()
                .flatten()
                .is_some_and(|k| k.expose() == text);
            if !unchanged {
                state.write_kubeconfig(&text).map_err(|e| e.to_string())?;
            }
            Ok(state.kubeconfig_path())
        });
    crate::outln!("\n{}", crate::report::banner("NODES"));
    let code = match written {
        Ok(path) => {
            crate::outln!(
                "kubeconfig: {} (kubestrap kubeconfig -i INVENTORY prints it)",
                path.display()
            );
            ExitCode::Ok
        }
        Err(e) => {
            crate::outln!("error: {e}");
            ExitCode::Internal
        }
    };
    match runner
        .run_command(
            host,
            &format!("kubectl --kubeconfig {ADMIN_CONF} get nodes -o wide"),
        )
        .await
    {
        Ok(out) if out.success() => crate::out!("{}", String::from_utf8_lossy(&out.stdout)),
        Ok(out) => crate::outln!(
            "{host}: kubectl get nodes failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => crate::outln!("error: {e}"),
    }
    code
}
