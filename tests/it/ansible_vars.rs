//! Ansible's variable sources on lab hosts, against ansible-playbook: group_vars/, host_vars/, hostvars, templated play keywords.
//!
//! One inventory and playbook layout is written twice, for two pairs of
//! hosts: kubestrap runs it on node62 and node63, the real ansible-playbook
//! (ansible-core, as .ci/run installs it) on node64 and node58. Both pairs
//! must end with the file the layout's precedence rules predict, and a
//! second kubestrap run changes nothing in one SSH command per host
//! (set_fact, assert and debug cost none).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home};

/// (control plane, worker) each tool runs on.
const KUBESTRAP_PAIR: (&str, &str) = ("node62", "node63");
const ANSIBLE_PAIR: (&str, &str) = ("node64", "node58");

/// Where .ci/run installs ansible-core.
const CI_ANSIBLE_BIN: &str = "/var/cache/kubestrap-ci/ansible/bin";

/// The playbook: every keyword but `tasks` is a template, resolved from
/// play vars (one through another) and extra vars; the file written shows
/// which layer each variable came from.
const PLAYBOOK: &str = r#"- name: "vars for {{ target }}"
  hosts: "{{ target }}"
  gather_facts: "{{ want_facts | bool }}"
  become: "{{ use_sudo }}"
  any_errors_fatal: "{{ fatal_word }}"
  vars:
    target: "{{ group_word }}"
    group_word: k8s_cluster
    want_facts: "yes"
    fatal_word: "no"
  tasks:
    - name: a fact
      set_fact:
        summary: "{{ greeting }}/{{ role_word }}"
    - name: the vars hold
      assert:
        that:
          - summary is defined
          - role_word in ['control-plane', 'worker']
        success_msg: vars hold
    - name: say it
      debug:
        msg: "summary {{ summary }}"
      register: said
    - name: each
      debug:
        var: item
      loop: [a]
    - name: the directory
      file:
        path: /srv/ks-vars
        state: directory
        mode: "0755"
    - name: what the host sees
      copy:
        dest: /srv/ks-vars/seen.txt
        mode: "0644"
        content: |
          greeting={{ greeting }}
          role={{ role_word }}
          only_worker={{ only_worker | default('unset') }}
          cp_address={{ hostvars[groups['kube_control_plane'][0]].ansible_host }}
          worker_user={{ hostvars[groups['kube_node'][0]].ansible_user }}
          groups={{ group_names | join(',') }}
          summary={{ summary }}
          worker_summary={{ hostvars[groups['kube_node'][0]].summary }}
          worker_said={{ hostvars[groups['kube_node'][0]].said.msg }}
"#;

/// Writes the layout for `pair` into `dir`: inventory in inv/, playbook in
/// play/; returns (inventory, playbook).
fn layout(lab: &Lab, dir: &Path, (cp, worker): (&str, &str)) -> (PathBuf, PathBuf) {
    let files: Vec<(String, String)> = vec![
        (
            "inv/hosts.ini".into(),
            format!(
                "[kube_control_plane]\n{cp}\n[kube_node]\n{worker}\n\
                 [k8s_cluster:children]\nkube_control_plane\nkube_node\n\
                 [all:vars]\ngreeting=from-the-inventory-file\n"
            ),
        ),
        (
            "inv/group_vars/all.yml".into(),
            format!(
                "ansible_user: root\nansible_ssh_private_key_file: {}\n\
                 ansible_ssh_common_args: -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\n\
                 greeting: from-inventory-group_vars-all\nrole_word: node\n",
                lab.key().display(),
                lab.known_hosts().display()
            ),
        ),
        (
            "inv/group_vars/kube_control_plane/main.yml".into(),
            "role_word: control-plane\n".into(),
        ),
        (
            format!("inv/host_vars/{cp}.yml"),
            format!("ansible_host: {}\n", lab.address(cp)),
        ),
        (
            format!("inv/host_vars/{worker}"),
            format!("ansible_host: {}\n", lab.address(worker)),
        ),
        ("play/site.yaml".into(), PLAYBOOK.into()),
        (
            "play/group_vars/all.yml".into(),
            "greeting: from-playbook-group_vars-all\n".into(),
        ),
        (
            "play/group_vars/kube_node.yml".into(),
            "role_word: worker\n".into(),
        ),
        (
            format!("play/host_vars/{worker}.yml"),
            "only_worker: yes-from-playbook-host_vars\n".into(),
        ),
    ];
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    (dir.join("inv/hosts.ini"), dir.join("play/site.yaml"))
}

/// The file each host of `pair` must end with, by Ansible's precedence.
fn expected(lab: &Lab, (cp, worker): (&str, &str)) -> Vec<(String, String)> {
    [
        (cp, "control-plane", "unset", "kube_control_plane"),
        (worker, "worker", "yes-from-playbook-host_vars", "kube_node"),
    ]
    .into_iter()
    .map(|(host, role, only, group)| {
        let mut t = String::new();
        writeln!(t, "greeting=from-playbook-group_vars-all").unwrap();
        writeln!(t, "role={role}").unwrap();
        writeln!(t, "only_worker={only}").unwrap();
        writeln!(t, "cp_address={}", lab.address(cp)).unwrap();
        writeln!(t, "worker_user=root").unwrap();
        // group_names is sorted.
        writeln!(t, "groups=k8s_cluster,{group}").unwrap();
        writeln!(t, "summary=from-playbook-group_vars-all/{role}").unwrap();
        writeln!(t, "worker_summary=from-playbook-group_vars-all/worker").unwrap();
        writeln!(t, "worker_said=summary from-playbook-group_vars-all/worker").unwrap();
        (host.to_string(), t)
    })
    .collect()
}

/// What the host ended with: the file and its mode and owner.
fn end_state(lab: &Lab, host: &str) -> String {
    lab.sh_ok(
        host,
        "cat /srv/ks-vars/seen.txt; stat -c '%a %U %G' /srv/ks-vars /srv/ks-vars/seen.txt",
    )
}

fn want_state(text: &str) -> String {
    format!("{text}755 root root\n644 root root\n")
}

/// An ansible-core tool (`ansible-playbook`, `ansible`): beside
/// $ANSIBLE_INVENTORY_BIN, else on $PATH, else .ci/run's.
fn ansible_tool(tool: &str) -> PathBuf {
    let beside = std::env::var_os("ANSIBLE_INVENTORY_BIN")
        .and_then(|b| Some(PathBuf::from(b).parent()?.join(tool)));
    let on_path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(tool))
        .collect::<Vec<_>>();
    beside
        .into_iter()
        .chain(on_path)
        .chain([Path::new(CI_ANSIBLE_BIN).join(tool)])
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("{tool} not found: install ansible-core as .ci/run does, or set ANSIBLE_INVENTORY_BIN")
        })
}

/// Run an ansible-core `tool` with `args` (at most 300 s), its HOME in
/// `home`, colours off; whatever its exit status.
pub fn ansible_output(home: &Home, tool: &str, args: &[&str]) -> std::process::Output {
    Command::new("timeout")
        .arg("300")
        .arg(ansible_tool(tool))
        .args(args)
        .env("HOME", home.path())
        .env("ANSIBLE_LOCAL_TEMP", home.path().join(".ansible-tmp"))
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("running {tool}: {e}"))
}

/// Run ansible-playbook with `args` (at most 300 s), its HOME in `home`;
/// it must succeed. Its output, stdout then stderr.
pub fn run_ansible(home: &Home, args: &[&str]) -> String {
    let out = ansible_output(home, "ansible-playbook", args);
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "ansible-playbook failed:\n{shown}");
    shown
}

/// Write a playbook tree for ansible-playbook and kubestrap alike into
/// `dir`: an INI inventory with `host` in kube_control_plane, group_vars
/// saying how to reach it (plus `more_vars`), and `files` (path, text).
/// Returns (inventory, `playbook`).
pub fn write_tree(
    lab: &Lab,
    dir: &Path,
    host: &str,
    more_vars: &str,
    files: &[(&str, &str)],
    playbook: &str,
) -> (PathBuf, PathBuf) {
    let connection = format!(
        "ansible_host: {}\nansible_user: root\nansible_ssh_private_key_file: {}\n\
         ansible_ssh_common_args: -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\n{more_vars}",
        lab.address(host),
        lab.key().display(),
        lab.known_hosts().display()
    );
    let inventory = format!("[kube_control_plane]\n{host}\n");
    let fixed = [
        ("inv/hosts.ini", inventory.as_str()),
        ("inv/group_vars/all.yml", connection.as_str()),
    ];
    for (path, text) in fixed.iter().chain(files) {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    (dir.join("inv/hosts.ini"), dir.join(playbook))
}

/// Every file in directory `dir` of `host`: name, mode, owner, group,
/// then its content.
pub fn files_in(lab: &Lab, host: &str, dir: &str) -> String {
    lab.sh_ok(
        host,
        &format!(
            "cd {dir} && stat -c '%n %a %U %G' . && for f in $(ls -A | sort); do stat -c '%n %a %U %G' $f; cat $f; done"
        ),
    )
}

fn clean(lab: &Lab, hosts: (&str, &str)) {
    for h in [hosts.0, hosts.1] {
        lab.sh_ok(h, "rm -rf /srv/ks-vars");
    }
}

#[test]
fn group_vars_host_vars_hostvars_and_templated_keywords_end_as_with_ansible() {
    let lab = Lab::from_env();
    let home = Home::new();

    // kubestrap, twice.
    clean(&lab, KUBESTRAP_PAIR);
    let (inv, book) = layout(&lab, home.path(), KUBESTRAP_PAIR);
    let kh = lab.known_hosts();
    let report = home.path().join("report.json");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            s(&book),
            "-i",
            s(&inv),
            "--known-hosts",
            s(&kh),
            "-e",
            "use_sudo=false",
        ];
        args.extend_from_slice(extra);
        home.kubestrap(&args)
    };
    let first = run(&[]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert!(
        first.stdout.contains("PLAY [vars for k8s_cluster]"),
        "{}",
        first.stdout
    );
    let said = format!(
        "ok: [{}] => {{\n    \"msg\": \"summary from-playbook-group_vars-all/worker\"\n}}",
        KUBESTRAP_PAIR.1
    );
    assert!(first.stdout.contains(&said), "{}", first.stdout);
    let item = format!(
        "ok: [{}] => (item=a) => {{\n    \"item\": \"a\"\n}}",
        KUBESTRAP_PAIR.0
    );
    assert!(first.stdout.contains(&item), "{}", first.stdout);
    assert!(
        first.stdout.contains("\"msg\": \"vars hold\""),
        "{}",
        first.stdout
    );
    for (host, text) in expected(&lab, KUBESTRAP_PAIR) {
        assert_eq!(
            end_state(&lab, &host),
            want_state(&text),
            "kubestrap on {host}"
        );
        assert_eq!(changed(&first.stdout, &host), 2, "{}", first.stdout);
    }
    let again = run(&["--report", s(&report)]);
    assert_eq!(again.code, 0, "{}", again.all());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for h in [KUBESTRAP_PAIR.0, KUBESTRAP_PAIR.1] {
        assert_eq!(changed(&again.stdout, h), 0, "{}", again.stdout);
        assert_eq!(
            json["stats"][h]["ssh_execs"], 1,
            "re-run on {h}: {}",
            json["stats"]
        );
    }

    // ansible-playbook on its own pair, same layout.
    clean(&lab, ANSIBLE_PAIR);
    let ansible_dir = tempfile::tempdir().unwrap();
    let (inv, book) = layout(&lab, ansible_dir.path(), ANSIBLE_PAIR);
    let shown = run_ansible(&home, &[s(&book), "-i", s(&inv), "-e", "use_sudo=false"]);
    assert!(shown.contains("PLAY [vars for k8s_cluster]"), "{shown}");
    for (host, text) in expected(&lab, ANSIBLE_PAIR) {
        assert_eq!(
            end_state(&lab, &host),
            want_state(&text),
            "ansible on {host}"
        );
    }
}
