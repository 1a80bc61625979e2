//! What an operator reads without a terminal: task names rendered, "still running" lines, no colours.

use crate::lab::Lab;
use crate::support::{s, Home};

#[test]
fn a_long_task_in_a_log_has_its_name_rendered_and_still_running_lines_without_colours() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node56", "node57"], "root");
    let playbook = home.path().join("slow.yaml");
    std::fs::write(
        &playbook,
        "- hosts: all\n  gather_facts: false\n  vars:\n    pause: 3\n    \
         unused: \"{{ not_defined_anywhere }}\"\n  tasks:\n    \
         - name: \"sleep {{ pause }} s\"\n      command: \"sleep {{ pause }}\"\n    \
         - name: \"on {{ inventory_hostname }}\"\n      command: \"true\"\n",
    )
    .unwrap();
    let mut cmd = home.command(&[
        "run",
        s(&playbook),
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
    ]);
    // The hidden test knob: a line every second instead of every 30.
    cmd.env("KUBESTRAP_STILL_RUNNING_SECS", "1")
        .env_remove("NO_COLOR");
    let out = cmd.output().expect("kubestrap run");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("TASK [sleep 3 s] "), "rendered:\n{stdout}");
    assert!(
        stdout.contains("TASK [on {{ inventory_hostname }}] "),
        "a name that differs per host stays as written:\n{stdout}"
    );
    let still = stdout
        .lines()
        .find(|l| l.starts_with("still running: sleep 3 s on node56, node57 ("))
        .unwrap_or_else(|| panic!("no still-running line:\n{stdout}"));
    assert!(still.ends_with("s)"), "{still}");
    assert!(
        stderr.contains("var `unused` cannot be rendered"),
        "a warning is logged:\n{stderr}"
    );
    assert!(
        !stdout.contains('\u{1b}') && !stderr.contains('\u{1b}'),
        "no ANSI colours when the output is not a terminal:\n{stderr}"
    );
}
