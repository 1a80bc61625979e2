//! README.md's commands, run as a reader would run them, and the Vagrant lab's files checked.
//!
//! Every command line in README's fenced `sh` blocks and every `$ ` line in
//! its `console` blocks is classified here: it runs against the test's lab
//! (the quick start's lab directory replaced by one for node23..node25), or
//! it is listed in [`NOT_HERE`] with the reason it cannot run inside this
//! test. A command nobody classified fails the test, so a new README example
//! needs a decision here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::inventories::lab_cluster;
use crate::lab::Lab;
use crate::support::{finish_within, s, Home};

/// The quick start's lab directory, as README writes it.
const README_LAB: &str = "/tmp/kubestrap-lab";

/// The lab hosts this test may change: README's quick start cluster.
const HOSTS: [(&str, &str); 3] = [
    ("node23", "control_plane"),
    ("node24", "worker"),
    ("node25", "worker"),
];

/// A step that boots the quick start's lab: the test's lab is up already,
/// and its hosts node23..node25 play the quick start's three.
const LAB_UP: &str = "tests/lab/lab.sh up /tmp/kubestrap-lab 3";

/// The quick start's package installation: what the lab needs on the build machine.
const APT_INSTALL: &str =
    "apt-get install -y debootstrap dpkg-dev gnupg python3 openssh-client iproute2 util-linux";

/// README commands tests/run-all.sh runs as they are (a line of its own
/// there), before the lab boots: a release build's minutes of CPU would
/// slow the lab tests beside it, and rebuilding a binary other tests are
/// starting is a race. Tests check what they built (tests/it/release.rs).
const RUN_ALL: &[&str] = &["cargo build-static"];

/// README's look at etcd's members, in "Replacing a server".
const REMOVE_ETCD_MEMBERS: &str = "kubestrap exec -i inventory.yaml --limit cp1 -- 'crictl exec $(crictl ps --name etcd -q) etcdctl \
     --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt \
     --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt --key=/etc/kubernetes/pki/etcd/healthcheck-client.key member list'";

/// README commands (whole lines, exactly as shown) this test does not run, and why.
const NOT_HERE: &[(&str, &str)] = &[
    (
        APT_INSTALL,
        "installs packages on the test machine; .ci/run installs the same (checked below)",
    ),
    (
        "tests/run-all.sh",
        "it runs this very test; CI runs it (.ci/run)",
    ),
    (
        "tests/run-all.sh --vm-only",
        "boots real VMs for minutes under emulation; the VM tier is run alone (README)",
    ),
    (
        "(cd vagrant && vagrant up)",
        "boots VMs, which the test machine cannot; CI validates the Vagrantfile (vagrant/check.sh)",
    ),
    (
        "curl -fsSLo vagrant/calico.yaml https://raw.githubusercontent.com/projectcalico/calico/v3.29.1/manifests/calico.yaml",
        "needs the Internet, which the lab does not have",
    ),
    (
        "kubestrap apply -i inventory/vagrant.yaml --accept-new-host-keys",
        "needs the Vagrant VMs; the same apply runs on the lab in the quick start",
    ),
    (
        "kubestrap kubeconfig -i inventory/vagrant.yaml -o ~/.kube/vagrant.conf",
        "needs the Vagrant cluster's state directory; kubeconfig runs on the lab's below",
    ),
    (
        "kubestrap reset -i /tmp/kubestrap-lab/inventory.yaml --known-hosts /tmp/kubestrap-lab/known_hosts",
        "asks for the cluster's name on a terminal; tests/it/reset.rs runs README's Starting over \
         word for word on node82..node84, typing it",
    ),
    (
        "kubestrap remove node3 -i /tmp/kubestrap-lab/inventory.yaml --known-hosts /tmp/kubestrap-lab/known_hosts --check",
        "the quick start's node3 is node25 here, and the upgrade above needs it; \
         tests/it/remove.rs runs remove --check, remove and apply on node75-node77",
    ),
    (
        "kubestrap remove node3 -i /tmp/kubestrap-lab/inventory.yaml --known-hosts /tmp/kubestrap-lab/known_hosts",
        "as above: tests/it/remove.rs removes a worker and re-adds it with apply",
    ),
    (
        "kubestrap remove cp2 -i inventory.yaml --check",
        "README's dead control plane: tests/it/remove.rs runs these six lines on node78-node80",
    ),
    (
        "kubestrap remove cp2 -i inventory.yaml",
        "as above (tests/it/remove.rs)",
    ),
    (
        REMOVE_ETCD_MEMBERS,
        "as above (tests/it/remove.rs)",
    ),
    ("ssh-keygen -R 10.0.0.12", "as above (tests/it/remove.rs)"),
    (
        "kubestrap apply -i inventory.yaml --check --accept-new-host-keys",
        "as above (tests/it/remove.rs)",
    ),
    (
        "kubestrap apply -i inventory.yaml --accept-new-host-keys",
        "as above (tests/it/remove.rs)",
    ),
    (
        "kubestrap backup -i /tmp/kubestrap-lab/inventory.yaml --known-hosts /tmp/kubestrap-lab/known_hosts",
        BACKUPS,
    ),
    (
        "ls -l /tmp/kubestrap-lab/.kubestrap/lab/backups/",
        BACKUPS,
    ),
    (
        "newest=$(ls -d /tmp/kubestrap-lab/.kubestrap/lab/backups/lab-*Z | tail -n 1) && cd \"$newest\" && sha256sum -c SHA256SUMS && cd -",
        BACKUPS,
    ),
    (
        "newest=$(ls -d /tmp/kubestrap-lab/.kubestrap/lab/backups/lab-*Z | tail -n 1) && kubestrap restore \"$newest\" -i /tmp/kubestrap-lab/inventory.yaml --known-hosts /tmp/kubestrap-lab/known_hosts --yes",
        BACKUPS,
    ),
    (
        "kubestrap exec -i /tmp/kubestrap-lab/inventory.yaml --known-hosts /tmp/kubestrap-lab/known_hosts --limit control_plane -- kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes",
        BACKUPS,
    ),
    (
        "kubestrap apply -i inventory.yaml --until prepared",
        "shows a failing preflight on hosts the lab does not have (1000 MB, duplicate hostnames); \
         src/cluster/preflight/tests.rs checks those messages",
    ),
];

/// Why README's "Backups" lines are not run here.
const BACKUPS: &str =
    "a restore takes the quick start's cluster back in time under the upgrade above; \
     tests/it/backup.rs runs README's Backups word for word on node85";

/// Commands that exit with something other than 0 on purpose.
const EXIT_CODES: &[(&str, i32)] = &[("kubestrap inventory check -i docs/examples/bad.yaml", 2)];

/// What README says a command shows, beyond its exit code: text its stdout must hold.
const PRINTS: &[(&str, &[&str])] = &[
    (
        "cargo run -q -- exec -i /tmp/kubestrap-lab/inventory.yaml --known-hosts /tmp/kubestrap-lab/known_hosts \
         --limit control_plane -- kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes",
        &["node23   Ready", "node24   Ready", "node25   Ready"],
    ),
    (
        "kubestrap apply -i /tmp/kubestrap-lab/inventory.yaml --known-hosts /tmp/kubestrap-lab/known_hosts --diff --check",
        &[
            "to 1.32.1 in 1 step (1.32.1), control plane first, workers 1 at a time",
            "  1. node23 1.31.4 → 1.32.1 (control plane, kubeadm upgrade apply)",
            "  3. node25 1.31.4 → 1.32.1 (workers, kubeadm upgrade node)",
        ],
    ),
];

/// One command README shows.
#[derive(Debug)]
pub(crate) struct Shown {
    /// 1-based line in README.md.
    line: usize,
    pub(crate) command: String,
    /// For `console` blocks: the output shown below the `$ ` line.
    output: Option<String>,
}

pub(crate) fn readme() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The commands of README's `sh` and `console` blocks, in order.
pub(crate) fn shown_commands(text: &str) -> Vec<Shown> {
    let mut out: Vec<Shown> = Vec::new();
    let mut lang: Option<String> = None;
    let mut pending = String::new();
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if let Some(rest) = line.trim_start().strip_prefix("```") {
            lang = match lang {
                Some(_) => None,
                None => Some(rest.trim().to_string()),
            };
            continue;
        }
        match lang.as_deref() {
            Some("sh") => {
                let l = line.trim();
                if pending.is_empty() && (l.is_empty() || l.starts_with('#')) {
                    continue;
                }
                if let Some(head) = l.strip_suffix('\\') {
                    pending.push_str(head);
                    continue;
                }
                pending.push_str(l);
                out.push(Shown {
                    line: number,
                    command: std::mem::take(&mut pending),
                    output: None,
                });
            }
            Some("console") => {
                if let Some(cmd) = line.strip_prefix("$ ") {
                    out.push(Shown {
                        line: number,
                        command: cmd.trim().to_string(),
                        output: Some(String::new()),
                    });
                } else if let Some(Shown {
                    output: Some(o), ..
                }) = out.last_mut()
                {
                    o.push_str(line);
                    o.push('\n');
                }
            }
            _ => {}
        }
    }
    out
}

/// What the test does with a README command.
#[derive(Debug, PartialEq)]
enum Plan {
    /// Run this shell text (README's paths still in it).
    Run(String),
    /// Not here, for this reason.
    Skip(&'static str),
}

/// The program a step runs, past `NAME=value` assignments.
fn program(step: &str) -> &str {
    step.split_whitespace()
        .find(|w| !w.contains('=') || w.starts_with('-'))
        .unwrap_or("")
}

/// Decide what to do with one README command, or say why nobody decided.
fn plan(command: &str) -> Result<Plan, String> {
    if let Some((_, why)) = NOT_HERE.iter().find(|(c, _)| *c == command) {
        return Ok(Plan::Skip(why));
    }
    if RUN_ALL.contains(&command) {
        return Ok(Plan::Skip("tests/run-all.sh runs it before the lab boots"));
    }
    let mut steps = Vec::new();
    for step in command.split(" && ") {
        if step == LAB_UP {
            continue;
        }
        let runnable = step.starts_with("cargo run -q -- ")
            || matches!(
                program(step),
                // kubestrap itself; directories under the test's private $HOME;
                // the Vagrant inventory generator (it only prints YAML); the
                // static binary's libraries; the inventory edited in place
                // (Upgrading).
                "kubestrap" | "mkdir" | "vagrant/inventory.sh" | "ldd" | "sed"
            );
        if !runnable {
            return Err(format!(
                "`{step}` (in `{command}`) is neither run by this test nor listed in NOT_HERE"
            ));
        }
        steps.push(step);
    }
    Ok(Plan::Run(steps.join(" && ")))
}

#[test]
fn every_readme_command_is_classified() {
    let text = readme();
    let shown = shown_commands(&text);
    assert!(
        shown.iter().any(|c| c.command == "tests/run-all.sh"),
        "README's test command is found: {shown:#?}"
    );
    let problems: Vec<String> = shown
        .iter()
        .filter_map(|c| {
            plan(&c.command)
                .err()
                .map(|e| format!("README.md:{}: {e}", c.line))
        })
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for (c, _) in NOT_HERE {
        assert!(
            shown.iter().any(|s| s.command == *c),
            "NOT_HERE lists `{c}`, which README no longer shows"
        );
    }
    let listed = EXIT_CODES
        .iter()
        .map(|(c, _)| *c)
        .chain(PRINTS.iter().map(|(c, _)| *c))
        .chain(RUN_ALL.iter().copied());
    for c in listed {
        assert!(
            shown.iter().any(|s| s.command == c),
            "this test lists `{c}`, which README no longer shows"
        );
    }
    let run_all = std::fs::read_to_string(repo().join("tests/run-all.sh")).unwrap();
    for c in RUN_ALL {
        assert!(
            run_all
                .lines()
                .any(|l| l.trim().split(" ||").next() == Some(c)),
            "tests/run-all.sh does not run `{c}`"
        );
    }
    // The quick start stays what it is: install, boot the lab and apply.
    let quick: Vec<&str> = shown[..2].iter().map(|c| c.command.as_str()).collect();
    assert_eq!(
        quick,
        [
            APT_INSTALL.to_string(),
            format!("{LAB_UP} && cargo run -q -- apply -i {README_LAB}/inventory.yaml --known-hosts {README_LAB}/known_hosts"),
        ]
    );
}

/// tests/run-all.sh boots and tears down a lab of its own: another
/// directory than the quick start's and another bridge and network than
/// lab.sh's defaults (which the quick start's lab has), so a quick-start lab
/// that is up survives running every test.
#[test]
fn run_all_leaves_the_quick_start_lab_alone() {
    let run_all = std::fs::read_to_string(repo().join("tests/run-all.sh")).unwrap();
    let lab_sh = std::fs::read_to_string(repo().join("tests/lab/lab.sh")).unwrap();
    // The default of a shell parameter expansion `${VAR:-default}`.
    let default = |text: &str, var: &str| -> String {
        let from = format!("${{{var}:-");
        let at = text
            .find(&from)
            .unwrap_or_else(|| panic!("no default for {var}"));
        let rest = &text[at + from.len()..];
        rest[..rest.find('}').unwrap()].to_string()
    };
    assert_ne!(default(&run_all, "LABDIR"), README_LAB);
    for var in ["LAB_BRIDGE", "LAB_NET"] {
        assert_ne!(
            default(&run_all, var),
            default(&lab_sh, var),
            "tests/run-all.sh's {var} is lab.sh's default, the quick start's lab's"
        );
    }
}

/// The quick start's package list is what CI installs before running every
/// test, so a fresh Debian machine with just those runs the lab.
#[test]
fn quick_start_packages_are_the_ones_ci_installs() {
    let ci = std::fs::read_to_string(repo().join(".ci/run")).unwrap();
    let ci_packages: Vec<&str> = ci
        .split("apt-get install -y --no-install-recommends")
        .nth(1)
        .expect(".ci/run installs packages")
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .flat_map(|l| l.split_whitespace())
        .collect();
    let readme_packages = APT_INSTALL.strip_prefix("apt-get install -y ").unwrap();
    for package in readme_packages.split_whitespace() {
        assert!(
            ci_packages.contains(&package),
            ".ci/run does not install {package}, which README's quick start does: {ci_packages:?}"
        );
    }
}

/// README's `yaml` blocks, in order.
fn yaml_blocks(text: &str) -> Vec<String> {
    text.split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap_or_default().to_string())
        .collect()
}

/// The inventories README shows are accepted as they are: the annotated one
/// whole, the air-gapped `cluster:` settings with a host added.
#[test]
fn readme_inventories_pass_check() {
    let blocks = yaml_blocks(&readme());
    assert_eq!(blocks.len(), 2, "README's yaml blocks: {blocks:#?}");
    let home = Home::new();
    // The annotated inventory names ~/.ssh/id_ed25519, which must be readable.
    std::fs::write(home.path().join(".ssh/id_ed25519"), "").unwrap();
    let host = "hosts:\n  cp1:\n    address: 10.0.0.11\n    roles: [control_plane]\n";
    for (i, text) in [blocks[0].clone(), format!("{}{host}", blocks[1])]
        .iter()
        .enumerate()
    {
        let path = home.path().join(format!("readme-{i}.yaml"));
        std::fs::write(&path, text).unwrap();
        let check = home.kubestrap(&["inventory", "check", "-i", s(&path)]);
        assert_eq!(
            check.code,
            0,
            "README's yaml block {}:\n{text}\n{}",
            i + 1,
            check.all()
        );
    }
}

/// The quick start's lab directory for this test: an inventory of node23..node25
/// (the lab's mirror and stand-in Kubernetes, the local Calico manifest) and the
/// lab's known_hosts.
fn readme_lab(lab: &Lab, dir: &Path) {
    let calico = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/calico/calico.yaml");
    let inventory = lab_cluster(
        lab,
        &HOSTS,
        "10.233.64.0/18",
        &format!("  calico:\n    manifest_file: {}\n", calico.display()),
    );
    std::fs::write(dir.join("inventory.yaml"), inventory).unwrap();
    std::fs::copy(lab.known_hosts(), dir.join("known_hosts")).unwrap();
}

/// A directory holding only `kubestrap` (this build's), for PATH.
pub(crate) fn kubestrap_on_path() -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_kubestrap"),
        bin.path().join("kubestrap"),
    )
    .unwrap();
    bin
}

/// Runs `text` with bash as README's reader would: `kubestrap` on PATH, the
/// clone as working directory, `home` as $HOME; bounded at 10 minutes.
pub(crate) fn sh(text: &str, home: &Path, bin: &Path) -> (i32, String, String) {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let child = Command::new("bash")
        .arg("-c")
        .arg(text)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", home)
        .env("PATH", path)
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash");
    let run = finish_within(child, Duration::from_secs(600), &format!("`{text}`"));
    (run.code, run.stdout, run.stderr)
}

#[test]
fn readme_commands_run_against_the_lab() {
    let lab = Lab::from_env();
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    readme_lab(&lab, dir.path());
    let bin = kubestrap_on_path();

    let text = readme();
    let mut ran = 0;
    for shown in shown_commands(&text) {
        let run = match plan(&shown.command) {
            Ok(Plan::Run(run)) => run,
            Ok(Plan::Skip(why)) => {
                eprintln!("README.md:{}: not run here: {why}", shown.line);
                continue;
            }
            Err(e) => panic!("README.md:{}: {e}", shown.line),
        };
        let real = run
            .replace("cargo run -q -- ", "kubestrap ")
            .replace(README_LAB, s(dir.path()));
        let expected = EXIT_CODES
            .iter()
            .find(|(c, _)| *c == shown.command)
            .map_or(0, |(_, code)| *code);
        // A console example shows stdout and stderr together, as a terminal does.
        let real = if shown.output.is_some() {
            format!("{real} 2>&1")
        } else {
            real
        };
        let (code, stdout, stderr) = sh(&real, home.path(), bin.path());
        eprintln!(
            "README.md:{}: $ {real}\n[exit {code}]\n{stdout}{stderr}",
            shown.line
        );
        assert_eq!(
            code, expected,
            "README.md:{}: `{}` exited {code}:\n{stdout}{stderr}",
            shown.line, shown.command
        );
        for want in PRINTS
            .iter()
            .filter(|(c, _)| *c == shown.command)
            .flat_map(|(_, w)| w.iter())
        {
            assert!(
                stdout.contains(want),
                "README.md:{}: `{}` does not print {want:?}",
                shown.line,
                shown.command
            );
        }
        if let Some(output) = &shown.output {
            assert_eq!(
                stdout.trim_end(),
                output.trim_end(),
                "README.md:{}: `{}` prints something else than README shows",
                shown.line,
                shown.command
            );
        }
        ran += 1;
    }
    assert!(ran >= 10, "only {ran} README commands ran");

    // What those commands left behind is what README says they leave.
    let kubeconfig = dir.path().join("admin.conf");
    let mode = std::fs::metadata(&kubeconfig).unwrap().permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );
    assert!(std::fs::read_to_string(&kubeconfig)
        .unwrap()
        .contains(&format!("server: https://{}:6443", lab.address("node23"))));
    let completion = home
        .path()
        .join(".local/share/bash-completion/completions/kubestrap");
    assert!(std::fs::read_to_string(completion)
        .unwrap()
        .contains("apply"));
    let man =
        std::fs::read_to_string(home.path().join(".local/share/man/man1/kubestrap.1")).unwrap();
    assert!(man.contains(".TH kubestrap 1") && man.contains("KUBESTRAP APPLY"));
    // bash-completion finds the script where README puts it (CI installs the
    // package), and man-db finds the page through ~/.local/bin on PATH.
    let (code, stdout, stderr) = sh(
        "unset XDG_DATA_HOME BASH_COMPLETION_USER_DIR; . /usr/share/bash-completion/bash_completion \
         && __load_completion kubestrap && complete -p kubestrap",
        home.path(),
        bin.path(),
    );
    assert_eq!(
        code, 0,
        "bash-completion did not load kubestrap's script:\n{stdout}{stderr}"
    );
    assert!(stdout.contains(" kubestrap"), "{stdout}");
    let (code, stdout, stderr) = sh(
        "unset MANPATH; PATH=$HOME/.local/bin:$PATH man -w kubestrap",
        home.path(),
        bin.path(),
    );
    assert_eq!(code, 0, "man -w kubestrap:\n{stdout}{stderr}");
    assert_eq!(
        stdout.trim(),
        s(&home.path().join(".local/share/man/man1/kubestrap.1"))
    );
    let (code, stdout, stderr) = sh(
        "MANPAGER=cat man -l ~/.local/share/man/man1/kubestrap.1",
        home.path(),
        bin.path(),
    );
    assert_eq!(code, 0, "man -l:\n{stdout}{stderr}");
    assert!(stdout.contains("kubestrap"), "{stdout}");
    assert_eq!(
        lab.sh_ok("node24", "cat /etc/motd"),
        "Lab host: ask the admins before changing it.\n"
    );
}

// ---------------------------------------------------------------- Vagrant

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn has(program: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// vagrant/inventory.sh's output for these environment variables.
fn vagrant_inventory(env: &[(&str, &str)]) -> String {
    let out = Command::new(repo().join("vagrant/inventory.sh"))
        .envs(env.iter().copied())
        .output()
        .expect("vagrant/inventory.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// (name, address) of every machine the Vagrantfile defines with these
/// settings, read by loading it with a stand-in for Vagrant's configuration.
fn vagrantfile_machines(env: &[(&str, &str)]) -> Vec<(String, String)> {
    const STUB: &str = r##"
class Rec
  def initialize(out, name = nil) @out = out; @name = name end
  def define(name, *_a, **_o) yield Rec.new(@out, name) end
  def network(_type, *_a, **o) @out << [@name, o[:ip]] if o[:ip] end
  def provider(*_a) yield Rec.new(@out, @name) if block_given? end
  def method_missing(*_a) self end
  def respond_to_missing?(*_a) true end
end
module Vagrant
  def self.configure(_v) yield Rec.new($machines) end
end
$machines = []
load ARGV.fetch(0)
$machines.each { |n, ip| puts "#{n} #{ip}" }
"##;
    let out = Command::new("ruby")
        .arg("-e")
        .arg(STUB)
        .arg(repo().join("vagrant/Vagrantfile"))
        .env("KUBESTRAP_SSH_PUBKEY", "/dev/null")
        .envs(env.iter().copied())
        .output()
        .expect("ruby");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (n, a) = l.split_once(' ').unwrap();
            (n.to_string(), a.to_string())
        })
        .collect()
}

/// (name, address, roles) of an inventory's hosts, as kubestrap resolves them.
fn inventory_hosts(home: &Home, path: &Path) -> Vec<(String, String, String)> {
    let show = home.kubestrap(&["inventory", "show", "-i", s(path), "--json"]);
    assert_eq!(show.code, 0, "{}", show.all());
    let json: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    json["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["name"].as_str().unwrap().to_string(),
                h["address"].as_str().unwrap().to_string(),
                h["roles"].to_string(),
            )
        })
        .collect()
}

const BIGGER: &[(&str, &str)] = &[
    ("KUBESTRAP_CONTROL_PLANES", "3"),
    ("KUBESTRAP_WORKERS", "4"),
];

#[test]
fn vagrant_inventory_is_the_generated_one_and_passes_check() {
    let committed = std::fs::read_to_string(repo().join("inventory/vagrant.yaml")).unwrap();
    assert_eq!(
        vagrant_inventory(&[]),
        committed,
        "inventory/vagrant.yaml is not what vagrant/inventory.sh prints: regenerate it"
    );
    let home = Home::new();
    let check = home.kubestrap(&[
        "inventory",
        "check",
        "-i",
        s(&repo().join("inventory/vagrant.yaml")),
    ]);
    assert_eq!(check.code, 0, "{}", check.all());
    assert!(
        check
            .stdout
            .contains("ok (3 hosts, 1 control plane, 2 workers)"),
        "{}",
        check.stdout
    );
    let bigger = home.path().join("vagrant-3-4.yaml");
    std::fs::write(&bigger, vagrant_inventory(BIGGER)).unwrap();
    let check = home.kubestrap(&["inventory", "check", "-i", s(&bigger)]);
    assert_eq!(check.code, 0, "{}", check.all());
    assert!(check
        .stdout
        .contains("ok (7 hosts, 3 control plane, 4 workers)"));
}

#[test]
fn vagrant_inventory_names_the_vagrantfile_machines() {
    assert!(
        has("ruby"),
        "ruby is not installed: this test needs it (.ci/run installs it)"
    );
    let home = Home::new();
    for env in [&[][..], BIGGER] {
        let path = home.path().join("vagrant.yaml");
        std::fs::write(&path, vagrant_inventory(env)).unwrap();
        let hosts = inventory_hosts(&home, &path);
        let machines = vagrantfile_machines(env);
        let from_inventory: Vec<(String, String)> = hosts
            .iter()
            .map(|(n, a, _)| (n.clone(), a.clone()))
            .collect();
        assert_eq!(from_inventory, machines, "{env:?}");
        for (name, _, roles) in hosts {
            let want = if name.starts_with("cp") {
                "control_plane"
            } else {
                "worker"
            };
            assert!(roles.contains(want), "{name}: {roles}");
        }
    }
}

#[test]
fn vagrantfile_passes_ruby_and_vagrant_validate() {
    for tool in ["ruby", "vagrant"] {
        assert!(
            has(tool),
            "{tool} is not installed: this test needs it (.ci/run installs it)"
        );
    }
    let out = Command::new(repo().join("vagrant/check.sh"))
        .output()
        .expect("vagrant/check.sh");
    assert!(
        out.status.success(),
        "vagrant/check.sh failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
