//! Terminal output: one progress line per host, and tracing behind -v.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub mod stdout;
pub mod still_running;

/// Send tracing logs to stderr: warnings by default, more with each -v
/// (-v info, -vv debug, -vvv trace including russh's protocol logs).
pub fn init_logging(verbosity: u8) {
    let filter = match verbosity {
        0 => "warn",
        1 => "info,russh=warn",
        2 => "debug,russh=info",
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

/// What the line of a host that runs nothing says.
const IDLE: &str = "idle";

/// stderr for log lines, every known secret masked (russh's trace logs
/// show the bytes sent, a sudo password among them). tracing writes each
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

/// One spinner line per host while work is under way; drawn only when
/// stdout is a terminal, so pipelines and CI logs get plain text.
pub struct Progress {
    multi: MultiProgress,
    bars: HashMap<String, ProgressBar>,
}

impl Progress {
    pub fn new(hosts: &[String]) -> Self {
        let target = if std::io::stdout().is_terminal() {
            ProgressDrawTarget::stdout()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let style = ProgressStyle::with_template("{spinner} {prefix:<20} {wide_msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars = hosts
            .iter()
            .map(|h| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(h.clone());
                bar.set_message("waiting");
                bar.enable_steady_tick(Duration::from_millis(120));
                (h.clone(), bar)
            })
            .collect();
        Progress { multi, bars }
    }

    /// Say what a host is doing now (a task title may hold a rendered secret).
    pub fn set(&self, host: &str, message: &str) {
        if let Some(bar) = self.bars.get(host) {
            bar.set_message(crate::report::redact::text(message));
        }
    }

    /// A task starts on `busy`: their lines name it, every other host's
    /// says it is idle (not the task it ran last).
    pub fn working(&self, busy: &std::collections::BTreeSet<String>, task: &str) {
        for (host, bar) in &self.bars {
            let message = if busy.contains(host) { task } else { IDLE };
            bar.set_message(message.to_string());
        }
    }

    /// What a host's line says now.
    pub fn message(&self, host: &str) -> Option<String> {
        self.bars.get(host).map(|b| b.message())
    }

    /// Whether the lines are drawn (stdout is a terminal).
    pub fn on_terminal(&self) -> bool {
        !self.multi.is_hidden()
    }

    /// The host is done: its line goes away.
    pub fn finish(&self, host: &str) {
        if let Some(bar) = self.bars.get(host) {
            bar.finish_and_clear();
        }
    }

    /// Print text above the progress lines without tearing them.
    pub fn println(&self, text: &str) {
        if self.multi.is_hidden() {
            crate::outln!("{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }

    pub fn clear(&self) {
        for bar in self.bars.values() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_outside_a_task_say_idle_not_their_last_task() {
        let hosts = ["a".to_string(), "b".to_string(), "c".to_string()];
        let p = Progress::new(&hosts);
        let busy = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        p.working(&busy(&["a", "b", "c"]), "install containerd");
        p.working(&busy(&["a"]), "kubeadm init");
        let shown: Vec<Option<String>> = hosts.iter().map(|h| p.message(h)).collect();
        assert_eq!(
            shown,
            [
                Some("kubeadm init".into()),
                Some("idle".into()),
                Some("idle".into())
            ]
        );
        p.clear();
    }

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
