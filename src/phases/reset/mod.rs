//! `kubestrap reset`'s phases and their plan: who is torn down in which order, and what the RESET block says.
//!
//! ```text
//! reset  connect → facts (+ lock riding along) → lock → the hosts, batch by
//!        batch (workers together, then each control plane alone, the first
//!        control plane last) → the state directory's secrets moved aside
//!        (only when every host was reset) → unlock        (then the recap)
//! ```
//! There is no `--limit`: resetting part of a cluster leaves the rest
//! running against nodes that are gone, and its secrets must stay.

pub mod run;
pub mod secrets;

use std::path::Path;

use crate::facts::{Facts, FileKind};
use crate::inventory::{Inventory, Role};
use crate::phases::cluster_plan::plan::{ADMIN_CONF, CA_CERT, KUBELET_CONF, LEFTOVERS};

/// The order a reset goes in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    /// Reset together, first.
    pub workers: Vec<String>,
    /// Reset one at a time, in this order: the first control plane last.
    pub control_planes: Vec<String>,
}

impl Order {
    /// The inventory's hosts with a role, workers first; `first` is the
    /// control plane kubeadm init ran on (the inventory's first when None).
    pub fn new(inv: &Inventory, first: Option<&str>) -> Order {
        let named = |want: Role, not: Option<Role>| -> Vec<String> {
            inv.hosts
                .iter()
                .filter(|h| h.roles.contains(&want) && not.is_none_or(|n| !h.roles.contains(&n)))
                .map(|h| h.name.clone())
                .collect()
        };
        let mut control_planes = named(Role::ControlPlane, None);
        let first = first
            .map(str::to_string)
            .or_else(|| control_planes.first().cloned());
        if let Some(at) = control_planes
            .iter()
            .position(|c| Some(c) == first.as_ref())
        {
            let first = control_planes.remove(at);
            control_planes.push(first);
        }
        Order {
            workers: named(Role::Worker, Some(Role::ControlPlane)),
            control_planes,
        }
    }

    /// The batches, in order: the workers together, then each control plane.
    pub fn batches(&self) -> Vec<Vec<String>> {
        let workers = (!self.workers.is_empty()).then(|| self.workers.clone());
        workers
            .into_iter()
            .chain(self.control_planes.iter().map(|c| vec![c.clone()]))
            .collect()
    }

    /// Every host the reset works on.
    pub fn hosts(&self) -> Vec<String> {
        self.batches().concat()
    }
}

/// Whether kubeadm left something on the host: a node's kubelet.conf, a
/// control plane's admin.conf, what a half-done init or join leaves.
pub fn kubeadm_was_here(facts: &Facts) -> bool {
    [KUBELET_CONF, ADMIN_CONF, CA_CERT]
        .iter()
        .chain(LEFTOVERS)
        .any(|p| {
            facts
                .files
                .get(*p)
                .is_some_and(|s| s.kind != FileKind::Missing)
        })
}

/// The RESET block, shown before anything changes (and before the question).
pub fn block_lines(cluster: &str, order: &Order, state: &Path, check: bool) -> Vec<String> {
    let mut lines = vec![format!(
        "cluster {cluster}: every host is torn down with `kubeadm reset`{}",
        if check {
            " (--check: nothing is changed)"
        } else {
            ""
        }
    )];
    let mut step = 1;
    if !order.workers.is_empty() {
        lines.push(format!(
            "  {step}. workers, together: {}",
            order.workers.join(", ")
        ));
        step += 1;
    }
    lines.push(format!(
        "  {step}. control planes, one at a time, the first one last: {}",
        order.control_planes.join(", ")
    ));
    lines.push(
        "on each: CNI configuration, Kubernetes' iptables chains, IPVS tables, root's \
         ~/.kube/config and kubestrap's files under /etc/kubernetes removed"
            .into(),
    );
    lines.push(
        "kept: packages (installed, held), swap off, kernel settings, static IP, containerd".into(),
    );
    lines.push(format!(
        "then the state directory's secrets move to {}/reset-<UTC time>/ (nothing is deleted)",
        state.display()
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FileState;

    fn inventory() -> Inventory {
        let hosts = [
            ("cp1", "control_plane"),
            ("w1", "worker"),
            ("cp2", "control_plane, worker"),
            ("w2", "worker"),
            ("cp3", "control_plane"),
        ];
        let mut text = String::from("cluster:\n  name: lab\nhosts:\n");
        for (i, (name, roles)) in hosts.iter().enumerate() {
            text.push_str(&format!(
                "  {name}:\n    address: 10.0.0.{}\n    roles: [{roles}]\n",
                i + 1
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inventory.yaml");
        std::fs::write(&path, text).unwrap();
        crate::inventory::load(&path).unwrap()
    }

    #[test]
    fn workers_first_then_control_planes_one_by_one_the_first_last() {
        let inv = inventory();
        let order = Order::new(&inv, None);
        assert_eq!(order.workers, ["w1", "w2"]);
        assert_eq!(order.control_planes, ["cp2", "cp3", "cp1"]);
        assert_eq!(
            order.batches(),
            [vec!["w1", "w2"], vec!["cp2"], vec!["cp3"], vec!["cp1"]]
        );
        // The control plane kubeadm init ran on, as the facts say, goes last.
        let order = Order::new(&inv, Some("cp3"));
        assert_eq!(order.control_planes, ["cp1", "cp2", "cp3"]);
        assert_eq!(order.hosts(), ["w1", "w2", "cp1", "cp2", "cp3"]);
    }

    #[test]
    fn the_block_names_the_order_and_the_backup() {
        let order = Order {
            workers: vec!["node83".into(), "node84".into()],
            control_planes: vec!["node82".into()],
        };
        let lines = block_lines("lab", &order, Path::new("/x/.kubestrap/lab"), false);
        assert_eq!(
            lines[..3],
            [
                "cluster lab: every host is torn down with `kubeadm reset`",
                "  1. workers, together: node83, node84",
                "  2. control planes, one at a time, the first one last: node82",
            ]
        );
        assert!(lines[5].contains("/x/.kubestrap/lab/reset-<UTC time>/"));
        let only_cp = Order {
            workers: vec![],
            control_planes: vec!["cp".into()],
        };
        let lines = block_lines("lab", &only_cp, Path::new("s"), true);
        assert!(lines[0].ends_with("(--check: nothing is changed)"));
        assert!(lines[1].starts_with("  1. control planes"), "{lines:?}");
    }

    #[test]
    fn kubeadm_was_here_on_nodes_and_half_done_hosts_only() {
        let with = |paths: &[&str]| {
            let mut f = Facts::default();
            for p in [KUBELET_CONF, ADMIN_CONF, CA_CERT].iter().chain(LEFTOVERS) {
                let kind = if paths.contains(p) {
                    FileKind::File
                } else {
                    FileKind::Missing
                };
                f.files.insert(
                    p.to_string(),
                    FileState {
                        kind,
                        ..Default::default()
                    },
                );
            }
            f
        };
        assert!(!kubeadm_was_here(&with(&[])));
        assert!(!kubeadm_was_here(&Facts::default()));
        assert!(kubeadm_was_here(&with(&[KUBELET_CONF])));
        assert!(kubeadm_was_here(&with(&[LEFTOVERS[2]])));
        assert!(kubeadm_was_here(&with(&[CA_CERT])));
    }
}
