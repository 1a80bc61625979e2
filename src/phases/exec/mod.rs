//! `kubestrap exec`'s phases and what they share: the targets, the command, and each host's result.

pub mod command;
pub mod recap;

use std::sync::Arc;

use crate::report::Fanout;
use crate::ssh::{Options, Output, SshError, Target};

/// The state of one `exec` across its phases.
pub struct ExecRun {
    pub targets: Vec<Target>,
    /// The command line, as `ssh host WORDS…` joins the words.
    pub command: String,
    pub opts: Options,
    pub forks: usize,
    pub reporter: Arc<Fanout>,
    /// Per host, in target order: what the command did, or None when the
    /// host was left alone after an interrupt.
    pub results: Vec<(String, Option<Result<Output, SshError>>)>,
}

#[cfg(test)]
mod tests;
