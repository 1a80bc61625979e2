//! The engine's errors: a play that cannot choose its hosts, a template that cannot be found, a command or record that cannot run.

use std::path::PathBuf;

use crate::pattern::PatternError;
use crate::render::RenderError;
use crate::ssh::SshError;

/// A play whose `hosts:` (or another templated keyword) cannot be rendered, or selects nothing: the run
/// stops, naming the playbook, the play's line and its name. (Boxed: the
/// error is rare, the `Ok` path is every play.)
#[derive(Debug, thiserror::Error)]
pub enum PlayError {
    #[error("{}:{line}: play {play:?}: hosts: {source}", .playbook.display())]
    Hosts {
        playbook: PathBuf,
        line: usize,
        play: String,
        #[source]
        source: Box<RenderError>,
    },
    /// A templated keyword (`gather_facts: "{{ … }}"`) that cannot be
    /// rendered or is not what the keyword takes.
    #[error("{}:{line}: play {play:?}: {key}: {message}", .playbook.display())]
    Keyword {
        playbook: PathBuf,
        line: usize,
        play: String,
        key: String,
        message: String,
    },
    #[error("{}:{line}: play {play:?}: {source}", .playbook.display())]
    Pattern {
        playbook: PathBuf,
        line: usize,
        play: String,
        #[source]
        source: Box<PatternError>,
    },
}

/// A template file a task names that cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("template {}: {source}", .path.display())]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A shipped playbook sees only the shipped templates.
    #[error("template {name:?} is not among the shipped templates")]
    NotShipped { name: String },
    #[error("template {name:?} not found in {b}/templates, {b} or the shipped templates", b = .base.display())]
    NotFound { name: String, base: PathBuf },
}

/// A command a phase runs on one host through the runner that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{host}: no such host")]
    NoSuchHost { host: String },
    #[error("{host}: not connected")]
    NotConnected { host: String },
    #[error(transparent)]
    Ssh(#[from] SshError),
}

/// The host's record of pending handlers that cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("not connected")]
    NotConnected,
    #[error(transparent)]
    Ssh(#[from] SshError),
    /// The record script failed: its exit status and what it said.
    #[error("rc={rc}: {stderr}")]
    Failed { rc: i64, stderr: String },
}
