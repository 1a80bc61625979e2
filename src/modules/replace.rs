//! replace: replace every match of a regular expression in a file.

use super::{Args, Context, Module, Plan};

pub struct Replace;

impl Module for Replace {
    fn name(&self) -> &'static str {
        "replace"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module replace is not implemented yet".into())
    }
}
