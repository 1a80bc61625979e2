//! kubestrap: an agentless, Ansible-style bootstrapper for bare-metal kubeadm clusters.
//!
//! The binary is a thin shell around [`run`]; everything else lives in the
//! modules below, laid out as in DESIGN.md.

pub mod adhoc;
pub mod apply;
pub mod bundle;
pub mod cli;
pub mod cluster;
pub mod error;
pub mod facts;
#[cfg(test)]
mod fixture_tables;
pub mod inventory;
pub mod lock;
pub mod modules;
pub mod pattern;
pub mod playbook;
pub mod report;
pub mod runner;
pub mod secret;
pub mod ssh;
pub mod ui;

pub use error::{Error, ExitCode};

/// Parse the command line and run the chosen command; the result is the
/// process exit code.
pub fn run() -> ExitCode {
    cli::main()
}
