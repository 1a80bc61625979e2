//! One step of `certs` on one control plane: its command run as root, and a typed failure naming the host, the step, the command and what it said.

use crate::engine::error::CommandError;
use crate::engine::Runner;
use crate::ExitCode;

/// A step that did not succeed on a host.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("{host}: {step}: `{command}` failed (rc={rc}): {said}")]
    Failed {
        host: String,
        step: &'static str,
        command: String,
        rc: i64,
        said: String,
    },
    #[error("{host}: {step}: {source}")]
    Ssh {
        host: String,
        step: &'static str,
        source: CommandError,
    },
    #[error("{host}: {step}: {problem}")]
    Output {
        host: String,
        step: &'static str,
        problem: String,
    },
    /// A file on the operator's machine that could not be written.
    #[error("{host}: {step}: {}: {source}", .path.display())]
    Local {
        host: String,
        step: &'static str,
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl StepError {
    /// 4 when the host could not be asked, else 3 (README, "Exit codes").
    pub fn exit_code(&self) -> ExitCode {
        match self {
            StepError::Ssh { source, .. } => match source {
                CommandError::Ssh(e) => e.exit_code(),
                _ => ExitCode::Unreachable,
            },
            StepError::Local { .. } => ExitCode::Internal,
            _ => ExitCode::HostFailed,
        }
    }
}

/// Run `command` on `host` as root; its stdout when it succeeded.
pub async fn run(
    runner: &Runner,
    host: &str,
    step: &'static str,
    command: &str,
) -> Result<String, StepError> {
    let out = runner
        .run_command(host, command)
        .await
        .map_err(|source| StepError::Ssh {
            host: host.to_string(),
            step,
            source,
        })?;
    if out.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(StepError::Failed {
        host: host.to_string(),
        step,
        command: command.to_string(),
        rc: out.rc(),
        said: said(&out.stderr, &out.stdout),
    })
}

/// The last few lines a failed command wrote (stderr, else stdout), on one line.
fn said(stderr: &[u8], stdout: &[u8]) -> String {
    let pick = if stderr.iter().any(|b| !b.is_ascii_whitespace()) {
        stderr
    } else {
        stdout
    };
    let text = String::from_utf8_lossy(pick);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let tail = &lines[lines.len().saturating_sub(3)..];
    if tail.is_empty() {
        "(no output)".into()
    } else {
        tail.join(" / ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (stderr, stdout, what the error quotes)
    #[test]
    fn what_a_failed_command_said() {
        let table = [
            ("", "", "(no output)"),
            ("", "out\n", "out"),
            ("a\n\nb\nc\nd\n", "out", "b / c / d"),
            (
                "  error execution phase: x  \n",
                "",
                "error execution phase: x",
            ),
        ];
        for (err, out, want) in table {
            assert_eq!(said(err.as_bytes(), out.as_bytes()), want);
        }
    }
}
