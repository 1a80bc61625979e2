//! A stored bootstrap token the cluster no longer knows is registered again before anyone joins.
//!
//! Hosts: node45 (control plane), node46 (worker), node47 (a worker added later).

use std::path::Path;

use crate::cluster::calico_settings;
use crate::inventories::{changed, lab_cluster};
use crate::lab::Lab;
use crate::support::{s, task_section, Home, Run};

const POD_SUBNET: &str = "10.244.0.0/16";

fn apply(home: &Home, lab: &Lab, inv: &Path) -> Run {
    let kh = lab.known_hosts();
    home.kubestrap(&["apply", "-i", s(inv), "--known-hosts", s(&kh)])
}

/// The ID of the token kubestrap keeps in its state directory.
fn stored_token_id(home: &Home) -> String {
    let text = std::fs::read_to_string(home.path().join(".kubestrap/lab/token.json")).unwrap();
    let token: serde_json::Value = serde_json::from_str(&text).unwrap();
    token["id"].as_str().unwrap().to_string()
}

#[test]
fn a_token_deleted_on_the_cluster_is_registered_again_and_the_new_worker_joins() {
    let lab = Lab::from_env();
    let home = Home::new();
    let inv = home.path().join("inventory.yaml");
    let first = [("node45", "control_plane"), ("node46", "worker")];
    std::fs::write(
        &inv,
        lab_cluster(&lab, &first, POD_SUBNET, &calico_settings()),
    )
    .unwrap();
    let r = apply(&home, &lab, &inv);
    assert_eq!(r.code, 0, "{}", r.all());

    // Someone deletes kubestrap's token on the cluster.
    let id = stored_token_id(&home);
    lab.sh_ok("node45", &format!("kubeadm token delete {id}"));
    assert!(!lab.sh_ok("node45", "kubeadm token list").contains(&id));

    // A new worker: the token is checked, registered again with its stored
    // value, and the join works.
    let all = [
        ("node45", "control_plane"),
        ("node46", "worker"),
        ("node47", "worker"),
    ];
    std::fs::write(
        &inv,
        lab_cluster(&lab, &all, POD_SUBNET, &calico_settings()),
    )
    .unwrap();
    let r = apply(&home, &lab, &inv);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(
        task_section(&r.stdout, "register the bootstrap token").contains("changed: [node45]"),
        "{}",
        r.stdout
    );
    assert!(
        lab.sh("node47", "test -f /etc/kubernetes/kubelet.conf")
            .status
            .success(),
        "node47 joined"
    );
    assert_eq!(stored_token_id(&home), id, "the stored token was kept");
    assert!(lab.sh_ok("node45", "kubeadm token list").contains(&id));
    assert_eq!(changed(&r.stdout, "node46"), 0, "{}", r.stdout);

    // Nothing to join: the cluster is not asked about tokens at all.
    let r = apply(&home, &lab, &inv);
    assert_eq!(r.code, 0, "{}", r.all());
    for h in ["node45", "node46", "node47"] {
        assert_eq!(changed(&r.stdout, h), 0, "{h}:\n{}", r.stdout);
    }
    assert!(
        task_section(&r.stdout, "bootstrap token IDs the cluster knows")
            .contains("skipping: [node45]"),
        "{}",
        r.stdout
    );
}
