//! become: run a command through sudo, and recognise sudo's own refusals.

use super::exec::Output;
use super::target::Target;
use super::SshError;

/// The prompt sudo prints when it reads the password from stdin; a fixed
/// marker so it can be removed from stderr.
const PROMPT: &str = "[kubestrap-become] ";

/// Quote `s` for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The command line that runs `command` as `user` through sudo.
///
/// Without a password, `-n` makes sudo fail at once instead of waiting for
/// one; with a password, `-S` reads it from stdin, so it never appears on a
/// command line or in a process list.
pub fn wrap(command: &str, user: &str, with_password: bool) -> String {
    let mode = if with_password {
        format!("-S -p {}", shell_quote(PROMPT))
    } else {
        "-n".to_string()
    };
    format!(
        "sudo -H {mode} -u {} -- /bin/sh -c {}",
        shell_quote(user),
        shell_quote(command)
    )
}

/// Turn sudo's own refusals into clear errors and strip its prompt from stderr.
pub fn check(mut out: Output, target: &Target) -> Result<Output, SshError> {
    let stderr = String::from_utf8_lossy(&out.stderr).replace(PROMPT, "");
    if !out.success() {
        let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        let host = target.name.clone();
        let user = target.user.clone();
        if first.starts_with("sudo:") && first.contains("a password is required") {
            return Err(SshError::BecomePasswordRequired { host, user });
        }
        if stderr.contains("Sorry, try again")
            || stderr.contains("incorrect password attempt")
            || (first.starts_with("sudo:") && first.contains("no password was provided"))
        {
            return Err(SshError::BecomeWrongPassword { host, user });
        }
        let not_allowed = first.contains("is not in the sudoers file")
            || first.contains("is not allowed to")
            || first.contains("sudo: command not found")
            || first.contains("sudo: not found");
        if not_allowed {
            return Err(SshError::BecomeNotAllowed {
                host,
                user,
                said: first.trim().to_string(),
            });
        }
    }
    out.stderr = stderr.into_bytes();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            name: "node1".into(),
            hostname: "10.0.0.1".into(),
            port: 22,
            user: "deploy".into(),
            identity_files: vec![],
            explicit_identities: false,
            jumps: vec![],
            known_hosts: vec![],
            become_: true,
            become_user: "root".into(),
        }
    }

    fn failed(stderr: &str) -> Output {
        Output {
            exit_status: Some(1),
            stderr: stderr.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn wrap_is_non_interactive_without_a_password() {
        assert_eq!(
            wrap("id -u", "root", false),
            "sudo -H -n -u 'root' -- /bin/sh -c 'id -u'"
        );
        assert!(wrap("id -u", "root", true).contains("-S -p '[kubestrap-become] '"));
    }

    #[test]
    fn sudo_refusals_become_clear_errors() {
        let table: &[(&str, &str)] = &[
            ("sudo: a password is required\n", "needs a password"),
            ("[kubestrap-become] Sorry, try again.\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n", "rejected the become password"),
            ("deploy is not in the sudoers file.  This incident will be reported.\n", "may not use sudo"),
            ("sudo: a terminal is required to read the password; either use the -S option\n", ""),
        ];
        for (stderr, want) in table {
            let r = check(failed(stderr), &target());
            match (r, want.is_empty()) {
                (Err(e), false) => assert!(e.to_string().contains(want), "{stderr:?} gave {e}"),
                (Ok(_), true) => {}
                (other, _) => panic!("{stderr:?}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn a_failing_command_is_not_mistaken_for_sudo() {
        let out = check(failed("grep: a password is required\n"), &target()).unwrap();
        assert_eq!(out.rc(), 1);
    }

    #[test]
    fn the_prompt_is_stripped() {
        let out = Output {
            exit_status: Some(0),
            stderr: b"[kubestrap-become] warning\n".to_vec(),
            ..Default::default()
        };
        assert_eq!(check(out, &target()).unwrap().stderr, b"warning\n");
    }
}
