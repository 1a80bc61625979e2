//! The text reporter: events as Ansible prints them (banners, one line per host, diffs, PLAY RECAP).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use super::event::{Event, ExecResult, HostTotals, Stop, TaskResult};
use super::reporter::{Reporter, Sink};
use super::{banner, recap, redact, HostStats, Outcome};

/// Prints events as text to a [`Sink`], every known secret masked.
pub struct Text {
    sink: Arc<dyn Sink>,
    /// Show diffs (`--diff`).
    pub diff: bool,
    /// Show what a task registered after its status line (`-v`).
    pub verbose: bool,
}

impl Text {
    pub fn new(sink: Arc<dyn Sink>) -> Self {
        Text {
            sink,
            diff: false,
            verbose: false,
        }
    }

    fn out(&self, text: &str) {
        self.sink.out(&redact::text(text));
    }

    fn err(&self, text: &str) {
        self.sink.err(&redact::text(text));
    }

    /// Write `text` and a newline to stdout.
    fn line(&self, text: &str) {
        self.out(&format!("{text}\n"));
    }
}

impl Reporter for Text {
    fn emit(&self, event: &Event) {
        match event {
            Event::PlayStart { name } => self.line(&play_banner(name)),
            Event::NoHostsMatched => self.line("skipping: no hosts matched"),
            // Masked before it is quoted: a secret with a quote or a line
            // break in it would not be found in its JSON form.
            Event::Unreachable { host, msg } => self.line(&status_line(
                host,
                Outcome::Unreachable,
                &redact::text(msg),
                None,
            )),
            Event::GatherStart => self.line(&task_banner("Gathering Facts", false)),
            Event::Gathered { host, error: None } => self.line(&format!("ok: [{host}]")),
            Event::Gathered {
                host,
                error: Some(e),
            } => self.line(&format!(
                "fatal: [{host}]: FAILED! => {{\"msg\": {}}}",
                Json::from(redact::text(e))
            )),
            Event::StillRunning {
                task,
                hosts,
                elapsed,
            } => self.line(&still_running(task, hosts, *elapsed)),
            Event::TaskEnd { title, handler, .. } => self.line(&task_banner(title, *handler)),
            Event::Warning { host, msg } => self.line(&format!("[WARNING]: [{host}]: {msg}")),
            Event::HostResult {
                host,
                result,
                no_log,
            } => self.line(&host_lines(
                host,
                &result.shown(*no_log),
                self.diff,
                self.verbose,
            )),
            Event::Exec { host, result } => self.line(&exec_lines(host, result)),
            Event::Stopped(Stop::PlayBudget { play }) => self.line(&format!(
                "\nNO MORE HOSTS LEFT: play {play:?} stopped by its failure budget"
            )),
            Event::Stopped(Stop::RunBudget { why }) => {
                self.line(&format!("\nNO MORE HOSTS LEFT: {why}; the run stops here"))
            }
            Event::Interrupted => self.line("\nINTERRUPTED: no new task was started after SIGINT"),
            Event::Recap { hosts } => self.line(&format!("\n{}", recap(&recap_rows(hosts)))),
            Event::Section { title, lines } => {
                let mut text = format!("\n{}\n", banner(title));
                for l in lines {
                    text.push_str(l);
                    text.push('\n');
                }
                self.out(&text);
            }
            Event::Line(l) => self.line(l),
            Event::Document(d) => self.out(d),
            Event::Notice(n) => self.err(&format!("{n}\n")),
            Event::Error(e) => self.err(&format!("error: {e}\n")),
            Event::Prompt(p) => self.err(p),
            Event::HostStatus { .. }
            | Event::HostDone { .. }
            | Event::TaskStart { .. }
            | Event::Phase(_)
            | Event::RunEnd { .. } => {}
        }
    }
}

fn recap_rows(hosts: &[HostTotals]) -> Vec<(String, HostStats)> {
    hosts.iter().map(|h| (h.host.clone(), h.stats)).collect()
}

/// `PLAY [name] ****…`, with the blank line Ansible puts before it.
fn play_banner(name: &str) -> String {
    format!("\n{}", banner(&format!("PLAY [{name}]")))
}

/// `TASK [name] ****…`
fn task_banner(title: &str, handler: bool) -> String {
    let kind = if handler { "RUNNING HANDLER" } else { "TASK" };
    format!("\n{}", banner(&format!("{kind} [{title}]")))
}

/// The lines for one host's result: any diffs, then the status line(s).
fn host_lines(host: &str, r: &TaskResult, diff: bool, verbose: bool) -> String {
    let mut out = String::new();
    for line in &r.retries {
        out.push_str(line);
        out.push('\n');
    }
    if diff {
        for d in &r.diffs {
            out.push_str(d.trim_end_matches('\n'));
            out.push('\n');
        }
    }
    if r.items.is_empty() || matches!(r.outcome, Outcome::Unreachable) {
        out.push_str(&status_line(host, r.outcome, &r.msg, None));
        let succeeded = !matches!(r.outcome, Outcome::Failed | Outcome::Unreachable);
        match r.shown.first() {
            Some(Some(shown)) if succeeded => out.push_str(&format!(" => {}", pretty(shown))),
            _ if verbose && succeeded => out.push_str(&format!(" => {}", r.registered)),
            _ => {}
        }
    } else {
        for (i, (label, outcome)) in r.items.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&status_line(host, *outcome, &r.msg, Some(label)));
            if let Some(Some(shown)) = r.shown.get(i) {
                out.push_str(&format!(" => {}", pretty(shown)));
            }
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

/// JSON as Ansible's default callback prints a result: four-space indent,
/// keys sorted (serde_json's maps are).
pub(super) fn pretty(v: &Json) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    match v.serialize(&mut ser) {
        Ok(()) => String::from_utf8_lossy(&out).into_owned(),
        Err(_) => v.to_string(),
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

/// `still running: TASK on a, b (2m10s)`.
fn still_running(task: &str, hosts: &[String], elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    let took = if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    };
    format!("still running: {task} on {} ({took})", hosts.join(", "))
}

/// `kubestrap exec`'s block for one host, as Ansible's ad-hoc mode prints it.
fn exec_lines(host: &str, result: &ExecResult) -> String {
    match result {
        ExecResult::Ran {
            rc,
            success,
            signal,
            stdout,
            stderr,
            truncated_mib,
        } => {
            let status = if *success { "CHANGED" } else { "FAILED" };
            let mut text = format!("{host} | {status} | rc={rc} >>");
            if let Some(signal) = signal {
                text.push_str(&format!(" (killed by signal {signal})"));
            }
            for stream in [stdout, stderr] {
                // Not UTF-8 is shown with replacement characters, never a crash.
                let s = String::from_utf8_lossy(stream);
                let s = s.trim_end_matches('\n');
                if !s.is_empty() {
                    text.push('\n');
                    text.push_str(s);
                }
            }
            if let Some(mib) = truncated_mib {
                text.push_str(&format!(
                    "\n[kubestrap: output truncated after {mib} MiB per stream]"
                ));
            }
            text
        }
        ExecResult::Unreachable(e) => format!("{host} | UNREACHABLE! => {e}"),
        ExecResult::Failed(e) => format!("{host} | FAILED! => {e}"),
    }
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
