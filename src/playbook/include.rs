//! `import_tasks`: another file's tasks put in place of the import when the playbook is loaded.
//!
//! As in Ansible, an import is static: the file is read with the
//! playbook, its problems are reported at their own file and line, and
//! the keywords written on the import (`when`, `tags`, `vars`, `become`,
//! …) reach every imported task as a block's do. A relative name is
//! looked up in the role's `tasks/` (inside a role), beside the file that
//! imports it, then beside the playbook.

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value as Yaml};

use super::block::{self, Flatten, Inherited};
use super::error::PlaybookError;
use super::fields::{self, entries, show};
use super::model::Frame;
use super::parse::{child, yaml_error, Ctx};
use crate::render::has_template;

/// How deep imports may nest before a loop of imports is assumed.
const MAX_DEPTH: usize = 32;

/// The spellings of `import_tasks`.
const IMPORT_TASKS: &[&str] = &[
    "import_tasks",
    "ansible.builtin.import_tasks",
    "ansible.legacy.import_tasks",
];

/// The key that makes a task list entry an `import_tasks`, if it is one.
pub fn import_key(v: &Yaml) -> Option<&'static str> {
    let Yaml::Mapping(m) = v else { return None };
    IMPORT_TASKS.iter().copied().find(|k| m.contains_key(*k))
}

/// The file an include names: `import_tasks: x.yml` or `{file: x.yml}`.
pub fn file_arg(key: &str, v: &Yaml) -> Result<String, String> {
    match v {
        Yaml::Mapping(m) => match m.get("file") {
            Some(f) => fields::text(key, f),
            None => Err(format!("`{key}` needs a file name")),
        },
        other => fields::text(key, other)
            .map_err(|_| format!("`{key}` must name a file, got `{}`", show(other))),
    }
}

/// Where `name` is found: in the role's `tasks/`, beside the current
/// file, beside the playbook (the first that exists; else the first).
pub fn locate(ctx: &Ctx, sub: &str, name: &str) -> Option<PathBuf> {
    let here = ctx.file.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut bases = Vec::new();
    if let Some(role) = &ctx.role {
        bases.push(role.join(sub));
    }
    bases.push(here);
    bases.push(ctx.root.clone());
    bases
        .into_iter()
        .map(|b| b.join(name))
        .find(|p| p.is_file())
}

/// Read a task file: its text and its entries (none for an empty file),
/// problems reported against it.
pub fn read_task_file(ctx: &mut Ctx, path: &Path) -> Option<(String, Vec<Yaml>)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| {
            ctx.errors.push(PlaybookError::new(
                path,
                0,
                format!("cannot read task file: {e}"),
            ))
        })
        .ok()?;
    match serde_yaml::from_str::<Yaml>(&text) {
        Err(e) => {
            ctx.errors.push(yaml_error(path, &e));
            None
        }
        Ok(Yaml::Null) => Some((text, Vec::new())),
        Ok(Yaml::Sequence(items)) => Some((text, items)),
        Ok(other) => {
            ctx.errors.push(PlaybookError::new(
                path,
                1,
                format!(
                    "a task file must be a list of tasks, got `{}`",
                    show(&other)
                ),
            ));
            None
        }
    }
}

impl Flatten<'_> {
    /// `import_tasks` at `path`: the file's tasks in its place, under
    /// `frames`, with the import's keywords on top of `inherited`.
    pub fn import(
        &mut self,
        ctx: &mut Ctx,
        m: &Mapping,
        key: &str,
        path: &[String],
        frames: &[Frame],
        inherited: &Inherited,
    ) {
        let mut own = Inherited::default();
        let mut name = None;
        for (k, value) in entries(m) {
            let at = child(path, k.as_str());
            let result = match k.as_str() {
                k if k == key => file_arg(k, value).map(|f| name = Some(f)),
                "loop" | "loop_control" => Err(format!(
                    "`{k}` on `{key}` is not supported: an import is static; use `include_tasks`"
                )),
                k if k.starts_with("with_") => Err(format!(
                    "`{k}` on `{key}` is not supported: an import is static; use `include_tasks`"
                )),
                k => block::keyword(ctx, &mut own, k, value, &at, Some(key)),
            };
            if let Err(e) = result {
                ctx.err(&at, e);
            }
        }
        let Some(name) = name else { return };
        let at = child(path, key);
        if has_template(&name) {
            ctx.err(
                &at,
                format!(
                    "`{key}` cannot take a templated file name (`{name}`); use `include_tasks`"
                ),
            );
            return;
        }
        if ctx.depth >= MAX_DEPTH {
            ctx.err(
                &at,
                format!("`{key}: {name}`: imports nest too deep (a loop?)"),
            );
            return;
        }
        let Some(file) = locate(ctx, "tasks", &name) else {
            ctx.err(&at, format!("`{key}`: task file `{name}` not found"));
            return;
        };
        let Some((text, items)) = read_task_file(ctx, &file) else {
            return;
        };
        let inherited = inherited.then(&own);
        ctx.in_file(&file, &text, |ctx| {
            for (i, item) in items.iter().enumerate() {
                self.entry(ctx, item, &[format!("#{i}")], frames, &inherited);
            }
        });
    }
}
