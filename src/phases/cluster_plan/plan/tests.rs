//! The cluster plan from fixture facts: who inits, who joins, who is reset first, which secrets are made.

use super::*;
use crate::facts::FileState;
use std::collections::BTreeMap;

fn inventory(endpoint: Option<&str>) -> Inventory {
    let text = format!(
        "cluster:\n  name: t\n{}hosts:\n  cp1: {{address: 10.0.0.11, roles: [control_plane]}}\n  cp2: {{address: 10.0.0.12, roles: [control_plane]}}\n  w1: {{address: 10.0.0.21, roles: [worker]}}\n",
        endpoint.map(|e| format!("  control_plane_endpoint: {e}\n")).unwrap_or_default()
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("inv.yaml");
    std::fs::write(&path, text).unwrap();
    crate::inventory::load(&path).unwrap()
}

fn with(files: &[&str]) -> Facts {
    let mut f = Facts::default();
    for p in files {
        f.files.insert(
            p.to_string(),
            FileState {
                kind: FileKind::File,
                ..Default::default()
            },
        );
    }
    f
}

fn all(inv: &Inventory) -> Vec<String> {
    inv.hosts.iter().map(|h| h.name.clone()).collect()
}

#[test]
fn a_fresh_cluster_inits_the_first_control_plane_and_joins_the_rest() {
    let inv = inventory(None);
    let facts: BTreeMap<String, Facts> = BTreeMap::new();
    let p = plan(&inv, |n| facts.get(n), &all(&inv)).unwrap();
    assert_eq!(p.first_control_plane, "cp1");
    assert!(p.init_needed);
    assert_eq!(p.joins, ["cp2", "w1"]);
    assert_eq!(p.control_plane_joins, ["cp2"]);
    assert_eq!(p.endpoint, "10.0.0.11:6443");
    assert_eq!(p.vip, None);
}

#[test]
fn a_running_cluster_joins_only_new_hosts_and_keeps_its_first_control_plane() {
    let inv = inventory(Some("10.0.0.10"));
    let mut facts = BTreeMap::new();
    facts.insert("cp2".to_string(), with(&[ADMIN_CONF, KUBELET_CONF]));
    facts.insert("cp1".to_string(), with(&[]));
    facts.insert("w1".to_string(), with(&[KUBELET_CONF]));
    let p = plan(&inv, |n| facts.get(n), &all(&inv)).unwrap();
    assert_eq!(p.first_control_plane, "cp2", "the one already initialised");
    assert!(!p.init_needed);
    assert_eq!(p.joins, ["cp1"]);
    assert_eq!(p.endpoint, "10.0.0.10:6443");
    assert_eq!(
        p.vip.as_deref(),
        Some("10.0.0.10"),
        "an address no host has is a VIP"
    );
    let limited = plan(&inv, |n| facts.get(n), &["w1".to_string()]).unwrap();
    assert!(limited.joins.is_empty(), "--limit keeps other hosts out");
}

#[test]
fn a_half_initialised_control_plane_and_failed_joins_are_reset_first() {
    let inv = inventory(None);
    let mut facts = BTreeMap::new();
    // init failed midway: manifests written, no admin.conf.
    facts.insert("cp1".to_string(), with(&[APISERVER_MANIFEST, CA_CERT]));
    // a control-plane join that failed after writing its manifests
    facts.insert("cp2".to_string(), with(&[ETCD_MANIFEST]));
    // a worker join that failed after TLS bootstrap began
    facts.insert("w1".to_string(), with(&[CA_CERT]));
    let p = plan(&inv, |n| facts.get(n), &all(&inv)).unwrap();
    assert!(p.init_needed);
    assert_eq!(p.resets, ["cp1", "cp2", "w1"]);
    // Outside --limit nothing is reset.
    let limited = plan(&inv, |n| facts.get(n), &["w1".to_string()]).unwrap();
    assert_eq!(limited.resets, ["w1"]);
}

#[test]
fn nodes_and_clean_hosts_are_never_reset() {
    let inv = inventory(None);
    let mut facts = BTreeMap::new();
    // Initialised: the manifests belong to a running control plane.
    facts.insert(
        "cp1".to_string(),
        with(&[
            ADMIN_CONF,
            KUBELET_CONF,
            APISERVER_MANIFEST,
            ETCD_MANIFEST,
            CA_CERT,
        ]),
    );
    facts.insert(
        "cp2".to_string(),
        with(&[KUBELET_CONF, APISERVER_MANIFEST, CA_CERT]),
    );
    facts.insert("w1".to_string(), with(&[]));
    let p = plan(&inv, |n| facts.get(n), &all(&inv)).unwrap();
    assert_eq!(
        (p.init_needed, p.joins.clone()),
        (false, vec!["w1".to_string()])
    );
    assert!(p.resets.is_empty(), "{:?}", p.resets);
    // A fresh control plane with kubestrap's own CA upload is no leftover.
    let mut fresh = BTreeMap::new();
    fresh.insert("cp1".to_string(), with(&[CA_CERT]));
    let p = plan(&inv, |n| fresh.get(n), &all(&inv)).unwrap();
    assert!(p.resets.is_empty(), "{:?}", p.resets);
}

#[test]
fn an_endpoint_on_a_host_or_a_name_is_no_vip() {
    let inv = inventory(Some("10.0.0.11:8443"));
    let none: BTreeMap<String, Facts> = BTreeMap::new();
    let p = plan(&inv, |n| none.get(n), &all(&inv)).unwrap();
    assert_eq!((p.endpoint.as_str(), p.vip), ("10.0.0.11:8443", None));
    let inv = inventory(Some("api.campus.example"));
    let p = plan(&inv, |n| none.get(n), &all(&inv)).unwrap();
    assert_eq!(
        (p.endpoint.as_str(), p.vip),
        ("api.campus.example:6443", None)
    );
}

#[test]
fn secrets_are_made_once_and_only_when_needed() {
    let inv = inventory(None);
    let none: BTreeMap<String, Facts> = BTreeMap::new();
    let dir = tempfile::tempdir().unwrap();
    let state = StateDir::open(dir.path().join("state")).unwrap();
    let p = plan(&inv, |n| none.get(n), &all(&inv)).unwrap();
    let ca = cluster_ca(&state, &p, None, "t").unwrap();
    let v = vars(&state, &p, &ca, 1000).unwrap();
    let s = &v["kubestrap_secrets"];
    let token = s["token"].as_str().unwrap();
    assert_eq!(token.len(), 23);
    assert_eq!(s["certificate_key"].as_str().unwrap().len(), 64);
    assert!(s["ca_key"].as_str().unwrap().contains("PRIVATE KEY"));
    assert_eq!(s["ca_hash"], json!(ca.hash));
    // Nothing to do: no token, no key, no CA key handed out.
    let done = ClusterPlan {
        init_needed: false,
        joins: vec![],
        control_plane_joins: vec![],
        resets: vec![],
        ..p.clone()
    };
    let v = vars(&state, &done, &ca, 1000).unwrap();
    assert_eq!(v["kubestrap_secrets"]["token"], json!(""));
    assert_eq!(v["kubestrap_secrets"]["ca_key"], json!(""));
    // The same CA next time, never a new one.
    assert_eq!(cluster_ca(&state, &p, None, "t").unwrap().hash, ca.hash);
}

#[test]
fn a_foreign_state_ca_is_refused_and_a_lost_one_recovered() {
    let inv = inventory(None);
    let dir = tempfile::tempdir().unwrap();
    let mut facts = BTreeMap::new();
    let other = crate::cluster::pki::new_ca("other").unwrap();
    let mut cp = with(&[ADMIN_CONF]);
    cp.files.insert(
        CA_CERT.into(),
        FileState {
            kind: FileKind::File,
            content: Some(other.cert_pem.clone().into_bytes()),
            ..Default::default()
        },
    );
    facts.insert("cp1".to_string(), cp);
    let p = plan(&inv, |n| facts.get(n), &all(&inv)).unwrap();
    // State directory lost: the running cluster's certificate is recovered.
    let lost = StateDir::open(dir.path().join("lost")).unwrap();
    assert_eq!(
        cluster_ca(&lost, &p, facts.get("cp1"), "t").unwrap().hash,
        other.hash
    );
    // A state directory from another cluster is refused.
    let foreign = StateDir::open(dir.path().join("foreign")).unwrap();
    foreign.create_ca("mine").unwrap();
    let err = cluster_ca(&foreign, &p, facts.get("cp1"), "t")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is not the CA of the running cluster"),
        "{err}"
    );
}
