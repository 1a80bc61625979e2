//! file: directories, absent paths, modes and owners.

use super::{Args, Context, Module, Plan};

pub struct File;

impl Module for File {
    fn name(&self) -> &'static str {
        "file"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module file is not implemented yet".into())
    }
}
