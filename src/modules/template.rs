//! template: render a minijinja template and put it on the host like copy.

use super::{Args, Context, Module, Plan};

pub struct Template;

impl Module for Template {
    fn name(&self) -> &'static str {
        "template"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module template is not implemented yet".into())
    }
}
