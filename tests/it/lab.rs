//! The machine-like test hosts that tests/lab/lab.sh brings up, seen from a test.
//!
//! `tests/run-all.sh` boots the lab and passes its directory in
//! `KUBESTRAP_LAB`; a test reads addresses, the operator key and known_hosts
//! from there, runs commands inside a host to set up or inspect it, and can
//! stop and start hosts to play an outage.

#![allow(dead_code)] // each test uses a different part of it

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Environment variable naming the running lab's directory.
pub const ENV: &str = "KUBESTRAP_LAB";

/// Password `pwuser` must give to sudo.
pub const PWUSER_SUDO_PASSWORD: &str = "lab-sudo-pass";

/// A running lab: the directory `lab.sh up` wrote.
#[derive(Debug, Clone)]
pub struct Lab {
    dir: PathBuf,
}

impl Lab {
    /// The lab named by `KUBESTRAP_LAB`; panics when it is unset or not a lab.
    pub fn from_env() -> Lab {
        let dir = match std::env::var_os(ENV) {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => panic!("{ENV} is not set: integration tests need the lab: run tests/run-all.sh"),
        };
        let lab = Lab { dir };
        assert!(
            lab.dir.join("hosts.txt").is_file(),
            "{ENV}={} holds no running lab (no hosts.txt): integration tests need the lab: run tests/run-all.sh",
            lab.dir.display()
        );
        lab
    }

    /// A lab-like directory written by another script (tests/vm/vm.sh up
    /// writes the same files for its VMs).
    pub fn at(dir: PathBuf) -> Lab {
        Lab { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The kubestrap-format inventory of all hosts (user root).
    pub fn inventory(&self) -> PathBuf {
        self.dir.join("inventory.yaml")
    }

    /// (name, address) of every host, in order node1, node2, ...
    pub fn hosts(&self) -> Vec<(String, String)> {
        let path = self.dir.join("hosts.txt");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        text.lines()
            .filter_map(|line| {
                let mut words = line.split_whitespace();
                Some((words.next()?.to_string(), words.next()?.to_string()))
            })
            .collect()
    }

    /// The address of host `name`; panics for a name the lab does not have.
    pub fn address(&self, name: &str) -> String {
        self.hosts()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a)
            .unwrap_or_else(|| panic!("the lab in {} has no host {name}", self.dir.display()))
    }

    /// The operator's private key, authorized for root, deploy and pwuser.
    pub fn key(&self) -> PathBuf {
        self.dir.join("id_ed25519")
    }

    /// OpenSSH known_hosts with every host key of every host.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.join("known_hosts")
    }

    /// LABDIR/repo.env: the lab's apt repositories (see tests/lab/lab.sh).
    pub fn repo_env(&self) -> PathBuf {
        self.dir.join("repo.env")
    }

    /// The lab's apt repositories, served on the bridge address: a Debian
    /// mirror with the real containerd and runc, and a pkgs.k8s.io-like
    /// repository with the TEST STAND-IN kubeadm/kubelet/kubectl.
    pub fn repo(&self) -> RepoInfo {
        let path = self.repo_env();
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        RepoInfo::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// Runs `cmd` with `sh -c` inside host `name` as root, outside SSH.
    pub fn sh(&self, name: &str, cmd: &str) -> Output {
        self.lab_sh(&["sh", &self.dir_str(), name, "--", "/bin/sh", "-c", cmd])
    }

    /// Like [`Lab::sh`], but panics unless the command succeeds; returns stdout.
    pub fn sh_ok(&self, name: &str, cmd: &str) -> String {
        let out = self.sh(name, cmd);
        assert!(
            out.status.success(),
            "on {name}: `{cmd}` failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Kills host `name`: its address stops answering, its disk is kept.
    pub fn stop(&self, name: &str) {
        self.lab_sh_ok(&["stop", &self.dir_str(), name]);
    }

    /// Host `name` back to its first boot (same name, address and host
    /// keys, an empty disk), running or stopped before: a dead server's
    /// replacement.
    pub fn wipe(&self, name: &str) {
        self.lab_sh_ok(&["wipe", &self.dir_str(), name]);
    }

    /// Boots host `name` again with the same disk and host keys.
    pub fn start(&self, name: &str) {
        self.lab_sh_ok(&["start", &self.dir_str(), name]);
    }

    /// Writes a kubestrap-format inventory for `hosts` (names; first one is
    /// the control plane) logging in as `user`, into a new temp directory.
    /// The key is referenced by absolute path, so the inventory can live
    /// anywhere; keep the returned TempDir alive while it is used.
    pub fn write_inventory(&self, hosts: &[&str], user: &str) -> (tempfile::TempDir, PathBuf) {
        self.write_inventory_with(hosts, user, "")
    }

    /// As [`Lab::write_inventory`], with extra YAML lines (already indented
    /// by two spaces) appended under `defaults:`, e.g. `"  become: true\n"`.
    pub fn write_inventory_with(
        &self,
        hosts: &[&str],
        user: &str,
        extra_defaults: &str,
    ) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir for an inventory");
        let path = dir.path().join("inventory.yaml");
        std::fs::write(&path, self.inventory_yaml(hosts, user, extra_defaults))
            .expect("writing inventory");
        (dir, path)
    }

    /// The text of such an inventory.
    pub fn inventory_yaml(&self, hosts: &[&str], user: &str, extra_defaults: &str) -> String {
        let mut y = String::new();
        writeln!(y, "cluster:\n  name: lab\ndefaults:").unwrap();
        writeln!(y, "  user: {user}").unwrap();
        writeln!(y, "  identity_file: {}", self.key().display()).unwrap();
        y.push_str(extra_defaults);
        if !extra_defaults.is_empty() && !extra_defaults.ends_with('\n') {
            y.push('\n');
        }
        writeln!(y, "hosts:").unwrap();
        for (i, name) in hosts.iter().enumerate() {
            let role = if i == 0 { "control_plane" } else { "worker" };
            writeln!(
                y,
                "  {name}:\n    address: {}\n    roles: [{role}]",
                self.address(name)
            )
            .unwrap();
        }
        y
    }

    /// Path of lab.sh, found from this crate's manifest directory.
    pub fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/lab.sh")
    }

    fn dir_str(&self) -> String {
        self.dir.to_string_lossy().into_owned()
    }

    fn lab_sh(&self, args: &[&str]) -> Output {
        Command::new(Self::script())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running {} {args:?}: {e}", Self::script().display()))
    }

    fn lab_sh_ok(&self, args: &[&str]) {
        let out = self.lab_sh(args);
        assert!(
            out.status.success(),
            "lab.sh {args:?} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The lab's apt repositories, as `lab.sh up` wrote them to LABDIR/repo.env.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    /// `http://<bridge address>:8080`
    pub base_url: String,
    /// Debian-style archive (deb822 `URIs:`), e.g. `http://10.99.0.1:8080/debian`.
    pub debian_url: String,
    /// `bookworm`
    pub debian_suite: String,
    /// `main`
    pub debian_components: String,
    /// The mirror's armored signing key (lab-archive.asc).
    pub debian_key_url: String,
    /// Its fingerprint: 40 upper-case hex digits, as `gpg --with-colons` prints.
    pub debian_key_fingerprint: String,
    /// pkgs.k8s.io-like flat repository, ends in `/core:/stable:/v1.31/deb/`;
    /// sources line `deb [signed-by=KEYRING] <k8s_url> /`.
    pub k8s_url: String,
    /// Its armored Release.key.
    pub k8s_key_url: String,
    /// Release.key's fingerprint (a different lab key than the mirror's).
    pub k8s_key_fingerprint: String,
    /// Version of the stand-in Kubernetes packages, e.g. `1.31.4`.
    pub k8s_version: String,
    /// Their package version, e.g. `1.31.4-1.1`.
    pub k8s_package_version: String,
    /// Every stand-in version the repositories hold (first = `k8s_version`).
    pub k8s_versions: Vec<String>,
    /// Debian's containerd version in the mirror, e.g. `1.6.20~ds1-1+deb12u3`.
    pub containerd_version: String,
    /// Debian's runc version in the mirror.
    pub runc_version: String,
    /// Every KEY=value of repo.env, unquoted.
    pub vars: BTreeMap<String, String>,
}

impl RepoInfo {
    /// Parses repo.env (KEY=value lines, `#` comments, optional double quotes).
    pub fn parse(text: &str) -> Result<RepoInfo, String> {
        let mut vars = BTreeMap::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| format!("not KEY=value: {line:?}"))?;
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            vars.insert(k.to_string(), v.to_string());
        }
        let get = |k: &str| {
            vars.get(k)
                .cloned()
                .ok_or_else(|| format!("repo.env has no {k}"))
        };
        Ok(RepoInfo {
            base_url: get("REPO_BASE_URL")?,
            debian_url: get("DEBIAN_URL")?,
            debian_suite: get("DEBIAN_SUITE")?,
            debian_components: get("DEBIAN_COMPONENTS")?,
            debian_key_url: get("DEBIAN_KEY_URL")?,
            debian_key_fingerprint: get("DEBIAN_KEY_FINGERPRINT")?,
            k8s_url: get("K8S_URL")?,
            k8s_key_url: get("K8S_KEY_URL")?,
            k8s_key_fingerprint: get("K8S_KEY_FINGERPRINT")?,
            k8s_version: get("K8S_VERSION")?,
            k8s_package_version: get("K8S_PACKAGE_VERSION")?,
            k8s_versions: get("K8S_VERSIONS")?
                .split_whitespace()
                .map(str::to_string)
                .collect(),
            containerd_version: get("CONTAINERD_VERSION")?,
            runc_version: get("RUNC_VERSION")?,
            vars,
        })
    }

    /// A repo.env value by key; panics when it is missing.
    pub fn get(&self, key: &str) -> &str {
        self.vars
            .get(key)
            .unwrap_or_else(|| panic!("repo.env has no {key}"))
    }
}
