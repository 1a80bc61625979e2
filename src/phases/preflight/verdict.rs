//! What preflight's result means for the run: the lines to print and the exit code.
//!
//! A host that could not be reached (connection, login, host key) is not a
//! check that failed: skipping checks cannot fix it, so the footer never
//! advises `--skip-preflight` for it, the exit code is the connection's own
//! (4 unreachable, 5 host key; the highest wins), and when its `facts` check
//! was skipped the ok line says it was not reached instead of counting it.

use crate::cluster::preflight::PreflightProblem;
use crate::ExitCode;

/// The check under which a host without facts is reported.
const FACTS: &str = "facts";

/// A host preflight could not reach, and the exit code its error maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotReached {
    pub host: String,
    pub code: ExitCode,
}

/// Preflight's verdict: lines for the PREFLIGHT block, and the exit code
/// when the run must stop here (None: go on).
pub fn verdict(
    problems: &[PreflightProblem],
    not_reached: &[NotReached],
    hosts: usize,
) -> (Vec<String>, Option<ExitCode>) {
    let unreached = |p: &PreflightProblem| {
        p.check == FACTS
            && not_reached
                .iter()
                .any(|n| p.host.as_deref() == Some(n.host.as_str()))
    };
    let names = |list: &[&NotReached]| -> String {
        list.iter()
            .map(|n| n.host.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if problems.is_empty() {
        let line = if not_reached.is_empty() {
            format!("ok: all {hosts} hosts")
        } else {
            let all: Vec<&NotReached> = not_reached.iter().collect();
            format!(
                "ok: {} of {hosts} hosts; not reached, so not checked (check `facts` skipped): {}",
                hosts - not_reached.len(),
                names(&all)
            )
        };
        return (vec![line], None);
    }
    let mut lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let checks: Vec<&str> = {
        let mut c: Vec<&str> = problems
            .iter()
            .filter(|p| !unreached(p))
            .map(|p| p.check)
            .collect();
        c.dedup();
        c
    };
    let down: Vec<&NotReached> = not_reached
        .iter()
        .filter(|n| {
            problems
                .iter()
                .any(|p| unreached(p) && p.host.as_deref() == Some(&n.host))
        })
        .collect();
    let mut footer = format!(
        "preflight failed: {} problem(s); nothing was changed on any host",
        problems.len()
    );
    // `skip` is a bad --skip-preflight itself: no check to skip there.
    if checks.iter().any(|c| *c != "skip") {
        footer.push_str(" (skip a check with --skip-preflight NAME)");
    }
    lines.push(footer);
    if !down.is_empty() {
        lines.push(format!(
            "not reached: {}; fix the connection as the message says, or leave the host out with --limit",
            names(&down)
        ));
    }
    let mut code = if checks.is_empty() {
        ExitCode::Ok
    } else {
        ExitCode::HostFailed
    };
    for n in &down {
        code = code.max(n.code);
    }
    (lines, Some(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(check: &'static str, host: &str, message: &str) -> PreflightProblem {
        PreflightProblem {
            check,
            host: (!host.is_empty()).then(|| host.to_string()),
            message: message.into(),
        }
    }

    fn down(host: &str, code: ExitCode) -> NotReached {
        NotReached {
            host: host.into(),
            code,
        }
    }

    #[test]
    fn connection_problems_keep_their_exit_code_and_get_no_skip_advice() {
        let refused = problem("facts", "w1", "facts could not be gathered: cannot connect");
        let key = problem(
            "facts",
            "w2",
            "facts could not be gathered: HOST KEY CHANGED",
        );
        let memory = problem("memory", "cp1", "512 MB of memory");
        let sudo = problem("sudo", "w3", "become (sudo) did not work");
        let bad_skip = problem("skip", "", "--skip-preflight: unknown check");
        type Case = (
            &'static str,
            Vec<PreflightProblem>,
            Vec<NotReached>,
            Option<ExitCode>,
            Vec<&'static str>,
            Vec<&'static str>,
        );
        let table: Vec<Case> = vec![
            (
                "all reached, no problem",
                vec![],
                vec![],
                None,
                vec!["ok: all 3 hosts"],
                vec![],
            ),
            (
                "one unreachable host: exit 4, no --skip-preflight advice",
                vec![refused.clone()],
                vec![down("w1", ExitCode::Unreachable)],
                Some(ExitCode::Unreachable),
                vec!["not reached: w1; fix the connection"],
                vec!["--skip-preflight", "ok:"],
            ),
            (
                "a changed host key outranks an unreachable host",
                vec![refused.clone(), key.clone()],
                vec![
                    down("w1", ExitCode::Unreachable),
                    down("w2", ExitCode::HostKey),
                ],
                Some(ExitCode::HostKey),
                vec!["not reached: w1, w2;", "2 problem(s)"],
                vec!["--skip-preflight"],
            ),
            (
                "a failed check with an unreachable host: advice for the check, exit 4",
                vec![memory.clone(), refused.clone()],
                vec![down("w1", ExitCode::Unreachable)],
                Some(ExitCode::Unreachable),
                vec![
                    "(skip a check with --skip-preflight NAME)",
                    "not reached: w1",
                ],
                vec![],
            ),
            (
                "failed checks alone: exit 3",
                vec![memory.clone(), sudo.clone()],
                vec![],
                Some(ExitCode::HostFailed),
                vec!["(skip a check with --skip-preflight NAME)"],
                vec!["not reached"],
            ),
            (
                "a bad --skip-preflight is no check to skip",
                vec![bad_skip],
                vec![],
                Some(ExitCode::HostFailed),
                vec!["1 problem(s)"],
                vec!["skip a check"],
            ),
            (
                "facts skipped: the ok line does not count the hosts never reached",
                vec![],
                vec![down("w1", ExitCode::Unreachable)],
                None,
                vec!["ok: 2 of 3 hosts; not reached, so not checked (check `facts` skipped): w1"],
                vec!["all 3"],
            ),
        ];
        for (what, problems, not_reached, code, has, lacks) in table {
            let (lines, got) = verdict(&problems, &not_reached, 3);
            let text = lines.join("\n");
            assert_eq!(got, code, "{what}:\n{text}");
            for h in has {
                assert!(text.contains(h), "{what}: {h:?} missing:\n{text}");
            }
            for l in lacks {
                assert!(!text.contains(l), "{what}: {l:?} present:\n{text}");
            }
        }
    }
}
