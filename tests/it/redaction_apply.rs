//! Secrets `apply` makes are masked even when a playbook forgets no_log: an echo and a failure name the token.
//!
//! Host: node60 (a plain host; `apply` with its playbooks replaced by
//! `--playbooks`, so the cluster stage runs the test's tasks, not kubeadm).
//!
//! Unlike redaction.rs, no task is given a secret under no_log first: the
//! token, certificate key and CA key are known as secrets only because
//! `apply` made them, and the sudo password only because it came from
//! --become-password-file (the host hands it back from a file of its own).

use std::path::Path;

use crate::cluster::secrets;
use crate::lab::Lab;
use crate::support::{s, task_section, Home};

const HOST: &str = "node60";
const SUDO_PASSWORD: &str = "lab-sudo-pass";

/// A stage playbook that does nothing (the prepared stage, nodes, CNI).
const NOTHING: &str = r#"- name: nothing to do here
  hosts: all
  gather_facts: false
  tasks:
    - name: nothing
      command: "true"
      changed_when: false
"#;

/// The cluster stage's first playbook: the token echoed, then a failure
/// with the token and the sudo password on stderr, as kubeadm's failures
/// read; neither task says no_log.
const CONTROL_PLANE: &str = r#"- name: secrets without no_log
  hosts: "{{ kubestrap_first_control_plane }}"
  gather_facts: false
  become: true
  tasks:
    - name: a task that echoes the token, without no_log
      shell: "echo token {{ kubestrap_secrets.token }}; echo the secret part is {{ kubestrap_secrets.token.split('.')[1] }}; echo sudo $(cat /root/redaction-sudo-word)"
      changed_when: false

    - name: a failing task whose stderr holds the token, without no_log
      shell: |
        echo "[preflight] Running pre-flight checks with {{ kubestrap_secrets.token }}"
        echo "error execution phase preflight: token {{ kubestrap_secrets.token }} was refused (sudo $(cat /root/redaction-sudo-word))" >&2
        exit 1
"#;

fn playbooks(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for name in ["prepare", "runtime", "packages", "nodes", "cni"] {
        std::fs::write(dir.join(format!("{name}.yaml")), NOTHING).unwrap();
    }
    std::fs::write(dir.join("control-plane.yaml"), CONTROL_PLANE).unwrap();
}

#[test]
fn apply_masks_its_own_secrets_in_tasks_without_no_log() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (inv_dir, inv) = lab.write_inventory_with(&[HOST], "pwuser", "  become: true\n");
    let books = home.path().join("books");
    playbooks(&books);
    let pass = home.path().join("become-pass");
    std::fs::write(&pass, format!("{SUDO_PASSWORD}\n")).unwrap();
    // The password reaches the host's output from the host, not from a variable.
    lab.sh_ok(
        HOST,
        &format!("umask 077; printf %s {SUDO_PASSWORD} > /root/redaction-sudo-word"),
    );
    let report = home.path().join("report.json");
    let kh = lab.known_hosts();
    let r = home.kubestrap(&[
        "-vvv",
        "apply",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--playbooks",
        s(&books),
        "--become-password-file",
        s(&pass),
        "--report",
        s(&report),
    ]);
    lab.sh_ok(HOST, "rm -f /root/redaction-sudo-word");
    let report = std::fs::read_to_string(&report).unwrap_or_default();
    assert_eq!(r.code, 3, "{}", r.all());

    // The tasks ran with the secrets apply made.
    let echoed = task_section(&r.stdout, "a task that echoes the token, without no_log");
    assert!(
        echoed.contains("token ********")
            && echoed.contains("the secret part is ********")
            && echoed.contains("sudo ********"),
        "{echoed}"
    );
    // The failure's reason is shown, secrets masked, on screen and in the report.
    let reason = "error execution phase preflight: token ******** was refused (sudo ********)";
    let failed = task_section(
        &r.stdout,
        "a failing task whose stderr holds the token, without no_log",
    );
    assert!(failed.contains(reason), "{failed}");
    assert!(report.contains(reason), "{report}");

    // No secret anywhere: stdout, stderr (-vvv logs), the report.
    let state = inv_dir.path().join(".kubestrap/lab");
    let mut all = secrets(&state);
    all.push(SUDO_PASSWORD.to_string());
    for secret in &all {
        assert!(
            !r.stdout.contains(secret.as_str()),
            "a secret is in stdout:\n{}",
            r.stdout
        );
        assert!(
            !r.stderr.contains(secret.as_str()),
            "a secret is in the logs"
        );
        assert!(
            !report.contains(secret.as_str()),
            "a secret is in the report"
        );
    }
}
