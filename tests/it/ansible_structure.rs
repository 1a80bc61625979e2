//! Roles, import_tasks and include_tasks on lab hosts, against ansible-playbook.
//!
//! One playbook, run by kubestrap on node93 and by the real
//! ansible-playbook on node94: a role with defaults (one overridden by the
//! inventory), vars, a parameter, a template and a file from its own
//! `templates/` and `files/`, a handler, and a dependency in
//! `meta/main.yml`; an `import_tasks` with vars and tags; an
//! `include_tasks` in a loop (and one nested in it); an `import_playbook`
//! whose play reads `include_vars` and a template beside it. Both hosts must end with the same files,
//! modes and owners; kubestrap's `--check` on a fresh host changes
//! nothing, and its re-run changes nothing.

use std::path::{Path, PathBuf};

use crate::ansible_vars::{files_in, run_ansible, write_tree};
use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home};

const KUBESTRAP_HOST: &str = "node93";
const ANSIBLE_HOST: &str = "node94";

const FILES: &[(&str, &str)] = &[
    (
        "play/site.yaml",
        r#"- name: structure
  hosts: all
  vars:
    greeting: from play
  pre_tasks:
    - name: the directory
      file:
        path: /srv/ks-struct
        state: directory
        mode: "0755"
  roles:
    - role: web
      vars:
        site_name: param site
  tasks:
    - import_tasks: tasks/extra.yml
      vars:
        extra_word: imported
      tags: extra
    - name: per user
      include_tasks: tasks/user.yml
      loop: [alice, bob]
      loop_control:
        loop_var: user
      vars:
        suffix: txt
    - name: never included
      include_tasks: tasks/user.yml
      when: false
- import_playbook: more/more.yaml
"#,
    ),
    (
        "play/more/more.yaml",
        r#"- name: imported playbook
  hosts: all
  gather_facts: false
  tasks:
    - include_vars:
        file: words.yml
        name: words
    - name: from the imported playbook's templates
      template:
        src: more.j2
        dest: /srv/ks-struct/more.txt
        mode: "0644"
"#,
    ),
    (
        "play/more/vars/words.yml",
        "first: one\nsecond: \"{{ 'tw' ~ 'o' }}\"\n",
    ),
    ("play/more/templates/more.j2", "{{ words.first }} {{ words.second }}\n"),
    (
        "play/tasks/user.yml",
        r#"- name: user file
  copy:
    dest: "/srv/ks-struct/user-{{ user }}.{{ suffix }}"
    content: "{{ user }}\n"
    mode: "0600"
- name: nested include, beside this file
  include_tasks: once.yml
  when: user == 'bob'
"#,
    ),
    (
        "play/tasks/once.yml",
        r#"- name: once
  copy:
    dest: /srv/ks-struct/once.txt
    content: "{{ user }} {{ suffix }}\n"
    mode: "0644"
"#,
    ),
    (
        "play/tasks/extra.yml",
        r#"- name: imported file
  copy:
    dest: /srv/ks-struct/extra.txt
    content: "{{ extra_word }} {{ web_mode }}\n"
    mode: "0600"
"#,
    ),
    ("play/roles/web/meta/main.yml", "dependencies:\n  - base\n"),
    (
        "play/roles/web/defaults/main.yml",
        "web_port: 8080\ngreeting: from defaults\n",
    ),
    ("play/roles/web/vars/main.yml", "web_mode: \"0640\"\n"),
    (
        "play/roles/web/tasks/main.yml",
        r#"- name: page from the role's templates
  template:
    src: page.j2
    dest: /srv/ks-struct/page.txt
    mode: "{{ web_mode }}"
  notify: web changed
- name: motd from the role's files
  copy:
    src: motd.txt
    dest: /srv/ks-struct/motd.txt
    mode: "0644"
"#,
    ),
    (
        "play/roles/web/templates/page.j2",
        "site={{ site_name }} port={{ web_port }} greeting={{ greeting }} word={{ overridden_word }} base={{ base_word }}\n",
    ),
    ("play/roles/web/files/motd.txt", "welcome\n"),
    (
        "play/roles/web/handlers/main.yml",
        r#"- name: web changed
  copy:
    dest: /srv/ks-struct/handled.txt
    content: "handled\n"
    mode: "0644"
"#,
    ),
    (
        "play/roles/base/defaults/main.yml",
        "base_word: base default\noverridden_word: default\n",
    ),
    (
        "play/roles/base/tasks/main.yml",
        r#"- name: base role
  copy:
    dest: /srv/ks-struct/base.txt
    content: "{{ base_word }}\n"
    mode: "0600"
"#,
    ),
];

/// Writes inventory and playbook for `host` into `dir`; returns (inventory, playbook).
fn layout(lab: &Lab, dir: &Path, host: &str) -> (PathBuf, PathBuf) {
    let more = "overridden_word: inventory\n";
    write_tree(lab, dir, host, more, FILES, "play/site.yaml")
}

/// Every file the play leaves: name, mode, owner, group, then its content.
fn end_state(lab: &Lab, host: &str) -> String {
    files_in(lab, host, "/srv/ks-struct")
}

/// The end state both tools must reach.
const WANT: &str = ". 755 root root
base.txt 600 root root
base default
extra.txt 600 root root
imported 0640
handled.txt 644 root root
handled
more.txt 644 root root
one two
motd.txt 644 root root
welcome
once.txt 644 root root
bob txt
page.txt 640 root root
site=param site port=8080 greeting=from play word=inventory base=base default
user-alice.txt 600 root root
alice
user-bob.txt 600 root root
bob
";

/// Changes of a first run: the directory, base, page, motd, extra, the
/// handler, the two users' files, once.txt and more.txt.
const FIRST_RUN_CHANGES: u32 = 10;

#[test]
fn roles_and_task_files_end_as_with_ansible() {
    let lab = Lab::from_env();
    let home = Home::new();
    for h in [KUBESTRAP_HOST, ANSIBLE_HOST] {
        lab.sh_ok(h, "rm -rf /srv/ks-struct");
    }

    let (inv, book) = layout(&lab, home.path(), KUBESTRAP_HOST);
    let kh = lab.known_hosts();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", s(&book), "-i", s(&inv), "--known-hosts", s(&kh)];
        args.extend_from_slice(extra);
        home.kubestrap(&args)
    };

    // --check on the fresh host: the changes predicted, nothing written.
    let check = run(&["--check"]);
    assert_eq!(check.code, 0, "{}", check.all());
    assert_eq!(
        changed(&check.stdout, KUBESTRAP_HOST),
        FIRST_RUN_CHANGES,
        "{}",
        check.stdout
    );
    assert_eq!(
        lab.sh_ok(
            KUBESTRAP_HOST,
            "test -e /srv/ks-struct && echo there || echo absent"
        ),
        "absent\n"
    );

    let first = run(&[]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(
        changed(&first.stdout, KUBESTRAP_HOST),
        FIRST_RUN_CHANGES,
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("RUNNING HANDLER [web changed]"),
        "{}",
        first.stdout
    );
    assert_eq!(end_state(&lab, KUBESTRAP_HOST), WANT);

    let again = run(&[]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        changed(&again.stdout, KUBESTRAP_HOST),
        0,
        "{}",
        again.stdout
    );
    assert_eq!(end_state(&lab, KUBESTRAP_HOST), WANT);

    // ansible-playbook, same playbook, on its own host.
    let ansible_dir = tempfile::tempdir().unwrap();
    let (inv, book) = layout(&lab, ansible_dir.path(), ANSIBLE_HOST);
    let shown = run_ansible(&home, &[s(&book), "-i", s(&inv)]);
    assert_eq!(changed(&shown, ANSIBLE_HOST), FIRST_RUN_CHANGES, "{shown}");
    assert_eq!(end_state(&lab, ANSIBLE_HOST), WANT);
}
