//! What the cluster stage has to do, decided from facts before it runs: who
//! inits, who joins, through which endpoint, and with which secrets.

use std::net::IpAddr;
use std::time::Duration;

use serde_json::{json, Map, Value as Json};

use super::error::PlanError;
use crate::cluster::pin::ca_cert_hash;
use crate::cluster::pki::Ca;
use crate::cluster::state::StateDir;
use crate::facts::{Facts, FileKind};
use crate::inventory::{Inventory, Role};

pub const ADMIN_CONF: &str = "/etc/kubernetes/admin.conf";
pub const KUBELET_CONF: &str = "/etc/kubernetes/kubelet.conf";
pub const CA_CERT: &str = "/etc/kubernetes/pki/ca.crt";
const APISERVER_MANIFEST: &str = "/etc/kubernetes/manifests/kube-apiserver.yaml";
const ETCD_MANIFEST: &str = "/etc/kubernetes/manifests/etcd.yaml";
const BOOTSTRAP_KUBELET_CONF: &str = "/etc/kubernetes/bootstrap-kubelet.conf";
/// What a `kubeadm init` or `join` that failed midway leaves behind (with
/// [`CA_CERT`] on a worker); the next try's preflight would refuse it.
pub const LEFTOVERS: &[&str] = &[APISERVER_MANIFEST, ETCD_MANIFEST, BOOTSTRAP_KUBELET_CONF];

/// A bootstrap token lives this long unless the inventory says otherwise.
const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The cluster as the facts show it, and what this run must do to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterPlan {
    /// The control plane that runs `kubeadm init`, or that already did.
    pub first_control_plane: String,
    pub init_needed: bool,
    /// Hosts that are not nodes yet and will join (never the one that inits).
    pub joins: Vec<String>,
    /// Those of `joins` that are control planes.
    pub control_plane_joins: Vec<String>,
    /// Hosts a failed init or join left half-done: `kubeadm reset -f` first.
    pub resets: Vec<String>,
    /// `host:port` every node and client uses to reach the API server.
    pub endpoint: String,
    /// The endpoint's address when it is a virtual IP held by kube-vip.
    pub vip: Option<String>,
}

fn present(facts: Option<&Facts>, path: &str) -> bool {
    facts
        .and_then(|f| f.files.get(path))
        .is_some_and(|s| s.kind != FileKind::Missing)
}

/// Decide the plan. `facts(name)` gives a host's facts; `changing` are the
/// hosts this run may change (`--limit`).
pub fn plan<'a>(
    inv: &Inventory,
    facts: impl Fn(&str) -> Option<&'a Facts>,
    changing: &[String],
) -> Result<ClusterPlan, PlanError> {
    let control_planes: Vec<&str> = inv
        .hosts
        .iter()
        .filter(|h| h.roles.contains(&Role::ControlPlane))
        .map(|h| h.name.as_str())
        .collect();
    let initialised = control_planes
        .iter()
        .find(|n| present(facts(n), ADMIN_CONF));
    let first = initialised
        .or(control_planes.first())
        .ok_or(PlanError::NoControlPlane)?
        .to_string();
    let init_needed = initialised.is_none();
    let joins: Vec<String> = inv
        .hosts
        .iter()
        .filter(|h| !h.roles.is_empty() && h.name != first)
        .filter(|h| changing.contains(&h.name))
        .filter(|h| !present(facts(&h.name), KUBELET_CONF))
        .map(|h| h.name.clone())
        .collect();
    let control_plane_joins: Vec<String> = joins
        .iter()
        .filter(|j| control_planes.contains(&j.as_str()))
        .cloned()
        .collect();
    // A control plane with static Pod manifests but no admin.conf is an init
    // that failed midway; a host that is no node yet but has what a join
    // writes is a join that did. kubeadm's preflight refuses both until reset.
    let half_init = init_needed
        && changing.contains(&first)
        && [APISERVER_MANIFEST, ETCD_MANIFEST]
            .iter()
            .any(|p| present(facts(&first), p));
    let resets = half_init
        .then(|| first.clone())
        .into_iter()
        .chain(
            joins
                .iter()
                .filter(|j| {
                    let f = facts(j);
                    LEFTOVERS.iter().any(|p| present(f, p))
                        || (!control_plane_joins.contains(j) && present(f, CA_CERT))
                })
                .cloned(),
        )
        .collect();
    let first_host = inv.host(&first).ok_or(PlanError::FirstNotInInventory)?;
    let first_ip = first_host
        .ip
        .map(|i| i.to_string())
        .or_else(|| first_host.address.clone())
        .unwrap_or_else(|| first.clone());
    let endpoint = match inv.cluster.control_plane_endpoint.as_deref() {
        Some(e)
            if e.rsplit_once(':')
                .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
                && !e.ends_with(']') =>
        {
            e.to_string()
        }
        Some(e) => format!("{e}:6443"),
        None => format!("{first_ip}:6443"),
    };
    let endpoint_host = endpoint
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(&endpoint);
    // A VIP is an endpoint address that belongs to no host of the inventory.
    let vip = endpoint_host.parse::<IpAddr>().ok().filter(|ip| {
        !inv.hosts.iter().any(|h| {
            h.ip == Some(*ip)
                || h.address.as_deref().and_then(|a| a.parse::<IpAddr>().ok()) == Some(*ip)
        })
    });
    Ok(ClusterPlan {
        first_control_plane: first,
        init_needed,
        joins,
        control_plane_joins,
        resets,
        endpoint,
        vip: vip.map(|v| v.to_string()),
    })
}

/// The cluster CA for this run: the state directory's, else the one a
/// running control plane already has (state directory lost), else a new one
/// when the cluster does not exist yet. A state directory whose CA is not
/// the running cluster's is refused rather than trusted.
pub fn cluster_ca(
    state: &StateDir,
    plan: &ClusterPlan,
    first_facts: Option<&Facts>,
    name: &str,
) -> Result<Ca, PlanError> {
    let running = first_facts
        .and_then(|f| f.files.get(CA_CERT))
        .and_then(|s| s.content.clone())
        .filter(|_| !plan.init_needed);
    let known = state.ca()?;
    match (known, running) {
        (Some(ca), Some(pem)) => {
            let theirs = ca_cert_hash(&pem)?;
            if theirs != ca.hash {
                return Err(PlanError::CaMismatch {
                    state_dir: state.path().to_path_buf(),
                    ours: ca.hash,
                    host: plan.first_control_plane.clone(),
                    theirs,
                });
            }
            Ok(ca)
        }
        (Some(ca), None) => Ok(ca),
        (None, Some(pem)) => {
            let text = String::from_utf8(pem).map_err(|_| PlanError::CaNotText {
                host: plan.first_control_plane.clone(),
            })?;
            Ok(state.store_recovered_ca_cert(&text)?)
        }
        (None, None) if plan.init_needed => Ok(state.create_ca(name)?),
        (None, None) => Err(PlanError::CaUnreadable {
            host: plan.first_control_plane.clone(),
            state_dir: state.path().to_path_buf(),
        }),
    }
}

/// The variables the cluster playbooks take, secrets included. They go to
/// the runner as extra vars, which are never printed or reported.
pub fn vars(
    state: &StateDir,
    plan: &ClusterPlan,
    ca: &Ca,
    now: i64,
) -> Result<Map<String, Json>, PlanError> {
    if plan.init_needed && ca.key_pem.is_none() {
        return Err(PlanError::NoCaKey {
            host: plan.first_control_plane.clone(),
            state_dir: state.path().to_path_buf(),
        });
    }
    let joining = plan.init_needed || !plan.joins.is_empty();
    let (token, ttl, fresh) = if joining {
        let (t, fresh) = state.token(now, TOKEN_TTL)?;
        (
            t.token().expose().to_string(),
            format!("{}s", t.remaining(now).max(60)),
            fresh,
        )
    } else {
        (String::new(), String::new(), false)
    };
    let certificate_key = if plan.init_needed || !plan.control_plane_joins.is_empty() {
        state.certificate_key()?.0.expose().to_string()
    } else {
        String::new()
    };
    let ca_key = if plan.init_needed {
        ca.key_pem
            .as_ref()
            .map(|k| k.expose().to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let mut v = Map::new();
    v.insert(
        "kubestrap_first_control_plane".into(),
        json!(plan.first_control_plane),
    );
    v.insert("kubestrap_init_needed".into(), json!(plan.init_needed));
    v.insert("kubestrap_joins".into(), json!(plan.joins));
    v.insert(
        "kubestrap_control_plane_joins".into(),
        json!(plan.control_plane_joins),
    );
    v.insert("kubestrap_resets".into(), json!(plan.resets));
    v.insert("kubestrap_token_fresh".into(), json!(fresh));
    v.insert("kubestrap_endpoint".into(), json!(plan.endpoint));
    v.insert(
        "kubestrap_vip".into(),
        plan.vip.clone().map(Json::from).unwrap_or(Json::Null),
    );
    v.insert(
        "kubestrap_secrets".into(),
        json!({
            "token": token,
            "token_ttl": ttl,
            "certificate_key": certificate_key,
            "ca_cert": ca.cert_pem,
            "ca_key": ca_key,
            "ca_hash": ca.hash,
        }),
    );
    Ok(v)
}

#[cfg(test)]
mod tests;
