//! static_ip on a real NIC: an address that cuts the VM off is rolled back by the VM itself.

use std::path::{Path, PathBuf};

use crate::support::{s, Home, Run};
use crate::vms::{Vms, APPLY_LIMIT, CONNECT_TIMEOUT};

const HOST: &str = "vm5";

fn playbook_dir() -> (tempfile::TempDir, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("temp dir");
    let book = dir.path().join("static_ip.yaml");
    std::fs::copy(root.join("tests/fixtures/playbooks/static_ip.yaml"), &book)
        .expect("copying the playbook");
    std::os::unix::fs::symlink(root.join("templates"), dir.path().join("templates"))
        .expect("templates link");
    (dir, book)
}

fn run(vms: &Vms, home: &Home, args: &[&str]) -> Run {
    let (_d, inv) = vms.lab().write_inventory(&[HOST], "root");
    let (_b, book) = playbook_dir();
    let kh = vms.lab().known_hosts();
    let mut all = vec![
        "run",
        s(&book),
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--connect-timeout",
        CONNECT_TIMEOUT,
    ];
    for a in args {
        all.push("-e");
        all.push(a);
    }
    home.kubestrap_within(&all, APPLY_LIMIT)
}

#[test]
fn vm_pin_that_cuts_the_vm_off_is_rolled_back_on_a_real_nic() {
    let vms = Vms::from_env();
    let home = Home::new();
    let addr = vms.lab().address(HOST);
    let net = addr.rsplit_once('.').unwrap().0;
    let files = "sha256sum /etc/network/interfaces; ls /etc/network/interfaces.d/";
    let before = vms.sh_ok(HOST, files);
    let live = vms.sh_ok(HOST, "ip -4 -o addr show dev eth0");
    assert!(
        live.contains("dynamic"),
        "a fresh VM has a DHCP lease: {live}"
    );

    // Another address in the same /24: the VM takes it, kubestrap's fresh
    // login to the old address fails, and the VM restores itself.
    let bad = format!("static_ip_address={net}.211/24");
    let out = run(
        &vms,
        &home,
        &[
            "static_ip_stack=ifupdown",
            &bad,
            "static_ip_rollback_timeout=30",
        ],
    );
    assert_ne!(out.code, 0, "{}", out.all());
    let all = out.all();
    assert!(
        all.contains(&format!("{HOST}: network change rolled back")),
        "{all}"
    );
    // Back at its old address (vm.sh sh logs in there), old files, nothing armed.
    assert!(vms.answers(HOST), "{HOST} not reachable after the rollback");
    let live = vms.sh_ok(HOST, "ip -4 -o addr show dev eth0; ip route show default");
    assert!(live.contains(&format!(" {addr}/24 ")), "{live}");
    assert!(!live.contains(".211/"), "{live}");
    assert!(
        live.contains(&format!("default via {net}.1 dev eth0")),
        "{live}"
    );
    assert_eq!(vms.sh_ok(HOST, files), before);
    let marker = vms.sh_ok(
        HOST,
        "cat /var/lib/kubestrap/net-rolled-back; systemctl is-active kubestrap-net-rollback.timer || true",
    );
    assert!(marker.contains("rolled back at"), "{marker}");
    assert!(!marker.lines().any(|l| l == "active"), "{marker}");
}
