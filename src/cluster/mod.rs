//! What kubestrap decides about the cluster as a whole, on the operator's machine.
//!
//! Values every host must agree on (subnet defaults) and the checks run over
//! all hosts before anything on them changes.

pub mod defaults;
pub mod preflight;

pub(crate) use crate::inventory::net;
