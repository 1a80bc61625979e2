//! The shell run on a control plane for a backup and a restore: what its etcd static Pod manifest says, the snapshot taken in the etcd container, the restore prepared beside the data directory, the swap.
//!
//! Everything about the member is read from kubeadm's etcd manifest
//! (`--name`, `--initial-advertise-peer-urls`, `--data-dir`,
//! `--trusted-ca-file`), never assumed. The etcd container mounts its data
//! directory at the same path as on the host (kubeadm's etcd-data volume),
//! so a snapshot that etcdctl writes there is a host file too: it goes
//! into a fresh `mktemp -d` directory (0700) inside the data directory,
//! which is root's alone, and is removed once copied. No secret is on any
//! of these command lines: files travel on stdout and stdin.

use crate::ssh::shell_quote as q;

use super::super::certs::restart::{HOLDING, MANIFESTS};

/// Finds kubeadm's etcd static Pod manifest (a restore in progress keeps
/// it in the holding directory while the Pods are stopped) and defines
/// `flag NAME`, the value of `--NAME=` in it, and `$data`.
fn preamble() -> String {
    format!(
        r#"m={MANIFESTS}/etcd.yaml
[ -f "$m" ] || m={HOLDING}/etcd.yaml
[ -f "$m" ] || {{ echo "no {MANIFESTS}/etcd.yaml: not a control plane with kubeadm's stacked etcd" >&2; exit 3; }}
flag() {{ sed -n "s/^[[:space:]]*-[[:space:]]*[\"']\{{0,1\}}--$1=//p" "$m" | head -n 1 | tr -d "\"' "; }}
data=$(flag data-dir); data=${{data:-/var/lib/etcd}}
"#
    )
}

/// The prefix of the temporary directories these scripts make in the
/// data directory (the clean-up removes only paths that carry it).
pub const BACKUP_TMP: &str = "kubestrap-backup.";
pub const RESTORE_TMP: &str = "kubestrap-restore.";

/// Takes a snapshot with etcdctl in the running etcd container (once
/// `endpoint health` answers, at most 5 tries 2 s apart), checks it with etcdutl when the host has it, and
/// prints `dir D`, `sha256 HEX`, `size N`, `etcdutl yes|no`.
pub fn snapshot_script() -> String {
    format!(
        r#"set -e
{preamble}ca=$(flag trusted-ca-file); ca=${{ca:-/etc/kubernetes/pki/etcd/ca.crt}}
cert=${{ca%/*}}/healthcheck-client.crt key=${{ca%/*}}/healthcheck-client.key
[ -f "$cert" ] || {{ cert=$(flag cert-file); key=$(flag key-file); }}
id=$(crictl ps --name '^etcd$' --state running -q 2>/dev/null | head -n 1)
[ -n "$id" ] || {{ echo "the etcd container is not running (crictl ps --name etcd)" >&2; exit 4; }}
etcdctl() {{ crictl exec "$id" etcdctl --endpoints=https://127.0.0.1:2379 --cacert="$ca" --cert="$cert" --key="$key" "$@"; }}
# a member that has just started may need a few seconds (bounded: 5 tries)
for try in 1 2 3 4; do etcdctl endpoint health >/dev/null 2>&1 && break; sleep 2; done
etcdctl endpoint health >/dev/null
dir=$(mktemp -d "$data/{BACKUP_TMP}XXXXXX")
trap '[ "$ok" = 1 ] || rm -rf "$dir"' EXIT
echo "dir $dir"
etcdctl snapshot save "$dir/snapshot.db" >/dev/null 2>"$dir/log" || {{ tail -n 3 "$dir/log" >&2; exit 1; }}
if command -v etcdutl >/dev/null 2>&1; then
  etcdutl snapshot status "$dir/snapshot.db" >/dev/null; echo "etcdutl yes"
else
  echo "etcdutl no"
fi
echo "sha256 $(sha256sum "$dir/snapshot.db" | cut -d ' ' -f 1)"
echo "size $(stat -c %s "$dir/snapshot.db")"
ok=1
"#,
        preamble = preamble()
    )
}

/// What [`snapshot_script`] printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taken {
    pub dir: String,
    pub sha256: String,
    pub size: u64,
    pub etcdutl: bool,
}

/// The `key value` lines a script printed.
fn field<'a>(out: &'a str, key: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .map(str::trim)
}

/// The snapshot script's report; the temporary directory alone when it
/// failed after making it (for the clean-up).
pub fn taken(out: &str) -> Result<Taken, String> {
    let dir = field(out, "dir").unwrap_or_default().to_string();
    let sha256 = field(out, "sha256").unwrap_or_default().to_string();
    let size = field(out, "size").and_then(|s| s.parse().ok());
    match size {
        Some(size) if sha256.len() == 64 && is_tmp(&dir, BACKUP_TMP) => Ok(Taken {
            dir,
            sha256,
            size,
            etcdutl: field(out, "etcdutl") == Some("yes"),
        }),
        _ => Err(format!("unexpected output of the snapshot script: {out:?}")),
    }
}

/// `dir` is a temporary directory these scripts make.
pub fn is_tmp(dir: &str, prefix: &str) -> bool {
    dir.starts_with('/')
        && !dir.contains("/../")
        && dir
            .rsplit('/')
            .next()
            .is_some_and(|base| base.starts_with(prefix) && base.len() > prefix.len())
}

/// Removes a temporary directory made by these scripts.
pub fn remove_tmp(dir: &str) -> String {
    format!("rm -rf -- {}", q(dir))
}

/// What a control plane's etcd manifest says about its member, and
/// whether the host has etcdutl: `name N`, `peer URL`, `data D`,
/// `token T` (empty: etcd's default), `etcdutl PATH` (absent: none).
pub fn member_script() -> String {
    format!(
        r#"set -e
{preamble}echo "name $(flag name)"
echo "peer $(flag initial-advertise-peer-urls)"
echo "data $data"
echo "token $(flag initial-cluster-token)"
if command -v etcdutl >/dev/null 2>&1; then echo "etcdutl $(command -v etcdutl)"; fi
"#,
        preamble = preamble()
    )
}

/// One control plane's etcd member, as its manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub host: String,
    pub name: String,
    pub peer: String,
    pub data_dir: String,
    /// etcd's default when the manifest sets none (kubeadm sets none).
    pub token: String,
    pub etcdutl: bool,
}

/// etcd's default `--initial-cluster-token`.
const DEFAULT_TOKEN: &str = "etcd-cluster";

pub fn member(host: &str, out: &str) -> Result<Member, String> {
    let get = |k| field(out, k).unwrap_or_default().to_string();
    let m = Member {
        host: host.to_string(),
        name: get("name"),
        peer: get("peer"),
        data_dir: get("data"),
        token: Some(get("token"))
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| DEFAULT_TOKEN.into()),
        etcdutl: field(out, "etcdutl").is_some(),
    };
    if m.name.is_empty() || m.peer.is_empty() || !m.data_dir.starts_with('/') {
        return Err(format!(
            "the etcd manifest names no --name, --initial-advertise-peer-urls or absolute --data-dir (read: {out:?})"
        ));
    }
    Ok(m)
}

/// `--initial-cluster` of the restored cluster: every member, `name=peer`.
pub fn initial_cluster(members: &[Member]) -> String {
    members
        .iter()
        .map(|m| format!("{}={}", m.name, m.peer))
        .collect::<Vec<_>>()
        .join(",")
}

/// Receives the snapshot on stdin into a fresh temporary directory in the
/// data directory, checks its SHA-256 there, and restores it with etcdutl
/// into `<tmp>/data` for `m` as a member of `cluster`; prints `dir D`.
/// Nothing the running etcd uses is touched.
pub fn prepare_script(m: &Member, cluster: &str, sha256: &str) -> String {
    format!(
        r#"set -e
umask 077
data={data}
mkdir -p -m 0700 "$data"
dir=$(mktemp -d "$data/{RESTORE_TMP}XXXXXX")
trap '[ "$ok" = 1 ] || rm -rf "$dir"' EXIT
echo "dir $dir"
cat > "$dir/snapshot.db"
sum=$(sha256sum "$dir/snapshot.db" | cut -d ' ' -f 1)
[ "$sum" = {sha} ] || {{ echo "the snapshot copied here has SHA-256 $sum, not {sha256}" >&2; exit 1; }}
etcdutl snapshot restore "$dir/snapshot.db" --data-dir "$dir/data" --name {name} --initial-cluster {cluster} --initial-cluster-token {token} --initial-advertise-peer-urls {peer} 2>"$dir/log" || {{ tail -n 3 "$dir/log" >&2; exit 1; }}
[ -d "$dir/data/member" ] || {{ echo "etcdutl left no $dir/data/member" >&2; exit 1; }}
rm -f "$dir/snapshot.db"
ok=1
"#,
        data = q(&m.data_dir),
        sha = q(sha256),
        name = q(&m.name),
        cluster = q(cluster),
        token = q(&m.token),
        peer = q(&m.peer),
    )
}

/// Puts the restored member directory in place while etcd is stopped: the
/// old `member` moves aside to `member.before-restore-<time>` in the same
/// data directory (a rename, never a copy: the data directory may be a
/// mount point of its own), the restored one moves in. Prints `aside PATH`
/// when there was an old one.
pub fn swap_script(m: &Member, tmp: &str, time: &str) -> String {
    format!(
        r#"set -e
data={data}
new={tmp}/data/member
[ -d "$new" ] || {{ echo "no restored data in $new" >&2; exit 1; }}
if [ -e "$data/member" ]; then mv "$data/member" "$data/member.before-restore-{time}"; echo "aside $data/member.before-restore-{time}"; fi
mv "$new" "$data/member"
rm -rf {tmp}
"#,
        data = q(&m.data_dir),
        tmp = q(tmp),
    )
}

/// The temporary directory a script reported (`dir D`), if any.
pub fn tmp_dir(out: &str, prefix: &str) -> Option<String> {
    field(out, "dir")
        .filter(|d| is_tmp(d, prefix))
        .map(str::to_string)
}

/// Lists the control-plane containers still running (empty when the
/// kubelet has stopped them all).
pub fn still_running_script() -> String {
    "crictl ps --state running --name '^(etcd|kube-apiserver|kube-controller-manager|kube-scheduler)$' -q".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, root: &std::path::Path, stdin: &[u8]) -> std::process::Output {
        use std::io::Write;
        let local = script.replace("/etc/kubernetes", &format!("{}/etc", root.display()));
        let mut child = std::process::Command::new("sh")
            .arg("-c")
            .arg(local)
            .env("PATH", format!("{}/bin:/usr/bin:/bin", root.display()))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    const MANIFEST: &str = "spec:\n  containers:\n  - command:\n    - etcd\n    - --advertise-client-urls=https://10.0.0.5:2379\n    - --data-dir=DATA\n    - \"--initial-advertise-peer-urls=https://10.0.0.5:2380\"\n    - --initial-cluster=cp1=https://10.0.0.5:2380\n    - --name=cp1\n    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt\n";

    /// A scratch control plane: the manifest, a data directory with an old
    /// member, and an `etcdutl` that writes what it was asked for.
    fn scratch() -> (tempfile::TempDir, String) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let data = root.join("etcd").display().to_string();
        std::fs::create_dir_all(root.join("etc/manifests")).unwrap();
        std::fs::write(
            root.join("etc/manifests/etcd.yaml"),
            MANIFEST.replace("DATA", &data),
        )
        .unwrap();
        std::fs::create_dir_all(format!("{data}/member")).unwrap();
        std::fs::write(format!("{data}/member/old"), "old").unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        // Test double: makes the member directory it was asked for.
        let fake = "#!/bin/sh\nwhile [ $# -gt 0 ]; do case $1 in --data-dir) d=$2;; esac; shift; done\nmkdir -p \"$d/member\"\necho new > \"$d/member/new\"\n";
        let bin = root.join("bin/etcdutl");
        std::fs::write(&bin, fake).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
        (tmp, data)
    }

    #[test]
    fn the_member_comes_from_the_manifest() {
        let (tmp, data) = scratch();
        let out = sh(&member_script(), tmp.path(), b"");
        assert!(out.status.success(), "{out:?}");
        let m = member("node1", &String::from_utf8_lossy(&out.stdout)).unwrap();
        assert_eq!(
            m,
            Member {
                host: "node1".into(),
                name: "cp1".into(),
                peer: "https://10.0.0.5:2380".into(),
                data_dir: data,
                token: "etcd-cluster".into(),
                etcdutl: true,
            }
        );
        std::fs::remove_file(tmp.path().join("etc/manifests/etcd.yaml")).unwrap();
        let out = sh(&member_script(), tmp.path(), b"");
        assert_eq!(out.status.code(), Some(3));
        assert!(String::from_utf8_lossy(&out.stderr).contains("stacked etcd"));
        assert!(member("h", "name a\npeer b\ndata relative\n").is_err());
    }

    #[test]
    fn prepare_checks_the_copy_and_swap_keeps_the_old_member() {
        use sha2::{Digest, Sha256};
        let (tmp, data) = scratch();
        let m = member(
            "node1",
            &String::from_utf8_lossy(&sh(&member_script(), tmp.path(), b"").stdout),
        )
        .unwrap();
        let snap = b"snapshot bytes".to_vec();
        let sum = data_encoding::HEXLOWER.encode(&Sha256::digest(&snap));
        // A copy that differs is refused, and leaves nothing behind.
        let bad = sh(&prepare_script(&m, "cp1=x", &sum), tmp.path(), b"other");
        assert!(!bad.status.success());
        assert!(String::from_utf8_lossy(&bad.stderr).contains(&format!("not {sum}")));
        let left: Vec<_> = std::fs::read_dir(&data).unwrap().collect();
        assert_eq!(left.len(), 1, "only member/ stays");
        let ok = sh(&prepare_script(&m, "cp1=x", &sum), tmp.path(), &snap);
        assert!(ok.status.success(), "{ok:?}");
        let dir = tmp_dir(&String::from_utf8_lossy(&ok.stdout), RESTORE_TMP).unwrap();
        assert!(dir.starts_with(&data), "{dir}");
        assert!(!std::path::Path::new(&format!("{dir}/snapshot.db")).exists());
        let swap = sh(&swap_script(&m, &dir, "T1"), tmp.path(), b"");
        assert!(swap.status.success(), "{swap:?}");
        assert!(std::path::Path::new(&format!("{data}/member/new")).exists());
        assert_eq!(
            std::fs::read_to_string(format!("{data}/member.before-restore-T1/old")).unwrap(),
            "old"
        );
        assert!(!std::path::Path::new(&dir).exists());
    }

    #[test]
    fn reports_are_read_strictly() {
        let good = "dir /var/lib/etcd/kubestrap-backup.AbC123\netcdutl no\nsha256 \
                    0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nsize 4128\n";
        let t = taken(good).unwrap();
        assert_eq!(t.size, 4128);
        assert!(!t.etcdutl);
        assert!(taken("dir /var/lib/etcd/kubestrap-backup.AbC123\n").is_err());
        for (dir, ok) in [
            ("/var/lib/etcd/kubestrap-backup.x1", true),
            ("/var/lib/etcd/kubestrap-backup.", false),
            ("/var/lib/etcd", false),
            ("relative/kubestrap-backup.x1", false),
            ("/var/lib/etcd/../kubestrap-backup.x1", false),
        ] {
            assert_eq!(is_tmp(dir, BACKUP_TMP), ok, "{dir}");
        }
        assert_eq!(
            initial_cluster(&[
                member("a", "name a\npeer https://1:2380\ndata /d\n").unwrap(),
                member("b", "name b\npeer https://2:2380\ndata /d\n").unwrap(),
            ]),
            "a=https://1:2380,b=https://2:2380"
        );
    }
}
