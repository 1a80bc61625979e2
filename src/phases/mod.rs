//! A command's steps as small phase values, and the manager that runs a list of them.

pub mod lock;
pub mod manager;
