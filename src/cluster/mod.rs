//! What kubestrap decides about the cluster as a whole, on the operator's machine.
//!
//! Values every host must agree on (subnet defaults) and the checks run over
//! all hosts before anything on them changes.

pub mod commands;
pub mod defaults;
pub mod pin;
pub mod pki;
pub mod preflight;
pub mod state;
pub mod token;

pub(crate) use crate::inventory::net;
