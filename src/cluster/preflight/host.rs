//! Checks one host answers alone: facts gathered, OS, CPUs, memory, free ports.

use super::{PreflightProblem, Subject};
use crate::facts::Facts;

/// Releases kubestrap supports: os-release `ID`, display name, `VERSION_ID`s.
pub const SUPPORTED_OS: &[(&str, &str, &[&str])] = &[
    ("debian", "Debian", &["11", "12", "13"]),
    ("ubuntu", "Ubuntu", &["22.04", "24.04"]),
];

/// kubeadm's own minimums for a control plane (its NumCPU and Mem checks).
pub const MIN_CONTROL_PLANE_CPUS: u32 = 2;
pub const MIN_CONTROL_PLANE_MEMORY_MB: u64 = 1700;

/// Ports kubeadm needs free, and who listens on each once the node runs.
pub const CONTROL_PLANE_PORTS: &[(u16, &str)] = &[
    (2379, "etcd"),
    (2380, "etcd peers"),
    (6443, "kube-apiserver"),
    (10250, "kubelet"),
    (10257, "kube-controller-manager"),
    (10259, "kube-scheduler"),
];
pub const WORKER_PORTS: &[(u16, &str)] = &[(10250, "kubelet")];

pub(super) fn check(s: &Subject<'_>) -> Vec<PreflightProblem> {
    let Some(f) = s.facts() else {
        return vec![not_gathered(s)];
    };
    let mut out = Vec::new();
    if let Some(m) = os(f) {
        out.push(s.problem("os", m));
    }
    if s.is_control_plane() {
        if f.cpus < MIN_CONTROL_PLANE_CPUS {
            out.push(s.problem(
                "cpu",
                format!(
                    "{} CPU(s); a control plane needs at least {MIN_CONTROL_PLANE_CPUS}",
                    f.cpus
                ),
            ));
        }
        if f.memory_mb < MIN_CONTROL_PLANE_MEMORY_MB {
            out.push(s.problem(
                "memory",
                format!(
                    "{} MB of memory; a control plane needs at least {MIN_CONTROL_PLANE_MEMORY_MB} MB",
                    f.memory_mb
                ),
            ));
        }
    }
    if !s.is_node() {
        if let Some(m) = ports(s, f) {
            out.push(s.problem("ports", m));
        }
    }
    out
}

/// No facts: `sudo` when become is what failed, else `facts`.
fn not_gathered(s: &Subject<'_>) -> PreflightProblem {
    // The SSH layer's errors start with the host's name; the line has it already.
    let prefix = format!("{}: ", s.host.name);
    let error = s.gathered.and_then(|g| g.gather_error.as_deref());
    match error.map(|e| e.strip_prefix(&prefix).unwrap_or(e)) {
        Some(e) if is_become_failure(e) => s.problem(
            "sudo",
            format!("become (sudo) did not work, so no facts could be gathered: {e}"),
        ),
        Some(e) => s.problem("facts", format!("facts could not be gathered: {e}")),
        None => s.problem(
            "facts",
            "facts could not be gathered (no facts and no error for this host)".into(),
        ),
    }
}

/// The SSH layer's become refusals all name sudo (see ssh::SshError).
fn is_become_failure(error: &str) -> bool {
    let e = error.to_ascii_lowercase();
    e.contains("sudo") || e.contains("become")
}

fn os(f: &Facts) -> Option<String> {
    let supported = SUPPORTED_OS
        .iter()
        .any(|(id, _, versions)| *id == f.os.id && versions.contains(&f.os.version_id.as_str()));
    if supported {
        return None;
    }
    let list: Vec<String> = SUPPORTED_OS
        .iter()
        .map(|(_, name, versions)| format!("{name} {}", versions.join(", ")))
        .collect();
    let found = if f.os.id.is_empty() {
        "unknown OS (no /etc/os-release)".to_string()
    } else {
        let shown = if f.os.pretty_name.is_empty() {
            format!("{} {}", f.os.id, f.os.version_id)
        } else {
            f.os.pretty_name.clone()
        };
        format!(
            "unsupported OS {shown:?} (ID={} VERSION_ID={})",
            f.os.id,
            if f.os.version_id.is_empty() {
                "none"
            } else {
                &f.os.version_id
            }
        )
    };
    Some(format!("{found}; supported: {}", list.join("; ")))
}

fn ports(s: &Subject<'_>, f: &Facts) -> Option<String> {
    let mut wanted: Vec<(u16, &str)> = Vec::new();
    if s.is_control_plane() {
        wanted.extend(CONTROL_PLANE_PORTS);
    }
    if s.is_worker() {
        wanted.extend(WORKER_PORTS);
    }
    wanted.sort_unstable();
    wanted.dedup();
    let taken: Vec<String> = wanted
        .iter()
        .filter(|(p, _)| f.listening.contains(p))
        .map(|(p, who)| format!("{p} ({who})"))
        .collect();
    if taken.is_empty() {
        return None;
    }
    let role = if s.is_control_plane() {
        "a control plane"
    } else {
        "a worker"
    };
    Some(format!(
        "TCP port(s) already in use: {}; {role} needs them free (the host is not a cluster node yet: no /etc/kubernetes/kubelet.conf)",
        taken.join(", ")
    ))
}
