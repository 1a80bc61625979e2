//! Execution keywords on lab hosts, against ansible-playbook: delegate_to localhost, run_once, serial, meta, loop_control, with_dict.
//!
//! One playbook, run by kubestrap on node95 and node96 and by the real
//! ansible-playbook on node97 and node98, `serial: 1`: each host in its own
//! batch. Tasks delegated to localhost write files on the controller (one
//! per host, and one per batch with `run_once`), a delegated `stat` reads
//! the controller, `with_dict` and `loop_control` (`loop_var`, `index_var`,
//! `label`) write files on the hosts, and `meta: flush_handlers` runs a
//! handler before the task that looks for its file. Both pairs must end
//! with the same files on the hosts and on the controller; kubestrap's
//! re-run changes nothing.

use std::path::{Path, PathBuf};

use crate::ansible_vars::run_ansible;
use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home};

const KUBESTRAP_PAIR: (&str, &str) = ("node95", "node96");
const ANSIBLE_PAIR: (&str, &str) = ("node97", "node98");

const PLAYBOOK: &str = r#"- name: exec keywords
  hosts: all
  serial: 1
  vars:
    users:
      alice: 1001
      bob: 1002
  tasks:
    - name: the directory
      file:
        path: /srv/ks-exec
        state: directory
        mode: "0755"
    - name: one file per user
      copy:
        dest: "/srv/ks-exec/{{ item.key }}.txt"
        content: "{{ item.key }}={{ item.value }}\n"
        mode: "0644"
      with_dict: "{{ users }}"
      notify: summary
    - meta: flush_handlers
    - name: the handler's file
      stat:
        path: /srv/ks-exec/summary.txt
      register: summary
    - name: seen after the flush
      copy:
        dest: /srv/ks-exec/seen.txt
        content: "{{ 'handled' if summary.stat.exists else 'not yet' }}\n"
        mode: "0644"
    - name: numbered lines
      copy:
        dest: "/srv/ks-exec/line{{ idx }}.txt"
        content: "{{ idx }}:{{ thing }}\n"
        mode: "0600"
      loop: [a, b, c]
      loop_control:
        loop_var: thing
        index_var: idx
        label: "line {{ idx }}"
    - name: a note on the controller
      copy:
        dest: "{{ out_dir }}/{{ slot }}.txt"
        content: "slot={{ slot }} users={{ users | length }}\n"
        mode: "0644"
      delegate_to: localhost
    - name: one per batch
      copy:
        dest: "{{ out_dir }}/batch-{{ slot }}.txt"
        content: "first of its batch: {{ slot }}\n"
        mode: "0644"
      delegate_to: localhost
      run_once: true
    - name: the note, seen from the controller
      stat:
        path: "{{ out_dir }}/{{ slot }}.txt"
      delegate_to: localhost
      register: note
    - name: what the controller has
      copy:
        dest: /srv/ks-exec/note.txt
        content: "{{ 'noted' if note.stat.exists else 'missing' }}\n"
        mode: "0644"
  handlers:
    - name: summary
      copy:
        dest: /srv/ks-exec/summary.txt
        content: "users done\n"
        mode: "0644"
"#;

/// Writes inventory and playbook for `pair` into `dir`; returns (inventory, playbook).
fn layout(lab: &Lab, dir: &Path, pair: (&str, &str)) -> (PathBuf, PathBuf) {
    let host =
        |name: &str, slot: &str| format!("{name} ansible_host={} slot={slot}\n", lab.address(name));
    let files = [
        (
            "inv/hosts.ini",
            format!(
                "[kube_control_plane]\n{}{}",
                host(pair.0, "one"),
                host(pair.1, "two")
            ),
        ),
        (
            "inv/group_vars/all.yml",
            format!(
                "ansible_user: root\nansible_ssh_private_key_file: {}\n\
                 ansible_ssh_common_args: -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes\n",
                lab.key().display(),
                lab.known_hosts().display()
            ),
        ),
        ("play/site.yaml", PLAYBOOK.to_string()),
    ];
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    (dir.join("inv/hosts.ini"), dir.join("play/site.yaml"))
}

/// Every file the play leaves on `host`: name, mode, owner, then content.
fn end_state(lab: &Lab, host: &str) -> String {
    lab.sh_ok(
        host,
        "cd /srv/ks-exec && stat -c '%n %a %U' . && for f in $(ls -A | sort); do stat -c '%n %a %U' $f; cat $f; done",
    )
}

const HOST_STATE: &str = ". 755 root
alice.txt 644 root
alice=1001
bob.txt 644 root
bob=1002
line0.txt 600 root
0:a
line1.txt 600 root
1:b
line2.txt 600 root
2:c
note.txt 644 root
noted
seen.txt 644 root
handled
summary.txt 644 root
users done
";

/// The controller-side files in `dir`, with their modes and content.
fn controller_state(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = String::new();
    for n in names {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(&n);
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o7777;
        out.push_str(&format!(
            "{n} {mode:o}\n{}",
            std::fs::read_to_string(&p).unwrap()
        ));
    }
    out
}

const CONTROLLER_STATE: &str = "batch-one.txt 644
first of its batch: one
batch-two.txt 644
first of its batch: two
one.txt 644
slot=one users=2
two.txt 644
slot=two users=2
";

#[test]
fn delegate_to_serial_meta_and_loops_end_as_with_ansible() {
    let lab = Lab::from_env();
    let home = Home::new();
    for h in [
        KUBESTRAP_PAIR.0,
        KUBESTRAP_PAIR.1,
        ANSIBLE_PAIR.0,
        ANSIBLE_PAIR.1,
    ] {
        lab.sh_ok(h, "rm -rf /srv/ks-exec");
    }

    let (inv, book) = layout(&lab, home.path(), KUBESTRAP_PAIR);
    let out_dir = tempfile::tempdir().unwrap();
    let out = format!("out_dir={}", out_dir.path().display());
    let kh = lab.known_hosts();
    let run = || {
        home.kubestrap(&[
            "run",
            s(&book),
            "-i",
            s(&inv),
            "--known-hosts",
            s(&kh),
            "-e",
            &out,
        ])
    };
    let first = run();
    assert_eq!(first.code, 0, "{}", first.all());
    // serial: 1 — the play's tasks run for one host, then for the other.
    assert_eq!(
        first.stdout.matches("TASK [the directory]").count(),
        2,
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("(item=line 1)"),
        "the label is shown: {}",
        first.stdout
    );
    // Per host, by task: the directory, the users, the handler, seen.txt,
    // the lines, the controller note, the batch file (each host is first
    // of its batch), note.txt.
    for h in [KUBESTRAP_PAIR.0, KUBESTRAP_PAIR.1] {
        assert_eq!(changed(&first.stdout, h), 8, "{h}: {}", first.stdout);
        assert_eq!(end_state(&lab, h), HOST_STATE, "{h}");
    }
    assert_eq!(controller_state(out_dir.path()), CONTROLLER_STATE);

    let again = run();
    assert_eq!(again.code, 0, "{}", again.all());
    for h in [KUBESTRAP_PAIR.0, KUBESTRAP_PAIR.1] {
        assert_eq!(changed(&again.stdout, h), 0, "{h}: {}", again.stdout);
    }
    assert_eq!(controller_state(out_dir.path()), CONTROLLER_STATE);

    // ansible-playbook, the same playbook, on its own pair.
    let ansible_dir = tempfile::tempdir().unwrap();
    let ansible_out = tempfile::tempdir().unwrap();
    let (inv, book) = layout(&lab, ansible_dir.path(), ANSIBLE_PAIR);
    let out = format!("out_dir={}", ansible_out.path().display());
    let shown = run_ansible(&home, &[s(&book), "-i", s(&inv), "-e", &out]);
    assert_eq!(shown.matches("TASK [the directory]").count(), 2, "{shown}");
    for h in [ANSIBLE_PAIR.0, ANSIBLE_PAIR.1] {
        assert_eq!(changed(&shown, h), 8, "{h}: {shown}");
        assert_eq!(end_state(&lab, h), HOST_STATE, "{h}");
    }
    assert_eq!(controller_state(ansible_out.path()), CONTROLLER_STATE);
}

/// A playbook for the listing flags: play tags, task tags, `never`, an unnamed task.
const LISTED: &str = r#"- name: first
  hosts: all
  tags: [p]
  tasks:
    - name: one
      ping:
      tags: [a]
    - ping:
    - name: two
      ping:
      tags: [never, b]
- name: second
  hosts: "{{ 'node' ~ '96' }}"
  gather_facts: false
  tasks:
    - name: three
      debug:
        msg: hi
"#;

/// `text` with each play's host lines sorted: ansible-playbook lists a
/// set, in no stable order.
fn hosts_sorted(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line.starts_with("      ") && !line.contains('\t') {
            run.push(line);
            continue;
        }
        run.sort();
        out.extend(run.drain(..).map(str::to_string));
        out.push(line.to_string());
    }
    run.sort();
    out.extend(run.drain(..).map(str::to_string));
    out.concat()
}

#[test]
fn list_hosts_list_tasks_and_syntax_check_print_as_ansible_playbook() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (inv, _) = layout(&lab, home.path(), KUBESTRAP_PAIR);
    let book = home.path().join("play/listed.yaml");
    std::fs::write(&book, LISTED).unwrap();
    let cases: &[&[&str]] = &[
        &["--list-hosts"],
        &["--list-tasks"],
        &["--list-hosts", "--list-tasks"],
        &["--list-tasks", "--tags", "b"],
        &["--syntax-check"],
    ];
    for flags in cases {
        let mut args = vec!["run", s(&book), "-i", s(&inv)];
        args.extend_from_slice(flags);
        let ours = home.kubestrap(&args);
        assert_eq!(ours.code, 0, "{flags:?}: {}", ours.all());
        assert!(
            ours.stdout.starts_with("\nplaybook: "),
            "{flags:?}: {}",
            ours.stdout
        );
        let mut args = vec![s(&book), "-i", s(&inv)];
        args.extend_from_slice(flags);
        let theirs = hosts_sorted(&run_ansible(&home, &args));
        assert!(
            theirs.contains(&hosts_sorted(&ours.stdout)),
            "{flags:?}:\n--- kubestrap\n{}--- ansible-playbook\n{theirs}",
            ours.stdout
        );
    }
    // --step asks on a terminal: without one, it refuses before anything runs.
    let step = home.kubestrap(&["run", s(&book), "-i", s(&inv), "--step"]);
    assert_eq!(step.code, 2, "{}", step.all());
    assert!(
        step.stderr
            .contains("--step asks before each task on a terminal"),
        "{}",
        step.all()
    );
}
