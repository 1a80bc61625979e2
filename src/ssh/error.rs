//! What can go wrong on an SSH connection, each variant naming the host.

use std::path::PathBuf;
use std::time::Duration;

use crate::ExitCode;

/// A failure on one host's connection or command, with what the operator
/// needs to act on it. Secrets never reach these messages.
#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("{host}: unknown host key {key_type} {fingerprint}; verify it, then re-run with --accept-new-host-keys to trust it (or add it to {known_hosts})")]
    HostKeyUnknown {
        host: String,
        key_type: String,
        fingerprint: String,
        known_hosts: String,
    },
    #[error("{host}: HOST KEY CHANGED: server offered {key_type} {fingerprint}, but {file}:{line} holds a different key; possible man-in-the-middle attack. If the server was reinstalled, remove that line and verify the new key")]
    HostKeyChanged {
        host: String,
        key_type: String,
        fingerprint: String,
        file: PathBuf,
        line: usize,
    },
    #[error("{host}: host key {key_type} {fingerprint} is marked @revoked in {file}:{line}")]
    HostKeyRevoked {
        host: String,
        key_type: String,
        fingerprint: String,
        file: PathBuf,
        line: usize,
    },
    #[error("{host}: server offered host key {key_type} {fingerprint}, but known_hosts knows this host only by {known}; refusing")]
    HostKeyOtherType {
        host: String,
        key_type: String,
        fingerprint: String,
        known: String,
    },
    #[error("{host}: cannot connect to {addr}: {reason}")]
    Connect {
        host: String,
        addr: String,
        reason: String,
    },
    #[error("{host}: connection to {addr} timed out after {}s", .after.as_secs())]
    ConnectTimeout {
        host: String,
        addr: String,
        after: Duration,
    },
    #[error("{host}: permission denied for user {user} (tried {tried})")]
    AuthFailed {
        host: String,
        user: String,
        tried: String,
    },
    #[error("{host}: identity file {path}: {reason}")]
    KeyFile {
        host: String,
        path: PathBuf,
        reason: String,
    },
    #[error("{host}: jump host {jump}: {source}")]
    Jump {
        host: String,
        jump: String,
        #[source]
        source: Box<SshError>,
    },
    /// `command` is [`super::exec::brief`]'s name for it, never a whole script.
    #[error("{host}: connection lost while running {command}: {reason}")]
    Disconnected {
        host: String,
        command: String,
        reason: String,
    },
    #[error("{host}: {command} did not finish within {}s (--command-timeout)", .after.as_secs())]
    CommandTimeout {
        host: String,
        command: String,
        after: Duration,
    },
    #[error("{host}: sudo needs a password for user {user}; re-run with --ask-become-pass (or --become-password-file), or allow NOPASSWD for this user")]
    BecomePasswordRequired { host: String, user: String },
    #[error("{host}: sudo rejected the become password for user {user}")]
    BecomeWrongPassword { host: String, user: String },
    #[error("{host}: user {user} may not use sudo here: {said}")]
    BecomeNotAllowed {
        host: String,
        user: String,
        said: String,
    },
}

impl SshError {
    /// The exit code this failure maps to (see [`ExitCode`]).
    pub fn exit_code(&self) -> ExitCode {
        match self {
            SshError::Jump { source, .. } => source.exit_code(),
            SshError::HostKeyUnknown { .. }
            | SshError::HostKeyChanged { .. }
            | SshError::HostKeyRevoked { .. }
            | SshError::HostKeyOtherType { .. } => ExitCode::HostKey,
            SshError::Connect { .. }
            | SshError::ConnectTimeout { .. }
            | SshError::AuthFailed { .. }
            | SshError::KeyFile { .. }
            | SshError::Disconnected { .. } => ExitCode::Unreachable,
            SshError::CommandTimeout { .. }
            | SshError::BecomePasswordRequired { .. }
            | SshError::BecomeWrongPassword { .. }
            | SshError::BecomeNotAllowed { .. } => ExitCode::HostFailed,
        }
    }

    /// Whether the host counts as unreachable (rather than failed) in the recap.
    pub fn is_unreachable(&self) -> bool {
        matches!(self.exit_code(), ExitCode::Unreachable | ExitCode::HostKey)
    }

    /// Only transport trouble is worth retrying: a host-key or auth problem
    /// will not change by asking again, and retrying a changed key would be unsafe.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SshError::Connect { .. } | SshError::ConnectTimeout { .. }
        )
    }
}
