//! shell: run a command through /bin/sh; changed unless changed_when says otherwise.
//!
//! The command text is handed to the shell whole (quoted once), so pipes,
//! redirections and variables work as under Ansible; `executable` picks
//! another shell. `creates`/`removes` are decided from file facts.

use super::command::{guard_paths, run_plan};
use super::{q, Args, Context, Module, Plan};
use crate::facts::FactRequest;

pub struct Shell;

const PARAMS: &[&str] = &[
    "_raw_params",
    "cmd",
    "chdir",
    "creates",
    "removes",
    "executable",
    "stdin",
    "stdin_add_newline",
    "strip_empty_ends",
];

impl Module for Shell {
    fn name(&self) -> &'static str {
        "shell"
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
        let text = match (args.str("_raw_params")?, args.str("cmd")?) {
            (Some(t), None) | (None, Some(t)) => t,
            (None, None) => return Err("no command given: use free form or `cmd`".into()),
            (Some(_), Some(_)) => return Err("give only one of free form and `cmd`".into()),
        };
        if text.trim().is_empty() {
            return Err("no command given: the command is empty".into());
        }
        let shell = args.str("executable")?.unwrap_or_else(|| "/bin/sh".into());
        if shell.trim().is_empty() {
            return Err("argument `executable` must name a shell".into());
        }
        run_plan(
            args,
            ctx,
            &format!("exec {} -c {}", q(&shell), q(&text)),
            &text,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check, file, scripts};
    use super::*;
    use crate::facts::Facts;
    use serde_json::json;

    #[test]
    fn table() {
        let mut f = Facts::default();
        f.files.insert("/done".into(), file(""));
        let cases = [
            (
                json!({"_raw_params": "echo $HOME | tr a-z A-Z > /tmp/x"}),
                Some("exec '/bin/sh' -c 'echo $HOME | tr a-z A-Z > /tmp/x'"),
            ),
            (
                json!({"cmd": "set -o pipefail; a | b", "executable": "/bin/bash"}),
                Some("exec '/bin/bash' -c 'set -o pipefail; a | b'"),
            ),
            (
                json!({"cmd": "echo it's", "chdir": "/tmp"}),
                Some("cd '/tmp' || exit 1\nexec '/bin/sh' -c 'echo it'\\''s'"),
            ),
            (json!({"cmd": "x", "creates": "/done"}), None),
        ];
        for (args, want) in cases {
            let plan = check(&Shell, &f, args.clone()).unwrap();
            match want {
                Some(s) => {
                    assert!(plan.changed);
                    assert_eq!(scripts(&plan), vec![s.to_string()], "{args}");
                }
                None => assert_eq!(plan.msg, "skipped, since /done exists"),
            }
        }
        for bad in [
            json!({}),
            json!({"cmd": " "}),
            json!({"cmd": "a", "_raw_params": "b"}),
            json!({"cmd": "a", "executable": ""}),
        ] {
            assert!(check(&Shell, &f, bad.clone()).is_err(), "{bad}");
        }
    }
}
