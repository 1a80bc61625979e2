//! kubestrap: an agentless, Ansible-style bootstrapper for bare-metal kubeadm clusters.
//!
//! The binary is a thin shell around [`run`]; the layers below it point one
//! way (docs/architecture.md draws them): `cli` → `commands` → `phases` →
//! `engine` → `render`, `playbook`, `modules`, `facts`, `report`, `ssh`, …

pub mod bundle;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod engine;
pub mod error;
pub mod exit_code;
pub mod facts;
#[cfg(test)]
mod fixture_tables;
pub mod interrupt;
pub mod inventory;
#[cfg(test)]
mod layers;
pub mod modules;
pub mod pattern;
pub mod phases;
pub mod playbook;
pub mod render;
pub mod report;
pub mod secret;
pub mod shlex;
pub mod ssh;
pub mod ui;
pub mod utc;
pub mod yaml_pos;

pub use error::Error;
pub use exit_code::ExitCode;

/// Parse the command line and run the chosen command; the result is the
/// process exit code.
pub fn run() -> ExitCode {
    cli::main()
}
