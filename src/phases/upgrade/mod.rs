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
        let url = match inv.cluster.extra["kubernetes_packages"]["repository"].as_str() {
            Some(configured) => repo::repository_for(configured, &minor),
            None => repo::default_repository(&minor),
        };
        vars.insert(REPOSITORY_VAR.into(), url.into());
    }
    vars
}

/// The per-host variable that tells packages.yaml to leave a host's
/// Kubernetes packages to the upgrade.
pub const UPGRADING_VAR: &str = "kubestrap_upgrading";
