//! apt: Debian packages: present, absent, exact version, hold.

use super::{Args, Context, Module, Plan};

pub struct Apt;

impl Module for Apt {
    fn name(&self) -> &'static str {
        "apt"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module apt is not implemented yet".into())
    }
}
