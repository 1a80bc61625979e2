//! Secrets on failure paths: a failing `kubeadm init` and a failing join show why, and leak nothing.
//!
//! (A failing sudo is covered in become_.rs, at -vvv too.)

use crate::cluster::{calico_settings, secrets, ProcessWatch};
use crate::inventories::lab_cluster;
use crate::lab::Lab;
use crate::support::{s, task_section, Home, Run};

const HOSTS: [(&str, &str); 2] = [("node37", "control_plane"), ("node38", "worker")];

/// Hold a TCP port on a host the way another program would.
fn occupy(lab: &Lab, host: &str, port: u16) {
    lab.sh_ok(
        host,
        &format!("nohup python3 -m http.server {port} --bind 0.0.0.0 >/dev/null 2>&1 & echo $! > /run/occupy-{port}.pid; sleep 1"),
    );
}

fn free(lab: &Lab, host: &str, port: u16) {
    lab.sh_ok(host, &format!("kill $(cat /run/occupy-{port}.pid)"));
}

/// Run `apply -vvv --report` while watching every command line on the
/// hosts, and assert no secret of the state directory shows up anywhere.
fn apply_leaks_nothing(lab: &Lab, home: &Home, inv: &std::path::Path, what: &str) -> Run {
    let report = home.path().join(format!("{what}.json"));
    let names: Vec<String> = HOSTS.iter().map(|(h, _)| h.to_string()).collect();
    let watch = ProcessWatch::start(lab.dir().to_path_buf(), names);
    let known_hosts = lab.known_hosts();
    let run = home.kubestrap(&[
        "-vvv",
        "apply",
        "-i",
        s(inv),
        "--known-hosts",
        s(&known_hosts),
        "--skip-preflight",
        "ports",
        "--report",
        s(&report),
    ]);
    let processes = watch.finish();
    let report_text = std::fs::read_to_string(&report).unwrap_or_default();
    for secret in secrets(&home.path().join(".kubestrap/lab")) {
        assert!(
            !run.all().contains(&secret),
            "{what}: a secret is in the output or logs"
        );
        assert!(
            !report_text.contains(&secret),
            "{what}: a secret is in the report"
        );
        assert!(
            !processes.contains(&secret),
            "{what}: a secret was on a command line"
        );
    }
    run
}

/// The `fatal:` line of `task` in a run's output.
fn failure_of<'a>(stdout: &'a str, task: &str) -> &'a str {
    task_section(stdout, task)
        .lines()
        .find(|l| l.starts_with("fatal: "))
        .unwrap_or_else(|| panic!("{task} did not fail:\n{stdout}"))
}

#[test]
fn a_failing_init_and_a_failing_join_leak_no_secret() {
    let lab = Lab::from_env();
    let home = Home::new();
    let inv = home.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        lab_cluster(&lab, &HOSTS, "10.244.0.0/16", &calico_settings()),
    )
    .unwrap();

    // kubeadm's own preflight fails init: something holds 6443.
    occupy(&lab, "node37", 6443);
    let init = apply_leaks_nothing(&lab, &home, &inv, "failing-init");
    free(&lab, "node37", 6443);
    assert_eq!(init.code, 3, "{}", init.all());
    assert!(
        init.stdout.contains("TASK [kubeadm init]"),
        "init was tried:\n{}",
        init.stdout
    );
    // The no_log task's reason is shown (masked), not only "hidden".
    assert!(
        failure_of(&init.stdout, "kubeadm init").contains("Port 6443 is in use"),
        "{}",
        init.stdout
    );
    assert!(
        !lab.sh_ok("node37", "ls /etc/kubernetes")
            .contains("kubestrap-init.yaml"),
        "config removed after failure"
    );

    // Now init works, but the worker's join fails: something holds 10250.
    occupy(&lab, "node38", 10250);
    let join = apply_leaks_nothing(&lab, &home, &inv, "failing-join");
    free(&lab, "node38", 10250);
    assert_ne!(join.code, 0, "{}", join.all());
    assert!(
        join.stdout.contains("TASK [kubeadm join]"),
        "join was tried:\n{}",
        join.stdout
    );
    assert!(
        failure_of(&join.stdout, "kubeadm join").contains("Port 10250 is in use"),
        "{}",
        join.stdout
    );
    assert!(
        !lab.sh_ok("node38", "ls /etc/kubernetes")
            .contains("kubestrap-join.yaml"),
        "config removed after failure"
    );
}
