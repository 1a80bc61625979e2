//! deb822_repository: an apt source in deb822 format with its signed-by key.

use super::{Args, Context, Module, Plan};

pub struct Deb822Repository;

impl Module for Deb822Repository {
    fn name(&self) -> &'static str {
        "deb822_repository"
    }

    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("module deb822_repository is not implemented yet".into())
    }
}
