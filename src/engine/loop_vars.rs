//! What a loop item adds to its scope and its result: `loop_control`'s `index_var`, `extended` and `label`, as Ansible has them.

use serde_json::{json, Map, Value as Json};

use super::task_run::RunEnv;
use crate::playbook::{LoopControl, Task};
use crate::render::vars::Scope;

/// `ansible_loop` for item `index` of `items` (`loop_control.extended`).
pub(super) fn extended(items: &[Json], index: usize) -> Json {
    let length = items.len();
    json!({
        "allitems": items,
        "index": index + 1,
        "index0": index,
        "revindex": length - index,
        "revindex0": length - index - 1,
        "first": index == 0,
        "last": index + 1 == length,
        "length": length,
        "previtem": index.checked_sub(1).and_then(|i| items.get(i)),
        "nextitem": items.get(index + 1),
    })
}

/// What the item's status line shows: `label` rendered with the item's
/// scope, else the item itself (text as is, anything else as JSON).
pub(super) fn label(env: &RunEnv, lc: &LoopControl, item: &Json, scope: &Scope) -> String {
    let shown = match &lc.label {
        Some(l) => env
            .renderer
            .render_value(l, &scope.value())
            .unwrap_or_else(|_| l.clone()),
        None => item.clone(),
    };
    match shown {
        Json::String(s) => s,
        other => other.to_string(),
    }
}

/// An item's registered result holds the item and the loop's variable
/// names (and the index), as Ansible's does.
pub(super) fn register(registered: &mut Map<String, Json>, task: &Task, item: &Json, index: usize) {
    registered.insert(task.loop_var.clone(), item.clone());
    registered.insert(
        "ansible_loop_var".into(),
        Json::from(task.loop_var.as_str()),
    );
    if let Some(var) = &task.loop_control.index_var {
        registered.insert(var.clone(), Json::from(index));
        registered.insert("ansible_index_var".into(), Json::from(var.as_str()));
    }
}
