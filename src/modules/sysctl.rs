//! sysctl: a kernel parameter, persistent in sysctl.d and live.

use super::{Args, Context, Module, Plan};

pub struct Sysctl;

impl Module for Sysctl {
    fn name(&self) -> &'static str {
        "sysctl"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module sysctl is not implemented yet".into())
    }
}
