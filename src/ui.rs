//! Around the output: tracing logs behind -v, and when a long task deserves a "still running" notice.

use std::io::IsTerminal;

pub mod still_running;

/// Send tracing logs to stderr: warnings by default, more with each -v
/// (-v info, -vv debug, -vvv trace). russh logs through the `log` crate,
/// which is not bridged into tracing: its protocol traces print payload
/// bytes as numbers, which no text masking could catch, so they stay off.
pub fn init_logging(verbosity: u8) {
    let filter = match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(colour(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ))
        .with_writer(|| RedactingStderr)
        .with_target(verbosity >= 2)
        .without_time()
        .try_init();
}

/// Whether log lines on stderr get ANSI colours: only on a terminal, and
/// never when NO_COLOR is set to anything but the empty string
/// (no-color.org), so log files and CI output stay plain text.
fn colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// stderr for log lines, every known secret masked (a command or an
/// error that names one, whatever a playbook says). tracing writes each
/// event with one `write_all`, so a secret is never split across calls.
struct RedactingStderr;

impl std::io::Write for RedactingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = crate::report::redact::text(&String::from_utf8_lossy(buf));
        std::io::stderr().write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        let set = Some(std::ffi::OsStr::new("1"));
        let empty = Some(std::ffi::OsStr::new(""));
        let table = [
            (true, None, true),
            (true, set, false),
            (true, empty, true),
            (false, None, false),
            (false, set, false),
        ];
        for (tty, no_color, want) in table {
            assert_eq!(colour(tty, no_color), want, "{tty} {no_color:?}");
        }
    }
}
