//! A command's steps as small phase values, and the manager that runs a list of them.

pub mod backup;
pub mod certs;
pub mod cluster_plan;
pub mod cluster_run;
pub mod connect;
pub mod exec;
pub mod gather;
pub mod kubeconfig;
pub mod lock;
pub mod locking;
pub mod manager;
pub mod members;
pub mod plays;
pub mod preflight;
pub mod remove;
pub mod reset;
pub mod restore;
pub mod stage;
pub mod upgrade;
