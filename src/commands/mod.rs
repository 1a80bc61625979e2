//! kubestrap's commands: each turns a request (plain data from the CLI) into a run and an exit code.

pub mod adhoc;
pub mod apply;
pub mod backup;
pub mod ca_hash;
pub mod certs;
pub mod connect;
pub mod exec;
pub mod inventory;
pub mod kubeconfig;
pub mod remove;
pub mod reset;
pub mod restore;
pub mod run;
