//! Snapshots of the text reporter over recorded event streams (`cargo insta review` to update).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::report::event::{Event, ExecResult, HostTotals, Stop, TaskResult};
use crate::report::reporter::Recording;
use crate::report::HostStats;

/// What the text reporter prints for `events` (stderr lines marked).
fn shown(events: &[Event], diff: bool, verbose: bool) -> String {
    let recording = Arc::new(Recording::default());
    let mut text = Text::new(recording.clone());
    text.diff = diff;
    text.verbose = verbose;
    for e in events {
        text.emit(e);
    }
    recording.text()
}

fn result(outcome: Outcome, msg: &str) -> TaskResult {
    TaskResult {
        outcome,
        ignored: false,
        msg: msg.into(),
        diffs: Vec::new(),
        items: Vec::new(),
        registered: json!({"changed": outcome == Outcome::Changed, "msg": msg}),
        shown: Vec::new(),
        retries: Vec::new(),
    }
}

fn host(host: &str, result: TaskResult) -> Event {
    Event::HostResult {
        host: host.into(),
        result,
        no_log: false,
    }
}

fn task(title: &str) -> Event {
    Event::TaskEnd {
        title: title.into(),
        handler: false,
        location: "site.yml:4".into(),
        module: "command".into(),
    }
}

fn totals(host: &str, outcomes: &[Outcome], ssh_execs: u32) -> HostTotals {
    let mut stats = HostStats::default();
    for o in outcomes {
        stats.record(*o);
    }
    HostTotals {
        host: host.into(),
        stats,
        ssh_execs,
    }
}

#[test]
fn a_play_with_every_outcome() {
    let events = [
        Event::PlayStart {
            name: "Prepare hosts".into(),
        },
        Event::HostStatus {
            host: "node1".into(),
            status: "connecting".into(),
        },
        Event::Unreachable {
            host: "node4".into(),
            msg: "node4: connect to 10.0.0.4:22: connection refused".into(),
        },
        Event::GatherStart,
        Event::Gathered {
            host: "node1".into(),
            error: None,
        },
        Event::Gathered {
            host: "node2".into(),
            error: None,
        },
        Event::Gathered {
            host: "node3".into(),
            error: None,
        },
        Event::Gathered {
            host: "node5".into(),
            error: Some("rc=1: /bin/sh: 1: cannot create /x: \"Permission denied\"".into()),
        },
        Event::TaskStart {
            title: "Install containerd".into(),
            hosts: vec!["node1".into(), "node2".into(), "node3".into()],
        },
        Event::Phase(crate::report::timings::Phase {
            kind: crate::report::timings::PhaseKind::Task,
            name: "Install containerd".into(),
            hosts: 3,
            seconds: 1.0,
        }),
        task("Install containerd"),
        host("node1", result(Outcome::Ok, "")),
        host("node2", result(Outcome::Changed, "")),
        host(
            "node3",
            result(
                Outcome::Failed,
                "rc=100: E: Unable to locate package \"containerd\"",
            ),
        ),
        task("Only on Debian"),
        host(
            "node1",
            result(Outcome::Skipped, "Conditional result was False"),
        ),
        host(
            "node2",
            result(Outcome::Skipped, "Conditional result was False"),
        ),
    ];
    insta::assert_snapshot!(shown(&events, false, false));
}

#[test]
fn loop_items_and_ignored_failures() {
    let mut looped = result(Outcome::Changed, "");
    looped.items = vec![
        ("curl".into(), Outcome::Ok),
        ("gnupg".into(), Outcome::Changed),
        ("jq".into(), Outcome::Skipped),
    ];
    let mut failed_loop = result(Outcome::Failed, "one or more items failed");
    failed_loop.items = vec![("a".into(), Outcome::Ok), ("b".into(), Outcome::Failed)];
    let mut ignored = result(Outcome::Failed, "rc=1: no such file");
    ignored.ignored = true;
    let events = [
        task("Install tools"),
        host("node1", looped),
        host("node2", failed_loop),
        task("Try something"),
        host("node1", ignored),
    ];
    insta::assert_snapshot!(shown(&events, false, false));
}

#[test]
fn diffs_with_and_without_diff_mode() {
    let mut changed = result(Outcome::Changed, "");
    changed.diffs = vec![
        "--- before: /etc/containerd/config.toml\n+++ after: /etc/containerd/config.toml\n@@ -1 +1 @@\n-SystemdCgroup = false\n+SystemdCgroup = true\n".into(),
    ];
    let events = [task("Configure containerd"), host("node1", changed)];
    let with = shown(&events, true, false);
    insta::assert_snapshot!(with);
    let without = shown(&events, false, false);
    assert!(!without.contains("SystemdCgroup"), "{without}");
}

#[test]
fn verbose_detail_after_ok_and_changed_not_after_failures() {
    let mut ok = result(Outcome::Ok, "");
    ok.registered = json!({"changed": false, "stdout": "v1.31.2", "rc": 0});
    let events = [
        task("kubeadm version"),
        host("node1", ok),
        host(
            "node2",
            result(Outcome::Failed, "rc=127: kubeadm: not found"),
        ),
    ];
    insta::assert_snapshot!(shown(&events, false, true));
}

#[test]
fn handlers_warnings_and_still_running() {
    let events = [
        Event::StillRunning {
            task: "kubeadm init".into(),
            hosts: vec!["node1".into(), "node2".into()],
            elapsed: Duration::from_secs(130),
        },
        Event::StillRunning {
            task: "kubeadm init".into(),
            hosts: vec!["node1".into()],
            elapsed: Duration::from_secs(5),
        },
        Event::TaskEnd {
            title: "restart containerd".into(),
            handler: true,
            location: "site.yml:20".into(),
            module: "systemd".into(),
        },
        Event::Warning {
            host: "node1".into(),
            msg: "cannot record the pending handler: disk full".into(),
        },
        host("node1", result(Outcome::Changed, "")),
    ];
    insta::assert_snapshot!(shown(&events, false, false));
}

#[test]
fn recap_after_a_stopped_run() {
    let events = [
        Event::Stopped(Stop::PlayBudget {
            play: "Workers".into(),
        }),
        Event::Stopped(Stop::RunBudget {
            why: "control plane node1 failed".into(),
        }),
        Event::Recap {
            hosts: vec![
                totals("node2", &[Outcome::Ok, Outcome::Failed], 2),
                totals("node1", &[Outcome::Changed, Outcome::Skipped], 3),
                totals("node3", &[Outcome::Unreachable], 0),
            ],
        },
        Event::RunEnd { total_s: 3.5 },
    ];
    insta::assert_snapshot!(shown(&events, false, false));
}

#[test]
fn interrupted() {
    let events = [
        Event::Notice(
            "\ninterrupted: no new task starts; running ones get 10 s (Ctrl-C again to stop them now)"
                .into(),
        ),
        task("kubeadm init"),
        host(
            "node1",
            result(
                Outcome::Failed,
                "interrupted: stopped after the 10 s grace period that followed SIGINT",
            ),
        ),
        Event::Interrupted,
        Event::Recap {
            hosts: vec![totals("node1", &[Outcome::Failed], 2)],
        },
    ];
    insta::assert_snapshot!(shown(&events, false, false));
}

#[test]
fn no_log_results_are_censored_but_a_failure_keeps_its_masked_reason() {
    let token = "nlog02.zq0123456789abcd";
    crate::report::redact::register(token);
    let mut ok = result(Outcome::Changed, &format!("wrote {token}"));
    ok.registered = json!({"stdout": token});
    ok.diffs = vec![format!("+token: {token}\n")];
    let mut looped = ok.clone();
    looped.items = vec![(token.into(), Outcome::Changed)];
    let reason = format!(
        "rc=1: could not find a JWS signature in the cluster-info ConfigMap for token ID \"nlog02\" (token {token})"
    );
    let mut failed = result(Outcome::Failed, &reason);
    failed.registered = json!({"stdout": token, "msg": reason});
    let no_log = |host: &str, result| Event::HostResult {
        host: host.into(),
        result,
        no_log: true,
    };
    let events = [
        task("Write the join config"),
        no_log("node1", ok),
        no_log("node2", failed),
        no_log("node3", looped),
    ];
    let text = shown(&events, true, true);
    assert!(!text.contains("zq0123"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn a_secret_is_masked_wherever_it_shows_without_no_log() {
    let token = "sec001.zq9988776655443322";
    // A quote in it: its JSON form differs, so it is masked before quoting.
    let password = "lab-sudo-\"pass\"-snapshot";
    crate::report::redact::register(token);
    crate::report::redact::register(password);
    let mut echoed = result(Outcome::Changed, "");
    echoed.registered = json!({"stdout": format!("kubeadm join --token {token}")});
    echoed.diffs = vec![format!("+  token: {token}\n")];
    let events = [
        Event::PlayStart {
            name: format!("Join with {token}"),
        },
        task(&format!("echo {token}")),
        host("node1", echoed),
        host(
            "node2",
            result(
                Outcome::Failed,
                &format!("rc=1: sudo: {password}: bad token {token}"),
            ),
        ),
        Event::Exec {
            host: "node3".into(),
            result: ExecResult::Ran {
                rc: 0,
                success: true,
                signal: None,
                stdout: format!("{token}\n").into_bytes(),
                stderr: Vec::new(),
                truncated_mib: None,
            },
        },
        Event::Unreachable {
            host: "node4".into(),
            msg: format!("node4: sudo password {password} refused"),
        },
        Event::Gathered {
            host: "node5".into(),
            error: Some(format!("rc=1: sudo: {password}")),
        },
        Event::Line(format!("join: node2 with {token}")),
        Event::Error(format!("node2: sudo said {password}")),
    ];
    let text = shown(&events, true, true);
    for s in ["zq9988", "pass\\\"-snapshot", "-snapshot"] {
        assert!(!text.contains(s), "{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn exec_results() {
    let ran = |rc: i64, stdout: &str, stderr: &str| ExecResult::Ran {
        rc,
        success: rc == 0,
        signal: None,
        stdout: stdout.as_bytes().to_vec(),
        stderr: stderr.as_bytes().to_vec(),
        truncated_mib: None,
    };
    let events = [
        Event::Exec {
            host: "node1".into(),
            result: ran(0, "Linux\n", ""),
        },
        Event::Exec {
            host: "node2".into(),
            result: ran(2, "", "ls: cannot access '/nope'\n"),
        },
        Event::Exec {
            host: "node3".into(),
            result: ExecResult::Ran {
                rc: -1,
                success: false,
                signal: Some("KILL".into()),
                stdout: b"partial\xff".to_vec(),
                stderr: Vec::new(),
                truncated_mib: Some(8),
            },
        },
        Event::Exec {
            host: "node4".into(),
            result: ExecResult::Unreachable("node4: connect: no route to host".into()),
        },
        Event::Exec {
            host: "node5".into(),
            result: ExecResult::Failed("node5: sudo: a password is required".into()),
        },
        Event::Recap {
            hosts: vec![
                totals("node1", &[Outcome::Changed], 1),
                totals("node2", &[Outcome::Failed], 1),
            ],
        },
    ];
    insta::assert_snapshot!(shown(&events, false, false));
}

#[test]
fn apply_sections_lines_and_documents() {
    let events = [
        Event::Section {
            title: "PREFLIGHT".into(),
            lines: vec![
                "ok: [node1] swap off, 2 CPUs, 4 GiB".into(),
                "fatal: [node2] only 1 CPU (kubeadm needs 2)".into(),
            ],
        },
        Event::Section {
            title: "LOCK".into(),
            lines: vec![],
        },
        Event::Line("nothing was changed on any host".into()),
        Event::NoHostsMatched,
        Event::Document("apiVersion: v1\nkind: Config\n".into()),
        Event::Notice("warning: node1: could not release the lock (rc=1)".into()),
        Event::Error("playbook.yml:3: play \"x\": hosts: unknown group".into()),
    ];
    insta::assert_snapshot!(shown(&events, false, false));
}

#[test]
fn a_prompt_waits_on_its_line_on_stderr() {
    let events = [Event::Prompt("Type the cluster's name (lab): ".into())];
    assert_eq!(
        shown(&events, false, false),
        "[stderr] Type the cluster's name (lab): "
    );
}

#[test]
fn debug_and_assert_print_their_result_as_ansible_does() {
    let mut debug = result(Outcome::Ok, "hi node1");
    debug.shown = vec![Some(json!({"msg": "hi node1"}))];
    let mut var = result(Outcome::Ok, "[1,2]");
    var.shown = vec![Some(json!({"ports": [6443, 10250]}))];
    let mut passed = result(Outcome::Ok, "All assertions passed");
    passed.shown = vec![Some(
        json!({"msg": "All assertions passed", "changed": false}),
    )];
    let mut looped = result(Outcome::Ok, "");
    looped.items = vec![("a".into(), Outcome::Ok), ("b".into(), Outcome::Skipped)];
    looped.shown = vec![Some(json!({"msg": "item a"})), None];
    let events = [
        task("debug"),
        host("node1", debug.clone()),
        task("ports"),
        host("node1", var),
        task("check"),
        host("node1", passed),
        host("node2", result(Outcome::Failed, "Assertion failed")),
        task("each"),
        host("node1", looped),
    ];
    let plain = shown(&events, false, false);
    // -v changes nothing for them: the shown result is their detail.
    assert_eq!(shown(&events, false, true), plain);
    insta::assert_snapshot!(plain);
}

#[test]
fn retries_are_announced_before_the_result_as_ansible_does() {
    let mut r = result(Outcome::Changed, "");
    r.retries = vec![
        "FAILED - RETRYING: [node1]: wait (3 retries left).".into(),
        "FAILED - RETRYING: [node1]: wait (2 retries left).".into(),
    ];
    let out = shown(&[task("wait"), host("node1", r)], false, false);
    let want = "FAILED - RETRYING: [node1]: wait (3 retries left).\n\
                FAILED - RETRYING: [node1]: wait (2 retries left).\n\
                changed: [node1]\n";
    assert!(out.ends_with(want), "{out}");
}
