//! Roles (`roles:`, `import_role`, `include_role`): a role's standard layout read when the playbook is loaded.
//!
//! A role is a directory found in `roles/` beside the playbook, then in
//! each directory of `ANSIBLE_ROLES_PATH`, then beside the playbook:
//! `tasks/`, `handlers/`, `defaults/`, `vars/` and `meta/` each hold a
//! `main.yml` (or `.yaml`), and `templates/` and `files/` are searched
//! before the playbook's for the role's template and copy sources. As in
//! Ansible: the dependencies in `meta/main.yml` come first, each role of
//! `roles:` and each dependency runs once per play with the same
//! parameters (unless the role allows duplicates), the role's defaults
//! sit below every other variable, its vars over the play's, and the
//! keywords written on the role (`when`, `tags`, `become`, …) reach all
//! its tasks, its dependencies' too. Role parameters (`vars:` or any
//! other key on the entry) are the role's tasks' vars.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};
use serde_yaml::{Mapping, Value as Yaml};

use super::block::{self, Flatten, Inherited, Located};
use super::fields::{self, entries, show};
use super::include::read_task_file;
use super::model::Frame;
use super::parse::{child, Ctx};
use super::task;
use super::vars_file::{self, in_dir};
use crate::render::has_template;

/// What a play collects from its roles besides their tasks.
#[derive(Default)]
pub struct Roles {
    /// Every role's defaults, later roles over earlier ones.
    pub defaults: Map<String, Json>,
    /// Every public role's vars, exported to the whole play.
    pub vars: Map<String, Json>,
    pub handlers: Vec<Located>,
    /// Roles already run in the play (directory and parameters), which
    /// `roles:` and dependencies do not run again.
    seen: Vec<String>,
}

/// One role to run: its name, the keywords on it and its parameters.
pub struct Entry {
    pub name: String,
    pub own: Inherited,
    pub params: Map<String, Json>,
    /// `tasks_from`, `vars_from`, `defaults_from`, `handlers_from`.
    pub from: [String; 4],
    /// `roles:` and dependencies run once per play; imports every time.
    pub once: bool,
    /// Whether the role's vars are the play's too (`include_role` keeps
    /// them to itself unless `public: true`).
    pub public: bool,
}

impl Entry {
    fn named(name: String) -> Entry {
        Entry {
            name,
            own: Inherited::default(),
            params: Map::new(),
            from: ["main", "main", "main", "main"].map(String::from),
            once: true,
            public: true,
        }
    }
}

/// Keywords a `roles:` entry may carry besides parameters.
const ROLE_KEYWORDS: &[&str] = &[
    "when",
    "tags",
    "become",
    "become_user",
    "ignore_errors",
    "no_log",
    "check_mode",
    "run_once",
    "delegate_to",
    "delegate_facts",
    "throttle",
    "environment",
];

/// One entry of `roles:` or of a role's `dependencies`: a name, or a
/// mapping with `role` (or `name`), keywords and parameters.
pub fn entry(ctx: &mut Ctx, v: &Yaml, at: &[String]) -> Option<Entry> {
    let m = match v {
        Yaml::String(name) => return checked_name(ctx, name.clone(), at).map(Entry::named),
        Yaml::Mapping(m) => m,
        other => {
            ctx.err(
                at,
                format!("a role must be a name or a mapping, got `{}`", show(other)),
            );
            return None;
        }
    };
    let name_key = ["role", "name"].into_iter().find(|k| m.contains_key(*k));
    let Some(name_key) = name_key else {
        ctx.err(at, "a role entry needs `role` (its name)");
        return None;
    };
    let name = fields::text(name_key, &m[name_key])
        .map_err(|e| ctx.err(&child(at, name_key), e))
        .ok()?;
    let mut e = Entry::named(checked_name(ctx, name, &child(at, name_key))?);
    for (key, value) in entries(m) {
        let here = child(at, key.as_str());
        let result = match key.as_str() {
            k if k == name_key => Ok(()),
            "vars" => fields::mapping("vars", value).map(|v| e.params.extend(v)),
            k if ROLE_KEYWORDS.contains(&k) => {
                block::keyword(ctx, &mut e.own, k, value, &here, None)
            }
            k if task::UNSUPPORTED.contains(&k) || k == "loop" || k.starts_with("with_") => {
                Err(format!("`{k}` on a role is not supported by kubestrap"))
            }
            _ => {
                e.params
                    .insert(key.clone(), crate::render::yaml_to_json(value));
                Ok(())
            }
        };
        if let Err(msg) = result {
            ctx.err(&here, msg);
        }
    }
    Some(e)
}

fn checked_name(ctx: &mut Ctx, name: String, at: &[String]) -> Option<String> {
    if has_template(&name) {
        ctx.err(
            at,
            format!("a templated role name is not supported by kubestrap: `{name}`"),
        );
        return None;
    }
    Some(name)
}

/// The role's directory: `roles/NAME` beside the playbook, in
/// `ANSIBLE_ROLES_PATH`, then `NAME` beside the playbook.
fn find(ctx: &Ctx, name: &str) -> Result<PathBuf, String> {
    let mut bases = vec![ctx.root.join("roles")];
    if let Some(paths) = std::env::var_os("ANSIBLE_ROLES_PATH") {
        bases.extend(std::env::split_paths(&paths));
    }
    bases.push(ctx.root.clone());
    let candidates: Vec<PathBuf> = bases.iter().map(|b| b.join(name)).collect();
    candidates
        .iter()
        .find(|c| c.is_dir())
        .cloned()
        .ok_or_else(|| {
            let searched: Vec<String> = bases.iter().map(|b| b.display().to_string()).collect();
            format!("role `{name}` not found (searched {})", searched.join(", "))
        })
}

/// What a role's `meta/main.yml` says: its dependencies (with their
/// paths in that file) and whether it may run twice.
struct Meta {
    file: PathBuf,
    text: String,
    dependencies: Vec<(Yaml, Vec<String>)>,
    allow_duplicates: bool,
}

fn meta(ctx: &mut Ctx, dir: &Path) -> Option<Meta> {
    let file = in_dir(&dir.join("meta"), "main")?;
    let text = std::fs::read_to_string(&file).ok()?;
    let doc: Yaml = match serde_yaml::from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            ctx.errors.push(super::parse::yaml_error(&file, &e));
            return None;
        }
    };
    let mut out = Meta {
        file: file.clone(),
        text: text.clone(),
        dependencies: Vec::new(),
        allow_duplicates: false,
    };
    let Yaml::Mapping(m) = &doc else {
        return Some(out);
    };
    ctx.in_file(&file, &text, |ctx| {
        for (key, value) in entries(m) {
            let at = vec![key.clone()];
            match key.as_str() {
                "dependencies" => match value {
                    Yaml::Sequence(items) => {
                        for (i, item) in items.iter().enumerate() {
                            out.dependencies
                                .push((item.clone(), child(&at, format!("#{i}"))));
                        }
                    }
                    Yaml::Null => {}
                    other => ctx.err(
                        &at,
                        format!(
                            "`dependencies` must be a list of roles, got `{}`",
                            show(other)
                        ),
                    ),
                },
                "allow_duplicates" => match fields::boolean(&key, value) {
                    Ok(b) => out.allow_duplicates = b,
                    Err(e) => ctx.err(&at, e),
                },
                _ => {}
            }
        }
    });
    Some(out)
}

impl Flatten<'_> {
    /// The tasks of role `e` (its dependencies' first) into the list,
    /// under `frames`, with the role's keywords on top of `inherited`;
    /// `chain` holds the vars of the roles that depend on this one.
    pub fn role(
        &mut self,
        ctx: &mut Ctx,
        e: &Entry,
        at: &[String],
        frames: &[Frame],
        inherited: &Inherited,
        chain: &Map<String, Json>,
    ) {
        let dir = match find(ctx, &e.name) {
            Ok(d) => d,
            Err(msg) => return ctx.err(at, msg),
        };
        if ctx.depth >= 32 {
            return ctx.err(
                at,
                format!("role `{}`: dependencies nest too deep (a loop?)", e.name),
            );
        }
        let meta = meta(ctx, &dir);
        let key = format!(
            "{}\n{}\n{:?}",
            dir.display(),
            Json::Object(e.params.clone()),
            e.from
        );
        let duplicates = meta.as_ref().is_some_and(|m| m.allow_duplicates);
        if e.once && !duplicates && self.roles.seen.contains(&key) {
            return;
        }
        self.roles.seen.push(key);
        let mut own = e.own.clone();
        own.vars.extend(e.params.clone());
        let inherited = inherited.then(&own);
        let [tasks_from, vars_from, defaults_from, handlers_from] = &e.from;
        let mut vars = chain.clone();
        if let Some(file) = in_dir(&dir.join("vars"), vars_from) {
            vars.extend(vars_file::read(ctx, &file).unwrap_or_default());
        }
        if let Some(m) = meta {
            ctx.in_file(&m.file, &m.text, |ctx| {
                for (dep, at) in &m.dependencies {
                    if let Some(d) = entry(ctx, dep, at) {
                        self.role(ctx, &d, at, frames, &inherited, &vars);
                    }
                }
            });
        }
        if let Some(file) = in_dir(&dir.join("defaults"), defaults_from) {
            let defaults = vars_file::read(ctx, &file).unwrap_or_default();
            self.roles.defaults.extend(defaults);
        }
        if e.public {
            self.roles.vars.extend(vars.clone());
        }
        let outer = ctx.role.replace(dir.clone());
        let start = self.out.len();
        if let Some(file) = in_dir(&dir.join("tasks"), tasks_from) {
            if let Some((text, items)) = read_task_file(ctx, &file) {
                ctx.in_file(&file, &text, |ctx| {
                    for (i, item) in items.iter().enumerate() {
                        self.entry(ctx, item, &[format!("#{i}")], frames, &inherited);
                    }
                });
            }
        } else if tasks_from != "main" {
            ctx.err(
                at,
                format!("role `{}` has no tasks file `{tasks_from}`", e.name),
            );
        }
        let handlers_at = self.roles.handlers.len();
        if let Some(file) = in_dir(&dir.join("handlers"), handlers_from) {
            if let Some((text, items)) = read_task_file(ctx, &file) {
                ctx.in_file(&file, &text, |ctx| {
                    for (i, item) in items.iter().enumerate() {
                        let at = vec![format!("#{i}")];
                        if let Some(t) = task::parse(ctx, item, &at, true) {
                            self.roles.handlers.push((t, at));
                        }
                    }
                });
            }
        }
        ctx.role = outer;
        let mine = self.out[start..]
            .iter_mut()
            .chain(&mut self.roles.handlers[handlers_at..]);
        for (t, _) in mine.filter(|(t, _)| t.role_dir.is_none()) {
            t.role_dir = Some(dir.clone());
            t.role_vars = vars.clone();
        }
    }
}

/// The spellings of `import_role` and `include_role`.
const ROLE_TASKS: &[&str] = &[
    "import_role",
    "include_role",
    "ansible.builtin.import_role",
    "ansible.builtin.include_role",
];

/// The key that makes a task list entry an `import_role`/`include_role`.
pub fn role_task_key(v: &Yaml) -> Option<&'static str> {
    let Yaml::Mapping(m) = v else { return None };
    ROLE_TASKS.iter().copied().find(|k| m.contains_key(*k))
}

/// An `import_role` / `include_role` task as the role to run: `name`,
/// the `*_from` files, `public`, and the task's keywords; both are
/// expanded when the playbook is loaded (see docs/playbooks.md).
pub fn task_entry(ctx: &mut Ctx, m: &Mapping, key: &str, at: &[String]) -> Option<Entry> {
    let include = key.ends_with("include_role");
    let mut e = Entry::named(String::new());
    e.once = false;
    e.public = !include;
    for (k, value) in entries(m) {
        let here = child(at, k.as_str());
        let result = match k.as_str() {
            k2 if k2 == key => role_args(ctx, &mut e, key, value, &here),
            "vars" => fields::mapping("vars", value).map(|v| e.own.vars.extend(v)),
            "loop" | "loop_control" => {
                Err(format!("`{k}` on `{key}` is not supported by kubestrap"))
            }
            k2 if k2.starts_with("with_") => {
                Err(format!("`{k}` on `{key}` is not supported by kubestrap"))
            }
            k2 => block::keyword(ctx, &mut e.own, k2, value, &here, Some(key)),
        };
        if let Err(msg) = result {
            ctx.err(&here, msg);
        }
    }
    if e.name.is_empty() {
        ctx.err(&child(at, key), format!("`{key}` needs the role's `name`"));
        return None;
    }
    Some(e)
}

/// The arguments of `import_role`/`include_role`.
fn role_args(
    ctx: &mut Ctx,
    e: &mut Entry,
    key: &str,
    v: &Yaml,
    at: &[String],
) -> Result<(), String> {
    let Yaml::Mapping(m) = v else {
        return Err(format!(
            "`{key}` must be a mapping with the role's `name`, got `{}`",
            show(v)
        ));
    };
    for (k, value) in entries(m) {
        let here = child(at, k.as_str());
        let slot = ["tasks_from", "vars_from", "defaults_from", "handlers_from"]
            .iter()
            .position(|f| *f == k);
        let result = match (k.as_str(), slot) {
            ("name", _) => fields::text("name", value).map(|n| {
                if let Some(n) = checked_name(ctx, n, &here) {
                    e.name = n;
                }
            }),
            (_, Some(i)) => fields::text(&k, value).map(|f| {
                e.from[i] = strip_ext(&f).to_string();
            }),
            ("public", _) => fields::boolean(&k, value).map(|b| e.public = b),
            ("allow_duplicates", _) => fields::boolean(&k, value).map(|_| ()),
            (other, _) => Err(format!(
                "argument `{other}` of `{key}` is not supported by kubestrap"
            )),
        };
        if let Err(msg) = result {
            ctx.err(&here, msg);
        }
    }
    Ok(())
}

/// `tasks_from: setup.yml` names the same file as `setup`.
fn strip_ext(f: &str) -> &str {
    f.strip_suffix(".yml")
        .or_else(|| f.strip_suffix(".yaml"))
        .unwrap_or(f)
}
