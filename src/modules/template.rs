//! template: render a minijinja template and put it on the host like copy.

use super::copy::{plan_put, put_needs, Put};
use super::file_facts::{basename, Attrs};
use super::{Args, Context, Module, Plan};
use crate::facts::FactRequest;

pub struct Template;

impl Module for Template {
    fn name(&self) -> &'static str {
        "template"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "src", "dest", "mode", "owner", "group", "backup", "force", "validate",
        ]
    }

    fn refuse(&self, args: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
        super::validate::refuse_validate(args)
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let src = args.req_str("src")?;
        Ok(put_needs(&args.req_str("dest")?, Some(basename(&src))))
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let src = args.req_str("src")?;
        let dest = args.req_str("dest")?;
        let content = (ctx.render_template)(&src, &serde_json::Map::new())?.into_bytes();
        let put = Put {
            dest,
            // As in Ansible, a directory dest gets the template's own file name.
            src_name: Some(basename(&src)),
            content,
            attrs: Attrs::from_args(args)?,
            backup: args.bool("backup", false)?,
            force: args.bool("force", true)?,
            validate: super::validate::validate_arg(args)?,
        };
        plan_put(ctx, &put)
    }
}
