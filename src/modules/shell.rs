//! shell: run a command through /bin/sh; changed unless changed_when says otherwise.

use super::{Args, Context, Module, Plan};

pub struct Shell;

impl Module for Shell {
    fn name(&self) -> &'static str {
        "shell"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module shell is not implemented yet".into())
    }
}
