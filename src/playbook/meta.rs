//! `meta:` — Ansible's instructions to the engine itself, as a pseudo-module the play loop acts on.
//!
//! The loader takes `meta: ACTION` like a module call with free-form text,
//! so the task keeps its place, name, `when` and tags; the engine looks at
//! [`Task::meta`](super::model::Task) before running anything and does what
//! the action says (see `engine::meta`). Actions kubestrap has no use for
//! or cannot honour are refused when the playbook is loaded.

use serde_json::{Map, Value};

use crate::modules::{Args, Context, Local, LocalContext, Module, Plan};

/// The actions kubestrap carries out.
pub const ACTIONS: &[&str] = &[
    "flush_handlers",
    "end_play",
    "end_host",
    "end_batch",
    "noop",
];

/// Ansible's other actions, with why they are refused.
const REFUSED: &[(&str, &str)] = &[
    (
        "clear_facts",
        "kubestrap's facts track what tasks change; forgetting them mid-play is not supported",
    ),
    (
        "clear_host_errors",
        "a failed host stays failed in kubestrap",
    ),
    (
        "refresh_inventory",
        "the inventory is read once, before the run",
    ),
    (
        "reset_connection",
        "kubestrap keeps one connection per host",
    ),
    ("end_role", "kubestrap has no roles here"),
    ("role_complete", "kubestrap has no roles here"),
];

pub struct Meta;

pub static META: Meta = Meta;

/// The action of a meta task's arguments.
pub fn action(args: &Map<String, Value>) -> Option<&str> {
    args.get("_raw_params")
        .and_then(Value::as_str)
        .map(str::trim)
}

impl Module for Meta {
    fn name(&self) -> &'static str {
        "meta"
    }

    fn params(&self) -> &'static [&'static str] {
        &["_raw_params"]
    }

    fn free_form(&self) -> bool {
        true
    }

    /// Run on its own (the engine acts on it before), it does nothing.
    fn local(&self, _args: &Args, _ctx: &LocalContext) -> Option<Result<Local, String>> {
        Some(Ok(Local::default()))
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Ok(Plan::noop(""))
    }

    fn refuse(&self, args: &Map<String, Value>) -> Vec<(String, String)> {
        let why = match action(args) {
            None => "`meta` takes an action: `meta: flush_handlers`".to_string(),
            Some(a) if ACTIONS.contains(&a) => return Vec::new(),
            Some(a) => match REFUSED.iter().find(|(n, _)| *n == a) {
                Some((_, why)) => format!("`meta: {a}` is not supported by kubestrap: {why}"),
                None => format!("invalid meta action `{a}` (one of: {})", ACTIONS.join(", ")),
            },
        };
        vec![(String::new(), why)]
    }
}
