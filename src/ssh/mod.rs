//! SSH: one russh connection per host, known_hosts, ~/.ssh/config, ProxyJump, become.

mod auth;
mod become_;
pub mod config;
mod connect;
mod error;
mod exec;
pub mod hosts;
pub mod known_hosts;
mod local;
pub mod run_as;
pub mod target;
mod verifier;

use std::path::PathBuf;
use std::time::Duration;

pub use become_::shell_quote;
pub use connect::Connection;
pub use error::SshError;
pub use exec::{Output, StdoutSink, MAX_CAPTURE};
pub use target::Target;

use crate::secret::Secret;

/// Connection behaviour shared by every host in a run (from the CLI).
#[derive(Debug, Clone)]
pub struct Options {
    /// TCP connect, and separately handshake + authentication, must each finish within this.
    pub connect_timeout: Duration,
    /// Deadline for one command; None waits as long as it takes.
    pub command_timeout: Option<Duration>,
    /// Interval of SSH keepalives; three unanswered ones drop the connection.
    pub keepalive: Duration,
    /// Extra connection attempts after a transport failure.
    pub retries: u32,
    pub accept_new_host_keys: bool,
    /// `--known-hosts` files overriding ssh config and ~/.ssh/known_hosts.
    pub known_hosts: Vec<PathBuf>,
    pub become_password: Option<Secret>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connect_timeout: Duration::from_secs(10),
            command_timeout: None,
            keepalive: Duration::from_secs(15),
            retries: 2,
            accept_new_host_keys: false,
            known_hosts: Vec::new(),
            become_password: None,
        }
    }
}
