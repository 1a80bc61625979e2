//! PlanError: why the cluster plan cannot be made, naming the hosts and state directory involved.

use std::path::PathBuf;

use crate::cluster::error::{CertError, StateError};
use crate::engine::session::GatherError;

/// The cluster plan cannot be decided, or its CA and secrets cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Hosts whose cluster files could not be read again, and why.
    #[error("cannot read the cluster's files again before planning it: {}",
        .failed.iter().map(|(h, e)| format!("{h}: {e}")).collect::<Vec<_>>().join("; "))]
    Refresh { failed: Vec<(String, GatherError)> },
    #[error("the inventory has no control plane")]
    NoControlPlane,
    #[error("first control plane not in the inventory")]
    FirstNotInInventory,
    #[error(transparent)]
    State(#[from] StateError),
    /// The running cluster's CA certificate on `host` cannot be read.
    #[error(transparent)]
    Cert(#[from] CertError),
    #[error("the CA in {} ({ours}) is not the CA of the running cluster on {host} ({theirs}); refusing to use it", .state_dir.display())]
    CaMismatch {
        state_dir: PathBuf,
        ours: String,
        host: String,
        theirs: String,
    },
    #[error("{} on {host} is not text", super::plan::CA_CERT)]
    CaNotText { host: String },
    #[error("{host} is initialised but its CA certificate could not be read, and {} has none", .state_dir.display())]
    CaUnreadable { host: String, state_dir: PathBuf },
    #[error("{host} must be initialised, but {} holds only the CA certificate, not its key", .state_dir.display())]
    NoCaKey { host: String, state_dir: PathBuf },
}
