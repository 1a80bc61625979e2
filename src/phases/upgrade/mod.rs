//! Upgrading a running cluster to the inventory's version: the plan (before anything changes) and its batches (in the cluster stage).
//!
//! [`check::UpgradeCheck`] reads the versions the cluster runs from the
//! facts (every Node's kubelet, each control plane's kube-apiserver
//! manifest), checks Kubernetes' skew rules and the package repository of
//! every minor release on the way, prints the UPGRADE block and marks the
//! hosts whose packages the upgrade will move (the prepared stage leaves
//! them alone). [`run::Upgrade`] then runs playbooks/upgrade.yaml batch by
//! batch; [`cordoned`] remembers the nodes it cordoned, so an interrupted
//! upgrade uncordons them on the way out, or the next run finishes them.

pub mod check;
pub mod cordoned;
pub mod lines;
pub mod run;

use std::collections::BTreeMap;

use crate::cluster::upgrade::Schedule;

/// The upgrade this apply carries out.
#[derive(Debug, Clone)]
pub struct UpgradeWork {
    /// The first control plane: `kubeadm upgrade apply` and every kubectl run there.
    pub via: String,
    pub schedule: Schedule,
    /// Minor release (`1.32`) → its package repository.
    pub repositories: BTreeMap<String, String>,
    /// Nodes someone else cordoned before: upgraded, left cordoned.
    pub cordoned_before: Vec<String>,
}

/// How long one node's drain may wait for its evictions.
pub const DRAIN_TIMEOUT: &str = "300s";

/// The variable that gives packages.yaml the repository of the release it
/// installs: the configured one with its minor replaced (see
/// [`crate::cluster::upgrade::repo::repository_for`]).
pub const REPOSITORY_VAR: &str = "kubestrap_kubernetes_repository";

/// [`REPOSITORY_VAR`] for the inventory's version.
pub fn repository_vars(
    inv: &crate::inventory::Inventory,
) -> serde_json::Map<String, serde_json::Value> {
    use crate::cluster::upgrade::repo;
    let version = inv
        .cluster
        .kubernetes_version
        .as_deref()
        .unwrap_or(crate::cluster::defaults::KUBERNETES_VERSION);
    let mut vars = serde_json::Map::new();
    if let Some(target) = crate::cluster::versions::KubeVersion::parse(version) {
        let minor = target.minor_name();
        let url = match configured_repository(inv) {
            Some(configured) => repo::repository_for(configured, &minor),
            None => repo::default_repository(&minor),
        };
        vars.insert(REPOSITORY_VAR.into(), url.into());
    }
    vars
}

/// `cluster.kubernetes_packages.repository`, when the inventory sets one.
pub fn configured_repository(inv: &crate::inventory::Inventory) -> Option<&str> {
    inv.cluster
        .extra
        .get("kubernetes_packages")
        .and_then(|p| p.get("repository"))
        .and_then(|r| r.as_str())
}

/// The per-host variable that tells packages.yaml to leave a host's
/// Kubernetes packages to the upgrade.
pub const UPGRADING_VAR: &str = "kubestrap_upgrading";

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// An inventory with no kubernetes_packages at all, one with a mirror.
    #[test]
    fn the_repository_var_with_and_without_a_mirror() {
        let plain = "cluster:\n  kubernetes_version: \"1.32.1\"\nhosts:\n  cp1:\n    address: 10.0.0.1\n    roles: [control_plane]\n";
        let inv = crate::inventory::parse_str(plain, Path::new("/x/inventory.yaml")).unwrap();
        assert_eq!(configured_repository(&inv), None);
        assert_eq!(
            repository_vars(&inv)[REPOSITORY_VAR],
            "https://pkgs.k8s.io/core:/stable:/v1.32/deb/"
        );
        let mirror = plain.replace(
            "cluster:\n",
            "cluster:\n  kubernetes_packages:\n    repository: http://m/core:/stable:/v1.31/deb/\n",
        );
        let inv = crate::inventory::parse_str(&mirror, Path::new("/x/inventory.yaml")).unwrap();
        assert_eq!(
            repository_vars(&inv)[REPOSITORY_VAR],
            "http://m/core:/stable:/v1.32/deb/"
        );
    }
}
