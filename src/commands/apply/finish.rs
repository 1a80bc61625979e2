//! After the cluster stage: the admin kubeconfig into the state directory, and the node table.

use std::path::Path;

use super::cluster::{ClusterPlan, ADMIN_CONF};
use crate::cluster::state::{kubeconfig_with_server, StateDir};
use crate::engine::Runner;
use crate::report::Event;
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
            runner.emit(Event::Line(format!(
                "error: {host}: cannot read {ADMIN_CONF} (rc={})",
                out.rc()
            )));
            return ExitCode::HostFailed;
        }
        Err(e) => {
            runner.emit(Event::Line(format!("error: {e}")));
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
    let (line, code) = match written {
        Ok(path) => (
            format!(
                "kubeconfig: {} (kubestrap kubeconfig -i INVENTORY prints it)",
                path.display()
            ),
            ExitCode::Ok,
        ),
        Err(e) => (format!("error: {e}"), ExitCode::Internal),
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

/// Name the workers that failed, saying which of them are nodes already
/// (joined before this run, or by its `kubeadm join`) and which are not.
pub fn failed_workers(runner: &Runner) {
    let failed: Vec<(&str, bool)> = runner
        .sessions
        .iter()
        .flatten()
        .filter(|s| !s.active() && runner.budget.shared.contains(&s.name))
        .map(|s| {
            let was_node = s.inventory_vars.get("kubestrap_is_node") == Some(&true.into());
            let joined_now =
                s.registered.get(JOIN_RESULT).and_then(|r| r.get("changed")) == Some(&true.into());
            (s.name.as_str(), was_node || joined_now)
        })
        .collect();
    for line in failed_worker_lines(&failed) {
        runner.emit(Event::Line(format!("\n{line}")));
    }
}

/// What nodes.yaml registers its `kubeadm join` task as.
const JOIN_RESULT: &str = "kubestrap_join";

/// The recap's lines for failed workers: (name, is a node).
fn failed_worker_lines(failed: &[(&str, bool)]) -> Vec<String> {
    let names = |joined: bool| -> Vec<&str> {
        failed
            .iter()
            .filter(|(_, j)| *j == joined)
            .map(|(n, _)| *n)
            .collect()
    };
    let (joined, not_joined) = (names(true), names(false));
    let mut out = Vec::new();
    if !not_joined.is_empty() {
        out.push(format!(
            "failed workers: {} (not joined; the next apply retries them)",
            not_joined.join(", ")
        ));
    }
    if !joined.is_empty() {
        out.push(format!(
            "failed workers: {} (nodes of the cluster, but a later step failed; the next apply retries it)",
            joined.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_workers_are_not_called_not_joined() {
        type Case<'a> = (&'a [(&'a str, bool)], &'a [&'a str]);
        let table: &[Case] = &[
            (&[], &[]),
            (
                &[("w1", false), ("w2", false)],
                &["failed workers: w1, w2 (not joined; the next apply retries them)"],
            ),
            (
                &[("w1", true), ("w2", false), ("w3", true)],
                &[
                    "failed workers: w2 (not joined; the next apply retries them)",
                    "failed workers: w1, w3 (nodes of the cluster, but a later step failed; the next apply retries it)",
                ],
            ),
        ];
        for (failed, want) in table {
            assert_eq!(failed_worker_lines(failed), *want, "{failed:?}");
        }
    }
}
