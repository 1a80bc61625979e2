//! Failures show their reason with every secret masked: a no_log task's, and any task's output that echoes a secret.
//!
//! Host: node48 (a plain host; `kubestrap run` and `exec`, no cluster).

use crate::lab::Lab;
use crate::support::{s, task_section, Home, Run};

/// A bootstrap token the playbook is given; its secret part alone too.
const TOKEN: &str = "rdct48.q7w8e9r0t1y2u3i4";
const TOKEN_SECRET: &str = "q7w8e9r0t1y2u3i4";
const SUDO_PASSWORD: &str = "lab-sudo-pass";

/// A no_log task is given the token (so kubestrap knows it for a secret);
/// a task without no_log echoes it and the sudo password; a no_log task
/// fails with a reason that names the token, on stderr as kubeadm's do.
fn playbook(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("secrets.yaml");
    std::fs::write(
        &path,
        r#"- name: secrets in results
  hosts: all
  gather_facts: false
  become: true
  tasks:
    - name: the token goes into a private file
      copy:
        content: "{{ join_token }}"
        dest: /root/redaction-token
        mode: "0600"
      no_log: true

    - name: a task that echoes secrets, without no_log
      shell: "cat /root/redaction-token; echo; echo {{ sudo_word }}; echo the secret part is {{ join_token.split('.')[1] }}"
      register: echoed
      changed_when: false

    - name: a failing no_log task
      shell: |
        echo "[preflight] Running pre-flight checks with {{ join_token }}"
        echo "error execution phase preflight: couldn't validate the identity of the API Server: could not find a JWS signature in the cluster-info ConfigMap for token ID \"rdct48\" (token {{ join_token }})" >&2
        exit 1
      no_log: true
"#,
    )
    .unwrap();
    path
}

fn run(home: &Home, lab: &Lab, inv: &std::path::Path, book: &std::path::Path) -> (Run, String) {
    let pass = home.path().join("become-pass");
    std::fs::write(&pass, format!("{SUDO_PASSWORD}\n")).unwrap();
    let report = home.path().join("report.json");
    let kh = lab.known_hosts();
    let r = home.kubestrap(&[
        "-vvv",
        "run",
        s(book),
        "-i",
        s(inv),
        "--known-hosts",
        s(&kh),
        "--become-password-file",
        s(&pass),
        "-e",
        &format!("join_token={TOKEN}"),
        "-e",
        &format!("sudo_word={SUDO_PASSWORD}"),
        "--report",
        s(&report),
    ]);
    let report = std::fs::read_to_string(&report).unwrap_or_default();
    (r, report)
}

#[test]
fn a_failing_no_log_task_shows_its_reason_and_no_output_shows_a_secret() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node48"], "pwuser");
    let book = playbook(home.path());
    let (r, report) = run(&home, &lab, &inv, &book);
    assert_eq!(r.code, 3, "{}", r.all());

    // The reason, not just "hidden because of no_log", with the token masked.
    let failed = task_section(&r.stdout, "a failing no_log task");
    assert!(
        failed.contains(
            r#"could not find a JWS signature in the cluster-info ConfigMap for token ID \"rdct48\" (token ********)"#
        ),
        "{failed}"
    );
    assert!(
        report.contains("could not find a JWS signature"),
        "{report}"
    );
    // The task without no_log shows its output (at -vvv), secrets masked.
    let echoed = task_section(&r.stdout, "a task that echoes secrets, without no_log");
    assert!(echoed.contains("the secret part is ********"), "{echoed}");
    // Nowhere, in any form: stdout, stderr (-vvv logs), the report.
    for secret in [TOKEN, TOKEN_SECRET, SUDO_PASSWORD] {
        assert!(
            !r.stdout.contains(secret),
            "{secret} in stdout:\n{}",
            r.stdout
        );
        assert!(!r.stderr.contains(secret), "{secret} in the logs");
        assert!(
            !report.contains(secret),
            "{secret} in the report:\n{report}"
        );
    }

    // `exec` output is masked as well: the sudo password kubestrap was given.
    let pass = home.path().join("become-pass");
    let kh = lab.known_hosts();
    let r = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--become",
        "--become-password-file",
        s(&pass),
        "--",
        "echo",
        "sudo said",
        SUDO_PASSWORD,
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("sudo said ********"), "{}", r.stdout);
    assert!(!r.all().contains(SUDO_PASSWORD), "{}", r.all());
    lab.sh_ok("node48", "rm -f /root/redaction-token");
}
