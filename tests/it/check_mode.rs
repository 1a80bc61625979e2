//! `--check` on fresh hosts: the whole plan, exit 0, and nothing written on any host or in the state directory.
//!
//! Hosts: node39 (control plane), node40 and node41 (workers) for `apply
//! --check --diff`; node44 for playbooks whose later tasks depend on what
//! earlier ones create (under --check and for real).

use crate::cluster::calico_settings;
use crate::inventories::lab_cluster;
use crate::lab::Lab;
use crate::support::{s, Home};

const CLUSTER: [(&str, &str); 3] = [
    ("node39", "control_plane"),
    ("node40", "worker"),
    ("node41", "worker"),
];

/// Every path under the trees a run may touch, with its type, mode, owner,
/// size, mtime and link target, hashed on the host: equal before and after
/// means nothing was written (systemd's own timer stamps left out).
const FINGERPRINT: &str =
    "find /etc /usr /var/lib /opt /srv /root -xdev -path /var/lib/systemd -prune \
    -o -printf '%y %p %m %u:%g %s %T@ %l\\n' 2>/dev/null | sort | sha256sum";

fn fingerprints(lab: &Lab, hosts: &[&str]) -> Vec<String> {
    hosts.iter().map(|h| lab.sh_ok(h, FINGERPRINT)).collect()
}

#[test]
fn apply_check_diff_on_fresh_hosts_prints_the_whole_plan_and_changes_nothing() {
    let lab = Lab::from_env();
    let home = Home::new();
    let hosts: Vec<&str> = CLUSTER.iter().map(|(h, _)| *h).collect();
    let inv = home.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        lab_cluster(&lab, &CLUSTER, "10.233.64.0/18", &calico_settings()),
    )
    .unwrap();
    let state = home.path().join(".kubestrap");
    let before = fingerprints(&lab, &hosts);
    let kh = lab.known_hosts();

    let r = home.kubestrap(&[
        "apply",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--check",
        "--diff",
    ]);

    assert_eq!(r.code, 0, "{}", r.all());
    // The whole plan: every stage's plays, the cluster plan, and what
    // only a real run could make is predicted, not failed.
    for play in [
        "PLAY [prepare hosts for kubeadm]",
        "PLAY [container runtime]",
        "PLAY [kubeadm, kubelet and kubectl]",
        "PLAY [first control plane]",
        "PLAY [join the other nodes]",
        "PLAY [Calico]",
    ] {
        assert!(r.stdout.contains(play), "{play} missing:\n{}", r.stdout);
    }
    assert!(r.stdout.contains("init: node39"), "{}", r.stdout);
    assert!(r.stdout.contains("join: node40, node41"), "{}", r.stdout);
    assert!(
        r.stdout.contains("+++ after: /etc/containerd/config.toml"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("/etc/kubernetes/pki: absent → directory\nchanged: [node39]"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("FAILED"), "{}", r.stdout);
    for h in &hosts {
        let line = r
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{h} ")) && l.contains(" : ok="))
            .unwrap_or_else(|| panic!("no recap for {h}:\n{}", r.stdout));
        assert!(line.contains("failed=0"), "{line}");
    }
    // Nothing written: not on any host, not in the state directory.
    assert_eq!(fingerprints(&lab, &hosts), before, "--check changed a host");
    assert!(
        !state.exists(),
        "--check created the state directory {}",
        state.display()
    );
}

/// The reproduction, and what --check says about tasks that need
/// something only an earlier change would make.
#[test]
fn later_tasks_see_what_earlier_ones_create() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_dir, inv) = lab.write_inventory(&["node44"], "root");
    let kh = lab.known_hosts();
    lab.sh_ok("node44", "rm -rf /srv/demo /tmp/ks-pkg");
    let book = home.path().join("site.yaml");
    std::fs::write(
        &book,
        "- hosts: all\n  tasks:\n\
         \x20   - file: path=/srv/demo/pki state=directory\n\
         \x20   - copy: dest=/srv/demo/b content=b\n\
         \x20   - name: something only a real run makes\n      command: mkdir -p /tmp/ks-pkg/etc\n      args:\n        creates: /tmp/ks-pkg/etc\n\
         \x20   - name: a file in it\n      copy:\n        dest: /tmp/ks-pkg/etc/a.conf\n        content: \"a=1\\n\"\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut a = vec!["run", s(&book), "-i", s(&inv), "--known-hosts", s(&kh)];
        a.extend_from_slice(extra);
        home.kubestrap(&a)
    };

    // --check: the copy into the directory the command would make says
    // what it would do instead of failing; nothing is written.
    let before = lab.sh_ok("node44", FINGERPRINT);
    let check = run(&["--check", "--diff"]);
    assert_eq!(check.code, 0, "{}", check.all());
    assert!(
        check
            .stdout
            .contains("would run once \"something only a real run makes\" has changed the host"),
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains("+a=1"), "{}", check.stdout);
    assert_eq!(lab.sh_ok("node44", FINGERPRINT), before);

    // For real: /srv/demo was absent when facts were gathered, and the
    // directory task made it.
    let real = run(&[]);
    assert_eq!(real.code, 0, "{}", real.all());
    assert_eq!(lab.sh_ok("node44", "cat /srv/demo/b"), "b");
    assert_eq!(lab.sh_ok("node44", "cat /tmp/ks-pkg/etc/a.conf"), "a=1\n");
}
