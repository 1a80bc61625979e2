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

/// The per-host variable that tells packages.yaml to leave a host's
/// Kubernetes packages to the upgrade.
pub const UPGRADING_VAR: &str = "kubestrap_upgrading";
