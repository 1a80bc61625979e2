//! One play: its keywords, its vars (and vars_files), its task lists, and that every notify has a handler.

use std::collections::HashSet;
use std::path::Path;

use serde_json::{Map, Value as Json};
use serde_yaml::Value as Yaml;

use super::checks;
use super::fields::{self, entries, show};
use super::model::Play;
use super::parse::{child, Ctx};
use super::task;
use super::vars_file;
use crate::render::has_template;

/// Ansible play keywords kubestrap does not implement; named so the message
/// says so instead of calling them unknown.
const UNSUPPORTED: &[&str] = &[
    "include_playbook",
    "include",
    "strategy",
    "vars_prompt",
    "remote_user",
    "connection",
    "become_method",
    "become_flags",
    "order",
    "collections",
    "module_defaults",
    "ignore_errors",
    "ignore_unreachable",
    "check_mode",
    "diff",
    "no_log",
    "port",
    "run_once",
    "throttle",
    "timeout",
    "fact_path",
    "gather_subset",
    "gather_timeout",
    "debugger",
];

use super::block::{self, Flatten, Located};
use super::error::PlaybookError;
use super::include;
use super::include_vars;
use super::role::{self, Roles};

/// Task lists in the order Ansible runs them (the roles' tasks after
/// `pre_tasks`).
const TASK_LISTS: &[&str] = &["pre_tasks", "roles", "tasks", "post_tasks"];

pub fn parse(ctx: &mut Ctx, v: &Yaml, path: Vec<String>) -> Option<Play> {
    let Yaml::Mapping(m) = v else {
        ctx.err(
            &path,
            format!("a play must be a mapping, got `{}`", show(v)),
        );
        return None;
    };
    let errors_before = ctx.errors.len();
    let mut play = Play {
        name: String::new(),
        hosts: String::new(),
        vars: Map::new(),
        become_: None,
        become_user: None,
        gather_facts: true,
        any_errors_fatal: false,
        force_handlers: false,
        max_fail_percentage: None,
        serial: Vec::new(),
        tags: Vec::new(),
        tasks: Vec::new(),
        handlers: Vec::new(),
        blocks: Vec::new(),
        templated: Vec::new(),
        role_defaults: Map::new(),
        line: ctx.lines.line_of(&checks::steps(&path)),
    };
    let mut name = None;
    let mut hosts = None;
    let mut imported = false;
    let mut lists: Vec<(usize, Vec<Located>)> = Vec::new();
    let mut roles = Roles::default();
    let mut handlers = Vec::new();
    let mut handler_yaml = None;
    let mut vars_files = Vec::new();
    let mut environment = Map::new();
    for (key, value) in entries(m) {
        let at = child(&path, key.as_str());
        let result: Result<(), String> = match key.as_str() {
            "name" => fields::text("name", value).map(|s| name = Some(s)),
            "hosts" => hosts_of(value).map(|h| hosts = Some(h)),
            "vars" => fields::mapping("vars", value).map(|vars| play.vars.extend(vars)),
            "vars_files" => fields::text_list("vars_files", value).map(|f| vars_files = f),
            k if TEMPLATED.contains(&k) => match value {
                Yaml::String(t) if has_template(t) => {
                    play.templated.push((key.clone(), t.clone()));
                    Ok(())
                }
                _ => play.set_keyword(k, value),
            },
            "tags" => fields::tags(value).map(|t| play.tags = t),
            "environment" => fields::environment(value).map(|e| environment = e),
            "handlers" => {
                handlers = handler_list(ctx, &key, value, &at);
                handler_yaml = Some(value);
                Ok(())
            }
            k if TASK_LISTS.contains(&k) => {
                let order = TASK_LISTS.iter().position(|l| *l == k).unwrap_or(0);
                let mut list = Vec::new();
                let mut flat = Flatten {
                    out: &mut list,
                    blocks: &mut play.blocks,
                    roles: &mut roles,
                };
                let none = Default::default();
                task_list(ctx, &key, value, &at, |ctx, item, at| {
                    if k != "roles" {
                        flat.entry(ctx, item, at, &[], &none)
                    } else if let Some(e) = role::entry(ctx, item, at) {
                        flat.role(ctx, &e, at, &[], &none, &Map::new())
                    }
                });
                lists.push((order, list));
                Ok(())
            }
            k if UNSUPPORTED.contains(&k) => {
                imported |= matches!(k, "include_playbook" | "include");
                Err(format!("`{k}` is not supported by kubestrap"))
            }
            k => Err(format!("unknown play keyword `{k}`")),
        };
        if let Err(e) = result {
            ctx.err(&at, e);
        }
    }
    match hosts {
        Some(h) => play.hosts = h,
        None if imported => {}
        None => ctx.err(&path, "play has no `hosts`"),
    }
    check_templates(ctx, &path, &play, name.as_deref(), &environment);
    if let Some(n) = name.as_deref().filter(|n| has_template(n)) {
        play.templated.push(("name".into(), n.to_string()));
    }
    play.name = name.unwrap_or_else(|| play.hosts.clone());
    for file in &vars_files {
        load_vars_file(ctx, file, &child(&path, "vars_files"), &mut play.vars);
    }
    // Role vars win over the play's vars and vars_files; role defaults
    // lose to every other variable (the engine puts them below).
    play.vars.extend(std::mem::take(&mut roles.vars));
    play.role_defaults = std::mem::take(&mut roles.defaults);
    lists.sort_by_key(|(order, _)| *order);
    let tasks: Vec<Located> = lists.into_iter().flat_map(|(_, l)| l).collect();
    let mut all_handlers = std::mem::take(&mut roles.handlers);
    all_handlers.extend(handlers);
    let handlers = all_handlers;
    check_notify(ctx, &tasks, &handlers, handler_yaml);
    play.tasks = tasks.into_iter().map(|(t, _)| t).collect();
    play.handlers = handlers.into_iter().map(|(t, _)| t).collect();
    // The play's environment is every task's, under the task's own.
    for t in play.tasks.iter_mut().chain(play.handlers.iter_mut()) {
        let mut e = environment.clone();
        e.extend(std::mem::take(&mut t.environment));
        t.environment = e;
    }
    (ctx.errors.len() == errors_before).then_some(play)
}

/// Keywords that may be written as templates, rendered when the play
/// starts (`name` too, and `hosts` on its own); see [`Play::set_keyword`].
const TEMPLATED: &[&str] = &[
    "become",
    "become_user",
    "gather_facts",
    "any_errors_fatal",
    "force_handlers",
    "max_fail_percentage",
    "serial",
];

impl Play {
    /// Set keyword `key` of [`TEMPLATED`] (or `name`) from its value,
    /// written or rendered; the message says what is wrong with it.
    pub fn set_keyword(&mut self, key: &str, value: &Yaml) -> Result<(), String> {
        match key {
            "name" => fields::text("name", value).map(|s| self.name = s),
            "become" => fields::boolean(key, value).map(|b| self.become_ = Some(b)),
            "become_user" => fields::text(key, value).map(|u| self.become_user = Some(u)),
            "gather_facts" => fields::boolean(key, value).map(|b| self.gather_facts = b),
            "any_errors_fatal" => fields::boolean(key, value).map(|b| self.any_errors_fatal = b),
            "force_handlers" => fields::boolean(key, value).map(|b| self.force_handlers = b),
            "max_fail_percentage" => percentage(value).map(|p| self.max_fail_percentage = Some(p)),
            "serial" => super::serial::parse(value).map(|s| self.serial = s),
            _ => Err(format!("`{key}` cannot be templated")),
        }
    }
}

/// `hosts: a:b` or `hosts: [a, b]` (joined with commas, as Ansible does).
fn hosts_of(v: &Yaml) -> Result<String, String> {
    let list = fields::text_list("hosts", v)?;
    if list.is_empty() || list.iter().all(|h| h.trim().is_empty()) {
        return Err("`hosts` must name at least one host or group".into());
    }
    Ok(list.join(","))
}

fn percentage(v: &Yaml) -> Result<f64, String> {
    let p = match v {
        Yaml::Number(n) => n.as_f64(),
        Yaml::String(s) => s.trim().trim_end_matches('%').parse().ok(),
        _ => None,
    };
    p.filter(|p: &f64| (0.0..=100.0).contains(p))
        .ok_or_else(|| {
            format!(
                "`max_fail_percentage` must be a number from 0 to 100, got `{}`",
                show(v)
            )
        })
}

/// Each entry of task list `key`, with its path, to `each`.
fn task_list(
    ctx: &mut Ctx,
    key: &str,
    v: &Yaml,
    path: &[String],
    mut each: impl FnMut(&mut Ctx, &Yaml, &[String]),
) {
    let items = match v {
        Yaml::Null => return,
        Yaml::Sequence(items) => items,
        other => {
            ctx.err(
                path,
                format!("`{key}` must be a list of tasks, got `{}`", show(other)),
            );
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        each(ctx, item, &child(path, format!("#{i}")));
    }
}

/// The play's handlers; a block among them is refused.
fn handler_list(ctx: &mut Ctx, key: &str, v: &Yaml, path: &[String]) -> Vec<Located> {
    let mut out = Vec::new();
    task_list(ctx, key, v, path, |ctx, item, at| {
        let included = include::import_key(item)
            .or_else(|| include::include_key(item))
            .or_else(|| role::role_task_key(item))
            .or_else(|| include_vars::key(item));
        if block::is_block(item) {
            ctx.err(at, "a block among handlers is not supported by kubestrap");
        } else if let Some(key) = included {
            let message = format!("`{key}` among handlers is not supported by kubestrap");
            ctx.err(&child(at, key), message);
        } else if let Some(t) = task::parse(ctx, item, at, true) {
            out.push((t, at.to_vec()));
        }
    });
    out
}

/// Merge a vars file into the play's vars; it wins over `vars:`, as in
/// Ansible's precedence. Problems inside it are reported against that file.
fn load_vars_file(ctx: &mut Ctx, name: &str, at: &[String], vars: &mut Map<String, Json>) {
    if has_template(name) {
        ctx.err(
            at,
            format!("templated vars_files are not supported by kubestrap: `{name}`"),
        );
        return;
    }
    let path = ctx.file.parent().unwrap_or(Path::new(".")).join(name);
    if !path.is_file() {
        return ctx.err(at, format!("cannot read vars file `{name}`: not found"));
    }
    if let Some(m) = vars_file::read(ctx, &path) {
        vars.extend(m);
    }
}

/// `name` is the one written, if any (the default is `hosts`, checked already).
fn check_templates(
    ctx: &mut Ctx,
    path: &[String],
    play: &Play,
    name: Option<&str>,
    environment: &Map<String, Json>,
) {
    let mut found = Vec::new();
    for (k, v) in &play.vars {
        let mut p = vec!["vars".to_string(), k.clone()];
        checks::templates(v, &format!("var `{k}`"), &mut p, &mut found);
    }
    for (k, v) in environment {
        let mut p = vec!["environment".to_string(), k.clone()];
        checks::templates(v, &format!("environment `{k}`"), &mut p, &mut found);
    }
    let written = play
        .templated
        .iter()
        .map(|(k, t)| (k.as_str(), Some(t.as_str())));
    let scalars = [("name", name), ("hosts", Some(play.hosts.as_str()))];
    for (key, value) in scalars.into_iter().chain(written) {
        if let Some(text) = value {
            let mut p = vec![key.to_string()];
            checks::templates(
                &Json::String(text.to_string()),
                &format!("`{key}`"),
                &mut p,
                &mut found,
            );
        }
    }
    for f in found {
        let mut at = path.to_vec();
        at.extend(f.path);
        ctx.err(&at, f.message);
    }
}

/// Every `notify` must name a handler of the play or a topic one listens to;
/// Ansible finds out only when the task changes, kubestrap before running.
/// Names are read from the YAML so a handler with another problem still counts.
fn check_notify(ctx: &mut Ctx, tasks: &[Located], handlers: &[Located], yaml: Option<&Yaml>) {
    let mut known: HashSet<String> = HashSet::new();
    if let Some(Yaml::Sequence(items)) = yaml {
        for item in items {
            for key in ["name", "listen"] {
                if let Some(v) = item.get(key) {
                    known.extend(fields::text_list(key, v).unwrap_or_default());
                }
            }
        }
    }
    // Handlers from other files (roles) count by their parsed names.
    for (h, _) in handlers.iter().filter(|(h, _)| h.file != ctx.file) {
        known.extend(h.name.iter().chain(&h.listen).cloned());
    }
    for (task, at) in tasks.iter().chain(handlers) {
        for n in &task.notify {
            if has_template(n) || known.contains(n) {
                continue;
            }
            let message = format!("notify `{n}`: no handler has this name or listens to it");
            if task.file == ctx.file {
                ctx.err(&child(at, "notify"), message);
            } else {
                // Its file's lines are gone: the task's own line says where.
                ctx.errors
                    .push(PlaybookError::new(&task.file, task.line, message));
            }
        }
    }
}
