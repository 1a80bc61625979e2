//! swap: swap off now, fstab swap lines commented out, swap units masked.

use super::{Args, Context, Module, Plan};

pub struct Swap;

impl Module for Swap {
    fn name(&self) -> &'static str {
        "swap"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module swap is not implemented yet".into())
    }
}
