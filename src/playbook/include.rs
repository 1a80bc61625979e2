//! `import_tasks` and `include_tasks`: another file's tasks, read and checked when the playbook is loaded.
//!
//! An import is static, as in Ansible: the file's tasks take its place,
//! and the keywords written on the import (`when`, `tags`, `vars`,
//! `become`, …) reach every imported task as a block's do. An include is
//! dynamic: it becomes a task of its own (its `when` and `loop` tested
//! once per host and item, see `modules::include_tasks`), followed by the
//! file's tasks in a block of their own that a host runs once per item
//! the include gave it (the engine's `include_flow`); only its `vars` and
//! `apply` keywords reach them. Either way the file is read with the
//! playbook, its problems reported at their own file and line. A relative
//! name is looked up in the role's `tasks/` (inside a role), beside the
//! file that names it, then beside the playbook.

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value as Yaml};

use serde_json::Value as Json;

use super::block::{self, Flatten, Inherited};
use super::error::PlaybookError;
use super::fields::{self, entries, show};
use super::model::{Block, Frame, Section};
use super::parse::{child, yaml_error, Ctx};
use super::task;
use crate::modules::include_tasks::{INCLUDE_TASKS as INCLUDE_MODULE, ITEM};
use crate::render::has_template;

/// How deep imports may nest before a loop of imports is assumed.
const MAX_DEPTH: usize = 32;

/// The spellings of `import_tasks`.
const IMPORT_TASKS: &[&str] = &[
    "import_tasks",
    "ansible.builtin.import_tasks",
    "ansible.legacy.import_tasks",
];

/// The spellings of `include_tasks`.
const INCLUDE_TASKS: &[&str] = &[
    "include_tasks",
    "ansible.builtin.include_tasks",
    "ansible.legacy.include_tasks",
];

/// The key that makes a task list entry an `import_tasks`, if it is one.
pub fn import_key(v: &Yaml) -> Option<&'static str> {
    key_of(v, IMPORT_TASKS)
}

/// The key that makes a task list entry an `include_tasks`, if it is one.
pub fn include_key(v: &Yaml) -> Option<&'static str> {
    key_of(v, INCLUDE_TASKS)
}

fn key_of(v: &Yaml, keys: &[&'static str]) -> Option<&'static str> {
    let Yaml::Mapping(m) = v else { return None };
    keys.iter().copied().find(|k| m.contains_key(*k))
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
        let inherited = inherited.then(&own);
        self.tasks_of(ctx, key, &name, path, frames, &inherited);
    }

    /// The tasks of file `name` (named by `key` at `path`) into the list.
    fn tasks_of(
        &mut self,
        ctx: &mut Ctx,
        key: &str,
        name: &str,
        path: &[String],
        frames: &[Frame],
        inherited: &Inherited,
    ) {
        let at = child(path, key);
        if has_template(name) {
            let why = match key.ends_with("import_tasks") {
                true => "use `include_tasks`",
                false => "kubestrap reads every task file before the run",
            };
            ctx.err(
                &at,
                format!("`{key}` cannot take a templated file name (`{name}`): {why}"),
            );
            return;
        }
        if ctx.depth >= MAX_DEPTH {
            ctx.err(
                &at,
                format!("`{key}: {name}`: task files nest too deep (a loop?)"),
            );
            return;
        }
        let Some(file) = locate(ctx, "tasks", name) else {
            ctx.err(&at, format!("`{key}`: task file `{name}` not found"));
            return;
        };
        let Some((text, items)) = read_task_file(ctx, &file) else {
            return;
        };
        ctx.in_file(&file, &text, |ctx| {
            for (i, item) in items.iter().enumerate() {
                self.entry(ctx, item, &[format!("#{i}")], frames, inherited);
            }
        });
    }

    /// `include_tasks` at `path`: a task that decides per host and item,
    /// then the file's tasks in a block of their own (see the module doc).
    pub fn include(
        &mut self,
        ctx: &mut Ctx,
        m: &Mapping,
        key: &str,
        path: &[String],
        frames: &[Frame],
        inherited: &Inherited,
    ) {
        let errors_before = ctx.errors.len();
        let mut task = task::blank(ctx, path);
        let mut own = Inherited::default();
        let mut name = None;
        for (k, value) in entries(m) {
            let at = child(path, k.as_str());
            let result = match k.as_str() {
                k if k == key => file_arg(k, value).map(|f| name = Some(f)),
                "name" => fields::text(&k, value).map(|n| task.name = Some(n)),
                "when" => task::conditions(ctx, &k, value, &at).map(|c| task.when = c),
                "loop" | "with_items" if task.loop_.is_some() => {
                    Err("a task takes one of `loop` and `with_items`, not both".into())
                }
                "loop" | "with_items" => {
                    task::loop_value(value, k == "with_items").map(|l| task.loop_ = Some(l))
                }
                "loop_control" => match super::loops::loop_control(value, &mut task.loop_var) {
                    Ok(lc) if lc == Default::default() => Ok(()),
                    Ok(_) => Err(format!(
                        "`loop_control` on `{key}` takes only `loop_var` in kubestrap"
                    )),
                    Err(problems) => Err(problems
                        .into_iter()
                        .map(|(_, e)| e)
                        .collect::<Vec<_>>()
                        .join("; ")),
                },
                "tags" => fields::tags(value).map(|t| task.tags = t),
                "ignore_errors" => fields::boolean(&k, value).map(|b| task.ignore_errors = b),
                "vars" => block::keyword(ctx, &mut own, &k, value, &at, None),
                "apply" => apply(ctx, &mut own, value, &at),
                other => Err(format!(
                    "`{other}` on `{key}` is not supported by kubestrap"
                )),
            };
            if let Err(e) = result {
                ctx.err(&at, e);
            }
        }
        let Some(name) = name else { return };
        let id = self.blocks.len();
        self.blocks.push(Block {
            parent: frames.to_vec(),
            rescue: false,
            always: false,
        });
        task.module = &INCLUDE_MODULE;
        task.module_name = key.to_string();
        task.args.insert("file".into(), Json::from(name.as_str()));
        if task.loop_.is_some() {
            let item = format!("{{{{ {} }}}}", task.loop_var);
            task.args.insert(ITEM.into(), Json::from(item));
        }
        task.opens = Some(id);
        task::check_templates(ctx, path, &task);
        inherited.apply(&mut task, m);
        task.blocks = frames.to_vec();
        if ctx.errors.len() == errors_before {
            self.out.push((task, path.to_vec()));
        }
        let mut inner = frames.to_vec();
        inner.push((id, Section::Block));
        let inherited = inherited.then(&own);
        self.tasks_of(ctx, key, &name, path, &inner, &inherited);
    }
}

/// `apply:` on an include: keywords for the file's tasks, as a block's.
fn apply(ctx: &mut Ctx, own: &mut Inherited, v: &Yaml, at: &[String]) -> Result<(), String> {
    let Yaml::Mapping(m) = v else {
        return Err(format!(
            "`apply` must be a mapping of keywords, got `{}`",
            show(v)
        ));
    };
    for (k, value) in entries(m) {
        let here = child(at, k.as_str());
        if let Err(e) = block::keyword(ctx, own, &k, value, &here, Some("apply")) {
            ctx.err(&here, e);
        }
    }
    Ok(())
}
