//! The crate's error type and the process exit codes a pipeline can rely on.

use std::path::PathBuf;

/// Exit codes, documented in README ("Exit codes"). When several apply, the
/// highest-numbered one wins: a host-key problem outranks an unreachable host,
/// which outranks a failed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitCode {
    /// Every host succeeded.
    Ok = 0,
    /// kubestrap itself failed (local I/O, an internal error).
    Internal = 1,
    /// Bad input: command line, inventory, ssh config, playbook.
    BadInput = 2,
    /// A command or task failed on at least one host.
    HostFailed = 3,
    /// At least one host could not be reached (connect, auth, timeout).
    Unreachable = 4,
    /// A host key was unknown, changed or revoked: refused for safety.
    HostKey = 5,
    /// Interrupted by Ctrl-C.
    Interrupted = 130,
    /// stdout was closed (`| head`): the run stopped quietly, as a tool
    /// ended by SIGPIPE does (a shell shows 128 + 13).
    BrokenPipe = 141,
}

/// Everything that can go wrong, with the context an operator needs to act.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadInput(String),
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Inventory(Vec<crate::inventory::Problem>),
    /// Problems in a playbook, each `FILE:LINE: message`.
    #[error("{}", .0.join("\n"))]
    Playbook(Vec<String>),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::BadInput(_) | Error::Inventory(_) | Error::Playbook(_) => ExitCode::BadInput,
            Error::Io { .. } => ExitCode::Internal,
        }
    }
}
