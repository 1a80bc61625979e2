//! `kubestrap remove`: nodes leave the cluster and come back with `apply`; a dead server's node is forgotten and its replacement joins.
//!
//! Hosts: node75 (control plane) + node76, node77 (workers): refusals, a
//! reachable worker removed and re-added, a second remove that changes
//! nothing, a worker removed after it left the inventory, a dead worker
//! replaced by a fresh host of the same name and address; node78-node81
//! are kept for the control planes' test (three behind a virtual IP: the
//! quorum refusal, etcd's member list 3 → 2 → 3), which needs the lab's
//! etcd stand-ins.

use std::path::Path;
use std::time::Duration;

use crate::cluster::calico_settings;
use crate::inventories::{changed, lab_cluster};
use crate::lab::Lab;
use crate::support::{s, Home, Run};

const POD_SUBNET: &str = "10.244.0.0/16";

fn kubestrap(home: &Home, lab: &Lab, args: &[&str]) -> Run {
    let known_hosts = lab.known_hosts();
    let mut all = args.to_vec();
    all.extend_from_slice(&["--known-hosts", s(&known_hosts)]);
    home.kubestrap_within(&all, Duration::from_secs(900))
}

fn remove(home: &Home, lab: &Lab, inv: &Path, nodes: &[&str], extra: &[&str]) -> Run {
    let mut args = vec!["remove"];
    args.extend_from_slice(nodes);
    args.extend_from_slice(&["-i", s(inv)]);
    args.extend_from_slice(extra);
    kubestrap(home, lab, &args)
}

fn apply(home: &Home, lab: &Lab, inv: &Path) -> Run {
    kubestrap(home, lab, &["apply", "-i", s(inv)])
}

/// The cluster's Node names, sorted, as `cp` lists them.
fn node_names(lab: &Lab, cp: &str) -> Vec<String> {
    let out = lab.sh_ok(
        cp,
        "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o jsonpath='{.items[*].metadata.name}'",
    );
    let mut names: Vec<String> = out.split_whitespace().map(String::from).collect();
    names.sort();
    names
}

fn build(home: &Home, lab: &Lab, hosts: &[(&str, &str)], extra: &str) -> std::path::PathBuf {
    let inv = home.path().join("inventory.yaml");
    let settings = format!("{}{extra}", calico_settings());
    std::fs::write(&inv, lab_cluster(lab, hosts, POD_SUBNET, &settings)).unwrap();
    let first = apply(home, lab, &inv);
    assert_eq!(first.code, 0, "{}", first.all());
    inv
}

/// The host as `kubeadm reset` and kubestrap's clean-up leave it: not a
/// node, no CNI configuration, the packages still installed and held.
fn assert_reset(lab: &Lab, host: &str) {
    let left = lab.sh_ok(
        host,
        "for p in /etc/kubernetes/kubelet.conf /etc/cni/net.d /var/lib/kubelet /root/.kube/config; do [ -e $p ] && echo $p; done; true",
    );
    assert_eq!(left.trim(), "", "{host} keeps what remove cleans");
    let pkgs = lab.sh_ok(
        host,
        "dpkg-query -W -f='${Package} ${Status}\\n' kubeadm kubelet kubectl",
    );
    for pkg in ["kubeadm", "kubelet", "kubectl"] {
        assert!(
            pkgs.contains(&format!("{pkg} hold ok installed")),
            "{host}: {pkgs}"
        );
    }
}

#[test]
fn remove_workers_reachable_deleted_from_the_inventory_and_dead_then_readd_them() {
    let lab = Lab::from_env();
    let home = Home::new();
    let hosts = [
        ("node75", "control_plane"),
        ("node76", "worker"),
        ("node77", "worker"),
    ];
    let inv = build(&home, &lab, &hosts, "");
    let all = ["node75", "node76", "node77"];
    assert_eq!(node_names(&lab, "node75"), all);

    // Refused before anything changes, one line each.
    let last = remove(&home, &lab, &inv, &["node75"], &[]);
    assert_eq!(last.code, 3, "{}", last.all());
    assert!(
        last.stdout
            .contains("node75: removing the last control plane")
            && last
                .stdout
                .contains("refused: nothing was changed on any host"),
        "{}",
        last.all()
    );
    let stranger = remove(&home, &lab, &inv, &["node99"], &[]);
    assert_eq!(stranger.code, 2, "{}", stranger.all());
    assert!(
        stranger
            .all()
            .contains("node99: no cluster member of this name"),
        "{}",
        stranger.all()
    );
    assert_eq!(node_names(&lab, "node75"), all);

    // --check: what would happen, and nothing happens.
    let check = remove(&home, &lab, &inv, &["node76"], &["--check"]);
    assert_eq!(check.code, 0, "{}", check.all());
    assert!(
        check
            .stdout
            .contains("node76: worker: drain, kubeadm reset, CNI config"),
        "{}",
        check.stdout
    );
    assert_eq!(node_names(&lab, "node75"), all);
    lab.sh_ok("node76", "test -e /etc/kubernetes/kubelet.conf");

    let gone = remove(&home, &lab, &inv, &["node76"], &[]);
    assert_eq!(gone.code, 0, "{}", gone.all());
    assert_eq!(node_names(&lab, "node75"), ["node75", "node77"]);
    assert_reset(&lab, "node76");
    assert!(changed(&gone.stdout, "node76") > 0, "{}", gone.stdout);
    let drain = gone.stdout.find("TASK [drain node76]").expect("drain task");
    let reset = gone
        .stdout
        .find("TASK [kubeadm reset]")
        .expect("reset task");
    assert!(drain < reset, "{}", gone.stdout);

    // Again: removed already, nothing changes.
    let again = remove(&home, &lab, &inv, &["node76"], &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again
            .stdout
            .contains("node76: no Node of this name: removed already"),
        "{}",
        again.stdout
    );
    // The recap: the control plane it went through and the node itself.
    for h in ["node75", "node76"] {
        assert_eq!(changed(&again.stdout, h), 0, "{h}: {}", again.stdout);
    }

    // apply joins it again.
    let back = apply(&home, &lab, &inv);
    assert_eq!(back.code, 0, "{}", back.all());
    assert_eq!(node_names(&lab, "node75"), all);

    // Gone from the inventory: the state directory still knows its address.
    let text = std::fs::read_to_string(&inv).unwrap();
    let without = home.path().join("without-node76.yaml");
    let block = format!(
        "  node76:\n    address: {}\n    roles: [worker]\n",
        lab.address("node76")
    );
    assert!(text.contains(&block), "{text}");
    std::fs::write(&without, text.replace(&block, "")).unwrap();
    let deleted = remove(&home, &lab, &without, &["node76"], &[]);
    assert_eq!(deleted.code, 0, "{}", deleted.all());
    assert_eq!(node_names(&lab, "node75"), ["node75", "node77"]);
    assert_reset(&lab, "node76");

    // A dead server: its Node is deleted, and a fresh host with the same
    // name and address joins with apply.
    lab.stop("node77");
    let dead = remove(&home, &lab, &inv, &["node77"], &[]);
    assert_eq!(dead.code, 0, "{}", dead.all());
    assert!(
        dead.stdout
            .contains("node77: worker: host unreachable: Node deleted"),
        "{}",
        dead.stdout
    );
    assert_eq!(node_names(&lab, "node75"), ["node75"]);
    lab.wipe("node77");
    let replaced = apply(&home, &lab, &inv);
    assert_eq!(replaced.code, 0, "{}", replaced.all());
    assert_eq!(node_names(&lab, "node75"), all);
}
