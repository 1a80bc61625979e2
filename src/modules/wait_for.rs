//! wait_for: wait, bounded, until a TCP port answers (or stops answering).

use super::{Args, Context, Module, Plan};

pub struct WaitFor;

impl Module for WaitFor {
    fn name(&self) -> &'static str {
        "wait_for"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module wait_for is not implemented yet".into())
    }
}
