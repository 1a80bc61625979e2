//! `kubestrap apply` on real kernels: 1 control plane + 1 worker to Ready, then the worker reboots.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::inventories::{changed, lab_cluster};
use crate::support::{s, Home, Run};
use crate::vms::{Vms, APPLY_LIMIT, CLUSTER_EXTRA, CONNECT_TIMEOUT};

const CP: &str = "vm3";
const WORKER: &str = "vm4";

fn apply(vms: &Vms, home: &Home, inv: &Path) -> Run {
    let kh = vms.lab().known_hosts();
    home.kubestrap_within(
        &[
            "apply",
            "-i",
            s(inv),
            "--known-hosts",
            s(&kh),
            "--connect-timeout",
            CONNECT_TIMEOUT,
        ],
        APPLY_LIMIT,
    )
}

/// The STATUS column of kubestrap's NODES table, by node name.
fn node_status(run: &Run, node: &str) -> Option<String> {
    let table = run.stdout.split("NODES ****").nth(1)?;
    let table = table.split("PLAY RECAP").next()?;
    table.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some(node)).then(|| w.next().unwrap_or_default().to_string())
    })
}

/// The worker's Ready condition as the control plane's API server reports
/// it: (status, last heartbeat as Unix seconds).
fn worker_ready(vms: &Vms) -> (String, i64) {
    let json = vms.sh_ok(
        CP,
        &format!("kubectl --kubeconfig /etc/kubernetes/admin.conf get node {WORKER} -o json"),
    );
    let node: serde_json::Value = serde_json::from_str(&json).expect("node JSON");
    let ready = node["status"]["conditions"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .unwrap_or_else(|| panic!("no Ready condition: {json}"));
    let heartbeat = ready["lastHeartbeatTime"].as_str().unwrap_or_default();
    let secs = vms
        .sh_ok(CP, &format!("date -u -d '{heartbeat}' +%s"))
        .trim()
        .parse()
        .unwrap_or(0);
    (
        ready["status"].as_str().unwrap_or_default().to_string(),
        secs,
    )
}

#[test]
fn vm_cluster_comes_up_and_a_rebooted_worker_is_ready_again() {
    let vms = Vms::from_env();
    let home = Home::new();
    let lab = vms.lab();
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/calico/calico.yaml");
    let calico = format!(
        "  calico:\n    manifest_file: {}\n    mtu: 1400\n{CLUSTER_EXTRA}",
        manifest.display()
    );
    let roles = [(CP, "control_plane"), (WORKER, "worker")];
    let inv = home.path().join("inventory.yaml");
    std::fs::write(&inv, lab_cluster(lab, &roles, "10.244.0.0/16", &calico)).unwrap();

    let first = apply(&vms, &home, &inv);
    assert_eq!(first.code, 0, "{}", first.all());
    for node in [CP, WORKER] {
        assert_eq!(
            node_status(&first, node).as_deref(),
            Some("Ready"),
            "{}",
            first.stdout
        );
    }
    let again = apply(&vms, &home, &inv);
    assert_eq!(again.code, 0, "{}", again.all());
    for node in [CP, WORKER] {
        assert_eq!(changed(&again.stdout, node), 0, "{node}: {}", again.stdout);
    }

    // The worker reboots; kubelet and containerd start by themselves and the
    // node posts Ready again, with no kubestrap run.
    vms.reboot(&[WORKER]);
    let booted: i64 = vms
        .sh_ok(WORKER, "awk '/^btime/ { print $2 }' /proc/stat")
        .trim()
        .parse()
        .expect("btime");
    let started = Instant::now();
    let mut last = (String::new(), 0);
    while started.elapsed() < Duration::from_secs(300) {
        last = worker_ready(&vms);
        if last.0 == "True" && last.1 > booted {
            break;
        }
        std::thread::sleep(Duration::from_secs(5));
    }
    assert!(
        last.0 == "True" && last.1 > booted,
        "{WORKER} not Ready with a heartbeat after its reboot (booted {booted}): {last:?}"
    );
    for unit in ["containerd", "kubelet"] {
        assert_eq!(
            vms.sh_ok(WORKER, &format!("systemctl is-active {unit}"))
                .trim(),
            "active"
        );
    }
}
