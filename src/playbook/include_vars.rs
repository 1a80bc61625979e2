//! `include_vars`: a file (or a directory) of variables read when the playbook is loaded, set for the host when the task runs.
//!
//! The task keeps its place and its keywords (`when`, `tags`, …), and
//! runs as a `set_fact` of the variables the file holds (under `name`
//! when given), so they reach the host's later tasks when, and only if,
//! the task runs, as in Ansible. `file` (or free-form text) and `dir` (its
//! `.yml`, `.yaml` and `.json` files, in the order of their paths) are
//! looked up in the role's `vars/`, the role, then `vars/` beside the file
//! naming them and beside it, then the same beside the playbook.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};
use serde_yaml::{Mapping, Value as Yaml};

use super::fields::{self, entries, show};
use super::keyvalue;
use super::parse::{child, Ctx};
use super::vars_file;
use crate::render::has_template;

/// The spellings of `include_vars`.
const KEYS: &[&str] = &["include_vars", "ansible.builtin.include_vars"];

/// The key that makes a task an `include_vars`, if it is one.
pub fn key(v: &Yaml) -> Option<&'static str> {
    let Yaml::Mapping(m) = v else { return None };
    KEYS.iter().copied().find(|k| m.contains_key(*k))
}

/// The task mapping `m` with its `include_vars` turned into the
/// `set_fact` of the variables it names (None: a problem, reported).
pub fn as_set_fact(ctx: &mut Ctx, m: &Mapping, key: &str, path: &[String]) -> Option<Yaml> {
    let at = child(path, key);
    let args = match &m[key] {
        Yaml::String(s) => {
            keyvalue::parse(s, true).map_err(|e| format!("invalid arguments for `{key}`: {e}"))
        }
        v @ Yaml::Mapping(_) => fields::mapping(key, v),
        other => Err(format!("`{key}` must name a file, got `{}`", show(other))),
    };
    let args = args.map_err(|e| ctx.err(&at, e)).ok()?;
    let mut source = None;
    let mut name = None;
    for (k, v) in &args {
        let text = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        match k.as_str() {
            "file" | "_raw_params" => source = Some((false, text)),
            "dir" => source = Some((true, text)),
            "name" => name = Some(text),
            other => ctx.err(
                &child(&at, other),
                format!("argument `{other}` of `{key}` is not supported by kubestrap"),
            ),
        }
    }
    let Some((is_dir, wanted)) = source else {
        ctx.err(&at, format!("`{key}` needs a `file` or a `dir`"));
        return None;
    };
    if has_template(&wanted) {
        let message = format!("`{key}` cannot take a templated file name (`{wanted}`): kubestrap reads every file before the run");
        ctx.err(&at, message);
        return None;
    }
    let Some(found) = locate(ctx, &wanted, is_dir) else {
        ctx.err(&at, format!("`{key}`: `{wanted}` not found"));
        return None;
    };
    let mut vars = Map::new();
    for file in if is_dir {
        files_in(&found)
    } else {
        vec![found]
    } {
        vars.extend(vars_file::read(ctx, &file)?);
    }
    if let Some(name) = name {
        vars = Map::from_iter([(name, Json::Object(vars))]);
    }
    if vars.is_empty() {
        ctx.err(&at, format!("`{key}`: `{wanted}` holds no variables"));
        return None;
    }
    let mut task = Mapping::new();
    for (k, v) in entries(m) {
        if k != key {
            task.insert(Yaml::String(k), v.clone());
        }
    }
    let value = serde_yaml::to_value(Json::Object(vars)).ok()?;
    task.insert(Yaml::String("set_fact".into()), value);
    Some(Yaml::Mapping(task))
}

/// Where `name` is, as Ansible's include_vars looks for it.
fn locate(ctx: &Ctx, name: &str, is_dir: bool) -> Option<PathBuf> {
    let here = ctx.file.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut bases = Vec::new();
    if let Some(role) = &ctx.role {
        bases.extend([role.join("vars"), role.clone()]);
    }
    bases.extend([
        here.join("vars"),
        here,
        ctx.root.join("vars"),
        ctx.root.clone(),
    ]);
    bases
        .into_iter()
        .map(|b| b.join(name))
        .find(|p| if is_dir { p.is_dir() } else { p.is_file() })
}

/// The vars files below `dir`, in the order of their paths.
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            let wanted = p
                .extension()
                .is_some_and(|e| e == "yml" || e == "yaml" || e == "json");
            if p.is_dir() {
                todo.push(p);
            } else if wanted {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
