//! static_ip on real lab hosts: pin, converge, validate with the stack's tool, roll back a cut-off.
//!
//! node10 is pinned with ifupdown, node11 with systemd-networkd (enabled
//! first), node12 gets an address that cuts it off and must roll back.

use std::path::{Path, PathBuf};

use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home, Run};

/// The fixture playbook in a temp dir beside a `templates` link to the
/// repository's templates, as a playbook directory of an operator looks.
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

fn run(lab: &Lab, home: &Home, host: &str, vars: &[&str]) -> Run {
    let (_d, inv) = lab.write_inventory(&[host], "root");
    let (_b, book) = playbook_dir();
    let kh = lab.known_hosts();
    let mut args = vec!["run", s(&book), "-i", s(&inv), "--known-hosts", s(&kh)];
    for v in vars {
        args.push("-e");
        args.push(v);
    }
    home.kubestrap(&args)
}

/// The host answers over SSH (a fresh kubestrap exec) at its inventory address.
/// Whether `host` answers `kubestrap exec` within a bounded window (up to
/// 10 tries, 3 s apart): a host that just restored its network may need a
/// moment on a busy machine.
fn reachable(lab: &Lab, home: &Home, host: &str) -> bool {
    let (_d, inv) = lab.write_inventory(&[host], "root");
    let kh = lab.known_hosts();
    (0..10).any(|i| {
        if i > 0 {
            std::thread::sleep(std::time::Duration::from_secs(3));
        }
        let r = home.kubestrap(&[
            "exec",
            "-i",
            s(&inv),
            "--known-hosts",
            s(&kh),
            "--connect-timeout",
            "5",
            "--",
            "true",
        ]);
        r.code == 0
    })
}

/// No rollback left armed, none ran.
fn settled(lab: &Lab, host: &str) {
    let out = lab.sh_ok(
        host,
        "systemctl is-active kubestrap-net-rollback.timer || true; \
         for f in /var/lib/kubestrap/net-rolled-back /var/lib/kubestrap/net-rollback.sh; do \
         [ -e $f ] && echo present $f; done; cat /run/kubestrap/net-confirmed && echo confirmed",
    );
    assert!(!out.lines().any(|l| l == "active"), "{out}");
    assert!(!out.contains("present"), "{out}");
    assert!(out.contains("confirmed"), "{out}");
}

#[test]
fn ifupdown_pins_the_current_address_and_converges() {
    let lab = Lab::from_env();
    let home = Home::new();
    let host = "node10";
    let addr = lab.address(host);
    // A lab used before: start without kubestrap's file.
    lab.sh_ok(host, "rm -f /etc/network/interfaces.d/60-kubestrap");
    let first = run(&lab, &home, host, &["static_ip_stack=ifupdown"]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(changed(&first.stdout, host), 1);
    settled(&lab, host);
    let conf = lab.sh_ok(host, "cat /etc/network/interfaces.d/60-kubestrap");
    assert!(
        conf.contains(&format!("iface eth0 inet static\n    address {addr}/24\n")),
        "{conf}"
    );
    // ifupdown's own check of the final configuration, and the live state.
    let check = lab.sh_ok(host, "ifup --no-act --force eth0 2>&1");
    assert!(
        check.contains(&format!("ip addr add {addr}/255.255.255.0")),
        "{check}"
    );
    let live = lab.sh_ok(
        host,
        "ip -4 -o addr show dev eth0; ip route show default; cat /run/network/ifstate.eth0",
    );
    assert!(live.contains(&format!(" {addr}/24 ")), "{live}");
    assert!(live.contains("default via "), "{live}");
    assert!(live.contains("eth0"), "ifupdown owns eth0 now: {live}");

    let second = run(&lab, &home, host, &["static_ip_stack=ifupdown"]);
    assert_eq!(second.code, 0, "{}", second.all());
    assert_eq!(changed(&second.stdout, host), 0, "{}", second.stdout);
    assert!(reachable(&lab, &home, host));
}

#[test]
fn networkd_pins_the_current_address_and_converges() {
    let lab = Lab::from_env();
    let home = Home::new();
    let host = "node11";
    let addr = lab.address(host);
    // The lab has no udevd: networkd waits for udev to initialize a link
    // unless /sys is read-only, as in a container. Give it that view.
    lab.sh_ok(
        host,
        "rm -f /etc/systemd/network/10-kubestrap.network; \
         mkdir -p /etc/systemd/system/systemd-networkd.service.d; \
         printf '[Service]\\nReadOnlyPaths=/sys\\n' > /etc/systemd/system/systemd-networkd.service.d/lab-no-udev.conf; \
         systemctl daemon-reload; systemctl enable systemd-networkd >/dev/null 2>&1; \
         systemctl restart systemd-networkd; systemctl is-active systemd-networkd",
    );
    // stack: auto finds the active networkd (no netplan, no NetworkManager).
    let first = run(&lab, &home, host, &[]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(changed(&first.stdout, host), 1);
    settled(&lab, host);
    let conf = lab.sh_ok(host, "cat /etc/systemd/network/10-kubestrap.network");
    assert!(
        conf.contains(&format!(
            "[Match]\nName=eth0\n\n[Network]\nAddress={addr}/24\n"
        )),
        "{conf}"
    );
    // networkd's own view: it parsed the file and manages eth0 with it.
    let status = lab.sh_ok(
        host,
        "networkctl status eth0 --no-pager 2>&1; ip -4 -o addr show dev eth0",
    );
    assert!(
        status.contains("Network File: /etc/systemd/network/10-kubestrap.network"),
        "{status}"
    );
    assert!(status.contains(&format!(" {addr}/24 ")), "{status}");

    let second = run(&lab, &home, host, &[]);
    assert_eq!(second.code, 0, "{}", second.all());
    assert_eq!(changed(&second.stdout, host), 0, "{}", second.stdout);
    assert!(reachable(&lab, &home, host));
}

#[test]
fn an_address_that_cuts_the_host_off_is_rolled_back() {
    let lab = Lab::from_env();
    let home = Home::new();
    let host = "node12";
    let addr = lab.address(host);
    let net = addr.rsplit_once('.').unwrap().0;
    let before = lab.sh_ok(
        host,
        "sha256sum /etc/network/interfaces; ls /etc/network/interfaces.d/",
    );
    let bad = format!("static_ip_address={net}.211/24");
    let run1 = run(
        &lab,
        &home,
        host,
        &[
            "static_ip_stack=ifupdown",
            &bad,
            "static_ip_rollback_timeout=20",
        ],
    );
    assert_ne!(run1.code, 0, "{}", run1.all());
    let all = run1.all();
    assert!(
        all.contains(&format!("{host}: network change rolled back")),
        "{all}"
    );
    assert!(all.contains(&format!("{net}.211/24")), "{all}");
    // Back at its old address with its old configuration, nothing pending.
    assert!(
        reachable(&lab, &home, host),
        "not reachable after the rollback"
    );
    let live = lab.sh_ok(host, "ip -4 -o addr show dev eth0; ip route show default");
    assert!(live.contains(&format!(" {addr}/24 ")), "{live}");
    assert!(!live.contains(".211/"), "{live}");
    assert!(
        live.contains(&format!("default via {net}.1 dev eth0")),
        "{live}"
    );
    assert_eq!(
        lab.sh_ok(
            host,
            "sha256sum /etc/network/interfaces; ls /etc/network/interfaces.d/"
        ),
        before
    );
    let marker = lab.sh_ok(host, "cat /var/lib/kubestrap/net-rolled-back; systemctl is-active kubestrap-net-rollback.timer || true");
    assert!(marker.contains("rolled back at"), "{marker}");
    assert!(!marker.lines().any(|l| l == "active"), "{marker}");
}
