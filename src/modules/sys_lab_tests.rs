//! The system modules' plans run for real in a lab host: apply, gather again, expect no change.
//!
//! Ignored by default; needs root and a running lab:
//! `LAB_BRIDGE=ksbr8 LAB_NET=10.99.8 tests/lab/lab.sh up /tmp/sys-lab 1`, then
//! `KS_SYS_LAB=/tmp/sys-lab cargo test --lib sys_lab -- --ignored --test-threads 1`.
//! Facts are gathered here with plain commands (not the product's gatherer),
//! so these tests check the modules' scripts, not fact parsing. Nothing here
//! turns swap on or loads a kernel module: the lab shares the build machine's kernel.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use super::sys_common::written_state;
use super::test_kit::check;
use super::{Action, Module, Plan};
use crate::facts::{Facts, FileState, PackageState, UnitState};

struct Lab {
    dir: String,
}

impl Lab {
    fn open() -> Option<Lab> {
        std::env::var("KS_SYS_LAB").ok().map(|dir| Lab { dir })
    }

    /// Run `script` with `sh -c` in node1: (exit code, stdout, stderr).
    fn sh(&self, script: &str, stdin: Option<&[u8]>) -> (i32, String, String) {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut child = Command::new(format!("{root}/tests/lab/lab.sh"))
            .args(["sh", &self.dir, "node1", "--", "sh", "-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lab.sh runs");
        let mut input = child.stdin.take().expect("stdin");
        input
            .write_all(stdin.unwrap_or_default())
            .expect("stdin written");
        drop(input);
        let out = child.wait_with_output().expect("lab.sh finishes");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, script: &str) -> String {
        let (rc, out, err) = self.sh(script, None);
        assert_eq!(rc, 0, "{script}: {err}");
        out
    }

    /// Apply a plan's actions in order, as the runner does.
    fn apply(&self, plan: &Plan) {
        for a in &plan.actions {
            if let Action::Run { script, stdin } = a {
                let (rc, _, err) = self.sh(script, stdin.as_deref());
                assert_eq!(rc, 0, "{script}\nfailed: {err}");
            }
        }
    }

    fn file(&self, path: &str) -> FileState {
        let (rc, out, _) = self.sh(&format!("stat -c %a {}", super::q(path)), None);
        if rc != 0 {
            return FileState::default();
        }
        let content = self.ok(&format!("cat {}", super::q(path)));
        let mode = u32::from_str_radix(out.trim(), 8).ok();
        written_state(None, content.as_bytes(), mode)
    }

    fn unit(&self, name: &str) -> UnitState {
        let out = self.ok(&format!(
            "systemctl show -p LoadState -p ActiveState -p UnitFileState --value {}",
            super::q(name)
        ));
        let l: Vec<&str> = out.lines().collect();
        // systemctl prints the properties in its own order: Load, Active, UnitFile.
        UnitState {
            load_state: l.first().unwrap_or(&"").to_string(),
            active_state: l.get(1).unwrap_or(&"").to_string(),
            unit_file_state: l.get(2).unwrap_or(&"").to_string(),
            ..Default::default()
        }
    }

    fn package(&self, name: &str) -> PackageState {
        let (rc, out, _) = self.sh(
            &format!("dpkg-query -W -f='${{Status}}|${{Version}}' {name}"),
            None,
        );
        let (status, version) = out.split_once('|').unwrap_or(("", ""));
        PackageState {
            version: (rc == 0 && status.ends_with(" installed")).then(|| version.to_string()),
            held: status.starts_with("hold "),
        }
    }

    fn facts(&self, files: &[&str], units: &[&str], packages: &[&str], sysctls: &[&str]) -> Facts {
        let mut f = Facts {
            hostname: self.ok("hostname").trim().to_string(),
            ..Facts::default()
        };
        for m in self
            .ok("cut -d' ' -f1 /proc/modules 2>/dev/null || true")
            .lines()
        {
            f.kernel_modules.insert(m.to_string());
        }
        f.swaps = self
            .ok("tail -n +2 /proc/swaps | cut -d' ' -f1")
            .lines()
            .map(String::from)
            .collect();
        for p in files {
            f.files.insert(p.to_string(), self.file(p));
        }
        for u in units {
            f.units.insert(u.to_string(), self.unit(u));
        }
        for p in packages {
            f.packages.insert(p.to_string(), self.package(p));
        }
        for k in sysctls {
            let (rc, out, _) = self.sh(&format!("sysctl -n {k}"), None);
            f.sysctls
                .insert(k.to_string(), (rc == 0).then(|| out.trim().to_string()));
        }
        f
    }

    /// Check, apply, gather again with `facts`, check again: the second
    /// plan must be a no-op (what "a second apply reports changed=0" means).
    fn converge(&self, m: &dyn Module, args: Value, facts: impl Fn() -> Facts) -> Plan {
        let plan = check(m, &facts(), args.clone()).unwrap_or_else(|e| panic!("{args}: {e}"));
        assert!(plan.changed, "{args}: expected a change, got {}", plan.msg);
        self.apply(&plan);
        let again = check(m, &facts(), args.clone()).unwrap_or_else(|e| panic!("{args}: {e}"));
        assert!(!again.changed, "{args}: not idempotent: {again:?}");
        plan
    }
}

#[test]
#[ignore = "needs root and a lab: see the module docs"]
fn sys_lab_modules() {
    let Some(lab) = Lab::open() else {
        panic!("KS_SYS_LAB is not set: this test needs it (see the module docs)");
    };
    use super::*;

    // systemd: a dummy unit through enable/start, stop/disable, mask.
    lab.apply(&Plan {
        actions: vec![write_file(
            "/usr/lib/systemd/system/ks-dummy.service",
            b"[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n"
                .to_vec(),
            None,
            None,
            None,
            false,
        )],
        ..Plan::default()
    });
    let units = || lab.facts(&[], &["ks-dummy.service"], &[], &[]);
    let unit_args = json!({"name": "ks-dummy.service", "state": "started", "enabled": true, "daemon_reload": true});
    lab.converge(&systemd::SYSTEMD, unit_args, units);
    assert_eq!(
        lab.ok("systemctl is-active ks-dummy.service").trim(),
        "active"
    );
    let plan = check(
        &systemd::SYSTEMD,
        &units(),
        json!({"name": "ks-dummy.service", "state": "restarted"}),
    )
    .unwrap();
    assert!(plan.changed);
    lab.apply(&plan);
    lab.converge(
        &systemd::Service,
        json!({"name": "ks-dummy.service", "state": "stopped", "enabled": false}),
        units,
    );
    lab.converge(
        &systemd::SYSTEMD_SERVICE,
        json!({"name": "ks-dummy.service", "masked": true}),
        units,
    );
    lab.converge(
        &systemd::SYSTEMD,
        json!({"name": "ks-dummy.service", "masked": false}),
        units,
    );

    // sysctl: per network namespace, so safe to set.
    const K8S: &str = "/etc/sysctl.d/99-kubernetes.conf";
    lab.ok("sysctl -q -w net.ipv4.ip_forward=0");
    let sysctl_facts = || lab.facts(&[K8S], &[], &[], &["net.ipv4.ip_forward"]);
    lab.converge(
        &sysctl::Sysctl,
        json!({"name": "net.ipv4.ip_forward", "value": "1", "sysctl_file": K8S}),
        sysctl_facts,
    );
    assert_eq!(lab.ok("sysctl -n net.ipv4.ip_forward").trim(), "1");
    assert_eq!(lab.ok(&format!("cat {K8S}")), "net.ipv4.ip_forward=1\n");

    // hostname (the lab host has its own UTS namespace).
    let host_facts = || lab.facts(&["/etc/hostname"], &[], &[], &[]);
    lab.converge(&hostname::Hostname, json!({"name": "cp1"}), host_facts);
    assert_eq!(lab.ok("hostname; cat /etc/hostname"), "cp1\ncp1\n");
    lab.converge(
        &hostname::Hostname,
        json!({"name": "node1", "use": "debian"}),
        host_facts,
    );

    // swap: a fake fstab line (never activated), its unit masked by name.
    assert_eq!(
        lab.ok("tail -n +2 /proc/swaps"),
        "",
        "the build machine has swap on; refusing to test"
    );
    lab.ok("echo '/ks-fake-swapfile none swap sw 0 0' >> /etc/fstab");
    let swap_facts = || {
        let mut f = lab.facts(
            &["/etc/fstab"],
            &["ks\\x2dfake\\x2dswapfile.swap"],
            &[],
            &[],
        );
        f.swap_units = vec!["ks\\x2dfake\\x2dswapfile.swap".into()];
        f
    };
    let plan = lab.converge(&swap::Swap, json!({"state": "off"}), swap_facts);
    assert!(!super::test_kit::scripts(&plan)
        .iter()
        .any(|s| s.contains("swapoff") || s.contains("swapon")));
    assert!(lab
        .ok("cat /etc/fstab")
        .contains("\n#/ks-fake-swapfile none swap sw 0 0\n"));
    assert!(
        lab.ok("ls /etc/ | grep -c '^fstab\\..*~$'").trim() != "0",
        "backup kept"
    );

    // modprobe. The lab kernel may have no loadable modules at all (overlay
    // built in, no /proc/modules): the facts then say "not loaded", and the
    // load script must fall back to /sys/module, loading nothing.
    let mod_files = [
        "/etc/modules-load.d/overlay.conf",
        "/etc/modprobe.d/overlay.conf",
    ];
    let plan = check(
        &modprobe::Modprobe,
        &lab.facts(&mod_files, &[], &[], &[]),
        json!({"name": "overlay"}),
    )
    .unwrap();
    lab.apply(&plan);
    let mod_facts = || {
        let mut f = lab.facts(&mod_files, &[], &[], &[]);
        f.kernel_modules.insert("overlay".into());
        f
    };
    lab.converge(
        &modprobe::Modprobe,
        json!({"name": "overlay", "persistent": "present"}),
        mod_facts,
    );
    assert_eq!(lab.ok("cat /etc/modules-load.d/overlay.conf"), "overlay\n");
    lab.converge(
        &modprobe::Modprobe,
        json!({"name": "overlay", "persistent": "absent"}),
        mod_facts,
    );
    // A module that is neither loadable nor present fails with a clear message.
    let plan = check(
        &modprobe::Modprobe,
        &lab.facts(&[], &[], &[], &[]),
        json!({"name": "ks_no_such_module"}),
    )
    .unwrap();
    let Action::Run { script, .. } = &plan.actions[0] else {
        unreachable!()
    };
    let (rc, _, err) = lab.sh(script, None);
    assert_eq!(rc, 1);
    assert!(
        err.contains("cannot load kernel module ks_no_such_module"),
        "{err}"
    );

    // apt / dpkg_selections: no repository is reachable, so only no-ops, holds and a removal.
    let pkg_facts = || lab.facts(&[], &[], &["curl", "iptables"], &[]);
    let curl = pkg_facts().packages["curl"]
        .version
        .clone()
        .expect("curl is installed");
    let plan = check(
        &apt::Apt,
        &pkg_facts(),
        json!({"name": ["curl", format!("curl={curl}")]}),
    )
    .unwrap();
    assert!(!plan.changed);
    lab.converge(
        &dpkg_selections::DpkgSelections,
        json!({"name": "curl", "selection": "hold"}),
        pkg_facts,
    );
    assert_eq!(lab.ok("apt-mark showhold"), "curl\n");
    lab.converge(
        &dpkg_selections::DpkgSelections,
        json!({"name": "curl", "selection": "install"}),
        pkg_facts,
    );
    assert_eq!(lab.ok("apt-mark showhold"), "");
    lab.converge(
        &dpkg_selections::DpkgSelections,
        json!({"name": "iptables", "selection": "hold"}),
        pkg_facts,
    );
    lab.converge(
        &apt::Apt,
        json!({"name": "iptables", "state": "absent"}),
        pkg_facts,
    );

    // deb822_repository with an inline key; then removed.
    let key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEYCQjIxYJKwYBBAHaRw8BAQdAD/P5Nvvnvk66SxBBHDbhRml9ORg1WV5CvzKY\n=IE0r\n-----END PGP PUBLIC KEY BLOCK-----\n";
    let src = "/etc/apt/sources.list.d/ks-lab.sources";
    let repo_facts = || {
        lab.facts(
            &[
                src,
                "/etc/apt/keyrings/ks-lab.asc",
                "/etc/apt/keyrings/ks-lab.gpg",
            ],
            &[],
            &[],
            &[],
        )
    };
    let args = json!({"name": "ks_lab", "uris": "http://10.99.8.1/repo", "suites": "stable", "components": "main", "signed_by": key});
    lab.converge(&deb822_repository::Deb822Repository, args, repo_facts);
    assert!(lab
        .ok(&format!("cat {src}"))
        .contains("Signed-By:\n    -----BEGIN PGP PUBLIC KEY BLOCK-----\n    .\n"));
    // apt itself parses the file (no fetch: the key is not a real one).
    lab.ok("apt-get indextargets >/dev/null");
    lab.converge(
        &deb822_repository::Deb822Repository,
        json!({"name": "ks_lab", "state": "absent"}),
        repo_facts,
    );

    // command / shell.
    let none = || lab.facts(&["/tmp/ks-made"], &[], &[], &[]);
    let plan = check(
        &command::Command,
        &none(),
        json!({"_raw_params": "tee /tmp/ks-made", "stdin": "a $b | c"}),
    )
    .unwrap();
    lab.apply(&plan);
    assert_eq!(lab.ok("cat /tmp/ks-made"), "a $b | c\n");
    let plan = check(
        &command::Command,
        &none(),
        json!({"_raw_params": "rm /tmp/ks-made", "creates": "/tmp/ks-made"}),
    )
    .unwrap();
    assert!(!plan.changed);
    let plan = check(&shell::Shell, &none(), json!({"cmd": "echo $0 | grep -q bash && test \"$(pwd)\" = /etc", "executable": "/bin/bash", "chdir": "/etc"})).unwrap();
    lab.apply(&plan);

    // wait_for: sshd answers on 22; nothing on port 1.
    let f = Facts::default();
    lab.apply(&check(&wait_for::WaitFor, &f, json!({"port": 22, "timeout": 5})).unwrap());
    lab.apply(
        &check(
            &wait_for::WaitFor,
            &f,
            json!({"port": 1, "state": "stopped", "timeout": 5}),
        )
        .unwrap(),
    );
    let plan = check(&wait_for::WaitFor, &f, json!({"port": 1, "timeout": 2})).unwrap();
    let Action::Run { script, .. } = &plan.actions[0] else {
        unreachable!()
    };
    let (rc, _, err) = lab.sh(script, None);
    assert_eq!(
        (rc, err.trim()),
        (1, "Timeout when waiting for 127.0.0.1:1")
    );
}
