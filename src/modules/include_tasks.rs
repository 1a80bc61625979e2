//! `include_tasks` as the engine runs it: a decision on the controller that the host goes into the task file.
//!
//! The file's tasks are loaded with the playbook and follow this task in
//! the play (see `playbook::include`); this task is where Ansible's
//! include happens, so its `when` and `loop` are tested once per host (and
//! item) with every other task's rules. Its result names the file and,
//! in a loop, the item the engine runs the file's tasks with.

use serde_json::Map;

use super::{Args, Context, Local, LocalContext, Module, Plan};

pub struct IncludeTasks;

/// The one instance the parser puts on an include's task.
pub static INCLUDE_TASKS: IncludeTasks = IncludeTasks;

/// The argument holding the rendered loop item (the parser writes it as
/// `{{ LOOP_VAR }}`).
pub const ITEM: &str = "_item";

impl Module for IncludeTasks {
    fn name(&self) -> &'static str {
        "include_tasks"
    }

    fn params(&self) -> &'static [&'static str] {
        &["file", ITEM]
    }

    fn local(&self, args: &Args, _ctx: &LocalContext) -> Option<Result<Local, String>> {
        let mut result = Map::new();
        result.insert(
            "include".into(),
            args.0.get("file").cloned().unwrap_or_default(),
        );
        if let Some(item) = args.0.get(ITEM) {
            result.insert("item".into(), item.clone());
        }
        Some(Ok(Local {
            result,
            ..Local::default()
        }))
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("internal: include_tasks runs on the controller".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_result_names_the_file_and_the_item() {
        let args = Args(Map::from_iter([
            ("file".into(), Value::from("x.yml")),
            (ITEM.into(), Value::from(3)),
        ]));
        let ctx = LocalContext {
            eval: &|_| Ok(Value::Null),
            holds: &|_| Ok(true),
            verbosity: 0,
        };
        let local = IncludeTasks.local(&args, &ctx).unwrap().unwrap();
        assert!(!local.failed && !local.skipped);
        assert_eq!(
            Value::Object(local.result),
            serde_json::json!({"include": "x.yml", "item": 3})
        );
    }
}
