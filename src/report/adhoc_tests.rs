//! Ad-hoc results as Ansible 2.19's `ansible` prints them (its minimal callback).

use serde_json::json;

use super::host_block;
use crate::report::{Outcome, TaskResult};

fn result(outcome: Outcome, registered: serde_json::Value) -> TaskResult {
    TaskResult {
        outcome,
        ignored: false,
        msg: registered["msg"].as_str().unwrap_or("").into(),
        diffs: vec!["--- before\n+++ after\n".into()],
        items: Vec::new(),
        registered,
        shown: Vec::new(),
        retries: Vec::new(),
    }
}

#[test]
fn blocks_read_like_ansible_ad_hoc() {
    let ran = json!({"changed": true, "failed": false, "rc": 0, "stdout": "n1", "stderr": ""});
    let failed = json!({"changed": true, "failed": true, "rc": 2, "stdout": "",
        "stderr": "ls: cannot access '/x': No such file or directory", "msg": "rc=2: ls"});
    let mut said = result(Outcome::Ok, json!({"changed": false, "msg": "hi"}));
    said.shown = vec![Some(json!({"msg": "hi"}))];
    let table: Vec<(&str, TaskResult, &str)> = vec![
        ("shell", result(Outcome::Changed, ran.clone()), "n | CHANGED | rc=0 >>\nn1"),
        (
            "ansible.builtin.command",
            result(Outcome::Failed, failed),
            "n | FAILED | rc=2 >>\nls: cannot access '/x': No such file or directorynon-zero return code",
        ),
        (
            "ping",
            result(Outcome::Ok, json!({"changed": false, "failed": false, "msg": "pong", "ping": "pong", "rc": 0,
                "stdout": "", "stderr": "", "stdout_lines": [], "stderr_lines": []})),
            "n | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}",
        ),
        (
            "apt",
            result(Outcome::Failed, json!({"changed": false, "failed": true, "msg": "no package x"})),
            "n | FAILED! => {\n    \"changed\": false,\n    \"failed\": true,\n    \"msg\": \"no package x\"\n}",
        ),
        ("debug", said, "n | SUCCESS => {\n    \"msg\": \"hi\"\n}"),
        ("copy", result(Outcome::Skipped, json!({})), "n | SKIPPED"),
        (
            "copy",
            result(Outcome::Unreachable, json!({"msg": "timed out"})),
            "n | UNREACHABLE! => {\n    \"changed\": false,\n    \"msg\": \"timed out\",\n    \"unreachable\": true\n}",
        ),
    ];
    for (module, r, want) in table {
        assert_eq!(host_block("n", &r, module, false), want, "{module}");
    }
}

#[test]
fn diff_comes_before_the_status_line_and_is_not_in_the_json() {
    let r = result(
        Outcome::Changed,
        json!({"changed": true, "diff": {"before": "a"}, "dest": "/x"}),
    );
    assert_eq!(
        host_block("n", &r, "copy", true),
        "--- before\n+++ after\nn | CHANGED => {\n    \"changed\": true,\n    \"dest\": \"/x\"\n}"
    );
}
