//! cargo fuzz run inventory_kubestrap — see docs/fuzzing.md.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::Target::InventoryKubestrap.run(data));
