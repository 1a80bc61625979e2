//! modprobe: a kernel module, in modules-load.d and loaded where the host allows.

use super::{Args, Context, Module, Plan};

pub struct Modprobe;

impl Module for Modprobe {
    fn name(&self) -> &'static str {
        "modprobe"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module modprobe is not implemented yet".into())
    }
}
