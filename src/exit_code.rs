//! The process exit codes a pipeline can rely on; every layer may name them.

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
