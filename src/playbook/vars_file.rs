//! A YAML file of variables (vars_files, a role's defaults and vars, include_vars), read when the playbook is loaded.

use std::path::Path;

use serde_json::{Map, Value as Json};
use serde_yaml::Value as Yaml;

use super::error::PlaybookError;
use super::fields;
use super::parse::{yaml_error, Ctx};

/// The variables in the file at `path`; problems inside it are reported
/// against that file (an empty file has none).
pub fn read(ctx: &mut Ctx, path: &Path) -> Option<Map<String, Json>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let message = format!("cannot read vars file: {e}");
            ctx.errors.push(PlaybookError::new(path, 0, message));
            return None;
        }
    };
    match serde_yaml::from_str::<Yaml>(&text) {
        Err(e) => {
            ctx.errors.push(yaml_error(path, &e));
            None
        }
        Ok(doc) => match fields::mapping("vars", &doc) {
            Ok(m) => Some(m),
            Err(_) => {
                let message = "a vars file must be a mapping";
                ctx.errors.push(PlaybookError::new(path, 1, message));
                None
            }
        },
    }
}

/// `DIR/NAME.yml`, `.yaml` or `DIR/NAME` as Ansible looks for a role's
/// `main` (or `tasks_from`) file: the first that exists.
pub fn in_dir(dir: &Path, name: &str) -> Option<std::path::PathBuf> {
    [
        format!("{name}.yml"),
        format!("{name}.yaml"),
        name.to_string(),
    ]
    .into_iter()
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
}
