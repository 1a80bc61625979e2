//! lineinfile: make sure one line is present in (or absent from) a file.

use super::{Args, Context, Module, Plan};

pub struct LineInFile;

impl Module for LineInFile {
    fn name(&self) -> &'static str {
        "lineinfile"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module lineinfile is not implemented yet".into())
    }
}
