//! `kubestrap reset` on a three-node cluster (node82 control plane, node83 and node84 workers): README's "Starting over" word for word, refusals, and a host that cannot be reset.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cluster::calico_settings;
use crate::faults::exists;
use crate::inventories::lab_cluster;
use crate::lab::Lab;
use crate::support::{finish_within, s, Home, Run};

const HOSTS: [(&str, &str); 3] = [
    ("node82", "control_plane"),
    ("node83", "worker"),
    ("node84", "worker"),
];
const CP: &str = "node82";
/// README's quick-start lab directory, replaced by this test's.
const README_LAB: &str = "/tmp/kubestrap-lab";
/// A chain as kube-proxy names its own, and a rule of the host's own.
const KUBE_CHAIN: &str = "KUBE-RESET-TEST";
const OWN_RULE: &str = "-A INPUT -p tcp -m tcp --dport 9999 -j ACCEPT";

/// README's "Starting over" commands, in order.
fn readme_commands() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("\n## Starting over")
        .nth(1)
        .expect("README has a section \"Starting over\"");
    let section = section.split("\n## ").next().unwrap();
    let mut out = Vec::new();
    let mut in_sh = false;
    for line in section.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            l if in_sh && !l.is_empty() && !l.starts_with('#') => out.push(l.to_string()),
            _ => {}
        }
    }
    out
}

/// Run one README line with this test's lab directory; `typed` goes to a
/// terminal (util-linux `script` gives kubestrap one) when given.
fn run_line(home: &Home, dir: &Path, line: &str, typed: Option<&str>) -> Run {
    let line = line.replace(README_LAB, s(dir));
    let args: Vec<&str> = line
        .strip_prefix("kubestrap ")
        .unwrap_or_else(|| panic!("not a kubestrap command: {line}"))
        .split_whitespace()
        .collect();
    match typed {
        None => home.kubestrap_within(&args, Duration::from_secs(600)),
        Some(typed) => on_terminal(home, &args, typed),
    }
}

/// kubestrap on a pseudo-terminal (`script`), `typed` on its keyboard.
fn on_terminal(home: &Home, args: &[&str], typed: &str) -> Run {
    let status = Command::new("sh")
        .args(["-c", "command -v script"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "util-linux `script` is needed (bsdutils)");
    let command = std::iter::once(env!("CARGO_BIN_EXE_kubestrap"))
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", command.as_str(), "/dev/null"])
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(typed.as_bytes()).unwrap();
    let run = finish_within(
        child,
        Duration::from_secs(600),
        &format!("kubestrap {args:?}"),
    );
    drop(stdin);
    eprintln!(
        "$ kubestrap {} (on a terminal)\n[exit {}]\n{}\n{}",
        args.join(" "),
        run.code,
        run.stdout,
        run.stderr
    );
    run
}

/// What `kubestrap ca-hash` says of the state directory's CA.
fn ca_hash(home: &Home, state: &Path) -> String {
    let run = home.kubestrap(&["ca-hash", s(&state.join("ca.crt"))]);
    assert_eq!(run.code, 0, "{}", run.all());
    run.stdout.trim().to_string()
}

/// The `reset-*` backups in the state directory.
fn backups(state: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(state)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("reset-")
        })
        .collect();
    out.sort();
    out
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Leftovers a cluster leaves that kubeadm reset does not clean.
fn leave_leftovers(lab: &Lab) {
    for (host, _) in HOSTS {
        lab.sh_ok(
            host,
            &format!(
                "mkdir -p /etc/cni/net.d && echo '{{}}' > /etc/cni/net.d/10-calico.conflist && \
                 iptables -N {KUBE_CHAIN} && iptables -A INPUT -j {KUBE_CHAIN} && \
                 iptables {OWN_RULE}"
            ),
        );
    }
    lab.sh_ok(
        CP,
        "mkdir -p /root/.kube && cp /etc/kubernetes/admin.conf /root/.kube/config",
    );
}

/// Every trace of the cluster gone from `host`, the preparation kept.
fn assert_torn_down_and_prepared(lab: &Lab, host: &str) {
    for gone in [
        "/etc/kubernetes/kubelet.conf",
        "/etc/kubernetes/admin.conf",
        "/etc/kubernetes/pki/ca.crt",
        "/etc/kubernetes/manifests/kube-apiserver.yaml",
        "/etc/cni/net.d",
        "/root/.kube/config",
        "/etc/kubernetes/kubestrap",
    ] {
        assert!(!exists(lab, host, gone), "{host}: {gone} is left");
    }
    let rules = lab.sh_ok(host, "iptables -S");
    assert!(!rules.contains(KUBE_CHAIN), "{host}: {rules}");
    assert!(rules.contains(OWN_RULE), "{host}: own rule lost: {rules}");
    let held = lab.sh_ok(
        host,
        "dpkg-query -W -f='${Package} ${Status}\\n' kubeadm kubelet kubectl",
    );
    assert_eq!(
        held.matches("hold ok installed").count(),
        3,
        "{host}: {held}"
    );
    let containerd = lab.sh(host, "systemctl is-active containerd");
    assert!(containerd.status.success(), "{host}: containerd stopped");
}

/// Every host of the inventory a Ready node of the cluster, as node82 sees it.
fn assert_all_ready(lab: &Lab) {
    let nodes = lab.sh_ok(
        CP,
        "kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes",
    );
    for (host, _) in HOSTS {
        assert!(
            nodes
                .lines()
                .any(|l| l.split_whitespace().take(2).eq([host, "Ready"])),
            "{host} is no Ready node:\n{nodes}"
        );
    }
}

#[test]
fn reset_tears_the_cluster_down_and_apply_builds_a_new_one() {
    let lab = Lab::from_env();
    let home = Home::new();
    // Laid out as the quick start's lab directory, so README's lines run.
    let dir = home.path().join("lab");
    std::fs::create_dir(&dir).unwrap();
    let inv = dir.join("inventory.yaml");
    std::fs::write(
        &inv,
        lab_cluster(&lab, &HOSTS, "10.244.0.0/16", &calico_settings()),
    )
    .unwrap();
    std::fs::copy(lab.known_hosts(), dir.join("known_hosts")).unwrap();
    let state = dir.join(".kubestrap/lab");
    let commands = readme_commands();
    let [check, reset, apply, hash] = &commands[..] else {
        panic!("README's Starting over: {commands:?}");
    };
    assert!(check.ends_with("--check") && hash.starts_with("kubestrap ca-hash"));

    let built = run_line(&home, &dir, apply, None);
    assert_eq!(built.code, 0, "{}", built.all());
    let old_hash = ca_hash(&home, &state);
    assert!(
        built.stdout.contains(&format!("cluster CA: {old_hash}")),
        "{}",
        built.stdout
    );
    leave_leftovers(&lab);

    // No terminal, no --yes: refused at once, one line naming --yes.
    let refused = run_line(&home, &dir, reset, None);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("--yes"), "{}", refused.stderr);
    // The wrong name typed: refused, nothing changed.
    let wrong = run_line(&home, &dir, reset, Some("kubernetes\n"));
    assert_eq!(wrong.code, 2, "{}", wrong.all());
    assert!(
        wrong.stdout.contains("Type the cluster's name (lab)"),
        "{}",
        wrong.stdout
    );
    assert!(
        wrong.stdout.contains("nothing was reset"),
        "{}",
        wrong.stdout
    );

    // README, word for word: --check changes nothing ...
    let checked = run_line(&home, &dir, check, None);
    assert_eq!(checked.code, 0, "{}", checked.all());
    assert!(
        checked
            .stdout
            .contains("  1. workers, together: node83, node84"),
        "{}",
        checked.stdout
    );
    assert!(
        checked.stdout.contains("would move ca.crt, ca.key"),
        "{}",
        checked.stdout
    );
    for (host, _) in HOSTS {
        assert!(exists(&lab, host, "/etc/kubernetes/kubelet.conf"), "{host}");
    }
    assert!(state.join("ca.crt").exists() && backups(&state).is_empty());

    // ... the reset, the cluster's name typed ...
    let done = run_line(&home, &dir, reset, Some("lab\n"));
    assert_eq!(done.code, 0, "{}", done.all());
    let at = |line: &str| {
        done.stdout
            .find(line)
            .unwrap_or_else(|| panic!("no {line:?}:\n{}", done.stdout))
    };
    assert!(
        at("changed: [node83]") < at("changed: [node82]")
            && at("changed: [node84]") < at("changed: [node82]"),
        "workers first"
    );
    for (host, _) in HOSTS {
        assert_torn_down_and_prepared(&lab, host);
    }
    assert!(!state.join("ca.crt").exists());
    let made = backups(&state);
    let [backup] = &made[..] else {
        panic!("one backup: {made:?}");
    };
    assert_eq!(mode(backup), 0o700);
    for f in [
        "ca.crt",
        "ca.key",
        "token.json",
        "certificate-key.json",
        "kubeconfig",
    ] {
        assert_eq!(mode(&backup.join(f)), 0o600, "{f}");
    }
    assert_eq!(ca_hash(&home, backup), old_hash);

    // ... and apply builds a new cluster with a new CA on the same hosts.
    let rebuilt = run_line(&home, &dir, apply, None);
    assert_eq!(rebuilt.code, 0, "{}", rebuilt.all());
    assert!(
        rebuilt.stdout.contains("init: node82"),
        "{}",
        rebuilt.stdout
    );
    let shown = run_line(&home, &dir, hash, None);
    assert_eq!(shown.code, 0, "{}", shown.all());
    let new_hash = shown.stdout.trim();
    assert_ne!(new_hash, old_hash);
    assert!(rebuilt.stdout.contains(&format!("cluster CA: {new_hash}")));
    assert_all_ready(&lab);

    // A worker that cannot be reached: the others are reset, it is named,
    // exit 4, and the secrets stay until a reset reaches every host.
    lab.stop("node84");
    let known_hosts = dir.join("known_hosts");
    let args = [
        "reset",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&known_hosts),
        "--yes",
        "--connect-timeout",
        "3",
        "--retries",
        "0",
    ];
    let partial = home.kubestrap_within(&args, Duration::from_secs(300));
    lab.start("node84");
    assert_eq!(partial.code, 4, "{}", partial.all());
    assert!(
        partial.stdout.contains("not reset: node84 (unreachable)"),
        "{}",
        partial.stdout
    );
    assert!(state.join("ca.crt").exists(), "secrets moved too early");
    assert_eq!(backups(&state).len(), 1);
    assert!(!exists(&lab, "node83", "/etc/kubernetes/kubelet.conf"));
    assert!(!exists(&lab, CP, "/etc/kubernetes/admin.conf"));
    let finished = home.kubestrap_within(&args[..6], Duration::from_secs(300));
    assert_eq!(finished.code, 0, "{}", finished.all());
    assert!(!exists(&lab, "node84", "/etc/kubernetes/kubelet.conf"));
    assert!(!state.join("ca.crt").exists());
    assert_eq!(backups(&state).len(), 2);
}
