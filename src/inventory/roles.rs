//! Which Ansible groups make a host a control plane or a worker.
//!
//! kubespray has renamed its groups over the years; every spelling still in
//! use maps to the same role, and other groups (etcd, calico_rr, k8s_cluster)
//! carry none.

use super::model::Role;
use std::collections::BTreeSet;

/// Groups whose members become control-plane nodes (kubespray's names, old and new).
pub const CONTROL_PLANE_GROUPS: &[&str] = &[
    "kube_control_plane",
    "kube-controlplane",
    "kube-master",
    "kube_master",
    "masters",
    "control_plane",
    "control-plane",
];

/// Groups whose members become worker nodes.
pub const WORKER_GROUPS: &[&str] = &["kube_node", "kube-node", "workers", "nodes"];

/// Roles from group names; groups with no role (etcd, calico_rr, …) add none.
pub fn roles_of(groups: &BTreeSet<String>) -> BTreeSet<Role> {
    let mut roles = BTreeSet::new();
    for g in groups {
        if CONTROL_PLANE_GROUPS.contains(&g.as_str()) {
            roles.insert(Role::ControlPlane);
        }
        if WORKER_GROUPS.contains(&g.as_str()) {
            roles.insert(Role::Worker);
        }
    }
    roles
}
