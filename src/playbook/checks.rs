//! Load-time syntax checks of every template and condition, so a typo fails before anything runs.

use serde_json::Value as Json;

use crate::render::{check_expression, check_template, strip_braces};
use crate::yaml_pos::Step;

/// A problem found at a path, relative to the node being checked.
pub struct Found {
    pub path: Vec<String>,
    pub message: String,
}

/// Check every string inside `v`, keys included; `what` names the field in
/// messages (`dest`, ``var `x` ``). Paths are kept as text to locate lines.
pub fn templates(v: &Json, what: &str, path: &mut Vec<String>, out: &mut Vec<Found>) {
    match v {
        Json::String(s) => {
            if let Err(e) = check_template(s) {
                out.push(Found {
                    path: path.clone(),
                    message: format!("invalid template in {what}: {e}"),
                });
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(format!("#{i}"));
                templates(item, what, path, out);
                path.pop();
            }
        }
        Json::Object(m) => {
            for (k, item) in m {
                path.push(k.clone());
                if let Err(e) = check_template(k) {
                    out.push(Found {
                        path: path.clone(),
                        message: format!("invalid template in {what}: {e}"),
                    });
                }
                templates(item, what, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Check one condition of `key` (`when`, `changed_when`, `failed_when`).
pub fn condition(key: &str, cond: &str) -> Result<(), String> {
    check_expression(strip_braces(cond))
        .map_err(|e| format!("invalid `{key}` expression `{}`: {e}", cond.trim()))
}

/// Turn text path segments back into locator steps (`#3` is the 4th item).
pub fn steps(path: &[String]) -> Vec<Step<'_>> {
    path.iter()
        .map(|p| match p.strip_prefix('#').and_then(|n| n.parse().ok()) {
            Some(n) => Step::Item(n),
            None => Step::Key(p),
        })
        .collect()
}
