//! The output layer: events, the reporters that show them (text, JSON, progress), outcomes and the recap.
//!
//! The engine and the commands emit [`Event`]s to one [`Reporter`] (a
//! [`Fanout`] of the text, JSON and progress reporters) and print nothing
//! themselves. Every reporter masks every registered secret ([`redact`]).

use serde::Serialize;

pub mod adhoc;
pub mod event;
pub mod json;
pub mod progress;
pub mod redact;
pub mod reporter;
pub mod stdout;
pub mod text;
pub mod timings;

#[cfg(test)]
mod one_channel;

pub use event::{Event, ExecResult, HostTotals, Stop, TaskResult};
pub use reporter::{Fanout, Reporter, Sink, Stdio};

/// Show `event` as text on stdout and stderr: for commands that have no
/// run (and so no reporters) of their own, and the CLI's errors.
pub fn say(event: Event) {
    text::Text::new(std::sync::Arc::new(Stdio)).emit(&event);
}

/// What happened to one host in one task, in Ansible's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Changed,
    Skipped,
    Failed,
    Unreachable,
}

/// Counters for one host across a run: the columns of PLAY RECAP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failed: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

impl HostStats {
    /// Count one outcome. As in Ansible, a changed task also counts as ok.
    pub fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Changed => {
                self.ok += 1;
                self.changed += 1;
            }
            Outcome::Skipped => self.skipped += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::Unreachable => self.unreachable += 1,
        }
    }
}

/// A banner line as Ansible draws it on an 80-column terminal.
pub fn banner(title: &str) -> String {
    let stars = 79usize.saturating_sub(title.len()).max(3);
    format!("{title} {}", "*".repeat(stars))
}

/// The PLAY RECAP block, hosts sorted by name as Ansible sorts them.
pub fn recap(stats: &[(String, HostStats)]) -> String {
    let mut rows: Vec<&(String, HostStats)> = stats.iter().collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = banner("PLAY RECAP");
    out.push('\n');
    for (host, s) in rows {
        out.push_str(&format!(
            "{host:<26} : ok={:<4} changed={:<4} unreachable={:<4} failed={:<4} skipped={:<4} rescued={:<4} ignored={:<4}",
            s.ok, s.changed, s.unreachable, s.failed, s.skipped, s.rescued, s.ignored
        ));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_counts_as_ok_too() {
        let mut s = HostStats::default();
        s.record(Outcome::Changed);
        s.record(Outcome::Ok);
        s.record(Outcome::Failed);
        assert_eq!((s.ok, s.changed, s.failed), (2, 1, 1));
    }

    #[test]
    fn recap_matches_ansibles_layout() {
        let mut a = HostStats::default();
        a.record(Outcome::Changed);
        let mut b = HostStats::default();
        b.record(Outcome::Unreachable);
        let text = recap(&[("node2".into(), b), ("node1".into(), a)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0].len(), 80);
        assert!(lines[0].starts_with("PLAY RECAP ****"));
        assert_eq!(
            lines[1],
            "node1                      : ok=1    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   "
        );
        assert!(lines[2]
            .starts_with("node2                      : ok=0    changed=0    unreachable=1 "));
    }
}

/// The `--report FILE.json` document: every task's result on every host.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub playbook: String,
    pub check_mode: bool,
    pub plays: Vec<PlayReport>,
    /// Per host: the recap counters plus how many SSH commands ran.
    pub stats: std::collections::BTreeMap<String, HostReport>,
    /// Wall-clock seconds per phase of the run.
    pub timings: timings::Timings,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct PlayReport {
    pub name: String,
    pub tasks: Vec<TaskReport>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TaskReport {
    pub name: String,
    pub handler: bool,
    /// `FILE:LINE` of the task.
    pub location: String,
    pub module: String,
    pub hosts: std::collections::BTreeMap<String, TaskHostReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TaskHostReport {
    pub outcome: Outcome,
    pub ignored: bool,
    pub msg: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<(String, Outcome)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diff: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct HostReport {
    #[serde(flatten)]
    pub stats: HostStats,
    /// SSH commands run on the host (one per fact gathering and per change).
    pub ssh_execs: u32,
}

/// Write the report as JSON, 0600 (it may name hosts and paths an operator
/// considers private), atomically.
pub fn write_report(path: &std::path::Path, report: &RunReport) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("json.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    // Results are masked as they are recorded; this catches anything else.
    let text = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    f.write_all(redact::text(&text).as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}
