//! `kubestrap backup` and `restore` on a one-node cluster (node85): README's "Backups" word for word — a backup, objects made after it, a restore that brings the cluster back without them — and the refusals: a truncated snapshot (before anything stops), no --yes; then on three control planes (node86-node88).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cluster::calico_settings;
use crate::faults::exists;
use crate::inventories::lab_cluster;
use crate::lab::Lab;
use crate::support::{s, Home, Run};

const CP: &str = "node85";
/// README's quick-start lab directory, replaced by this test's.
const README_LAB: &str = "/tmp/kubestrap-lab";
const KUBECTL: &str = "kubectl --kubeconfig /etc/kubernetes/admin.conf";

/// README's "Backups" shell blocks, each a list of lines.
fn readme_blocks() -> Vec<Vec<String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("\n## Backups")
        .nth(1)
        .expect("README has a section \"Backups\"");
    let section = section.split("\n## ").next().unwrap();
    let mut blocks = Vec::new();
    let mut block: Option<Vec<String>> = None;
    for line in section.lines() {
        match (line.trim(), block.as_mut()) {
            ("```sh", _) => block = Some(Vec::new()),
            ("```", Some(_)) => blocks.extend(block.take()),
            (l, Some(b)) if !l.is_empty() => b.push(l.to_string()),
            _ => {}
        }
    }
    blocks
}

/// Run README lines with `sh -e` as a sysadmin would type them: this
/// test's lab directory for the quick start's, the kubestrap under test
/// first on PATH, this $HOME.
fn run_block(home: &Home, dir: &Path, lines: &[String]) -> Run {
    let script = lines.join("\n").replace(README_LAB, s(dir));
    let bin = Path::new(env!("CARGO_BIN_EXE_kubestrap")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("timeout")
        .args(["600", "sh", "-ec", &script])
        .current_dir(home.path())
        .env("HOME", home.path())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    eprintln!(
        "$ {script}\n[exit {}]\n{}\n{}",
        run.code, run.stdout, run.stderr
    );
    run
}

fn kubestrap(home: &Home, dir: &Path, args: &[&str]) -> Run {
    let inv = dir.join("inventory.yaml");
    let kh = dir.join("known_hosts");
    let mut all = args.to_vec();
    all.extend_from_slice(&["-i", s(&inv), "--known-hosts", s(&kh)]);
    home.kubestrap_within(&all, Duration::from_secs(600))
}

/// A ConfigMap made through the API server.
fn make_configmap(lab: &Lab, name: &str) {
    make_configmap_on(lab, CP, name)
}

fn make_configmap_on(lab: &Lab, host: &str, name: &str) {
    lab.sh_ok(
        host,
        &format!(
            "printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: {name}\\n  namespace: default\\ndata:\\n  made: \"yes\"\\n' | {KUBECTL} apply -f -"
        ),
    );
}

fn has_configmap(lab: &Lab, name: &str) -> bool {
    has_configmap_on(lab, CP, name)
}

fn has_configmap_on(lab: &Lab, host: &str, name: &str) -> bool {
    lab.sh(host, &format!("{KUBECTL} -n default get configmap {name}"))
        .status
        .success()
}

/// The backups in `dir`, oldest first.
fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && p.file_name().unwrap().to_string_lossy().starts_with("lab-"))
        .collect();
    out.sort();
    out
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// What is in etcd's data directory on the control plane.
fn data_dir(lab: &Lab) -> String {
    lab.sh_ok(CP, "ls -A /var/lib/etcd")
}

#[test]
fn backup_then_restore_brings_the_cluster_back() {
    let lab = Lab::from_env();
    let home = Home::new();
    // Laid out as the quick start's lab directory, so README's lines run.
    let dir = home.path().join("lab");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(
        dir.join("inventory.yaml"),
        lab_cluster(
            &lab,
            &[(CP, "control_plane")],
            "10.244.0.0/16",
            &calico_settings(),
        ),
    )
    .unwrap();
    std::fs::copy(lab.known_hosts(), dir.join("known_hosts")).unwrap();
    let backups_dir = dir.join(".kubestrap/lab/backups");
    let blocks = readme_blocks();
    let [back_up, restore] = &blocks[..] else {
        panic!("README's Backups: two sh blocks: {blocks:?}");
    };

    let built = kubestrap(&home, &dir, &["apply"]);
    assert_eq!(built.code, 0, "{}", built.all());
    make_configmap(&lab, "before-backup");

    // README's backup, word for word.
    let backed = run_block(&home, &dir, back_up);
    assert_eq!(backed.code, 0, "{}", backed.all());
    assert!(
        backed.stdout.contains("etcd-snapshot.db: OK"),
        "{}",
        backed.all()
    );
    assert!(backed.stdout.contains("ca.key: OK"), "{}", backed.all());
    let made = backups(&backups_dir);
    let [first] = &made[..] else {
        panic!("one backup: {made:?}");
    };
    assert!(
        backed
            .stdout
            .contains(&format!("backup: {}", first.display())),
        "{}",
        backed.stdout
    );
    assert_eq!(mode(&backups_dir), 0o700);
    assert_eq!(mode(first), 0o700);
    for f in [
        "etcd-snapshot.db",
        "ca.crt",
        "ca.key",
        "kubeadm-config.yaml",
        "SHA256SUMS",
    ] {
        assert_eq!(mode(&first.join(f)), 0o600, "{f}");
    }
    let ca_key = lab.sh_ok(CP, "cat /etc/kubernetes/pki/ca.key");
    assert_eq!(
        std::fs::read_to_string(first.join("ca.key")).unwrap(),
        ca_key
    );
    assert!(
        !backed.all().contains(ca_key.trim().lines().nth(1).unwrap()),
        "the CA key was printed"
    );
    let config = std::fs::read_to_string(first.join("kubeadm-config.yaml")).unwrap();
    assert!(config.contains("ClusterConfiguration"), "{config}");
    // The snapshot on the host went with the copy.
    let data = data_dir(&lab);
    assert!(data.lines().any(|l| l == "member"), "{data}");
    assert!(!data.contains("kubestrap-"), "{data}");

    make_configmap(&lab, "after-backup");

    // A snapshot cut short is refused by its checksum before anything
    // stops: the manifests stay, the API server keeps answering.
    let cut = home.path().join("cut");
    std::fs::create_dir(&cut).unwrap();
    for f in ["etcd-snapshot.db", "SHA256SUMS"] {
        std::fs::copy(first.join(f), cut.join(f)).unwrap();
    }
    let whole = std::fs::metadata(cut.join("etcd-snapshot.db"))
        .unwrap()
        .len();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(cut.join("etcd-snapshot.db"))
        .unwrap();
    file.set_len(whole - 4096).unwrap();
    let refused = kubestrap(&home, &dir, &["restore", s(&cut), "--yes"]);
    assert_eq!(refused.code, 2, "{}", refused.all());
    assert!(refused.stderr.contains("SHA-256"), "{}", refused.all());
    assert!(
        refused.stderr.contains("nothing was changed"),
        "{}",
        refused.all()
    );
    assert!(exists(&lab, CP, "/etc/kubernetes/manifests/etcd.yaml"));
    assert!(has_configmap(&lab, "after-backup"));
    // Without --yes: refused, nothing changed.
    let no_yes = kubestrap(&home, &dir, &["restore", s(first)]);
    assert_eq!(no_yes.code, 2, "{}", no_yes.all());
    assert!(no_yes.stderr.contains("--yes"), "{}", no_yes.all());
    assert!(has_configmap(&lab, "after-backup"));

    // README's restore, word for word: the cluster answers, what was made
    // after the backup is gone, what was before it is there.
    let restored = run_block(&home, &dir, restore);
    assert_eq!(restored.code, 0, "{}", restored.all());
    assert!(restored.stdout.contains("RESTORE"), "{}", restored.stdout);
    // The API server answers with the snapshot's Node: its Ready condition
    // is the snapshot's until the kubelet posts again, so not checked here.
    assert!(
        restored
            .stdout
            .lines()
            .any(|l| l.starts_with(&format!("{CP} ")) && l.contains("control-plane")),
        "{}",
        restored.stdout
    );
    assert!(has_configmap(&lab, "before-backup"));
    assert!(!has_configmap(&lab, "after-backup"));
    assert!(exists(
        &lab,
        CP,
        "/etc/kubernetes/manifests/kube-apiserver.yaml"
    ));
    assert!(!exists(
        &lab,
        CP,
        "/etc/kubernetes/manifests.kubestrap-restart"
    ));
    // The old data kept aside, no restore directory left.
    let left = data_dir(&lab);
    assert!(left.lines().any(|l| l == "member"), "{left}");
    assert!(!left.contains("kubestrap-"), "{left}");
    let aside = restored
        .stdout
        .split("the old data is in ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no old data named:\n{}", restored.stdout));
    assert!(exists(&lab, CP, &format!("{aside}/snap/db")), "{aside}");

    // --keep: a second backup with --keep 1 leaves only itself; a file of
    // the operator's in the directory stays.
    std::fs::write(backups_dir.join("notes.txt"), "mine").unwrap();
    let second = kubestrap(&home, &dir, &["backup", "--keep", "1"]);
    assert_eq!(second.code, 0, "{}", second.all());
    let now = backups(&backups_dir);
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(&now[0], first);
    assert!(
        second
            .stdout
            .contains(&format!("removed (beyond --keep 1): {}", first.display())),
        "{}",
        second.stdout
    );
    assert!(backups_dir.join("notes.txt").exists());
}

/// Three control planes (node86-node88) behind a virtual IP: one backup,
/// a restore on every member at once, the cluster back to the snapshot.
#[test]
fn restore_of_three_control_planes_brings_back_every_member() {
    let lab = Lab::from_env();
    let home = Home::new();
    let dir = home.path().join("lab");
    std::fs::create_dir(&dir).unwrap();
    let hosts = [
        ("node86", "control_plane"),
        ("node87", "control_plane"),
        ("node88", "control_plane"),
    ];
    let vip = format!("{}.243", lab.address("node86").rsplit_once('.').unwrap().0);
    let extra = format!(
        "{}  control_plane_endpoint: {vip}:6443\n",
        calico_settings()
    );
    std::fs::write(
        dir.join("inventory.yaml"),
        lab_cluster(&lab, &hosts, "10.244.0.0/16", &extra),
    )
    .unwrap();
    std::fs::copy(lab.known_hosts(), dir.join("known_hosts")).unwrap();
    let built = kubestrap(&home, &dir, &["apply"]);
    assert_eq!(built.code, 0, "{}", built.all());
    let first = hosts[0].0;
    make_configmap_on(&lab, first, "before-backup");

    let out = home.path().join("backups");
    let backed = kubestrap(&home, &dir, &["backup", "-o", s(&out)]);
    assert_eq!(backed.code, 0, "{}", backed.all());
    let made = backups(&out);
    assert_eq!(made.len(), 1, "{made:?}");
    make_configmap_on(&lab, first, "after-backup");

    let restored = kubestrap(&home, &dir, &["restore", s(&made[0]), "--yes"]);
    assert_eq!(restored.code, 0, "{}", restored.all());
    for (h, _) in hosts {
        assert!(
            restored
                .stdout
                .contains(&format!("{h}: the API server answered after")),
            "{}",
            restored.stdout
        );
        let nodes = lab.sh_ok(h, &format!("{KUBECTL} get nodes"));
        assert!(nodes.contains("node88"), "{h}: {nodes}");
        let data = lab.sh_ok(h, "ls -A /var/lib/etcd");
        assert!(data.lines().any(|l| l == "member"), "{h}: {data}");
        assert!(!data.contains("kubestrap-"), "{h}: {data}");
    }
    let initial: Vec<String> = hosts
        .iter()
        .map(|(h, _)| format!("{h}=https://{}:2380", lab.address(h)))
        .collect();
    assert!(
        restored
            .stdout
            .contains(&format!("--initial-cluster {}", initial.join(","))),
        "{}",
        restored.stdout
    );
    // The stand-in keeps the cluster's data on the first member only (its
    // replicas relay to it), so only there was old data to move aside.
    let aside = format!("{first}: /var/lib/etcd/member restored; the old data is in ");
    assert!(restored.stdout.contains(&aside), "{}", restored.stdout);
    assert!(has_configmap_on(&lab, first, "before-backup"));
    assert!(!has_configmap_on(&lab, first, "after-backup"));
}
