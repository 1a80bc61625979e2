//! `import_playbook`: another playbook's plays in place of the entry, read when the playbook is loaded.
//!
//! As in Ansible, the name is relative to the importing playbook's
//! directory, and the imported playbook's own directory is where its
//! plays find their roles, task files, templates and files. `vars` on the
//! entry reach its plays (under each play's own), `tags` add to theirs.

use std::path::Path;
use std::sync::Arc;

use serde_yaml::{Mapping, Value as Yaml};

use super::fields::{self, entries, show};
use super::model::Play;
use super::parse::{child, yaml_error, Ctx};
use super::play;
use crate::render::has_template;

/// The spellings of `import_playbook`.
const KEYS: &[&str] = &["import_playbook", "ansible.builtin.import_playbook"];

/// The key that makes a playbook entry an `import_playbook`, if it is one.
pub fn key(v: &Yaml) -> Option<&'static str> {
    let Yaml::Mapping(m) = v else { return None };
    KEYS.iter().copied().find(|k| m.contains_key(*k))
}

/// The plays of the playbook entry `m` at `path` imports, onto `plays`.
pub fn expand(ctx: &mut Ctx, m: &Mapping, key: &str, path: &[String], plays: &mut Vec<Arc<Play>>) {
    let mut name = None;
    let mut vars = serde_json::Map::new();
    let mut tags = Vec::new();
    for (k, value) in entries(m) {
        let at = child(path, k.as_str());
        let result = match k.as_str() {
            k2 if k2 == key => fields::text(key, value).map(|n| name = Some(n)),
            "name" => fields::text("name", value).map(|_| ()),
            "vars" => fields::mapping("vars", value).map(|v| vars = v),
            "tags" => fields::tags(value).map(|t| tags = t),
            other => Err(format!(
                "`{other}` on `{key}` is not supported by kubestrap"
            )),
        };
        if let Err(e) = result {
            ctx.err(&at, e);
        }
    }
    let Some(name) = name else { return };
    let at = child(path, key);
    if has_template(&name) {
        let message = format!("`{key}` cannot take a templated file name (`{name}`)");
        return ctx.err(&at, message);
    }
    if ctx.depth >= 16 {
        return ctx.err(
            &at,
            format!("`{key}: {name}`: playbooks import too deep (a loop?)"),
        );
    }
    let file = ctx.file.parent().unwrap_or(Path::new("")).join(&name);
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) => return ctx.err(&at, format!("`{key}`: cannot read `{name}`: {e}")),
    };
    let doc: Yaml = match serde_yaml::from_str(&text) {
        Ok(d) => d,
        Err(e) => return ctx.errors.push(yaml_error(&file, &e)),
    };
    let Yaml::Sequence(items) = doc else {
        let message = format!("a playbook must be a list of plays, got `{}`", show(&doc));
        return ctx
            .errors
            .push(super::PlaybookError::new(&file, 1, message));
    };
    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let root = std::mem::replace(&mut ctx.root, dir.clone());
    ctx.in_file(&file, &text, |ctx| {
        for (i, item) in items.iter().enumerate() {
            let at = vec![format!("#{i}")];
            if let (Yaml::Mapping(m), Some(k)) = (item, self::key(item)) {
                expand(ctx, m, k, &at, plays);
                continue;
            }
            if let Some(mut p) = play::parse(ctx, item, at) {
                let mut all = vars.clone();
                all.extend(std::mem::take(&mut p.vars));
                p.vars = all;
                for t in &tags {
                    if !p.tags.contains(t) {
                        p.tags.push(t.clone());
                    }
                }
                // Its templates and files are beside it, as its roles are.
                for t in p.tasks.iter_mut().chain(p.handlers.iter_mut()) {
                    t.role_dir.get_or_insert_with(|| dir.clone());
                }
                plays.push(Arc::new(p));
            }
        }
    });
    ctx.root = root;
}
