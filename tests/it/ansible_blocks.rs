//! block / rescue / always and until / retries on lab hosts, against ansible-playbook.
//!
//! One playbook, run by kubestrap on node89 and by the real
//! ansible-playbook on node90: a block whose command fails is rescued (the
//! rescue writes what `ansible_failed_task` and `ansible_failed_result`
//! say), its `always` writes a file with a block var and notifies a
//! handler, and a command that succeeds on its second try is retried by
//! `until` (with the play's and the task's `environment`). Both hosts
//! must end with the same files, modes and owners;
//! kubestrap's `--check` before predicts the real run's changes, and its
//! re-run changes nothing.

use std::path::{Path, PathBuf};

use crate::ansible_vars::{files_in, run_ansible, write_tree};
use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home};

const KUBESTRAP_HOST: &str = "node89";
const ANSIBLE_HOST: &str = "node90";

const PLAYBOOK: &str = r#"- name: blocks
  hosts: all
  environment:
    GREETING: "{{ 'hel' ~ 'lo' }}"
  tasks:
    - name: guarded
      vars:
        word: always
      block:
        - name: a command that fails
          command: test -e /srv/ks-blocks/never
          changed_when: false
          check_mode: false
        - name: never reached
          copy:
            dest: /srv/ks-blocks/unreached
            content: "x\n"
      rescue:
        - name: the directory
          file:
            path: /srv/ks-blocks
            state: directory
            mode: "0755"
        - name: note the failure
          copy:
            dest: /srv/ks-blocks/rescued.txt
            mode: "0640"
            content: "failed={{ ansible_failed_task.name }} rc={{ ansible_failed_result.rc }}\n"
      always:
        - name: always written
          copy:
            dest: /srv/ks-blocks/always.txt
            mode: "0600"
            content: "{{ word }}\n"
          notify: handled
    - name: second try succeeds
      shell: n=$(cat $COUNT 2>/dev/null || echo 0); n=$((n+1)); echo $n > $COUNT; test $n -ge 2 && echo "$GREETING" > done
      environment:
        COUNT: count
      args:
        chdir: /srv/ks-blocks
        creates: /srv/ks-blocks/done
      register: tries
      until: not tries.failed
      retries: 3
      delay: 1
      changed_when: false
  handlers:
    - name: handled
      copy:
        dest: /srv/ks-blocks/handled.txt
        content: "handled\n"
        mode: "0644"
"#;

/// Writes inventory and playbook for `host` into `dir`; returns (inventory, playbook).
fn layout(lab: &Lab, dir: &Path, host: &str) -> (PathBuf, PathBuf) {
    let files = [("play/site.yaml", PLAYBOOK)];
    write_tree(lab, dir, host, "", &files, "play/site.yaml")
}

/// Every file the play leaves: name, mode, owner, group, then its content.
fn end_state(lab: &Lab, host: &str) -> String {
    files_in(lab, host, "/srv/ks-blocks")
}

/// The end state both tools must reach.
const WANT: &str = ". 755 root root
always.txt 600 root root
always
count 644 root root
2
done 644 root root
hello
handled.txt 644 root root
handled
rescued.txt 640 root root
failed=a command that fails rc=1
";

/// A recap counter of `host` (`rescued`, `failed`, …).
fn recap(stdout: &str, host: &str, counter: &str) -> u32 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{host} ")) && l.contains(" : ok="))
        .unwrap_or_else(|| panic!("no recap line for {host}:\n{stdout}"));
    line.split(&format!("{counter}="))
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {counter}= in {line}"))
}

fn retry_line(host: &str) -> String {
    format!("FAILED - RETRYING: [{host}]: second try succeeds (3 retries left).")
}

#[test]
fn blocks_rescue_always_and_until_end_as_with_ansible() {
    let lab = Lab::from_env();
    let home = Home::new();
    for h in [KUBESTRAP_HOST, ANSIBLE_HOST] {
        lab.sh_ok(h, "rm -rf /srv/ks-blocks");
    }

    let (inv, book) = layout(&lab, home.path(), KUBESTRAP_HOST);
    let kh = lab.known_hosts();
    let report = home.path().join("report.json");
    let run = |extra: &[&str]| {
        let mut args = vec!["run", s(&book), "-i", s(&inv), "--known-hosts", s(&kh)];
        args.extend_from_slice(extra);
        home.kubestrap(&args)
    };

    // --check: the rescue runs (the failing command runs under check_mode:
    // false), nothing is written, the changes are predicted.
    let check = run(&["--check"]);
    assert_eq!(check.code, 0, "{}", check.all());
    assert_eq!(
        changed(&check.stdout, KUBESTRAP_HOST),
        4,
        "{}",
        check.stdout
    );
    assert_eq!(
        recap(&check.stdout, KUBESTRAP_HOST, "rescued"),
        1,
        "{}",
        check.stdout
    );
    assert_eq!(
        lab.sh_ok(
            KUBESTRAP_HOST,
            "test -e /srv/ks-blocks && echo there || echo absent"
        ),
        "absent\n"
    );

    let first = run(&[]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(
        changed(&first.stdout, KUBESTRAP_HOST),
        4,
        "{}",
        first.stdout
    );
    for (counter, n) in [("rescued", 1), ("failed", 0), ("ignored", 0)] {
        assert_eq!(
            recap(&first.stdout, KUBESTRAP_HOST, counter),
            n,
            "{counter}: {}",
            first.stdout
        );
    }
    assert!(
        first.stdout.contains(&retry_line(KUBESTRAP_HOST)),
        "{}",
        first.stdout
    );
    assert!(
        !first.stdout.contains("TASK [never reached]"),
        "{}",
        first.stdout
    );
    assert_eq!(end_state(&lab, KUBESTRAP_HOST), WANT);

    // Again: nothing changes. The command that fails runs every time,
    // and after a command each later task reads what it looks at again
    // (docs/playbooks.md): the gather, the command, four reads.
    let again = run(&["--report", s(&report)]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        changed(&again.stdout, KUBESTRAP_HOST),
        0,
        "{}",
        again.stdout
    );
    assert_eq!(
        recap(&again.stdout, KUBESTRAP_HOST, "rescued"),
        1,
        "{}",
        again.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(
        json["stats"][KUBESTRAP_HOST]["ssh_execs"], 6,
        "{}",
        json["stats"]
    );
    assert_eq!(end_state(&lab, KUBESTRAP_HOST), WANT);

    // ansible-playbook, same playbook, on its own host.
    let ansible_dir = tempfile::tempdir().unwrap();
    let (inv, book) = layout(&lab, ansible_dir.path(), ANSIBLE_HOST);
    let shown = run_ansible(&home, &[s(&book), "-i", s(&inv)]);
    assert!(shown.contains(&retry_line(ANSIBLE_HOST)), "{shown}");
    assert_eq!(recap(&shown, ANSIBLE_HOST, "rescued"), 1, "{shown}");
    assert_eq!(changed(&shown, ANSIBLE_HOST), 4, "{shown}");
    assert_eq!(end_state(&lab, ANSIBLE_HOST), WANT);
}
