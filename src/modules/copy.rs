//! copy: put content or a local file on the host, atomically, with a backup.

use super::{Args, Context, Module, Plan};

pub struct Copy;

impl Module for Copy {
    fn name(&self) -> &'static str {
        "copy"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module copy is not implemented yet".into())
    }
}
