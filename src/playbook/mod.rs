//! Playbooks: load YAML plays and tasks, render them with minijinja, run them on hosts.

mod checks;
pub mod command;
mod convert;
mod error;
mod fields;
mod filters;
mod filters_format;
mod filters_text;
mod handlers;
mod jtests;
mod keyvalue;
mod lines;
mod model;
mod output;
mod parse;
mod play;
pub mod play_run;
mod predict;
mod render;
mod session;
mod tags;
mod task;
mod task_run;
mod vars;

#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod render_tests;

#[cfg(test)]
pub use convert::map_to_jinja;
pub use convert::{from_jinja, to_jinja, yaml_to_json};
pub use error::PlaybookError;
pub use model::{Play, Playbook, Task};
pub use parse::{load, load_str};
pub use render::{Renderer, OMIT};
