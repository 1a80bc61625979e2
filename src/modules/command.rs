//! command: run a command without a shell; changed unless changed_when says otherwise.

use super::{Args, Context, Module, Plan};

pub struct Command;

impl Module for Command {
    fn name(&self) -> &'static str {
        "command"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module command is not implemented yet".into())
    }
}
