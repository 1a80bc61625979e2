//! Playbooks: load YAML plays and tasks, render them with minijinja, run them on hosts.

mod model;

pub use model::{Play, Playbook, Task};
