//! `block` / `rescue` / `always`: a block's tasks flattened into the play's list, each inheriting the block's keywords.
//!
//! The engine runs a play's tasks one after the other; a task in a block
//! carries its place ([`Task::blocks`]) so the engine can send a host that
//! failed in `block` to `rescue`, then `always`, as Ansible does. The
//! keywords written on a block reach its tasks as Ansible's inheritance
//! has it: `when` and `tags` add up (the block's first), `vars` are
//! overlaid by the task's (so is `environment`), and `become`,
//! `become_user`, `ignore_errors`, `no_log`, `check_mode`, `notify`,
//! `run_once`, `delegate_to`, `delegate_facts` and `throttle` apply where
//! the task has none.

use serde_json::{Map, Value as Json};
use serde_yaml::{Mapping, Value as Yaml};

use super::checks;
use super::fields::{self, entries, show};
use super::include;
use super::include_vars;
use super::model::{Block, Frame, Section, Task};
use super::parse::{child, Ctx};
use super::role;
use super::task;

/// A task with its path in the document, to report problems at its lines.
pub type Located = (Task, Vec<String>);

/// The keys that make a task list entry a block.
const SECTIONS: [(&str, Section); 3] = [
    ("block", Section::Block),
    ("rescue", Section::Rescue),
    ("always", Section::Always),
];

/// Is this task list entry a block (it has `block`, `rescue` or `always`)?
pub fn is_block(v: &Yaml) -> bool {
    matches!(v, Yaml::Mapping(m) if SECTIONS.iter().any(|(k, _)| m.contains_key(*k)))
}

/// What a block hands down to its tasks (and inner blocks).
#[derive(Clone, Default, Debug, PartialEq)]
pub struct Inherited {
    pub when: Vec<String>,
    pub tags: Vec<String>,
    pub vars: Map<String, Json>,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    pub ignore_errors: Option<bool>,
    pub no_log: Option<bool>,
    pub check_mode: Option<bool>,
    pub notify: Vec<String>,
    pub run_once: Option<bool>,
    pub environment: Map<String, Json>,
    pub delegate_to: Option<String>,
    pub delegate_facts: Option<bool>,
    pub throttle: Option<usize>,
}

impl Inherited {
    /// An inner block's keywords on top of this block's.
    pub fn then(&self, inner: &Inherited) -> Inherited {
        let mut vars = self.vars.clone();
        vars.extend(inner.vars.clone());
        let mut environment = self.environment.clone();
        environment.extend(inner.environment.clone());
        Inherited {
            when: self.when.iter().chain(&inner.when).cloned().collect(),
            tags: union(&self.tags, &inner.tags),
            vars,
            become_: inner.become_.or(self.become_),
            become_user: inner.become_user.clone().or(self.become_user.clone()),
            ignore_errors: inner.ignore_errors.or(self.ignore_errors),
            no_log: inner.no_log.or(self.no_log),
            check_mode: inner.check_mode.or(self.check_mode),
            notify: if inner.notify.is_empty() {
                self.notify.clone()
            } else {
                inner.notify.clone()
            },
            run_once: inner.run_once.or(self.run_once),
            environment,
            delegate_to: inner.delegate_to.clone().or(self.delegate_to.clone()),
            delegate_facts: inner.delegate_facts.or(self.delegate_facts),
            throttle: inner.throttle.or(self.throttle),
        }
    }

    /// Give `task` what it does not say itself; `written` is its mapping,
    /// to tell a keyword set to its default from one not written.
    pub fn apply(&self, task: &mut Task, written: &Mapping) {
        let has = |k: &str| written.contains_key(k);
        task.when = self.when.iter().chain(&task.when).cloned().collect();
        task.tags = union(&self.tags, &task.tags);
        let mut vars = self.vars.clone();
        vars.extend(std::mem::take(&mut task.vars));
        task.vars = vars;
        task.become_ = task.become_.or(self.become_);
        if task.become_user.is_none() {
            task.become_user = self.become_user.clone();
        }
        task.check_mode = task.check_mode.or(self.check_mode);
        if let (false, Some(v)) = (has("ignore_errors"), self.ignore_errors) {
            task.ignore_errors = v;
        }
        if let (false, Some(v)) = (has("no_log"), self.no_log) {
            task.no_log = v;
        }
        if task.notify.is_empty() {
            task.notify = self.notify.clone();
        }
        if let (false, Some(v)) = (has("run_once"), self.run_once) {
            task.run_once = v;
        }
        let mut environment = self.environment.clone();
        environment.extend(std::mem::take(&mut task.environment));
        task.environment = environment;
        if task.delegate_to.is_none() {
            task.delegate_to = self.delegate_to.clone();
        }
        if let (false, Some(v)) = (has("delegate_facts"), self.delegate_facts) {
            task.delegate_facts = v;
        }
        if let (false, Some(v)) = (has("throttle"), self.throttle) {
            task.throttle = v;
        }
    }
}

fn union(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    out.extend(b.iter().filter(|t| !a.contains(t)).cloned());
    out
}

/// Where a task list's entries go, and the play's blocks so far.
pub struct Flatten<'p> {
    pub out: &'p mut Vec<Located>,
    pub blocks: &'p mut Vec<Block>,
    /// What the play's roles bring besides tasks (defaults, vars, handlers).
    pub roles: &'p mut role::Roles,
}

impl Flatten<'_> {
    /// One entry of a task list: a task, or a block with all its tasks,
    /// under `frames` with `inherited` keywords.
    pub fn entry(
        &mut self,
        ctx: &mut Ctx,
        v: &Yaml,
        path: &[String],
        frames: &[Frame],
        inherited: &Inherited,
    ) {
        match (v, include::import_key(v)) {
            (Yaml::Mapping(m), Some(key)) => self.import(ctx, m, key, path, frames, inherited),
            (Yaml::Mapping(m), None) if include::include_key(v).is_some() => {
                let key = include::include_key(v).unwrap_or_default();
                self.include(ctx, m, key, path, frames, inherited)
            }
            (Yaml::Mapping(m), None) if is_block(v) => self.block(ctx, m, path, frames, inherited),
            (Yaml::Mapping(m), None) if role::role_task_key(v).is_some() => {
                let key = role::role_task_key(v).unwrap_or_default();
                if let Some(e) = role::task_entry(ctx, m, key, path) {
                    self.role(ctx, &e, &child(path, key), frames, inherited, &Map::new());
                }
            }
            (Yaml::Mapping(m), None) if include_vars::key(v).is_some() => {
                let key = include_vars::key(v).unwrap_or_default();
                if let Some(set_fact) = include_vars::as_set_fact(ctx, m, key, path) {
                    let before = self.out.len();
                    self.entry(ctx, &set_fact, path, frames, inherited);
                    if let Some((t, _)) = self.out.get_mut(before) {
                        t.module_name = key.to_string();
                    }
                }
            }
            _ => {
                if let Some(mut t) = task::parse(ctx, v, path, false) {
                    if let Yaml::Mapping(m) = v {
                        inherited.apply(&mut t, m);
                    }
                    t.blocks = frames.to_vec();
                    self.out.push((t, path.to_vec()));
                }
            }
        }
    }

    fn block(
        &mut self,
        ctx: &mut Ctx,
        m: &Mapping,
        path: &[String],
        frames: &[Frame],
        inherited: &Inherited,
    ) {
        let id = self.blocks.len();
        self.blocks.push(Block {
            parent: frames.to_vec(),
            rescue: false,
            always: false,
        });
        let mut own = Inherited::default();
        let mut lists: Vec<(Section, &Yaml, Vec<String>)> = Vec::new();
        for (key, value) in entries(m) {
            let at = child(path, key.as_str());
            match SECTIONS.iter().find(|(k, _)| *k == key) {
                Some((_, section)) => lists.push((*section, value, at)),
                None => {
                    if let Err(e) = keyword(ctx, &mut own, &key, value, &at, None) {
                        ctx.err(&at, e);
                    }
                }
            }
        }
        if !lists.iter().any(|(s, _, _)| *s == Section::Block) {
            let (_, _, at) = &lists[0];
            let key = at.last().cloned().unwrap_or_default();
            ctx.err(at, format!("`{key}` without `block`"));
        }
        let inherited = inherited.then(&own);
        for (section, value, at) in lists {
            let items = match value {
                Yaml::Null => continue,
                Yaml::Sequence(items) => items,
                other => {
                    let key = at.last().cloned().unwrap_or_default();
                    ctx.err(
                        &at,
                        format!("`{key}` must be a list of tasks, got `{}`", show(other)),
                    );
                    continue;
                }
            };
            match section {
                Section::Rescue => self.blocks[id].rescue = !items.is_empty(),
                Section::Always => self.blocks[id].always = !items.is_empty(),
                Section::Block => {}
            }
            let mut inner = frames.to_vec();
            inner.push((id, section));
            for (i, item) in items.iter().enumerate() {
                self.entry(ctx, item, &child(&at, format!("#{i}")), &inner, &inherited);
            }
        }
    }
}

/// Template problems found under the keyword at `at`, each at its line.
fn report(ctx: &mut Ctx, at: &[String], found: Vec<checks::Found>) {
    for f in found {
        let mut here = at.to_vec();
        here.extend(f.path);
        ctx.err(&here, f.message);
    }
}

/// The keywords a block (or an import) hands down to its tasks.
const KEYWORDS: &[&str] = &[
    "name",
    "when",
    "tags",
    "vars",
    "become",
    "become_user",
    "ignore_errors",
    "no_log",
    "check_mode",
    "notify",
    "run_once",
    "environment",
];

/// One keyword written on a block (not its task lists), or on the import
/// `import` names.
pub fn keyword(
    ctx: &mut Ctx,
    own: &mut Inherited,
    key: &str,
    value: &Yaml,
    at: &[String],
    import: Option<&str>,
) -> Result<(), String> {
    if let Some(import) = import {
        let unknown = task::UNSUPPORTED.contains(&key) || (ctx.lookup)(key).is_some();
        if unknown || !KEYWORDS.contains(&key) {
            return Err(format!(
                "`{key}` on `{import}` is not supported by kubestrap"
            ));
        }
    }
    match key {
        "name" => {
            fields::text(key, value)?;
        }
        "when" => own.when = task::conditions(ctx, key, value, at)?,
        "tags" => own.tags = fields::tags(value)?,
        "vars" => {
            own.vars = fields::mapping(key, value)?;
            let mut found = Vec::new();
            for (k, v) in &own.vars {
                let mut p = vec![k.clone()];
                checks::templates(v, &format!("var `{k}`"), &mut p, &mut found);
            }
            report(ctx, at, found);
        }
        "become" => own.become_ = Some(fields::boolean(key, value)?),
        "become_user" => own.become_user = Some(fields::text(key, value)?),
        "ignore_errors" => own.ignore_errors = Some(fields::boolean(key, value)?),
        "no_log" => own.no_log = Some(fields::boolean(key, value)?),
        "check_mode" => own.check_mode = Some(fields::boolean(key, value)?),
        "notify" => own.notify = fields::text_list(key, value)?,
        "run_once" => own.run_once = Some(fields::boolean(key, value)?),
        "delegate_to" => {
            let host = fields::text(key, value)?;
            let mut found = Vec::new();
            checks::templates(
                &Json::String(host.clone()),
                "`delegate_to`",
                &mut Vec::new(),
                &mut found,
            );
            report(ctx, at, found);
            own.delegate_to = Some(host);
        }
        "delegate_facts" => own.delegate_facts = Some(fields::boolean(key, value)?),
        "throttle" => own.throttle = Some(fields::whole(key, value)? as usize),
        "environment" => {
            own.environment = fields::environment(value)?;
            let mut found = Vec::new();
            for (k, v) in &own.environment {
                let mut p = vec![k.clone()];
                checks::templates(v, &format!("environment `{k}`"), &mut p, &mut found);
            }
            report(ctx, at, found);
        }
        k if task::UNSUPPORTED.contains(&k) || k.starts_with("with_") || k == "loop" => {
            return Err(format!("`{k}` on a block is not supported by kubestrap"));
        }
        k if (ctx.lookup)(k).is_some() => {
            return Err(format!(
                "a block holds tasks in `block`, `rescue` and `always`, not a module (`{k}`)"
            ));
        }
        k => return Err(format!("unknown block keyword `{k}`")),
    }
    Ok(())
}
