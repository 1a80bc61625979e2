//! The playbook corpus (tests/corpus/) under kubestrap and ansible-playbook: same end state.
//!
//! Each playbook runs on fresh hosts: kubestrap's `--check` first (it must
//! change nothing and predict the real run's changed count per host), then
//! kubestrap for real on node103/node104, again (changed=0 everywhere, one
//! SSH command per host unless the playbook runs commands), and
//! the real ansible-playbook on node105/node106. Both pairs are called web1
//! and web2 in their inventories, so the end states can be compared file by
//! file: every path under /srv/corpus/NN with its type, mode, owner, group
//! and SHA-256, what the playbook's `state.sh` prints, and the files it
//! left on the controller under `ctl_dir`. Both tools must also report the
//! same changed count per host.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::ansible_vars::run_ansible;
use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home};

/// (inventory name, lab host) for kubestrap's pair and ansible-playbook's.
const KUBESTRAP: [(&str, &str); 2] = [("web1", "node103"), ("web2", "node104")];
const ANSIBLE: [(&str, &str); 2] = [("web1", "node105"), ("web2", "node106")];

/// The corpus directory of playbook `name` (e.g. `01-role`).
fn corpus_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name)
}

/// Copies `from` into `to`, recursively.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// One tool's run directory: the playbook's copy, its inventory and its
/// controller-side directory.
struct Staged {
    _dir: tempfile::TempDir,
    book: PathBuf,
    inventory: PathBuf,
    ctl: PathBuf,
}

/// Stages playbook `name` for `pair`: play/ (the corpus directory), inv/
/// (hosts.ini naming web1 and web2, connection variables in its
/// group_vars/all.yml) and ctl/ (empty).
fn stage(lab: &Lab, name: &str, pair: [(&str, &str); 2]) -> Staged {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&corpus_dir(name), &dir.path().join("play"));
    let mut hosts = String::from("[web]\n");
    for (alias, node) in pair {
        hosts += &format!("{alias} ansible_host={}\n", lab.address(node));
    }
    let inv = dir.path().join("inv");
    std::fs::create_dir_all(inv.join("group_vars")).unwrap();
    std::fs::write(inv.join("hosts.ini"), hosts).unwrap();
    std::fs::write(
        inv.join("group_vars/all.yml"),
        format!(
            "ansible_user: root\nansible_ssh_private_key_file: {}\n\
             ansible_ssh_common_args: -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\n",
            lab.key().display(),
            lab.known_hosts().display()
        ),
    )
    .unwrap();
    let ctl = dir.path().join("ctl");
    std::fs::create_dir(&ctl).unwrap();
    Staged {
        book: dir.path().join("play/site.yml"),
        inventory: inv.join("hosts.ini"),
        ctl,
        _dir: dir,
    }
}

/// Lists every path under `dir` (relative) with its type, mode, owner,
/// group and, for a regular file, its SHA-256; sorted. Shell for a host or
/// the controller.
fn tree_script(dir: &str) -> String {
    format!(
        "cd {dir} 2>/dev/null || {{ echo '(no {dir})'; exit 0; }}; \
         find . -printf '%p %y %m %u %g\\n' | sort; \
         find . -type f -print0 | sort -z | xargs -0 -r sha256sum"
    )
}

/// What playbook `name` left on lab host `node`.
fn host_state(lab: &Lab, name: &str, node: &str) -> String {
    let num = &name[..2];
    let mut state = lab.sh_ok(node, &tree_script(&format!("/srv/corpus/{num}")));
    let extra = corpus_dir(name).join("state.sh");
    if extra.is_file() {
        state += &lab.sh_ok(node, &std::fs::read_to_string(extra).unwrap());
    }
    state
}

/// What a run left in the controller-side directory `ctl`.
fn controller_state(ctl: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg(tree_script(s(ctl)))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Takes away whatever playbook `name` manages on `node`.
fn make_fresh(lab: &Lab, name: &str, node: &str) {
    let num = &name[..2];
    lab.sh_ok(node, &format!("rm -rf /srv/corpus/{num}"));
    let fresh = corpus_dir(name).join("fresh.sh");
    if fresh.is_file() {
        lab.sh_ok(node, &std::fs::read_to_string(fresh).unwrap());
    }
}

/// Runs playbook `name` through both tools and compares; see the module
/// docs. `rerun_ssh`: the SSH commands kubestrap's re-run sends each host —
/// 1, the fact gathering, unless the playbook runs commands (each one runs,
/// and after it the host is read again for what later tasks look at).
fn corpus(name: &str, rerun_ssh: u64) {
    let lab = Lab::from_env();
    let home = Home::new();
    for (_, node) in KUBESTRAP.iter().chain(&ANSIBLE) {
        make_fresh(&lab, name, node);
    }
    let fresh: Vec<String> = KUBESTRAP
        .iter()
        .map(|(_, node)| host_state(&lab, name, node))
        .collect();

    let ks = stage(&lab, name, KUBESTRAP);
    let ctl_var = format!("ctl_dir={}", ks.ctl.display());
    let kh = lab.known_hosts();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            s(&ks.book),
            "-i",
            s(&ks.inventory),
            "--known-hosts",
            s(&kh),
            "-e",
            &ctl_var,
        ];
        args.extend_from_slice(extra);
        home.kubestrap(&args)
    };

    // --check: nothing changes, on the hosts nor on the controller.
    let check = run(&["--check"]);
    assert_eq!(check.code, 0, "{name} --check:\n{}", check.all());
    for ((_, node), before) in KUBESTRAP.iter().zip(&fresh) {
        assert_eq!(
            &host_state(&lab, name, node),
            before,
            "{name}: --check changed {node}"
        );
    }
    assert_eq!(
        controller_state(&ks.ctl),
        ". d 755 root root\n",
        "{name}: --check wrote on the controller"
    );

    // The real run: the changes --check predicted.
    let first = run(&[]);
    assert_eq!(first.code, 0, "{name}:\n{}", first.all());
    for (alias, _) in KUBESTRAP {
        assert_eq!(
            changed(&first.stdout, alias),
            changed(&check.stdout, alias),
            "{name}: --check predicted another changed count for {alias}\n--check:\n{}\nrun:\n{}",
            check.stdout,
            first.stdout
        );
    }

    // Again: nothing changes.
    let report = home.path().join("again.json");
    let again = run(&["--report", s(&report)]);
    assert_eq!(again.code, 0, "{name} again:\n{}", again.all());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for (alias, _) in KUBESTRAP {
        assert_eq!(
            changed(&again.stdout, alias),
            0,
            "{name}: the re-run changed {alias}\n{}",
            again.stdout
        );
        assert_eq!(
            json["stats"][alias]["ssh_execs"], rerun_ssh,
            "{name}: SSH commands of the re-run on {alias}"
        );
    }

    // ansible-playbook on its own pair: the same changes, the same end.
    let an = stage(&lab, name, ANSIBLE);
    let ctl_var = format!("ctl_dir={}", an.ctl.display());
    let shown = run_ansible(
        &home,
        &[s(&an.book), "-i", s(&an.inventory), "-e", &ctl_var],
    );
    for ((alias, ks_node), (_, an_node)) in KUBESTRAP.iter().zip(&ANSIBLE) {
        assert_eq!(
            changed(&first.stdout, alias),
            changed(&shown, alias),
            "{name}: changed count of {alias}\nkubestrap:\n{}\nansible-playbook:\n{shown}",
            first.stdout
        );
        assert_eq!(
            host_state(&lab, name, ks_node),
            host_state(&lab, name, an_node),
            "{name}: {alias} ends differently (left: kubestrap on {ks_node}, right: ansible-playbook on {an_node})"
        );
    }
    assert_eq!(
        controller_state(&ks.ctl),
        controller_state(&an.ctl),
        "{name}: the controller-side files differ (left: kubestrap, right: ansible-playbook)"
    );
}

#[test]
fn block_rescue_always_around_a_failing_probe() {
    corpus("02-rescue", 4);
}

#[test]
fn stat_set_fact_assert_and_stat_driven_when() {
    corpus("04-facts", 1);
}

#[test]
fn until_retries_with_environment() {
    corpus("05-until", 2);
}

#[test]
fn lineinfile_replace_blockinfile_on_an_existing_config() {
    corpus("07-edit", 1);
}

#[test]
fn group_vars_host_vars_and_hostvars_of_other_hosts() {
    corpus("08-hostvars", 1);
}

#[test]
fn role_with_defaults_vars_handlers_and_a_dependency() {
    corpus("01-role", 1);
}

#[test]
fn import_tasks_and_include_tasks_in_a_loop() {
    corpus("03-include", 1);
}

#[test]
fn serial_delegate_to_localhost_and_run_once() {
    corpus("06-delegate", 1);
}
