//! become: passwordless sudo works, a needed password fails fast and clearly, never leaks.

use crate::lab::Lab;
use crate::support::{s, Home};

const LAB_SUDO_PASSWORD: &str = "lab-sudo-pass";

#[test]
fn passwordless_sudo_user_becomes_root() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node1", "node2"], "deploy");
    let kh = lab.known_hosts();
    let plain = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--",
        "id",
        "-u",
    ]);
    assert_eq!(plain.code, 0, "{}", plain.all());
    assert!(
        !plain.stdout.contains("rc=0 >>\n0\n"),
        "without --become deploy is not root"
    );
    let run = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--become",
        "--",
        "id",
        "-u",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    for name in ["node1", "node2"] {
        assert!(
            run.stdout
                .contains(&format!("{name} | CHANGED | rc=0 >>\n0\n")),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn become_from_the_inventory_is_honoured() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory_with(&["node6"], "deploy", "  become: true\n");
    let run = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
        "--",
        "id",
        "-un",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("node6 | CHANGED | rc=0 >>\nroot\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn sudo_that_needs_a_password_fails_with_a_clear_error_not_a_hang() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node2"], "pwuser");
    let run = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
        "--become",
        "--",
        "id",
        "-u",
    ]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(
        run.stdout.contains("node2 | FAILED! => node2: sudo needs a password for user pwuser; re-run with --ask-become-pass"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_become_password_is_used_and_never_shown() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node2"], "pwuser");
    let kh = lab.known_hosts();

    let good = home.path().join("become-pass");
    std::fs::write(&good, format!("{LAB_SUDO_PASSWORD}\n")).unwrap();
    let run = home.kubestrap(&[
        "-vvv",
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--become",
        "--become-password-file",
        s(&good),
        "--",
        "id",
        "-u",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("node2 | CHANGED | rc=0 >>\n0\n"),
        "{}",
        run.stdout
    );
    assert!(
        !run.all().contains(LAB_SUDO_PASSWORD),
        "the password leaked into the output"
    );

    let bad = home.path().join("wrong-pass");
    std::fs::write(&bad, "not-the-password-42\n").unwrap();
    let run = home.kubestrap(&[
        "-vvv",
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--become",
        "--become-password-file",
        s(&bad),
        "--",
        "id",
        "-u",
    ]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(
        run.stdout
            .contains("sudo rejected the become password for user pwuser"),
        "{}",
        run.stdout
    );
    assert!(
        !run.all().contains("not-the-password-42"),
        "the password leaked into the output"
    );
}
