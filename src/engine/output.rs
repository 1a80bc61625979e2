//! Play output as Ansible prints it: banners, one line per host, diffs, `...ignoring`.

use serde_json::Value as Json;

use super::task_run::TaskResult;
use crate::report::{banner, redact, Outcome};

/// `PLAY [name] ****…`, with the blank line Ansible puts before it.
pub fn play_banner(name: &str) -> String {
    format!("\n{}", banner(&format!("PLAY [{name}]")))
}

/// `TASK [name] ****…`
pub fn task_banner(title: &str, handler: bool) -> String {
    let kind = if handler { "RUNNING HANDLER" } else { "TASK" };
    format!("\n{}", banner(&format!("{kind} [{title}]")))
}

/// The lines for one host's result: any diffs, then the status line(s).
pub fn host_lines(host: &str, r: &TaskResult, diff: bool, verbose: bool) -> String {
    let mut out = String::new();
    if diff {
        for d in &r.diffs {
            out.push_str(d.trim_end_matches('\n'));
            out.push('\n');
        }
    }
    let detail = |r: &TaskResult| -> String {
        if verbose {
            format!(" => {}", r.registered)
        } else {
            String::new()
        }
    };
    if r.items.is_empty() || matches!(r.outcome, Outcome::Unreachable) {
        out.push_str(&status_line(host, r.outcome, &r.msg, None));
        if !matches!(r.outcome, Outcome::Failed | Outcome::Unreachable) {
            out.push_str(&detail(r));
        }
    } else {
        for (i, (label, outcome)) in r.items.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&status_line(host, *outcome, &r.msg, Some(label)));
        }
        if r.outcome == Outcome::Failed {
            out.push('\n');
            out.push_str(&status_line(host, Outcome::Failed, &r.msg, None));
        }
    }
    if r.ignored {
        out.push_str("\n...ignoring");
    }
    out
}

/// What Ansible says in place of a `no_log: true` task's results.
pub const CENSORED: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/// A result fit to show for a `no_log` task: its outcome, nothing of its
/// arguments, output or diff. A failure keeps its reason (the message, with
/// the output's tail): without it nobody can fix what failed, and every
/// secret in it is masked by [`redacted`] before it is shown.
pub fn censored(r: &TaskResult) -> TaskResult {
    let failed = matches!(r.outcome, Outcome::Failed | Outcome::Unreachable);
    let msg = if failed {
        r.msg.clone()
    } else {
        CENSORED.into()
    };
    let mut registered = serde_json::json!({
        "censored": CENSORED,
        "changed": r.outcome == Outcome::Changed,
    });
    if failed {
        registered["msg"] = Json::from(msg.clone());
    }
    TaskResult {
        outcome: r.outcome,
        ignored: r.ignored,
        msg,
        diffs: Vec::new(),
        items: r
            .items
            .iter()
            .map(|(_, o)| ("(censored due to no_log)".to_string(), *o))
            .collect(),
        registered,
    }
}

/// `r` with every known secret masked, as it may be printed and reported.
pub fn redacted(r: &TaskResult) -> TaskResult {
    TaskResult {
        outcome: r.outcome,
        ignored: r.ignored,
        msg: redact::text(&r.msg),
        diffs: r.diffs.iter().map(|d| redact::text(d)).collect(),
        items: r
            .items
            .iter()
            .map(|(label, o)| (redact::text(label), *o))
            .collect(),
        registered: redact::json(&r.registered),
    }
}

fn status_line(host: &str, outcome: Outcome, msg: &str, item: Option<&str>) -> String {
    let item = item.map(|i| format!(" => (item={i})")).unwrap_or_default();
    match outcome {
        Outcome::Ok => format!("ok: [{host}]{item}"),
        Outcome::Changed => format!("changed: [{host}]{item}"),
        Outcome::Skipped => format!("skipping: [{host}]{item}"),
        Outcome::Failed if !item.is_empty() => format!("failed: [{host}]{item}"),
        Outcome::Failed => format!(
            "fatal: [{host}]: FAILED! => {{\"changed\": false, \"msg\": {}}}",
            Json::from(msg)
        ),
        Outcome::Unreachable => format!(
            "fatal: [{host}]: UNREACHABLE! => {{\"changed\": false, \"msg\": {}, \"unreachable\": true}}",
            Json::from(msg)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(outcome: Outcome, msg: &str) -> TaskResult {
        TaskResult {
            outcome,
            ignored: false,
            msg: msg.into(),
            diffs: vec!["--- before\n+++ after\n".into()],
            items: vec![],
            registered: json!({}),
        }
    }

    #[test]
    fn lines_read_like_ansible() {
        assert_eq!(
            host_lines("n1", &result(Outcome::Ok, ""), false, false),
            "ok: [n1]"
        );
        assert_eq!(
            host_lines("n1", &result(Outcome::Changed, ""), true, false),
            "--- before\n+++ after\nchanged: [n1]"
        );
        assert_eq!(
            host_lines("n1", &result(Outcome::Failed, "rc=1: \"x\""), false, false),
            r#"fatal: [n1]: FAILED! => {"changed": false, "msg": "rc=1: \"x\""}"#
        );
        let mut ignored = result(Outcome::Failed, "boom");
        ignored.ignored = true;
        assert!(host_lines("n1", &ignored, false, false).ends_with("\n...ignoring"));
        let mut looped = result(Outcome::Changed, "");
        looped.items = vec![("a".into(), Outcome::Ok), ("b".into(), Outcome::Changed)];
        assert_eq!(
            host_lines("n1", &looped, false, false),
            "ok: [n1] => (item=a)\nchanged: [n1] => (item=b)"
        );
        assert!(task_banner("x", true).starts_with("\nRUNNING HANDLER [x] ***"));
    }

    #[test]
    fn no_log_results_show_nothing_of_the_task_but_a_failure_its_masked_reason() {
        // A token of this test's own: the registry is the process's.
        let token = "nlog01.zq0123456789abcd";
        redact::register(token);
        let mut ok = result(Outcome::Changed, &format!("wrote {token}"));
        ok.registered = json!({"stdout": token});
        ok.items = vec![(token.into(), Outcome::Changed)];
        let shown_text = |r: &TaskResult| {
            let shown = redacted(&censored(r));
            format!(
                "{}{}",
                host_lines("n1", &shown, true, true),
                shown.registered
            )
        };
        let text = shown_text(&ok);
        assert!(!text.contains("zq0123"), "{text}");
        assert!(!text.contains("wrote"), "{text}");
        assert!(
            text.contains("hidden due to the fact that 'no_log: true'"),
            "{text}"
        );

        let reason = format!(
            "rc=1: could not find a JWS signature in the cluster-info ConfigMap for token ID \"nlog01\" (token {token})"
        );
        let mut failed = result(Outcome::Failed, &reason);
        failed.registered = json!({"stdout": token, "msg": reason});
        let text = shown_text(&failed);
        assert!(!text.contains("zq0123"), "{text}");
        assert!(
            text.contains(r#"could not find a JWS signature in the cluster-info ConfigMap for token ID \"nlog01\" (token ********)"#),
            "{text}"
        );
        assert!(!text.contains("stdout"), "{text}");
    }
}
