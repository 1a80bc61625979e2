//! systemd: systemd units: enabled, started, restarted, masked, daemon-reload.

use super::{Args, Context, Module, Plan};

pub struct Systemd;

impl Module for Systemd {
    fn name(&self) -> &'static str {
        "systemd"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module systemd is not implemented yet".into())
    }
}
