//! `kubestrap remove`: nodes leave the cluster and come back with `apply`; a dead server's node is forgotten and its replacement joins.
//!
//! Hosts: node75 (control plane) + node76, node77 (workers): refusals, a
//! reachable worker removed and re-added, a second remove that changes
//! nothing, a worker removed after it left the inventory, a dead worker
//! replaced by a fresh host of the same name and address. node78-node80:
//! three control planes behind a virtual IP: the refusals (last control
//! plane, quorum, a dead one left in etcd), a reachable one removed and
//! re-added, a dead one removed and its wiped replacement joined, etcd's
//! member list 3 → 2 → 3 each time (the lab's etcd stand-ins). node81 is
//! spare.

use std::path::Path;
use std::time::Duration;

use crate::cluster::calico_settings;
use crate::inventories::{changed, lab_cluster};
use crate::lab::Lab;
use crate::readme;
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

/// A chain as kube-proxy names its own, and a rule of the host's own.
const KUBE_CHAIN: &str = "KUBE-REMOVE-TEST";
const OWN_RULE: &str = "-A INPUT -p tcp -m tcp --dport 9999 -j ACCEPT";

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
    assert_eq!(last.code, 2, "{}", last.all());
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

    // A chain as kube-proxy names its own, and a firewall rule of the
    // host's own: the clean-up takes the first and keeps the second.
    lab.sh_ok(
        "node76",
        &format!(
            "iptables -N {KUBE_CHAIN} && iptables -A INPUT -j {KUBE_CHAIN} && iptables {OWN_RULE}"
        ),
    );
    let gone = remove(&home, &lab, &inv, &["node76"], &[]);
    assert_eq!(gone.code, 0, "{}", gone.all());
    assert_eq!(node_names(&lab, "node75"), ["node75", "node77"]);
    assert_reset(&lab, "node76");
    let rules = lab.sh_ok("node76", "iptables -S");
    assert!(!rules.contains(KUBE_CHAIN), "{rules}");
    assert!(
        rules.contains(OWN_RULE),
        "the host's own rule went: {rules}"
    );
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

/// etcd's members (name, hex ID), sorted by name, as `cp`'s etcd Pod lists
/// them with `etcdctl member list -w json`; none may still be a learner.
fn etcd_members(lab: &Lab, cp: &str) -> Vec<(String, String)> {
    let out = lab.sh_ok(
        cp,
        "crictl exec $(crictl ps --name etcd -q | head -n 1) etcdctl --endpoints=https://127.0.0.1:2379 \
         --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt \
         --key=/etc/kubernetes/pki/etcd/healthcheck-client.key member list -w json",
    );
    let doc: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let mut members: Vec<(String, String)> = doc["members"]
        .as_array()
        .unwrap_or_else(|| panic!("no members: {out}"))
        .iter()
        .map(|m| {
            assert_ne!(m["isLearner"], true, "a learner left behind: {out}");
            let id = m["ID"].as_u64().unwrap_or_else(|| panic!("ID: {out}"));
            (
                m["name"].as_str().unwrap_or_default().to_string(),
                format!("{id:x}"),
            )
        })
        .collect();
    members.sort();
    members
}

fn names(members: &[(String, String)]) -> Vec<&str> {
    members.iter().map(|(n, _)| n.as_str()).collect()
}

/// A refusal: exit 2, the one line, and the REMOVE block's last word.
fn assert_refused(run: &Run, line: &str) {
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stdout.contains(line)
            && run
                .stdout
                .contains("refused: nothing was changed on any host"),
        "{}",
        run.all()
    );
}

/// README's "Replacing a dead server" lines, as this test runs them: its
/// cp1..cp3 are node78..node80, its inventory and known_hosts this test's.
fn readme_replacement(lab: &Lab, inv: &Path, known_hosts: &Path) -> Vec<String> {
    let text = readme::readme();
    let from = text
        .find("**Replacing a dead server.**")
        .expect("README's dead server");
    let section = &text[from..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    let kh = s(known_hosts);
    readme::shown_commands(section)
        .into_iter()
        .map(|c| {
            let mut line = c
                .command
                .replace("inventory.yaml", s(inv))
                .replace("10.0.0.12", &lab.address("node79"))
                .replace("cp1", "node78")
                .replace("cp2", "node79")
                .replace("cp3", "node80");
            // After the subcommand, before exec's `--`.
            if let Some(rest) = line.strip_prefix("kubestrap ") {
                let (sub, args) = rest.split_once(' ').unwrap_or((rest, ""));
                line = format!("kubestrap {sub} --known-hosts {kh} {args}");
            } else if let Some(rest) = line.strip_prefix("ssh-keygen ") {
                line = format!("ssh-keygen -f {kh} {rest}");
            }
            line
        })
        .collect()
}

#[test]
fn remove_control_planes_keeps_quorum_and_etcd_members_follow() {
    let lab = Lab::from_env();
    let home = Home::new();
    let hosts = [
        ("node78", "control_plane"),
        ("node79", "control_plane"),
        ("node80", "control_plane"),
    ];
    let all = ["node78", "node79", "node80"];
    let vip = format!("{}.248", lab.address("node78").rsplit_once('.').unwrap().0);
    let inv = build(
        &home,
        &lab,
        &hosts,
        &format!("  control_plane_endpoint: {vip}:6443\n"),
    );
    let first = etcd_members(&lab, "node78");
    assert_eq!(names(&first), all);

    // Refused before anything changes, one line each.
    let every = remove(&home, &lab, &inv, &all, &[]);
    assert_refused(
        &every,
        "node78, node79, node80: removing the last control plane",
    );
    let quorum = remove(&home, &lab, &inv, &["node79", "node80"], &[]);
    assert_refused(
        &quorum,
        "node79, node80: removing 2 of 3 control planes leaves 1, fewer than etcd's quorum of 2",
    );
    assert_eq!(etcd_members(&lab, "node78"), first);
    assert_eq!(node_names(&lab, "node78"), all);

    // Reachable: kubeadm reset removes its own member; apply joins it again
    // as a new member (etcd gives it a new ID).
    let gone = remove(&home, &lab, &inv, &["node80"], &[]);
    assert_eq!(gone.code, 0, "{}", gone.all());
    assert!(
        gone.stdout.contains(
            "node80: control plane: drain, kubeadm reset (removes its etcd member), CNI config"
        ) && !gone.stdout.contains("left its etcd member behind"),
        "{}",
        gone.stdout
    );
    assert_eq!(names(&etcd_members(&lab, "node78")), ["node78", "node79"]);
    assert_eq!(node_names(&lab, "node78"), ["node78", "node79"]);
    assert_reset(&lab, "node80");
    let back = apply(&home, &lab, &inv);
    assert_eq!(back.code, 0, "{}", back.all());
    let rejoined = etcd_members(&lab, "node78");
    assert_eq!(names(&rejoined), all);
    assert_ne!(
        rejoined[2].1, first[2].1,
        "node80 came back as a new member"
    );
    assert_eq!(node_names(&lab, "node78"), all);

    // A dead control plane, replaced as README says, word for word but for
    // names and files. First: one that answers is not removed while the
    // dead one still counts in etcd.
    lab.stop("node79");
    let unsafe_ = remove(&home, &lab, &inv, &["node80"], &[]);
    assert_refused(
        &unsafe_,
        "node80: etcd would keep 2 members, 1 of them not answering (node79): fewer answering than its quorum of 2; remove those first",
    );
    let known_hosts = home.path().join("known_hosts");
    std::fs::copy(lab.known_hosts(), &known_hosts).unwrap();
    let steps = readme_replacement(&lab, &inv, &known_hosts);
    assert_eq!(steps.len(), 6, "{steps:#?}");
    let bin = readme::kubestrap_on_path();
    let run = |i: usize| {
        let (code, out, err) = readme::sh(&steps[i], home.path(), bin.path());
        assert_eq!(code, 0, "`{}`:\n{out}\n{err}", steps[i]);
        out
    };
    let dead_line = "node79: control plane: host unreachable: etcd member removed through a healthy control plane, Node deleted";
    let check = run(0);
    assert!(check.contains(dead_line), "{check}");
    assert_eq!(names(&etcd_members(&lab, "node78")), all);
    let dead = run(1);
    assert!(dead.contains(dead_line), "{dead}");
    assert_eq!(names(&etcd_members(&lab, "node78")), ["node78", "node80"]);
    assert_eq!(node_names(&lab, "node78"), ["node78", "node80"]);
    // README's etcdctl line: one member a line, hex ID, started, name.
    let listed = run(2);
    for (name, id) in etcd_members(&lab, "node78") {
        assert!(
            listed.contains(&format!("{id}, started, {name}, https://")),
            "{listed}"
        );
    }
    assert!(!listed.contains("node79"), "{listed}");

    // Again: removed already, nothing changes.
    let again = remove(&home, &lab, &inv, &["node79"], &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again
            .stdout
            .contains("node79: no Node of this name: removed already"),
        "{}",
        again.stdout
    );
    assert_eq!(changed(&again.stdout, "node78"), 0, "{}", again.stdout);

    // The replacement: a fresh host with the same name and address.
    lab.wipe("node79");
    run(3);
    let check = run(4);
    assert!(check.contains("node79"), "{check}");
    assert_eq!(node_names(&lab, "node78"), ["node78", "node80"]);
    run(5);
    assert_eq!(names(&etcd_members(&lab, "node78")), all);
    assert_eq!(node_names(&lab, "node78"), all);
    assert!(run(2).contains(", started, node79, https://"));
}
