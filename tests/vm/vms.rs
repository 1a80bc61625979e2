//! The VMs that tests/vm/vm.sh brings up, seen from a test.
//!
//! vm.sh writes the same files into its directory as lab.sh does for a lab
//! (addresses, operator key, known_hosts, repo.env), so [`Lab`] reads them;
//! commands run on a VM over SSH, and a VM can be rebooted from inside.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use crate::lab::Lab;

/// Environment variable naming the running VMs' directory.
pub const ENV: &str = "KUBESTRAP_VMS";

/// How long one kubestrap run may take against emulated VMs (TCG is 10-50x
/// slower than a real CPU; apt and dpkg dominate).
pub const APPLY_LIMIT: Duration = Duration::from_secs(900);

/// kubestrap's SSH connect timeout for emulated VMs (its default is 10 s).
pub const CONNECT_TIMEOUT: &str = "30";

/// Inventory lines under `cluster:` for emulated VMs: a pinned address is
/// confirmed by a fresh login, which takes longer than the default 60 s allows.
pub const CLUSTER_EXTRA: &str = "  network_rollback_timeout: 180\n";

pub struct Vms {
    lab: Lab,
}

impl Vms {
    /// The VMs named by `KUBESTRAP_VMS`; panics when it is unset or holds none.
    pub fn from_env() -> Vms {
        let dir = match std::env::var_os(ENV) {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => panic!(
                "{ENV} is not set: VM tests need running VMs: run tests/run-all.sh --vm-only"
            ),
        };
        assert!(
            dir.join("hosts.txt").is_file() && dir.join("vm.env").is_file(),
            "{ENV}={} holds no running VMs (no hosts.txt): run tests/run-all.sh --vm-only",
            dir.display()
        );
        Vms { lab: Lab::at(dir) }
    }

    /// Addresses, key, known_hosts and repositories, read as for a lab.
    pub fn lab(&self) -> &Lab {
        &self.lab
    }

    pub fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm/vm.sh")
    }

    fn vm_sh(&self, args: &[&str]) -> Output {
        Command::new(Self::script())
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running vm.sh {args:?}: {e}"))
    }

    /// Runs `cmd` with `sh -c` on VM `name` as root, over SSH.
    pub fn sh(&self, name: &str, cmd: &str) -> Output {
        let dir = self.lab.dir().to_string_lossy().into_owned();
        self.vm_sh(&["sh", &dir, name, "--", "/bin/sh", "-c", cmd])
    }

    /// Like [`Vms::sh`], but panics unless the command succeeds; returns stdout.
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

    /// Whether `name` answers SSH within a bounded window (up to 24 tries,
    /// 5 s apart): a VM that just restored its network may need a moment.
    pub fn answers(&self, name: &str) -> bool {
        (0..24).any(|i| {
            if i > 0 {
                std::thread::sleep(Duration::from_secs(5));
            }
            self.sh(name, "true").status.success()
        })
    }

    /// Reboots the VMs from inside and waits (bounded by vm.sh) until each
    /// answers SSH again with a new boot id.
    pub fn reboot(&self, names: &[&str]) {
        let dir = self.lab.dir().to_string_lossy().into_owned();
        let mut args = vec!["reboot", dir.as_str()];
        args.extend_from_slice(names);
        let out = self.vm_sh(&args);
        assert!(
            out.status.success(),
            "vm.sh reboot {names:?} failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
