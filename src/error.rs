//! What stops a command, and the one place where each becomes its documented exit code.

use std::path::PathBuf;

use crate::exit_code::ExitCode;

/// Everything that stops a command before or around its run, with the
/// context an operator needs to act. What goes wrong on a host during a run
/// is not an `Error`: it is that host's outcome (failed, unreachable), and
/// the run goes on with the others.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in the inventory, each `FILE:LINE: host NAME: message`.
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Inventory(Vec<crate::inventory::Problem>),
    /// Problems in a playbook, each `FILE:LINE: message`.
    #[error("{}", .0.join("\n"))]
    Playbook(Vec<String>),
    /// A host pattern (`--limit`) that selects nothing it can name.
    #[error(transparent)]
    Pattern(#[from] crate::pattern::PatternError),
    /// An `-e` argument that is neither key=value, YAML nor a readable @file.
    #[error(transparent)]
    ExtraVars(#[from] crate::render::ExtraVarsError),
    /// A `--skip-preflight` name that is no check.
    #[error(transparent)]
    SkipPreflight(#[from] crate::cluster::preflight::UnknownChecks),
    #[error("--until {given:?}: no such stage (stages: {})", .known.join(", "))]
    UnknownStage { given: String, known: Vec<String> },
    /// ssh_config unreadable, or a host it and the inventory cannot place.
    #[error(transparent)]
    Hosts(#[from] crate::ssh::hosts::HostsError),
    #[error("cannot read the become password from the terminal: {0}")]
    BecomePassword(std::io::Error),
    /// A file named on the command line that cannot be read.
    #[error("{}: {source}", .path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A certificate named on the command line that is none.
    #[error("{}: {source}", .path.display())]
    Certificate {
        path: PathBuf,
        source: crate::cluster::error::CertError,
    },
    #[error(transparent)]
    State(#[from] crate::cluster::error::StateError),
    /// `kubeconfig` before `apply` made what it prints.
    #[error("{what}; run `kubestrap apply -i {}` first: it stores the admin kubeconfig once the control plane is up", .inventory.display())]
    NotAppliedYet { what: String, inventory: PathBuf },
    #[error("{}: no host has the role control_plane: this command works on the control planes", .0.display())]
    NoControlPlane(PathBuf),
    /// `reset` without a terminal to ask on, and without `--yes`.
    #[error("reset asks for the cluster's name on a terminal and stdin is none: pass --yes to reset without asking (nothing was changed)")]
    ResetNeedsYes,
    /// `run --step` without a terminal to ask on.
    #[error("--step asks before each task on a terminal and stdin is none: run without --step (nothing was run)")]
    StepNeedsTerminal,
    /// `reset`'s question answered with something else than the name.
    #[error("the name typed is not the cluster's ({name}): nothing was reset")]
    ResetNotConfirmed { name: String },
    #[error("cannot read the answer from the terminal: {0}")]
    ResetAnswer(std::io::Error),
    /// A record in the state directory that kubestrap cannot read.
    #[error("{}: {problem}", .path.display())]
    StateRecord { path: PathBuf, problem: String },
    /// `remove NODE` for a name neither the inventory nor the state
    /// directory's member record knows.
    #[error("{node}: no cluster member of this name: not in {} nor in the state directory's record of members ({})", .inventory.display(), .record.display())]
    UnknownNode {
        node: String,
        inventory: PathBuf,
        record: PathBuf,
    },
    /// `restore` without `--yes`.
    #[error("restore replaces the whole cluster's state with the snapshot's: pass --yes to restore (nothing was changed)")]
    RestoreNeedsYes,
    /// A snapshot that fails its checks before a restore.
    #[error(transparent)]
    Backup(#[from] crate::cluster::backup::BackupError),
    #[error("internal: no shipped playbook {0}")]
    NoShippedPlaybook(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The documented exit code for this error (README, "Exit codes"): the
    /// one place errors become exit codes.
    pub fn exit_code(&self) -> ExitCode {
        use crate::cluster::error::StateError;
        match self {
            Error::NoShippedPlaybook(_)
            | Error::Runtime(_)
            | Error::Io { .. }
            | Error::State(StateError::Io { .. }) => ExitCode::Internal,
            Error::Inventory(_)
            | Error::Playbook(_)
            | Error::Pattern(_)
            | Error::ExtraVars(_)
            | Error::SkipPreflight(_)
            | Error::UnknownStage { .. }
            | Error::Hosts(_)
            | Error::BecomePassword(_)
            | Error::Unreadable { .. }
            | Error::Certificate { .. }
            | Error::State(_)
            | Error::NotAppliedYet { .. }
            | Error::NoControlPlane(_)
            | Error::ResetNeedsYes
            | Error::StepNeedsTerminal
            | Error::ResetNotConfirmed { .. }
            | Error::ResetAnswer(_)
            | Error::StateRecord { .. }
            | Error::UnknownNode { .. }
            | Error::RestoreNeedsYes => ExitCode::BadInput,
            Error::Backup(crate::cluster::backup::BackupError::Io { .. }) => ExitCode::Internal,
            Error::Backup(_) => ExitCode::BadInput,
        }
    }
}
