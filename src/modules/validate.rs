//! `validate`: the command a file module runs on the new content before it replaces the file, as Ansible does.
//!
//! `%s` in the command names the temporary file (in the target's own
//! directory, with the wanted mode and owner); a non-zero exit leaves the
//! old file in place and fails the task with `failed to validate`. The
//! command is split into words as Ansible splits it (shlex, no shell), and
//! each word is quoted again, so a `|` or `;` in it is a plain argument as
//! in Ansible.

use serde_json::{Map, Value};

use super::{literal, q, Args};
use crate::shlex::{split, Comments};

/// The modules that take `validate`.
pub const ARG: &str = "validate";

/// The shell command that validates the file at `"$t"`, from the task's
/// `validate` (None when not given).
pub fn validate_arg(args: &Args) -> Result<Option<String>, String> {
    args.str(ARG)?.map(|v| command(&v)).transpose()
}

/// Load-time refusal of a literal `validate` without `%s`.
pub fn refuse_validate(args: &Map<String, Value>) -> Vec<(String, String)> {
    match literal(args, ARG) {
        Some(v) => command(&v)
            .err()
            .map(|e| (ARG.to_string(), e))
            .into_iter()
            .collect(),
        None => Vec::new(),
    }
}

fn command(v: &str) -> Result<String, String> {
    if !v.contains("%s") {
        return Err(format!("validate must contain %s: {v}"));
    }
    let words = split(v, Comments::Kept).map_err(|e| format!("validate: {e}: {v}"))?;
    Ok(words
        .iter()
        .map(|w| {
            w.split("%s")
                .map(|piece| {
                    if piece.is_empty() {
                        String::new()
                    } else {
                        q(piece)
                    }
                })
                .collect::<Vec<_>>()
                .join("\"$t\"")
        })
        .collect::<Vec<_>>()
        .join(" "))
}

/// The script line that runs `cmd` on the temporary file `$t`.
pub fn script_line(cmd: &str) -> String {
    format!("{cmd} >&2 || {{ rc=$?; echo \"failed to validate (rc=$rc)\" >&2; exit $rc; }}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words_are_quoted_and_percent_s_is_the_temp_file() {
        let cmd = |v: &str| validate_arg(&Args::from_pairs(&[("validate", json!(v))]));
        assert_eq!(
            cmd("visudo -cf %s").unwrap().unwrap(),
            "'visudo' '-cf' \"$t\""
        );
        assert_eq!(
            cmd("/usr/sbin/sshd -t -f %s").unwrap().unwrap(),
            "'/usr/sbin/sshd' '-t' '-f' \"$t\""
        );
        assert_eq!(
            cmd("x --file=%s.tmp 'a | b'").unwrap().unwrap(),
            "'x' '--file='\"$t\"'.tmp' 'a | b'"
        );
        assert_eq!(
            cmd("grep -q x").unwrap_err(),
            "validate must contain %s: grep -q x"
        );
        assert_eq!(
            cmd("x 'y %s").unwrap_err(),
            "validate: no closing quotation: x 'y %s"
        );
        assert_eq!(validate_arg(&Args::default()).unwrap(), None);
        assert_eq!(
            refuse_validate(&Args::from_pairs(&[("validate", json!("true"))]).0),
            vec![(
                "validate".to_string(),
                "validate must contain %s: true".to_string()
            )]
        );
        assert!(refuse_validate(&Args::from_pairs(&[("validate", json!("{{ v }}"))]).0).is_empty());
    }
}
