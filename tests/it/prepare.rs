//! `kubestrap apply --until prepared` on fresh lab hosts: preflight, convergence, idempotence.

use crate::inventories::{changed, lab_cluster};
use crate::lab::Lab;
use crate::support::{s, Home, Run};

const HOSTS: [&str; 3] = ["node13", "node14", "node15"];

/// Everything preparation may touch, hashed on the host, so a test can
/// prove a refused apply changed nothing.
const STATE: &str = "for f in /etc/fstab /etc/hostname /etc/hosts /etc/apt/sources.list \
    /etc/sysctl.d/99-kubernetes.conf /etc/modules-load.d/overlay.conf /etc/modules-load.d/br_netfilter.conf \
    /etc/containerd/config.toml /etc/crictl.yaml /etc/network/interfaces; do \
    if [ -e $f ]; then sha256sum $f; else echo missing $f; fi; done; \
    ls /etc/apt/sources.list.d /etc/network/interfaces.d /etc/apt/keyrings 2>&1; \
    dpkg -l containerd kubeadm 2>&1 | tail -n +6; sysctl -n net.ipv4.ip_forward";

fn inventory(lab: &Lab, hosts: &[&str], pod_subnet: &str) -> String {
    let roles: Vec<(&str, &str)> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (*h, if i == 0 { "control_plane" } else { "worker" }))
        .collect();
    lab_cluster(lab, &roles, pod_subnet, "")
}

fn changed_counts(run: &Run) -> Vec<u32> {
    HOSTS.iter().map(|h| changed(&run.stdout, h)).collect()
}

#[test]
fn preparation_refuses_bad_hosts_then_converges_and_is_idempotent() {
    let lab = Lab::from_env();
    let home = Home::new();
    let kh = lab.known_hosts();
    let state = || -> Vec<String> { HOSTS.iter().map(|h| lab.sh_ok(h, STATE)).collect() };
    for h in HOSTS {
        lab.sh_ok(
            h,
            "grep -q '^/swapfile' /etc/fstab || echo '/swapfile none swap sw 0 0' >> /etc/fstab",
        );
    }

    // 1. Preflight: a duplicate hostname, a pod subnet over the hosts' own
    //    network and a control plane with 1 GB of memory (a /proc/meminfo
    //    bound over the real one in that host's own mount namespace, as
    //    LXCFS does) are all reported at once, and nothing changes.
    let bridge_net = {
        let a = lab.address("node13");
        format!("{}.0/24", a.rsplit_once('.').unwrap().0)
    };
    let bad = home.path().join("bad.yaml");
    std::fs::write(&bad, inventory(&lab, &HOSTS, &bridge_net)).unwrap();
    lab.sh_ok("node15", "hostname node14");
    lab.sh_ok(
        "node13",
        "sed 's/^MemTotal:.*/MemTotal:        1024000 kB/' /proc/meminfo > /run/meminfo.small \
         && mount --bind /run/meminfo.small /proc/meminfo",
    );
    let before = state();
    let refused = home.kubestrap(&[
        "apply",
        "-i",
        s(&bad),
        "--until",
        "prepared",
        "--known-hosts",
        s(&kh),
    ]);
    lab.sh_ok("node15", "hostname node15");
    lab.sh_ok("node13", "umount /proc/meminfo");
    assert_eq!(refused.code, 3, "{}", refused.all());
    assert!(
        refused.stdout.contains("unique-hostname"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stdout.contains("node14") && refused.stdout.contains("node15"),
        "{}",
        refused.stdout
    );
    assert!(refused.stdout.contains("[subnets]"), "{}", refused.stdout);
    assert!(
        refused.stdout.contains(
            "host node13: [memory] 1000 MB of memory; a control plane needs at least 1700 MB"
        ),
        "{}",
        refused.stdout
    );
    assert!(refused.stdout.contains(&bridge_net), "{}", refused.stdout);
    assert!(
        !refused.stdout.contains("TASK ["),
        "no task ran after a failed preflight"
    );
    assert_eq!(state(), before, "a failed preflight changed a host");

    // 2. With a good inventory, preparation converges.
    let inv = home.path().join("inventory.yaml");
    std::fs::write(&inv, inventory(&lab, &HOSTS, "10.233.64.0/18")).unwrap();
    let first = home.kubestrap(&[
        "apply",
        "-i",
        s(&inv),
        "--until",
        "prepared",
        "--known-hosts",
        s(&kh),
    ]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert!(
        changed_counts(&first).iter().all(|&n| n > 5),
        "{}",
        first.stdout
    );

    // 3. Again: nothing to do anywhere.
    let again = home.kubestrap(&[
        "apply",
        "-i",
        s(&inv),
        "--until",
        "prepared",
        "--known-hosts",
        s(&kh),
    ]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(changed_counts(&again), vec![0, 0, 0], "{}", again.stdout);

    // 4. Each host is ready for kubeadm.
    let repo = lab.repo();
    for h in HOSTS {
        let fstab = lab.sh_ok(h, "cat /etc/fstab");
        assert!(
            fstab
                .lines()
                .any(|l| l.starts_with('#') && l.contains("/swapfile none swap")),
            "{h}: {fstab}"
        );
        assert!(
            !fstab.lines().any(|l| l.starts_with("/swapfile")),
            "{h}: {fstab}"
        );
        assert_eq!(
            lab.sh_ok(
                h,
                "cat /etc/modules-load.d/overlay.conf /etc/modules-load.d/br_netfilter.conf"
            ),
            "overlay\nbr_netfilter\n"
        );
        let sysctl = lab.sh_ok(h, "cat /etc/sysctl.d/99-kubernetes.conf");
        for key in [
            "net.bridge.bridge-nf-call-iptables",
            "net.bridge.bridge-nf-call-ip6tables",
            "net.ipv4.ip_forward",
        ] {
            assert!(
                sysctl
                    .lines()
                    .any(|l| l.replace(' ', "") == format!("{key}=1")),
                "{h}: {sysctl}"
            );
        }
        assert_eq!(lab.sh_ok(h, "sysctl -n net.ipv4.ip_forward").trim(), "1");
        // The static address is pinned in ifupdown and passes its own validation.
        let addr = lab.address(h);
        let pinned = lab.sh_ok(
            h,
            "cat /etc/network/interfaces /etc/network/interfaces.d/* 2>/dev/null",
        );
        assert!(pinned.contains(&addr), "{h}: {addr} not pinned:\n{pinned}");
        lab.sh_ok(h, "ifup --no-act eth0");
        assert_eq!(lab.sh_ok(h, "hostname").trim(), h);
        assert_eq!(lab.sh_ok(h, "cat /etc/hostname").trim(), h);
        let hosts_file = lab.sh_ok(h, "cat /etc/hosts");
        for other in HOSTS {
            assert!(
                hosts_file
                    .lines()
                    .any(|l| l.split_whitespace().collect::<Vec<_>>()
                        == [lab.address(other).as_str(), other]),
                "{h}: /etc/hosts lacks {other}:\n{hosts_file}"
            );
        }
        assert_eq!(
            lab.sh_ok(h, "systemctl is-active containerd").trim(),
            "active"
        );
        let config = lab.sh_ok(h, "cat /etc/containerd/config.toml");
        assert!(config.contains("SystemdCgroup = true"), "{h}: {config}");
        assert!(
            config.contains("sandbox_image = \"registry.k8s.io/pause:3.10\""),
            "{h}: {config}"
        );
        lab.sh_ok(h, "ctr version");
        for pkg in ["kubeadm", "kubelet", "kubectl"] {
            let v = lab.sh_ok(
                h,
                &format!("dpkg-query -W -f='${{Version}} ${{Status}}' {pkg}"),
            );
            assert_eq!(
                v,
                format!("{} hold ok installed", repo.k8s_package_version),
                "{h}: {pkg}"
            );
        }
        assert_eq!(
            lab.sh_ok(h, "systemctl is-enabled kubelet").trim(),
            "enabled"
        );
        assert!(lab
            .sh_ok(h, "ls /etc/apt/sources.list.d")
            .contains("kubestrap-mirror.sources"));
        assert!(
            lab.sh_ok(h, "ls /etc/apt")
                .contains("sources.list.kubestrap-disabled"),
            "the default sources were set aside, not lost"
        );
    }
}
