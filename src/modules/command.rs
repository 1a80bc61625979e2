//! command: run a command without a shell; changed unless changed_when says otherwise.
//!
//! The free-form text is split into words as Ansible does (Python's
//! `shlex.split`) and every word is quoted again, so `*`, `|`, `>` and `$X`
//! reach the program literally, exactly as under Ansible. `creates` and
//! `removes` are decided from file facts, so a skipped command costs no round
//! trip; unlike Ansible they are exact paths, not glob patterns.

use super::sys_common::{exists, shlex_split};
use super::{q, Action, Args, Context, Module, Plan};
use crate::facts::FactRequest;

pub struct Command;

const PARAMS: &[&str] = &[
    "_raw_params",
    "cmd",
    "argv",
    "chdir",
    "creates",
    "removes",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

impl Module for Command {
    fn name(&self) -> &'static str {
        "command"
    }

    fn params(&self) -> &'static [&'static str] {
        PARAMS
    }

    fn free_form(&self) -> bool {
        true
    }

    /// What the command would do cannot be known without running it.
    fn supports_check_mode(&self) -> bool {
        false
    }

    fn changes_under_check(&self, args: &Args) -> bool {
        args.has("creates") || args.has("removes")
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        guard_paths(args)
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let words = match (args.str("_raw_params")?, args.str("cmd")?, args.has("argv")) {
            (Some(raw), None, false) => shlex_split(&raw)?,
            (None, Some(cmd), false) => shlex_split(&cmd)?,
            (None, None, true) => args.list("argv")?,
            (None, None, false) => {
                return Err("no command given: use free form, `cmd` or `argv`".into())
            }
            _ => return Err("give only one of free form, `cmd` and `argv`".into()),
        };
        if words.is_empty() {
            return Err("no command given: the command line is empty".into());
        }
        let line: Vec<String> = words.iter().map(|w| q(w)).collect();
        // `exec` so the command's exit status and signals are the task's own.
        run_plan(
            args,
            ctx,
            &format!("exec {}", line.join(" ")),
            &words.join(" "),
        )
    }
}

/// File facts needed for `creates` / `removes`.
pub(super) fn guard_paths(args: &Args) -> Result<Vec<FactRequest>, String> {
    let mut out = Vec::new();
    for key in ["creates", "removes"] {
        if let Some(path) = guard_path(args, key)? {
            out.push(FactRequest::File {
                path,
                content: false,
            });
        }
    }
    Ok(out)
}

/// `creates`/`removes` as an absolute path: a relative one is taken from
/// `chdir` (as Ansible does), and without `chdir` it has no meaning here.
fn guard_path(args: &Args, key: &str) -> Result<Option<String>, String> {
    let Some(path) = args.str(key)? else {
        return Ok(None);
    };
    if path.starts_with('/') {
        return Ok(Some(path));
    }
    match args.str("chdir")? {
        Some(dir) if dir.starts_with('/') => {
            Ok(Some(format!("{}/{path}", dir.trim_end_matches('/'))))
        }
        _ => Err(format!(
            "argument `{key}` must be an absolute path (or relative to an absolute `chdir`)"
        )),
    }
}

/// The plan shared by command and shell: skip on creates/removes, else run
/// `script` in `chdir` with `stdin`. Always changed; the runner applies changed_when.
pub(super) fn run_plan(
    args: &Args,
    ctx: &Context,
    script: &str,
    shown: &str,
) -> Result<Plan, String> {
    if let Some(path) = guard_path(args, "creates")? {
        if exists(ctx, &path)? {
            return Ok(Plan::noop(format!("skipped, since {path} exists")));
        }
    }
    if let Some(path) = guard_path(args, "removes")? {
        if !exists(ctx, &path)? {
            return Ok(Plan::noop(format!("skipped, since {path} does not exist")));
        }
    }
    let mut full = String::new();
    if let Some(dir) = args.str("chdir")? {
        full.push_str(&format!("cd {} || exit 1\n", q(&dir)));
    }
    full.push_str(script);
    let stdin = match args.str("stdin")? {
        Some(mut s) => {
            if args.bool("stdin_add_newline", true)? && !s.ends_with('\n') {
                s.push('\n');
            }
            Some(s.into_bytes())
        }
        // An empty stdin, so a command that reads it does not hang on the channel.
        None => Some(Vec::new()),
    };
    // Accepted for Ansible compatibility; output is kept as the command printed it.
    args.bool("strip_empty_ends", true)?;
    Ok(Plan {
        changed: true,
        actions: vec![Action::Run {
            script: full,
            stdin,
        }],
        msg: format!("run: {shown}"),
        ..Plan::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check, file, missing, scripts, stdins};
    use super::*;
    use crate::facts::Facts;
    use serde_json::json;

    fn facts() -> Facts {
        let mut f = Facts::default();
        f.files
            .insert("/etc/kubernetes/admin.conf".into(), file("x"));
        f.files.insert("/tmp/none".into(), missing());
        f.files.insert("/srv/app/out".into(), missing());
        f
    }

    #[test]
    fn table() {
        let f = facts();
        // (args, expected script or None for a skip, message)
        let cases = [
            (
                json!({"_raw_params": "echo 'a b' $HOME"}),
                Some("exec 'echo' 'a b' '$HOME'"),
                "run: echo a b $HOME",
            ),
            (
                json!({"cmd": "kubeadm init --config /tmp/k.yaml"}),
                Some("exec 'kubeadm' 'init' '--config' '/tmp/k.yaml'"),
                "run: kubeadm init --config /tmp/k.yaml",
            ),
            (
                json!({"argv": ["printf", "%s\n", "it's"]}),
                Some("exec 'printf' '%s\n' 'it'\\''s'"),
                "run: printf %s\n it's",
            ),
            (
                json!({"_raw_params": "kubeadm init", "creates": "/etc/kubernetes/admin.conf"}),
                None,
                "skipped, since /etc/kubernetes/admin.conf exists",
            ),
            (
                json!({"_raw_params": "kubeadm reset -f", "removes": "/tmp/none"}),
                None,
                "skipped, since /tmp/none does not exist",
            ),
            (
                json!({"_raw_params": "kubeadm reset -f", "removes": "/etc/kubernetes/admin.conf"}),
                Some("exec 'kubeadm' 'reset' '-f'"),
                "run: kubeadm reset -f",
            ),
            (
                json!({"_raw_params": "make", "chdir": "/srv/app", "creates": "out"}),
                Some("cd '/srv/app' || exit 1\nexec 'make'"),
                "run: make",
            ),
        ];
        for (args, script, msg) in cases {
            let plan = check(&Command, &f, args.clone()).unwrap();
            assert_eq!(plan.msg, msg, "{args}");
            match script {
                Some(s) => {
                    assert!(plan.changed, "{args}");
                    assert_eq!(scripts(&plan), vec![s.to_string()], "{args}");
                }
                None => assert!(!plan.changed && plan.actions.is_empty(), "{args}"),
            }
        }
    }

    #[test]
    fn stdin_gets_a_newline_unless_told_not_to() {
        let f = facts();
        let p = check(&Command, &f, json!({"_raw_params": "cat", "stdin": "hi"})).unwrap();
        assert_eq!(stdins(&p), vec![Some("hi\n".to_string())]);
        let p = check(
            &Command,
            &f,
            json!({"_raw_params": "cat", "stdin": "hi", "stdin_add_newline": false}),
        )
        .unwrap();
        assert_eq!(stdins(&p), vec![Some("hi".to_string())]);
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let f = facts();
        for args in [
            json!({}),
            json!({"_raw_params": "   "}),
            json!({"_raw_params": "echo 'open"}),
            json!({"_raw_params": "a", "cmd": "b"}),
            json!({"_raw_params": "a", "creates": "rel/path"}),
            json!({"_raw_params": "a", "creates": "/not/gathered"}),
            json!({"argv": [{"x": 1}]}),
        ] {
            assert!(check(&Command, &f, args.clone()).is_err(), "{args}");
        }
    }

    #[test]
    fn needs_the_guard_files() {
        let a = Args::from_pairs(&[
            ("creates", json!("out")),
            ("chdir", json!("/srv/app/")),
            ("removes", json!("/x")),
        ]);
        assert_eq!(
            Command.needs(&a).unwrap(),
            vec![
                FactRequest::File {
                    path: "/srv/app/out".into(),
                    content: false
                },
                FactRequest::File {
                    path: "/x".into(),
                    content: false
                },
            ]
        );
    }

    #[test]
    fn guarded_commands_report_a_change_under_check_as_ansible_does() {
        let args = |v: serde_json::Value| Args(v.as_object().unwrap().clone());
        for (a, want) in [
            (json!({"_raw_params": "make", "creates": "/srv/out"}), true),
            (json!({"_raw_params": "rm -f /x", "removes": "/x"}), true),
            (json!({"_raw_params": "make"}), false),
        ] {
            assert_eq!(Command.changes_under_check(&args(a.clone())), want, "{a}");
            assert_eq!(
                super::super::shell::Shell.changes_under_check(&args(a.clone())),
                want,
                "{a}"
            );
        }
    }
}
