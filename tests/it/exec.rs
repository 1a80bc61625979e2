//! `kubestrap exec` on several hosts: output per host, recap, unreachable hosts.

use crate::lab::Lab;
use crate::support::{s, Home};

#[test]
fn exec_hostname_prints_each_hosts_own_name() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node1", "node2", "node6"], "root");
    let run = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
        "--",
        "hostname",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    for name in ["node1", "node2", "node6"] {
        assert!(
            run.stdout
                .contains(&format!("{name} | CHANGED | rc=0 >>\n{name}\n")),
            "{name}'s own hostname missing:\n{}",
            run.stdout
        );
        let recap = run
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")) && l.contains(" : ok="))
            .unwrap_or_else(|| panic!("no recap line for {name}"));
        assert!(
            recap.contains("ok=1 ") && recap.contains("changed=1 ") && recap.contains("failed=0 "),
            "{recap}"
        );
    }
    assert!(run.stdout.contains("PLAY RECAP *"));
}

#[test]
fn limit_and_failing_command_give_failed_and_its_exit_code() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node1", "node2", "node6"], "root");
    let run = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
        "--limit",
        "all:!node2",
        "--",
        "test",
        "\"$(hostname)\"",
        "=",
        "node1",
    ]);
    assert_eq!(run.code, 3, "{}", run.all());
    assert!(run.stdout.contains("node1 | CHANGED | rc=0 >>"));
    assert!(run.stdout.contains("node6 | FAILED | rc=1 >>"));
    assert!(
        !run.stdout.contains("node2 |"),
        "node2 was excluded by --limit"
    );
}

#[test]
fn a_stopped_host_is_unreachable_while_the_others_succeed() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node1", "node2", "node5"], "root");
    lab.stop("node5");
    let run = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
        "--connect-timeout",
        "3",
        "--retries",
        "1",
        "--",
        "true",
    ]);
    lab.start("node5");
    assert_eq!(
        run.code,
        4,
        "documented exit code for an unreachable host:\n{}",
        run.all()
    );
    assert!(run.stdout.contains("node1 | CHANGED | rc=0"));
    assert!(run.stdout.contains("node2 | CHANGED | rc=0"));
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("node5 | UNREACHABLE! => "))
        .expect("node5 reported");
    assert!(
        line.contains(&lab.address("node5")),
        "names the address: {line}"
    );
    let recap = run
        .stdout
        .lines()
        .find(|l| l.starts_with("node5 ") && l.contains(" : "))
        .expect("recap");
    assert!(recap.contains("unreachable=1 "), "{recap}");
}

#[test]
fn output_that_is_not_utf8_is_shown_not_a_crash() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node1"], "root");
    let run = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
        "--",
        "printf",
        "'a\\377b\\n'",
    ]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("a\u{fffd}b"), "{}", run.stdout);
}
