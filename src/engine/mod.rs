//! The engine: plays and tasks with Ansible's semantics, run over many hosts at once.
//!
//! It executes the modules' plans, fans out over hosts, runs handlers and
//! honours interrupts. It knows nothing of the command line, of commands or
//! of host locks: those are layers above it (see docs/architecture.md).

mod block_flow;
mod delegate;
pub mod error;
pub mod fan_out;
mod gather;
mod handlers;
mod hosts;
mod include_flow;
mod listing;
mod loop_vars;
mod meta;
mod plan_exec;
mod play_hosts;
mod play_keywords;
pub mod play_run;
mod predict;
mod run_once;
pub mod session;
pub mod setup;
pub mod step;
mod tags;
mod task_barrier;
mod task_item;
pub mod task_run;
mod until;

pub use play_run::{BetweenTasks, RunBudget, Runner};
pub use setup::{RunRequest, Session};
