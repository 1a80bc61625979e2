//! What a run tells its operator, as data: the engine and the commands emit events, reporters show them.
//!
//! An event says what happened, never how it looks: the text reporter
//! turns it into Ansible's lines, the JSON reporter into `--report`'s
//! document, the progress display into a host's status line. Values in an
//! event are as the engine has them (secrets included); masking happens in
//! the reporters, so an event stream can be recorded and replayed in tests.

use std::time::Duration;

use serde_json::Value as Json;

use super::timings::Phase;
use super::{HostStats, Outcome};

/// The result of one task on one host (all loop items together).
#[derive(Debug, Clone)]
pub struct TaskResult {
    pub outcome: Outcome,
    /// A failure that `ignore_errors` turned into ok.
    pub ignored: bool,
    pub msg: String,
    pub diffs: Vec<String>,
    /// Per loop item: the item's label and its outcome.
    pub items: Vec<(String, Outcome)>,
    /// What `register:` stores.
    pub registered: Json,
    /// What Ansible prints after the status line (`ok: [host] => {…}`):
    /// debug's message, an assert's verdict; one entry, or one per loop
    /// item; empty (or None) for every other task.
    pub shown: Vec<Option<Json>>,
    /// `until` not met yet: the `FAILED - RETRYING: …` lines Ansible
    /// prints before the result, one per attempt that is retried.
    pub retries: Vec<String>,
}

/// One host's counters at the end of a run.
#[derive(Debug, Clone)]
pub struct HostTotals {
    pub host: String,
    pub stats: HostStats,
    /// SSH commands run on the host (counted before the connection closed).
    pub ssh_execs: u32,
}

/// What `kubestrap exec` got from one host.
#[derive(Debug, Clone)]
pub enum ExecResult {
    /// The command ran (whatever its exit status).
    Ran {
        rc: i64,
        success: bool,
        /// The signal that killed it, if one did.
        signal: Option<String>,
        stdout: Vec<u8>,
        stderr: Vec<u8>,
        /// Output past this many MiB per stream was dropped.
        truncated_mib: Option<usize>,
    },
    /// No connection could be had.
    Unreachable(String),
    /// Connected, but the command could not be run.
    Failed(String),
}

/// Why no more tasks run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The play's own any_errors_fatal / max_fail_percentage.
    PlayBudget { play: String },
    /// The run's failure budget (apply: control planes, workers).
    RunBudget { why: String },
}

/// One thing that happened, in the order it happened.
#[derive(Debug, Clone)]
pub enum Event {
    /// A play begins.
    PlayStart { name: String },
    /// The play's pattern matched no host.
    NoHostsMatched,
    /// A host could not be connected to.
    Unreachable { host: String, msg: String },
    /// Facts are about to be gathered (their results follow).
    GatherStart,
    /// Facts gathered on a host, or why not.
    Gathered { host: String, error: Option<String> },
    /// What a host is doing now (its progress line).
    HostStatus { host: String, status: String },
    /// A host has nothing more to do (its progress line goes away).
    HostDone { host: String },
    /// A task (or handler) starts on these hosts; the others are idle.
    TaskStart { title: String, hosts: Vec<String> },
    /// A long task still runs on these hosts.
    StillRunning {
        task: String,
        hosts: Vec<String>,
        elapsed: Duration,
    },
    /// A task (or handler) is done on all its hosts; its results follow.
    TaskEnd {
        title: String,
        handler: bool,
        /// `FILE:LINE` of the task.
        location: String,
        module: String,
    },
    /// Something about a host the operator should know, not a failure.
    Warning { host: String, msg: String },
    /// One host's result of the task that just ended. `no_log` results are
    /// shown censored by every reporter.
    HostResult {
        host: String,
        result: TaskResult,
        no_log: bool,
    },
    /// `kubestrap exec`'s result on one host.
    Exec { host: String, result: ExecResult },
    /// A fan-out of the run took this long (for `--report`'s timings).
    Phase(Phase),
    /// No more tasks run, and why.
    Stopped(Stop),
    /// The run ended early after SIGINT.
    Interrupted,
    /// The counters of every host (PLAY RECAP).
    Recap { hosts: Vec<HostTotals> },
    /// The run is over, this many seconds after it began.
    RunEnd { total_s: f64 },
    /// A titled block of a command's own lines (apply's PREFLIGHT, LOCK,
    /// CLUSTER, NODES).
    Section { title: String, lines: Vec<String> },
    /// One line of a command's own output on stdout.
    Line(String),
    /// A document on stdout as it is (a kubeconfig, an inventory listing).
    Document(String),
    /// One line on stderr as it is (warnings, interrupts, located errors).
    Notice(String),
    /// An error on stderr, `error: ` before it.
    Error(String),
    /// A question on stderr, the answer typed on the same line (reset's
    /// "type the cluster's name").
    Prompt(String),
}

/// What Ansible says in place of a `no_log: true` task's results.
pub const CENSORED: &str =
    "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

impl TaskResult {
    /// The result as reporters may show it: censored when the task is
    /// `no_log`, every known secret masked in any case.
    pub fn shown(&self, no_log: bool) -> TaskResult {
        if no_log {
            self.censored().redacted()
        } else {
            self.redacted()
        }
    }

    /// A result fit to show for a `no_log` task: its outcome, nothing of its
    /// arguments, output or diff. A failure keeps its reason (the message,
    /// with the output's tail): without it nobody can fix what failed, and
    /// every secret in it is masked by [`TaskResult::redacted`] before it
    /// is shown.
    pub fn censored(&self) -> TaskResult {
        let failed = matches!(self.outcome, Outcome::Failed | Outcome::Unreachable);
        let msg = if failed {
            self.msg.clone()
        } else {
            CENSORED.into()
        };
        let mut registered = serde_json::json!({
            "censored": CENSORED,
            "changed": self.outcome == Outcome::Changed,
        });
        if failed {
            registered["msg"] = Json::from(msg.clone());
        }
        TaskResult {
            outcome: self.outcome,
            ignored: self.ignored,
            msg,
            diffs: Vec::new(),
            items: self
                .items
                .iter()
                .map(|(_, o)| ("(censored due to no_log)".to_string(), *o))
                .collect(),
            registered,
            shown: Vec::new(),
            retries: self.retries.clone(),
        }
    }

    /// The result with every known secret masked.
    pub fn redacted(&self) -> TaskResult {
        use super::redact;
        TaskResult {
            outcome: self.outcome,
            ignored: self.ignored,
            msg: redact::text(&self.msg),
            diffs: self.diffs.iter().map(|d| redact::text(d)).collect(),
            items: self
                .items
                .iter()
                .map(|(label, o)| (redact::text(label), *o))
                .collect(),
            registered: redact::json(&self.registered),
            shown: self
                .shown
                .iter()
                .map(|s| s.as_ref().map(redact::json))
                .collect(),
            retries: self.retries.iter().map(|l| redact::text(l)).collect(),
        }
    }
}
