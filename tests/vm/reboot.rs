//! `apply --until prepared` on fresh VMs, then a reboot: what was prepared stays so.

use crate::inventories::{changed, lab_cluster};
use crate::support::{s, Home, Run};
use crate::vms::{Vms, APPLY_LIMIT, CLUSTER_EXTRA, CONNECT_TIMEOUT};

const HOSTS: [&str; 2] = ["vm1", "vm2"];

fn prepare(vms: &Vms, home: &Home, inv: &std::path::Path) -> Run {
    let kh = vms.lab().known_hosts();
    home.kubestrap_within(
        &[
            "apply",
            "-i",
            s(inv),
            "--until",
            "prepared",
            "--known-hosts",
            s(&kh),
            "--connect-timeout",
            CONNECT_TIMEOUT,
        ],
        APPLY_LIMIT,
    )
}

/// The swap partition's UUID from the image's fstab line, as found on a fresh VM.
fn swap_uuid(vms: &Vms, h: &str) -> String {
    let fstab = vms.sh_ok(h, "cat /etc/fstab");
    fstab
        .lines()
        .find(|l| !l.starts_with('#') && l.split_whitespace().nth(2) == Some("swap"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|f| f.strip_prefix("UUID="))
        .unwrap_or_else(|| panic!("{h}: no swap partition in fstab:\n{fstab}"))
        .to_string()
}

/// The systemd unit of the swap partition (from fstab's generator).
fn swap_unit(uuid: &str) -> String {
    format!("dev-disk-by\\x2duuid-{}.swap", uuid.replace('-', "\\x2d"))
}

/// What must hold right after preparation and after every reboot.
fn assert_prepared(vms: &Vms, h: &str, uuid: &str, addr: &str) {
    assert_eq!(
        vms.sh_ok(h, "swapon --show --noheadings"),
        "",
        "{h}: swap is on"
    );
    let fstab = vms.sh_ok(h, "cat /etc/fstab");
    assert!(
        fstab
            .lines()
            .any(|l| l.starts_with('#') && l.contains(&format!("UUID={uuid}"))),
        "{h}: swap line not commented:\n{fstab}"
    );
    assert!(
        !fstab
            .lines()
            .any(|l| l.starts_with(&format!("UUID={uuid}"))),
        "{h}: {fstab}"
    );
    let unit = swap_unit(uuid);
    let state = vms.sh(h, &format!("systemctl is-enabled '{unit}'"));
    assert_eq!(
        String::from_utf8_lossy(&state.stdout).trim(),
        "masked",
        "{h}: {unit}"
    );
    // The pinned address: static in ifupdown, not a DHCP lease.
    let pinned = vms.sh_ok(h, "cat /etc/network/interfaces.d/60-kubestrap");
    assert!(
        pinned.contains(&format!("iface eth0 inet static\n    address {addr}/24\n")),
        "{h}: {pinned}"
    );
    let live = vms.sh_ok(h, "ip -4 -o addr show dev eth0; ip route show default");
    assert!(live.contains(&format!(" {addr}/24 ")), "{h}: {live}");
    assert!(
        !live.contains("dynamic"),
        "{h}: the address is still a DHCP lease: {live}"
    );
    assert!(live.contains("default via "), "{h}: {live}");
    let procs = vms.sh_ok(h, "ps -eo args");
    assert!(
        !procs
            .lines()
            .any(|l| l.contains("dhclient") && l.contains("eth0")),
        "{h}: dhclient still runs for eth0:\n{procs}"
    );
    assert_eq!(
        vms.sh_ok(
            h,
            "cat /etc/modules-load.d/overlay.conf /etc/modules-load.d/br_netfilter.conf"
        ),
        "overlay\nbr_netfilter\n"
    );
    let sysctl = vms.sh_ok(h, "cat /etc/sysctl.d/99-kubernetes.conf");
    assert!(
        sysctl.contains("net.ipv4.ip_forward"),
        "{h}: sysctl.d: {sysctl}"
    );
    // The real kernel has them loaded and the sysctls set.
    let lsmod = vms.sh_ok(h, "lsmod");
    for m in ["overlay", "br_netfilter"] {
        assert!(
            lsmod
                .lines()
                .any(|l| l.split_whitespace().next() == Some(m)),
            "{h}: {m} not loaded:\n{lsmod}"
        );
    }
    assert_eq!(
        vms.sh_ok(
            h,
            "sysctl -n net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables net.ipv4.ip_forward"
        ),
        "1\n1\n1\n",
        "{h}: sysctls"
    );
    assert_eq!(
        vms.sh_ok(h, "systemctl is-active containerd").trim(),
        "active"
    );
    let config = vms.sh_ok(h, "cat /etc/containerd/config.toml");
    assert!(config.contains("SystemdCgroup = true"), "{h}: {config}");
    assert_eq!(
        vms.sh_ok(h, "systemctl is-enabled kubelet").trim(),
        "enabled"
    );
    let held = vms.sh_ok(h, "apt-mark showhold");
    for pkg in ["kubeadm", "kubelet", "kubectl"] {
        assert!(
            held.lines().any(|l| l == pkg),
            "{h}: {pkg} not held: {held}"
        );
    }
}

#[test]
fn vm_preparation_survives_a_reboot() {
    let vms = Vms::from_env();
    let home = Home::new();
    let lab = vms.lab();
    // Fresh VMs: swap on from the fstab partition, the address from DHCP.
    let mut uuids = Vec::new();
    for h in HOSTS {
        let uuid = swap_uuid(&vms, h);
        let swaps = vms.sh_ok(h, "swapon --show=NAME --noheadings");
        assert!(!swaps.trim().is_empty(), "{h}: a fresh VM has swap on");
        let live = vms.sh_ok(h, "ip -4 -o addr show dev eth0");
        assert!(live.contains("dynamic"), "{h}: not from DHCP: {live}");
        uuids.push(uuid);
    }
    let roles: Vec<(&str, &str)> = vec![(HOSTS[0], "control_plane"), (HOSTS[1], "worker")];
    let inv = home.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        lab_cluster(lab, &roles, "10.244.0.0/16", CLUSTER_EXTRA),
    )
    .unwrap();

    let first = prepare(&vms, &home, &inv);
    assert_eq!(first.code, 0, "{}", first.all());
    for (h, uuid) in HOSTS.iter().zip(&uuids) {
        assert_prepared(&vms, h, uuid, &lab.address(h));
    }

    // The reboot: everything prepared must come back by itself.
    vms.reboot(&HOSTS);
    for (h, uuid) in HOSTS.iter().zip(&uuids) {
        assert_prepared(&vms, h, uuid, &lab.address(h));
    }
    let again = prepare(&vms, &home, &inv);
    assert_eq!(again.code, 0, "{}", again.all());
    for h in HOSTS {
        assert_eq!(changed(&again.stdout, h), 0, "{h}: {}", again.stdout);
    }
}
