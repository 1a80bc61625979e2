//! Upgrading a running cluster with `apply`: control plane first, workers one batch at a time, one minor release at a time.
//!
//! Hosts: node65 (control plane) + node66, node67 (workers) go from 1.31.4
//! to 1.32.1; node68-node70 are three control planes behind a virtual IP;
//! node71 + node72 are interrupted in the middle of the worker's upgrade;
//! node73 (+ node74 joining during the upgrade) walk 1.31.4 → 1.33.0 after
//! a downgrade and a release without a repository were refused. The lab's
//! repositories hold 1.31.4, 1.32.0, 1.32.1 and 1.33.0 (tests/run-all.sh).

use std::path::Path;
use std::time::Duration;

use crate::cluster::calico_settings;
use crate::faults::{wait_until, Background};
use crate::inventories::{changed, lab_cluster};
use crate::lab::Lab;
use crate::support::{s, task_section, Home, Run};

const POD_SUBNET: &str = "10.244.0.0/16";

fn apply(home: &Home, inv: &Path, lab: &Lab, extra: &[&str]) -> Run {
    let known_hosts = lab.known_hosts();
    let mut args = vec!["apply", "-i", s(inv), "--known-hosts", s(&known_hosts)];
    args.extend_from_slice(extra);
    home.kubestrap_within(&args, Duration::from_secs(900))
}

/// The inventory with its kubernetes_version replaced.
fn at_version(inv: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(inv).unwrap();
    let was = format!("kubernetes_version: \"{from}\"");
    assert!(text.contains(&was), "{text}");
    std::fs::write(
        inv,
        text.replace(&was, &format!("kubernetes_version: \"{to}\"")),
    )
    .unwrap();
}

/// name → (kubelet version, cordoned), as the cluster reports its Nodes.
fn nodes(lab: &Lab, cp: &str) -> Vec<(String, String, bool)> {
    try_nodes(lab, cp).unwrap_or_else(|| panic!("{cp} cannot list the nodes"))
}

/// [`nodes`], or None while the API server does not answer (it restarts
/// during `kubeadm upgrade apply`).
fn try_nodes(lab: &Lab, cp: &str) -> Option<Vec<(String, String, bool)>> {
    let out = lab.sh(
        cp,
        "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o json",
    );
    if !out.status.success() {
        return None;
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let items = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["metadata"]["name"].as_str().unwrap().to_string(),
                n["status"]["nodeInfo"]["kubeletVersion"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                n["spec"]["unschedulable"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    Some(items)
}

/// Every node at `version` and schedulable.
fn assert_all_at(lab: &Lab, cp: &str, hosts: &[&str], version: &str) {
    let nodes = nodes(lab, cp);
    assert_eq!(nodes.len(), hosts.len(), "{nodes:?}");
    for (name, kubelet, cordoned) in &nodes {
        assert_eq!(kubelet, &format!("v{version}"), "{name}: {nodes:?}");
        assert!(!cordoned, "{name} is left cordoned: {nodes:?}");
    }
}

/// kubeadm, kubelet and kubectl installed at `version` and held.
fn assert_packages(lab: &Lab, host: &str, version: &str) {
    let installed = lab.sh_ok(
        host,
        "dpkg-query -W -f='${Package} ${Version} ${Status}\\n' kubeadm kubelet kubectl",
    );
    for pkg in ["kubeadm", "kubelet", "kubectl"] {
        let line = installed
            .lines()
            .find(|l| l.starts_with(&format!("{pkg} ")))
            .unwrap_or_else(|| panic!("{host}: {pkg} missing:\n{installed}"));
        assert!(
            line.starts_with(&format!("{pkg} {version}-1.1 hold ok installed")),
            "{host}: {line}"
        );
    }
    let source = lab.sh_ok(host, "cat /etc/apt/sources.list.d/kubernetes.sources");
    let minor = version.rsplit_once('.').unwrap().0;
    assert!(
        source.contains(&format!("/v{minor}/deb/")),
        "{host}: {source}"
    );
}

/// Where each task's line first appears in the output, to check the order.
fn position(stdout: &str, needle: &str) -> usize {
    stdout
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the output:\n{stdout}"))
}

fn build(home: &Home, lab: &Lab, hosts: &[(&str, &str)], extra: &str) -> std::path::PathBuf {
    let inv = home.path().join("inventory.yaml");
    let settings = format!("{}{extra}", calico_settings());
    std::fs::write(&inv, lab_cluster(lab, hosts, POD_SUBNET, &settings)).unwrap();
    let first = apply(home, &inv, lab, &[]);
    assert_eq!(first.code, 0, "{}", first.all());
    inv
}

#[test]
fn apply_upgrades_control_plane_first_then_each_worker() {
    let lab = Lab::from_env();
    let home = Home::new();
    let hosts = [
        ("node65", "control_plane"),
        ("node66", "worker"),
        ("node67", "worker"),
    ];
    let names = ["node65", "node66", "node67"];
    let from = lab.repo().k8s_version;
    let inv = build(&home, &lab, &hosts, "");
    assert_all_at(&lab, "node65", &names, &from);
    at_version(&inv, &from, "1.32.1");

    // --check --diff: the plan, in order, and nothing changes.
    let plan = apply(&home, &inv, &lab, &["--check", "--diff"]);
    assert_eq!(plan.code, 0, "{}", plan.all());
    for line in [
        "to 1.32.1 in 1 step (1.32.1), control plane first, workers 1 at a time",
        "step 1.32.1:",
        &format!("  1. node65 {from} → 1.32.1 (control plane, kubeadm upgrade apply)"),
        &format!("  2. node66 {from} → 1.32.1 (workers, kubeadm upgrade node)"),
        &format!("  3. node67 {from} → 1.32.1 (workers, kubeadm upgrade node)"),
    ] {
        assert!(
            plan.stdout.contains(line),
            "{line:?} missing:\n{}",
            plan.stdout
        );
    }
    assert_all_at(&lab, "node65", &names, &from);
    assert_packages(&lab, "node66", &from);

    let up = apply(&home, &inv, &lab, &[]);
    assert_eq!(up.code, 0, "{}", up.all());
    assert_all_at(&lab, "node65", &names, "1.32.1");
    for h in names {
        assert_packages(&lab, h, "1.32.1");
    }
    // The control plane went first, then each worker alone: drained,
    // upgraded, uncordoned before the next one was drained.
    let out = &up.stdout;
    let apply_at = position(out, "TASK [kubeadm upgrade apply v1.32.1]");
    let drain66 = position(out, "TASK [drain node66]");
    let uncordon66 = position(out, "TASK [uncordon node66]");
    let drain67 = position(out, "TASK [drain node67]");
    assert!(position(out, "TASK [drain node65]") < apply_at, "{out}");
    assert!(
        apply_at < drain66 && drain66 < uncordon66 && uncordon66 < drain67,
        "{out}"
    );
    assert!(
        task_section(out, "kubeadm upgrade apply v1.32.1").contains("changed: [node65]"),
        "{out}"
    );
    // The admin kubeconfig in the state directory was refreshed (the
    // upgrade renewed the control plane's certificates).
    let kubeconfig =
        std::fs::read_to_string(home.path().join(".kubestrap/lab/kubeconfig")).unwrap();
    let on_host = lab.sh_ok("node65", "cat /etc/kubernetes/admin.conf");
    let cert = |t: &str| {
        t.lines()
            .find(|l| l.trim_start().starts_with("client-certificate-data:"))
            .map(|l| l.trim().to_string())
    };
    assert_eq!(cert(&kubeconfig), cert(&on_host));

    let again = apply(&home, &inv, &lab, &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    for h in names {
        assert_eq!(changed(&again.stdout, h), 0, "{h}:\n{}", again.stdout);
    }
    assert!(!again.stdout.contains("UPGRADE"), "{}", again.stdout);
}

#[test]
fn ha_control_planes_upgrade_apply_once_and_upgrade_node_on_the_others() {
    let lab = Lab::from_env();
    let home = Home::new();
    let hosts = [
        ("node68", "control_plane"),
        ("node69", "control_plane"),
        ("node70", "control_plane"),
    ];
    let vip = format!("{}.249", lab.address("node68").rsplit_once('.').unwrap().0);
    let from = lab.repo().k8s_version;
    let inv = build(
        &home,
        &lab,
        &hosts,
        &format!("  control_plane_endpoint: {vip}:6443\n"),
    );
    at_version(&inv, &from, "1.32.1");
    let up = apply(&home, &inv, &lab, &[]);
    assert_eq!(up.code, 0, "{}", up.all());
    assert_all_at(&lab, "node68", &["node68", "node69", "node70"], "1.32.1");
    let applied = task_section(&up.stdout, "kubeadm upgrade apply v1.32.1");
    let node = |h: &str| {
        // The node play runs once per batch; each batch's section names its host.
        up.stdout
            .split("TASK [kubeadm upgrade node]")
            .skip(1)
            .any(|sec| {
                sec.split("\nTASK [")
                    .next()
                    .unwrap_or("")
                    .contains(&format!("changed: [{h}]"))
            })
    };
    assert!(applied.contains("changed: [node68]"), "{}", up.stdout);
    assert!(node("node69") && node("node70"), "{}", up.stdout);
    assert!(
        !node("node68"),
        "upgrade node ran on the first control plane:\n{}",
        up.stdout
    );
    for h in ["node69", "node70"] {
        assert!(
            !up.stdout
                .split("TASK [kubeadm upgrade apply v1.32.1]")
                .skip(1)
                .any(|sec| sec
                    .split("\nTASK [")
                    .next()
                    .unwrap_or("")
                    .contains(&format!("changed: [{h}]"))),
            "upgrade apply ran on {h}:\n{}",
            up.stdout
        );
        let manifest = lab.sh_ok(h, "cat /etc/kubernetes/manifests/kube-apiserver.yaml");
        assert!(
            manifest.contains("kube-apiserver:v1.32.1"),
            "{h}: {manifest}"
        );
        assert_packages(&lab, h, "1.32.1");
    }
}

#[test]
fn an_interrupted_upgrade_uncordons_and_the_next_apply_finishes_it() {
    let lab = Lab::from_env();
    let home = Home::new();
    let hosts = [("node71", "control_plane"), ("node72", "worker")];
    let from = lab.repo().k8s_version;
    let inv = build(&home, &lab, &hosts, "");
    at_version(&inv, &from, "1.32.1");
    let known_hosts = lab.known_hosts();
    let args: Vec<String> = ["apply", "-i", s(&inv), "--known-hosts", s(&known_hosts)]
        .iter()
        .map(|a| a.to_string())
        .collect();
    let run = Background::start(&home, &args);
    // Ctrl-C once the worker is cordoned for its upgrade.
    let cordoned = wait_until(Duration::from_secs(600), || {
        try_nodes(&lab, "node71")
            .is_some_and(|nodes| nodes.iter().any(|(n, _, c)| n == "node72" && *c))
    });
    assert!(cordoned, "node72 was never drained:\n{}", run.stdout());
    run.signal("INT");
    let stopped = run.finish(Duration::from_secs(120));
    assert_eq!(stopped.code, 130, "{}", stopped.all());
    assert!(
        stopped.stdout.contains("UPGRADE STOPPED"),
        "{}",
        stopped.stdout
    );
    assert!(
        stopped.stdout.contains("node72: uncordoned"),
        "{}",
        stopped.stdout
    );
    assert!(
        !nodes(&lab, "node71").iter().any(|(_, _, c)| *c),
        "a node is still cordoned: {:?}",
        nodes(&lab, "node71")
    );

    let again = apply(&home, &inv, &lab, &[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_all_at(&lab, "node71", &["node71", "node72"], "1.32.1");
    for h in ["node71", "node72"] {
        assert_packages(&lab, h, "1.32.1");
    }
    let last = apply(&home, &inv, &lab, &[]);
    assert_eq!(last.code, 0, "{}", last.all());
    for h in ["node71", "node72"] {
        assert_eq!(changed(&last.stdout, h), 0, "{h}:\n{}", last.stdout);
    }
}

#[test]
fn refusals_change_nothing_and_a_two_minor_jump_walks_both_steps() {
    let lab = Lab::from_env();
    let home = Home::new();
    let from = lab.repo().k8s_version;
    let inv = build(&home, &lab, &[("node73", "control_plane")], "");

    // A downgrade: refused with one line, exit 2, nothing changed.
    at_version(&inv, &from, "1.30.9");
    let down = apply(&home, &inv, &lab, &[]);
    assert_eq!(down.code, 2, "{}", down.all());
    let refused: Vec<&str> = down
        .stdout
        .lines()
        .filter(|l| l.starts_with("refused: "))
        .collect();
    assert_eq!(refused.len(), 2, "{}", down.stdout);
    assert!(
        refused[0].contains(&format!(
            "node73: kubelet runs {from}, newer than kubernetes_version 1.30.9"
        )),
        "{}",
        down.stdout
    );
    assert!(
        !down.stdout.contains("TASK ["),
        "a task ran:\n{}",
        down.stdout
    );

    // A release whose repository does not exist: exit 3, nothing changed.
    at_version(&inv, "1.30.9", "1.34.0");
    let missing = apply(&home, &inv, &lab, &[]);
    assert_eq!(missing.code, 3, "{}", missing.all());
    let refused: Vec<&str> = missing
        .stdout
        .lines()
        .filter(|l| l.starts_with("refused: "))
        .collect();
    assert_eq!(refused.len(), 1, "{}", missing.stdout);
    assert!(
        refused[0].contains("no package repository for 1.34 at "),
        "{}",
        missing.stdout
    );
    assert!(
        !missing.stdout.contains("TASK ["),
        "a task ran:\n{}",
        missing.stdout
    );
    assert_all_at(&lab, "node73", &["node73"], &from);
    assert_packages(&lab, "node73", &from);

    // 1.31 → 1.33 in two full steps; a new worker joins at the end, at 1.33.0.
    at_version(&inv, "1.34.0", "1.33.0");
    let text = std::fs::read_to_string(&inv).unwrap();
    std::fs::write(
        &inv,
        format!(
            "{text}  node74:\n    address: {}\n    roles: [worker]\n",
            lab.address("node74")
        ),
    )
    .unwrap();
    let up = apply(&home, &inv, &lab, &[]);
    assert_eq!(up.code, 0, "{}", up.all());
    assert!(
        up.stdout.contains("to 1.33.0 in 2 steps (1.32.1 → 1.33.0)"),
        "{}",
        up.stdout
    );
    let step1 = position(&up.stdout, "TASK [kubeadm upgrade apply v1.32.1]");
    let step2 = position(&up.stdout, "TASK [kubeadm upgrade apply v1.33.0]");
    assert!(step1 < step2, "{}", up.stdout);
    assert!(
        position(&up.stdout, "join: node74") > step2,
        "node74 joined before the upgrade:\n{}",
        up.stdout
    );
    assert_all_at(&lab, "node73", &["node73", "node74"], "1.33.0");
    assert_packages(&lab, "node73", "1.33.0");
    assert_packages(&lab, "node74", "1.33.0");
}
