//! Playbooks as data: load YAML plays, tasks and handlers, every problem reported with its line.

mod block;
mod checks;
mod error;
mod fields;
mod import_playbook;
mod include;
mod include_vars;
mod keyvalue;
mod loops;
mod meta;
mod model;
mod parse;
mod play;
mod role;
mod serial;
mod task;
mod vars_file;

#[cfg(test)]
mod block_tests;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod structure_tests;

pub use error::PlaybookError;
pub use loops::{items as loop_items, LoopControl, LoopKind};
pub use meta::action as meta_action;
pub use model::{Block, Frame, Play, Playbook, Section, Task};
pub use parse::{load, load_str};
pub use serial::{batch_sizes, Serial};
