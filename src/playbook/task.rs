//! One task or handler: its module call, its arguments, and Ansible's task keywords.

use serde_json::{Map, Value as Json};
use serde_yaml::Value as Yaml;

use super::checks;
use super::fields::{self, entries, show};
use super::keyvalue;
use super::loops;
use super::model::Task;
use super::parse::{child, Ctx};
use crate::modules::Module;
use crate::render::has_template;
use crate::render::yaml_to_json;

/// Ansible task keywords kubestrap does not implement (any other `with_*`
/// lookup loop too); named so the message says so instead of calling them
/// unknown modules.
pub const UNSUPPORTED: &[&str] = &[
    "include_role",
    "import_role",
    "import_playbook",
    "include",
    "local_action",
    "action",
    "async",
    "poll",
    "timeout",
    "diff",
    "debugger",
    "any_errors_fatal",
    "become_method",
    "become_flags",
    "connection",
    "remote_user",
    "port",
    "collections",
    "module_defaults",
    "ignore_unreachable",
];

/// What a task mapping holds, before it becomes a [`Task`].
struct Parts<'y> {
    name: Option<String>,
    modules: Vec<(String, &'static dyn Module, &'y Yaml)>,
    extra_args: Map<String, Json>,
    loop_: Option<Json>,
    loop_var: String,
    /// The loop keyword written first (`loop`, `with_dict`, …), to refuse a second.
    loop_key: Option<String>,
    unknown_key: bool,
}

pub fn parse(ctx: &mut Ctx, v: &Yaml, path: &[String], handler: bool) -> Option<Task> {
    let Yaml::Mapping(m) = v else {
        ctx.err(path, format!("a task must be a mapping, got `{}`", show(v)));
        return None;
    };
    let errors_before = ctx.errors.len();
    let mut task = blank(ctx, path);
    let mut parts = Parts {
        name: None,
        modules: Vec::new(),
        extra_args: Map::new(),
        loop_: None,
        loop_var: "item".into(),
        loop_key: None,
        unknown_key: false,
    };
    for (key, value) in entries(m) {
        let at = child(path, key.as_str());
        if let Err(e) = keyword(ctx, &mut task, &mut parts, &key, value, handler, &at) {
            ctx.err(&at, e);
        }
    }
    task.name = parts.name.take();
    task.loop_ = parts.loop_.take();
    task.loop_var = std::mem::take(&mut parts.loop_var);
    let module = match parts.modules.as_slice() {
        [] if parts.unknown_key => None,
        [] => {
            ctx.err(path, "task has no module");
            None
        }
        [one] => Some(one.clone()),
        [_, second, ..] => {
            let names: Vec<String> = parts
                .modules
                .iter()
                .map(|(k, _, _)| format!("`{k}`"))
                .collect();
            ctx.err(
                &child(path, second.0.as_str()),
                format!("task has more than one module: {}", names.join(", ")),
            );
            None
        }
    };
    if let Some((key, module, value)) = module {
        task.module = module;
        task.module_name = key.clone();
        task.args = module_args(ctx, path, &key, module, value, &parts.extra_args);
    }
    check_templates(ctx, path, &task);
    loops::check_task(ctx, path, &task);
    (ctx.errors.len() == errors_before).then_some(task)
}

/// A task with every keyword at its default; the module is filled in later.
pub(super) fn blank(ctx: &Ctx, path: &[String]) -> Task {
    Task {
        name: None,
        module: &Placeholder,
        module_name: String::new(),
        args: Map::new(),
        when: Vec::new(),
        loop_: None,
        loop_var: "item".into(),
        loop_kind: Default::default(),
        loop_control: Default::default(),
        delegate_to: None,
        delegate_facts: false,
        throttle: 0,
        register: None,
        notify: Vec::new(),
        listen: Vec::new(),
        changed_when: None,
        failed_when: None,
        ignore_errors: false,
        tags: Vec::new(),
        become_: None,
        become_user: None,
        vars: Map::new(),
        check_mode: None,
        no_log: false,
        until: None,
        retries: None,
        delay: 5,
        run_once: false,
        environment: Map::new(),
        blocks: Vec::new(),
        role_dir: None,
        role_vars: Map::new(),
        opens: None,
        file: ctx.file.clone(),
        line: ctx.lines.line_of(&checks::steps(path)),
    }
}

/// Fills the module field until the real module is known; a task without
/// its real module is never returned.
struct Placeholder;

impl Module for Placeholder {
    fn name(&self) -> &'static str {
        "(none)"
    }
    fn params(&self) -> &'static [&'static str] {
        &[]
    }
    fn check(
        &self,
        _: &crate::modules::Args,
        _: &crate::modules::Context,
    ) -> Result<crate::modules::Plan, String> {
        Err("no module".into())
    }
}

fn keyword<'y>(
    ctx: &mut Ctx,
    task: &mut Task,
    parts: &mut Parts<'y>,
    key: &str,
    value: &'y Yaml,
    handler: bool,
    at: &[String],
) -> Result<(), String> {
    match key {
        "name" => parts.name = Some(fields::text("name", value)?),
        "args" => parts.extra_args = fields::mapping("args", value)?,
        "when" => task.when = conditions(ctx, key, value, at)?,
        "changed_when" => task.changed_when = Some(conditions(ctx, key, value, at)?),
        "failed_when" => task.failed_when = Some(conditions(ctx, key, value, at)?),
        k if (k == "loop" || k.starts_with("with_")) && parts.loop_key.is_some() => {
            let first = parts.loop_key.clone().unwrap_or_default();
            return Err(format!(
                "a task takes one loop, not both `{first}` and `{k}`"
            ));
        }
        "loop" => {
            parts.loop_ = Some(loop_value(value, false)?);
            parts.loop_key = Some(key.into());
        }
        "with_items" => {
            parts.loop_ = Some(loop_value(value, true)?);
            parts.loop_key = Some(key.into());
        }
        k if loops::WITH.iter().any(|(w, _)| *w == k) => {
            let kind = loops::WITH
                .iter()
                .find(|(w, _)| *w == k)
                .map(|(_, kind)| *kind);
            task.loop_kind = kind.unwrap_or_default();
            parts.loop_ = Some(loops::terms(k, task.loop_kind, value)?);
            parts.loop_key = Some(key.into());
        }
        "loop_control" => match loops::loop_control(value, &mut parts.loop_var) {
            Ok(lc) => task.loop_control = lc,
            Err(problems) => {
                for (k, e) in problems {
                    let here = if k.is_empty() {
                        at.to_vec()
                    } else {
                        child(at, k)
                    };
                    ctx.err(&here, e);
                }
            }
        },
        "delegate_to" => task.delegate_to = Some(fields::text(key, value)?),
        "delegate_facts" => task.delegate_facts = fields::boolean(key, value)?,
        "throttle" => task.throttle = fields::whole(key, value)? as usize,
        "register" => {
            let name = fields::text("register", value)?;
            if !fields::is_identifier(&name) {
                return Err(format!("`register` must be a variable name, got `{name}`"));
            }
            task.register = Some(name);
        }
        "notify" => task.notify = fields::text_list("notify", value)?,
        "listen" if handler => task.listen = fields::text_list("listen", value)?,
        "listen" => return Err("`listen` is only valid in handlers".into()),
        "ignore_errors" => task.ignore_errors = fields::boolean(key, value)?,
        "tags" => task.tags = fields::tags(value)?,
        "become" => task.become_ = Some(fields::boolean(key, value)?),
        "become_user" => task.become_user = Some(fields::text(key, value)?),
        "vars" => task.vars = fields::mapping("vars", value)?,
        "check_mode" => task.check_mode = Some(fields::boolean(key, value)?),
        "no_log" => task.no_log = fields::boolean(key, value)?,
        "until" => task.until = Some(conditions(ctx, key, value, at)?),
        "retries" => task.retries = Some(fields::whole(key, value)?),
        "delay" => task.delay = u64::from(fields::whole(key, value)?),
        "run_once" => task.run_once = fields::boolean(key, value)?,
        "environment" => task.environment = fields::environment(value)?,
        "meta" | "ansible.builtin.meta" => {
            parts.modules.push((key.into(), &super::meta::META, value))
        }
        k if UNSUPPORTED.contains(&k) || k.starts_with("with_") => {
            parts.unknown_key = true;
            return Err(format!("`{k}` is not supported by kubestrap"));
        }
        k => match (ctx.lookup)(k) {
            Some(module) => parts.modules.push((k.to_string(), module, value)),
            None => {
                parts.unknown_key = true;
                return Err(format!("unknown module or task keyword `{k}`"));
            }
        },
    }
    Ok(())
}

/// The conditions of `key`, each compiled now; a bad one in a list is
/// reported at its own line.
pub(super) fn conditions(
    ctx: &mut Ctx,
    key: &str,
    v: &Yaml,
    at: &[String],
) -> Result<Vec<String>, String> {
    let conds = fields::conditions(key, v)?;
    let listed = matches!(v, Yaml::Sequence(_));
    for (i, c) in conds.iter().enumerate() {
        if let Err(e) = checks::condition(key, c) {
            let here = if listed {
                child(at, format!("#{i}"))
            } else {
                at.to_vec()
            };
            ctx.err(&here, e);
        }
    }
    Ok(conds)
}

/// `loop:` must be a list or a template giving one. `with_items:` flattens
/// one level, as Ansible's `items` lookup does, and a plain string is a
/// one-item list.
pub(super) fn loop_value(v: &Yaml, with_items: bool) -> Result<Json, String> {
    let key = if with_items { "with_items" } else { "loop" };
    match v {
        Yaml::Sequence(items) if with_items => {
            let mut flat = Vec::new();
            for item in items {
                match yaml_to_json(item) {
                    Json::Array(inner) => flat.extend(inner),
                    other => flat.push(other),
                }
            }
            Ok(Json::Array(flat))
        }
        Yaml::Sequence(_) => Ok(yaml_to_json(v)),
        Yaml::String(s) if has_template(s) => {
            let inner = s
                .trim()
                .strip_prefix("{{")
                .and_then(|r| r.strip_suffix("}}"));
            Ok(Json::String(match inner {
                Some(expr) if with_items => {
                    format!("{{{{ ({}) | flatten(levels=1) }}}}", expr.trim())
                }
                _ => s.clone(),
            }))
        }
        Yaml::String(s) if with_items => Ok(Json::Array(vec![Json::String(s.clone())])),
        other => Err(format!("`{key}` requires a list, got `{}`", show(other))),
    }
}

/// The module's arguments: `args:` overlaid with those written on the module
/// key (a mapping, `key=value` text or free-form text), each one checked
/// against the module's parameters.
fn module_args(
    ctx: &mut Ctx,
    path: &[String],
    key: &str,
    module: &'static dyn Module,
    value: &Yaml,
    extra: &Map<String, Json>,
) -> Map<String, Json> {
    let at = child(path, key);
    let own = match value {
        Yaml::Null => Map::new(),
        Yaml::Mapping(_) => fields::mapping(key, value).unwrap_or_default(),
        Yaml::String(s) => match keyvalue::parse(s, module.free_form()) {
            Ok(m) => m,
            Err(e) => {
                ctx.err(&at, format!("invalid arguments for `{key}`: {e}"));
                Map::new()
            }
        },
        other => {
            ctx.err(
                &at,
                format!(
                    "arguments of `{key}` must be a mapping or key=value text, got `{}`",
                    show(other)
                ),
            );
            Map::new()
        }
    };
    let mut args = extra.clone();
    let own_keys: Vec<String> = own.keys().cloned().collect();
    args.extend(own);
    // Stub modules declare no parameters yet; checking them would reject every argument.
    let params = module.params();
    if !params.is_empty() {
        for name in args.keys() {
            let known =
                params.contains(&name.as_str()) || (name == "_raw_params" && module.free_form());
            if !known {
                let why = match module.unsupported().iter().find(|(n, _)| n == name) {
                    Some((_, why)) => format!(
                        "argument `{name}` of module `{}` is not supported by kubestrap: {why}",
                        module.name()
                    ),
                    None => format!("unknown argument `{name}` for module `{}`", module.name()),
                };
                ctx.err(&arg_at(path, &at, &own_keys, name), why);
            }
        }
    }
    for (name, message) in module.refuse(&args) {
        ctx.err(&arg_at(path, &at, &own_keys, &name), message);
    }
    args
}

/// Where argument `name` was written: on the module key, else under `args`
/// (the module key itself for "", a refusal of the call as a whole).
fn arg_at(path: &[String], at: &[String], own_keys: &[String], name: &str) -> Vec<String> {
    if name.is_empty() {
        return at.to_vec();
    }
    let base = if own_keys.iter().any(|k| k == name) {
        at.to_vec()
    } else {
        child(path, "args")
    };
    child(&base, name)
}

pub(super) fn check_templates(ctx: &mut Ctx, path: &[String], task: &Task) {
    let mut found = Vec::new();
    for (k, v) in &task.args {
        // An argument written on the module key is found under it, else under `args`.
        let mut p = vec![task.module_name.clone(), k.clone()];
        let what = match k.as_str() {
            "_raw_params" => format!("`{}` text", task.module_name),
            _ => format!("argument `{k}`"),
        };
        checks::templates(v, &what, &mut p, &mut found);
    }
    for (k, v) in &task.vars {
        let mut p = vec!["vars".to_string(), k.clone()];
        checks::templates(v, &format!("var `{k}`"), &mut p, &mut found);
    }
    for (k, v) in &task.environment {
        let mut p = vec!["environment".to_string(), k.clone()];
        checks::templates(v, &format!("environment `{k}`"), &mut p, &mut found);
    }
    let mut scalars: Vec<(&str, Json)> = Vec::new();
    if let Some(n) = &task.name {
        scalars.push(("name", Json::String(n.clone())));
    }
    if let Some(u) = &task.become_user {
        scalars.push(("become_user", Json::String(u.clone())));
    }
    if let Some(l) = &task.loop_ {
        scalars.push(("loop", l.clone()));
    }
    if let Some(l) = &task.loop_control.label {
        scalars.push(("loop_control", l.clone()));
    }
    if let Some(d) = &task.delegate_to {
        scalars.push(("delegate_to", Json::String(d.clone())));
    }
    for (key, value) in scalars {
        let mut p = vec![key.to_string()];
        checks::templates(&value, &format!("`{key}`"), &mut p, &mut found);
    }
    for f in found {
        let mut at = path.to_vec();
        at.extend(f.path);
        ctx.err(&at, f.message);
    }
}
