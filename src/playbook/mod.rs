//! Playbooks as data: load YAML plays, tasks and handlers, every problem reported with its line.

mod block;
mod checks;
mod error;
mod fields;
mod include;
mod keyvalue;
mod model;
mod parse;
mod play;
mod role;
mod task;
mod vars_file;

#[cfg(test)]
mod block_tests;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod structure_tests;

pub use error::PlaybookError;
pub use model::{Block, Frame, Play, Playbook, Section, Task};
pub use parse::{load, load_str};
