//! fetch: copy a remote file to the operator's machine.

use super::{Args, Context, Module, Plan};

pub struct Fetch;

impl Module for Fetch {
    fn name(&self) -> &'static str {
        "fetch"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module fetch is not implemented yet".into())
    }
}
