//! Facts: one gather script per host, run in a single round trip, parsed into [`Facts`].

mod model;

pub use model::*;
