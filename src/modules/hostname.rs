//! hostname: the host's name, now and across reboots.

use super::{Args, Context, Module, Plan};

pub struct Hostname;

impl Module for Hostname {
    fn name(&self) -> &'static str {
        "hostname"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module hostname is not implemented yet".into())
    }
}
