//! stat, ping, slurp, blockinfile and package on lab hosts, against ansible-playbook: same playbook, same end state.
//!
//! kubestrap runs the playbook on node91, the real ansible-playbook on
//! node92. Both hosts must end with the same files (content hashes, modes,
//! owners). On a fresh node91, `--check` predicts the changed count the run
//! then reports, and a second run changes nothing in one SSH command (the
//! stat answers come from the play's one fact gathering).
//!
//! The `package` task runs under kubestrap only: Ansible's apt backend
//! needs python3-apt on the host, which the lab's offline repository does
//! not carry.

use std::path::{Path, PathBuf};

use crate::ansible_vars::run_ansible;
use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home};

const KUBESTRAP_HOST: &str = "node91";
const ANSIBLE_HOST: &str = "node92";

/// A stat-driven playbook: the stat of a file written earlier in the run,
/// of a missing one, a ping, two blocks in an existing config file (one
/// only when the stat says the file is there), and an installed package.
const PLAYBOOK: &str = r#"- name: modules
  hosts: all
  tasks:
    - name: the directory
      file:
        path: /srv/ks-mod
        state: directory
        mode: "0755"
    - name: a file to look at
      copy:
        dest: /srv/ks-mod/stable.txt
        content: "stable\n"
        mode: "0640"
        owner: root
        group: root
    - name: a config file, written once
      copy:
        dest: /srv/ks-mod/app.conf
        content: "[main]\nport=80\n[other]\nx=1\n"
        force: false
    - name: look at it
      stat:
        path: /srv/ks-mod/stable.txt
      register: st
    - name: look at what is not there
      ansible.builtin.stat:
        path: /srv/ks-mod/nothing
        get_checksum: false
      register: gone
    - name: is it there
      ping:
      register: pong
    - name: read it
      slurp:
        src: /srv/ks-mod/stable.txt
      register: slurped
    - name: a block after [main]
      blockinfile:
        path: /srv/ks-mod/app.conf
        insertafter: '^\[main\]'
        block: |
          workers=4
          owner={{ st.stat.pw_name }}
        mode: "0600"
      when: st.stat.exists and st.stat.isreg
    - name: a block before [other], its own markers
      blockinfile:
        path: /srv/ks-mod/app.conf
        marker: "; {mark} second"
        marker_begin: START
        marker_end: STOP
        insertbefore: '^\[other\]'
        block: "y=2"
    - name: what the stats said
      copy:
        dest: /srv/ks-mod/seen.txt
        mode: "0644"
        content: |
          exists={{ 'yes' if st.stat.exists else 'no' }}
          isreg={{ 'yes' if st.stat.isreg else 'no' }}
          isdir={{ 'yes' if st.stat.isdir else 'no' }}
          mode={{ st.stat.mode }}
          owner={{ st.stat.pw_name }}:{{ st.stat.gr_name }}
          size={{ st.stat.size }}
          checksum={{ st.stat.checksum }}
          nothing={{ 'yes' if gone.stat.exists else 'no' }}
          ping={{ pong.ping }}
          slurped={{ slurped.content | b64decode | trim }} ({{ slurped.encoding }})
    - name: never, since nothing is there
      file:
        path: /srv/ks-mod/never
        state: touch
      when: gone.stat.exists
    - name: already installed
      package:
        name: openssh-server
        state: present
      when: with_package | bool
"#;

/// Writes an inventory of `host` alone and the playbook `book_text` into
/// `dir`; returns (inventory, playbook).
pub fn layout(lab: &Lab, dir: &Path, host: &str, book_text: &str) -> (PathBuf, PathBuf) {
    let inv = dir.join("hosts.ini");
    std::fs::write(
        &inv,
        format!(
            "[kube_control_plane]\n{host} ansible_host={} ansible_user=root ansible_ssh_private_key_file={} \
             ansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes'\n",
            lab.address(host),
            lab.key().display(),
            lab.known_hosts().display()
        ),
    )
    .unwrap();
    let book = dir.join("site.yaml");
    std::fs::write(&book, book_text).unwrap();
    (inv, book)
}

/// The files' hashes, modes and owners.
fn end_state(lab: &Lab, host: &str) -> String {
    lab.sh_ok(
        host,
        "cd /srv/ks-mod && sha256sum * && stat -c '%n %a %U %G' . * && cat app.conf seen.txt",
    )
}

#[test]
fn stat_ping_slurp_blockinfile_and_package_end_as_with_ansible() {
    let lab = Lab::from_env();
    let home = Home::new();
    for h in [KUBESTRAP_HOST, ANSIBLE_HOST] {
        lab.sh_ok(h, "rm -rf /srv/ks-mod");
    }

    let (inv, book) = layout(&lab, home.path(), KUBESTRAP_HOST, PLAYBOOK);
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
            "with_package=true",
        ];
        args.extend_from_slice(extra);
        home.kubestrap(&args)
    };
    let check = run(&["--check"]);
    assert_eq!(check.code, 0, "{}", check.all());
    let predicted = changed(&check.stdout, KUBESTRAP_HOST);
    assert_eq!(
        lab.sh_ok(
            KUBESTRAP_HOST,
            "test -e /srv/ks-mod && echo there || echo absent"
        ),
        "absent\n",
        "--check wrote nothing"
    );
    let first = run(&[]);
    assert_eq!(first.code, 0, "{}", first.all());
    // directory, two copies, two blocks, seen.txt.
    assert_eq!(
        changed(&first.stdout, KUBESTRAP_HOST),
        6,
        "{}",
        first.stdout
    );
    assert_eq!(predicted, 6, "--check predicted:\n{}", check.stdout);
    let again = run(&["--report", s(&report)]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        changed(&again.stdout, KUBESTRAP_HOST),
        0,
        "{}",
        again.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        json["stats"][KUBESTRAP_HOST]["ssh_execs"], 1,
        "re-run: {}",
        json["stats"]
    );
    let ours = end_state(&lab, KUBESTRAP_HOST);
    let sha1 = "checksum=40f1141f7647ce9adb18c4b4c990a539c5e59a49";
    assert!(
        ours.contains("owner=root\n") && ours.contains("mode=0640\n"),
        "{ours}"
    );
    assert!(
        ours.contains("ping=pong\n") && ours.contains("nothing=no\n"),
        "{ours}"
    );
    assert!(ours.contains(sha1), "{ours}");
    assert!(ours.contains("slurped=stable (base64)\n"), "{ours}");

    let ansible_dir = tempfile::tempdir().unwrap();
    let (inv, book) = layout(&lab, ansible_dir.path(), ANSIBLE_HOST, PLAYBOOK);
    let shown = run_ansible(
        &home,
        &[s(&book), "-i", s(&inv), "-e", "with_package=false"],
    );
    assert!(shown.contains("changed=6"), "{shown}");
    assert_eq!(ours, end_state(&lab, ANSIBLE_HOST), "kubestrap vs ansible");
}
