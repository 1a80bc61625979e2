//! `kubestrap certs`' phases and what they share: the control planes, each one's expiries, and what a renewal has moved.
//!
//! ```text
//! certs        connect → check-expiration → table
//! certs renew  connect → (--check: what it would do) → renew, one control
//!              plane at a time → check-expiration → table → kubeconfig
//! ```
//! apply's warning about certificates near their end ([`warn`]) reads the
//! gathered facts instead, in apply's one round trip.

pub mod check;
pub mod kubeconfig;
pub mod plan;
pub mod renew;
pub mod restart;
pub mod step;
pub mod table;
pub mod warn;

use std::path::PathBuf;

use crate::cluster::expiration::Expirations;
use crate::engine::Runner;
use crate::phases::connect::Reach;
use crate::report::Outcome;

/// The state of one `certs` or `certs renew` across its phases.
pub struct CertsRun<'r> {
    pub runner: &'r mut Runner,
    /// The inventory's control planes, in its order.
    pub control_planes: Vec<String>,
    /// The one whose admin.conf the state directory keeps (as apply's).
    pub first_control_plane: String,
    /// `host:port` the stored kubeconfig points at.
    pub endpoint: String,
    pub state_path: PathBuf,
    /// `--check`: say what renew would do, change nothing.
    pub check: bool,
    /// Per control plane that answered, in order: its two tables.
    pub expiries: Vec<(String, Expirations)>,
    /// The control plane whose static Pod manifests are out of their
    /// directory right now (the clean-up puts them back).
    pub manifests_out: Option<String>,
}

impl Reach for CertsRun<'_> {
    fn runner(&mut self) -> &mut Runner {
        self.runner
    }

    fn hosts(&self) -> Vec<usize> {
        self.control_plane_indices()
    }
}

impl CertsRun<'_> {
    /// Session indices of the control planes.
    pub fn control_plane_indices(&self) -> Vec<usize> {
        self.runner
            .sessions
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.as_ref()
                    .is_some_and(|s| self.control_planes.contains(&s.name))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Count a step's outcome on `host` in the PLAY RECAP that ends the run.
    pub fn record(&mut self, host: &str, outcome: Outcome) {
        self.runner.record(host, outcome);
    }

    /// The control planes that could not be connected to.
    pub fn unreachable(&self) -> Vec<String> {
        self.runner
            .sessions
            .iter()
            .flatten()
            .filter(|s| self.control_planes.contains(&s.name) && s.conn.is_none())
            .map(|s| s.name.clone())
            .collect()
    }
}
