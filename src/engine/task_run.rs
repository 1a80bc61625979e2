//! Running one task on one host: when, loop, render, check, apply, register.

use std::path::Path;

use serde_json::{json, Map, Value as Json};

use super::error::TemplateError;
use super::session::HostSession;
use super::until::run_until;
use crate::playbook::Task;
use crate::render::vars::Scope;
use crate::render::RenderError;
use crate::render::Renderer;
use crate::report::Outcome;
pub use crate::report::TaskResult;
use crate::ssh::Options;

/// What the run-wide settings are for every task.
pub struct RunEnv {
    pub renderer: Renderer,
    pub opts: Options,
    pub check_mode: bool,
    /// `--force-handlers`: notified handlers run even on hosts that failed
    /// a later task, and after the run's failure budget stopped it.
    pub force_handlers: bool,
    pub diff: bool,
    /// `-v` given: debug tasks with `verbosity: 1` show.
    pub verbosity: u8,
    pub base_dir: std::path::PathBuf,
    pub extra_vars: Map<String, Json>,
    /// `groups`, shared by every host.
    pub groups: minijinja::Value,
    /// `hostvars`, rebuilt when facts are gathered.
    pub hostvars: std::sync::RwLock<minijinja::Value>,
    /// `kubestrap_failed_hosts`: the hosts that failed or could not be
    /// reached so far in this run, updated before every task, so later
    /// tasks (waits for nodes) can leave them out.
    pub failed_hosts: std::sync::RwLock<Json>,
    /// Under `--check`: each delegate's facts (by name), with what earlier
    /// delegated tasks would have changed there, for the next task
    /// delegated to it (as a host's own facts carry its simulated changes).
    /// The current play's hosts and batch (`ansible_play_hosts`, …),
    /// published with `failed_hosts`.
    pub play_hosts: std::sync::RwLock<super::play_hosts::PlayHosts>,
    pub delegate_facts_under_check:
        std::sync::Mutex<std::collections::HashMap<String, crate::facts::Facts>>,
}

impl TaskResult {
    /// A task stopped when the grace period after SIGINT ran out.
    pub fn interrupted() -> TaskResult {
        let msg = format!(
            "interrupted: stopped after the {} s grace period that followed SIGINT",
            crate::interrupt::GRACE.as_secs()
        );
        fail(msg)
    }

    pub(super) fn skipped(reason: &str) -> TaskResult {
        TaskResult {
            outcome: Outcome::Skipped,
            ignored: false,
            msg: reason.into(),
            diffs: Vec::new(),
            items: Vec::new(),
            registered: json!({"changed": false, "skipped": true, "skip_reason": reason}),
            shown: Vec::new(),
            retries: Vec::new(),
        }
    }
}

/// One module invocation's result (one loop item).
pub(super) struct ItemResult {
    pub(super) outcome: Outcome,
    pub(super) msg: String,
    pub(super) diff: Option<String>,
    pub(super) registered: Map<String, Json>,
    /// What Ansible prints after the status line (see [`TaskResult::shown`]).
    pub(super) shown: Option<Json>,
}

/// Location prefix for messages: `FILE:LINE: `.
pub(super) fn at(task: &Task) -> String {
    format!("{}:{}: ", task.file.display(), task.line)
}

/// Build the variable scope of `session` for `task`.
pub fn scope(
    env: &RunEnv,
    session: &HostSession,
    task: Option<&Task>,
) -> Result<Scope, RenderError> {
    scope_with(env, session, &session.play_vars, task)
}

/// [`scope`] with `play_vars` in place of the session's (play vars being rendered).
pub(super) fn scope_with(
    env: &RunEnv,
    session: &HostSession,
    play_vars: &Map<String, Json>,
    task: Option<&Task>,
) -> Result<Scope, RenderError> {
    let mut s = Scope::default();
    s.layer(&session.inventory_vars);
    s.set("groups", env.groups.clone());
    let hostvars = env.hostvars.read().map(|h| h.clone()).unwrap_or_default();
    s.set("hostvars", hostvars);
    let failed = env
        .failed_hosts
        .read()
        .map(|f| f.clone())
        .unwrap_or_default();
    s.set_json("kubestrap_failed_hosts", &failed);
    if let Ok(play_hosts) = env.play_hosts.read() {
        for (name, value) in play_hosts.vars() {
            s.set(name, value.clone());
        }
    }
    s.set("ansible_check_mode", minijinja::Value::from(env.check_mode));
    s.set("ansible_diff_mode", minijinja::Value::from(env.diff));
    s.set_json(
        "playbook_dir",
        &Json::from(env.base_dir.display().to_string()),
    );
    s.layer_values(&session.fact_vars);
    s.layer(play_vars);
    // A role's own vars win over the play's (other roles' included).
    if let Some(task) = task {
        if let Some(dir) = &task.role_dir {
            // Ansible's magic variable; lookups search the role first.
            s.set_json("role_path", &Json::from(dir.display().to_string()));
        }
        layer_rendered(env, &mut s, &task.role_vars)?;
    }
    s.layer(&session.registered);
    if let Some(task) = task {
        layer_rendered(env, &mut s, &task.vars)?;
        s.layer(&session.include_vars);
    }
    s.layer(&env.extra_vars);
    Ok(s)
}

/// Render `vars` in the scope so far, then put them over it.
fn layer_rendered(
    env: &RunEnv,
    s: &mut Scope,
    vars: &Map<String, Json>,
) -> Result<(), RenderError> {
    if vars.is_empty() {
        return Ok(());
    }
    let base = s.value();
    let mut rendered = Map::new();
    for (k, v) in vars {
        rendered.insert(k.clone(), env.renderer.render_value(v, &base)?);
    }
    s.layer(&rendered);
    Ok(())
}

/// Run `task` on the host of `session`.
pub async fn run_task(
    env: &RunEnv,
    task: &Task,
    become_user: Option<&str>,
    session: &mut HostSession,
) -> TaskResult {
    let scope = match scope(env, session, Some(task)) {
        Ok(s) => s,
        Err(e) => return fail(format!("{}{e}", at(task))),
    };
    let items: Option<Vec<Json>> = match &task.loop_ {
        None => None,
        Some(spec) => match env.renderer.render_value(spec, &scope.value()) {
            Ok(terms) => match crate::playbook::loop_items(task.loop_kind, &terms, &env.base_dir) {
                Ok(items) => Some(items),
                Err(e) => return fail(format!("{}loop {e}", at(task))),
            },
            Err(e) => return fail(format!("{}{e}", at(task))),
        },
    };
    let mut retries = Vec::new();
    let Some(items) = items else {
        let r = run_until(env, task, become_user, session, scope, &mut retries).await;
        return finish(task, vec![r], None, retries);
    };
    let mut results = Vec::new();
    let mut labels = Vec::new();
    let lc = &task.loop_control;
    for (index, item) in items.iter().enumerate() {
        if index > 0 && lc.pause > 0.0 {
            tokio::time::sleep(std::time::Duration::from_secs_f64(lc.pause)).await;
        }
        let mut s = scope.clone();
        s.set_json(&task.loop_var, item);
        if let Some(var) = &lc.index_var {
            s.set_json(var, &Json::from(index));
        }
        if lc.extended {
            s.set_json("ansible_loop", &super::loop_vars::extended(&items, index));
        }
        labels.push(super::loop_vars::label(env, lc, item, &s));
        let mut r = run_until(env, task, become_user, session, s, &mut retries).await;
        super::loop_vars::register(&mut r.registered, task, item, index);
        let stop = r.outcome == Outcome::Unreachable;
        results.push(r);
        if stop {
            break;
        }
    }
    finish(task, results, Some(labels), retries)
}

/// Combine item results into the task's result, as Ansible does for loops.
fn finish(
    task: &Task,
    results: Vec<ItemResult>,
    labels: Option<Vec<String>>,
    retries: Vec<String>,
) -> TaskResult {
    let worst = |o: Outcome| results.iter().any(|r| r.outcome == o);
    let outcome = if worst(Outcome::Unreachable) {
        Outcome::Unreachable
    } else if worst(Outcome::Failed) {
        Outcome::Failed
    } else if worst(Outcome::Changed) {
        Outcome::Changed
    } else if !results.is_empty() && results.iter().all(|r| r.outcome == Outcome::Skipped) {
        Outcome::Skipped
    } else {
        Outcome::Ok
    };
    let msg = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed | Outcome::Unreachable))
        .map(|r| r.msg.clone())
        .next()
        .unwrap_or_else(|| results.last().map(|r| r.msg.clone()).unwrap_or_default());
    let diffs = results.iter().filter_map(|r| r.diff.clone()).collect();
    let shown = results.iter().map(|r| r.shown.clone()).collect();
    let (registered, items) = match labels {
        None => {
            let r = results
                .into_iter()
                .next()
                .map(|r| r.registered)
                .unwrap_or_default();
            (Json::Object(r), Vec::new())
        }
        Some(labels) => {
            let items: Vec<(String, Outcome)> = labels
                .into_iter()
                .zip(results.iter().map(|r| r.outcome))
                .collect();
            let list: Vec<Json> = results
                .into_iter()
                .map(|r| Json::Object(r.registered))
                .collect();
            (
                json!({
                    "changed": outcome == Outcome::Changed,
                    "failed": outcome == Outcome::Failed,
                    "skipped": outcome == Outcome::Skipped,
                    "msg": if outcome == Outcome::Failed { "One or more items failed" } else { "All items completed" },
                    "results": list,
                }),
                items,
            )
        }
    };
    let ignored = outcome == Outcome::Failed && task.ignore_errors;
    TaskResult {
        outcome: if ignored { Outcome::Failed } else { outcome },
        ignored,
        msg,
        diffs,
        items,
        registered,
        shown,
        retries,
    }
}

pub(super) fn fail(msg: String) -> TaskResult {
    TaskResult {
        outcome: Outcome::Failed,
        ignored: false,
        registered: json!({"changed": false, "failed": true, "msg": msg.clone()}),
        msg,
        diffs: Vec::new(),
        items: Vec::new(),
        shown: Vec::new(),
        retries: Vec::new(),
    }
}

/// An item skipped, and why (a `when:` that does not hold, debug's verbosity).
pub(super) fn item_skipped(reason: &str) -> ItemResult {
    let r = TaskResult::skipped(reason);
    ItemResult {
        outcome: Outcome::Skipped,
        msg: r.msg,
        diff: None,
        registered: r.registered.as_object().cloned().unwrap_or_default(),
        shown: None,
    }
}

pub(super) fn item_fail(msg: String) -> ItemResult {
    let mut registered = Map::new();
    registered.insert("changed".into(), Json::from(false));
    registered.insert("failed".into(), Json::from(true));
    registered.insert("msg".into(), Json::from(msg.clone()));
    ItemResult {
        outcome: Outcome::Failed,
        msg,
        diff: None,
        registered,
        shown: None,
    }
}

pub(super) fn item_unreachable(msg: String) -> ItemResult {
    ItemResult {
        outcome: Outcome::Unreachable,
        registered: Map::from_iter([
            ("unreachable".to_string(), Json::from(true)),
            ("msg".to_string(), Json::from(msg.clone())),
        ]),
        msg,
        diff: None,
        shown: None,
    }
}

/// Evaluate every condition; all must hold.
pub(super) fn all_true(
    env: &RunEnv,
    exprs: &[String],
    scope: &minijinja::Value,
) -> Result<bool, RenderError> {
    for e in exprs {
        if !env.renderer.eval_bool(e, scope)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Values shorter than this that a `no_log` task was given are not masked
/// everywhere: too likely to be ordinary words ("true", "0600").
pub(super) const MIN_NO_LOG_VALUE: usize = 6;

/// A template in the role at `dir` (its `templates/`, then the role
/// itself), if it is there; else the playbook's are searched.
pub fn role_template(dir: &Path, name: &str) -> Option<Result<String, TemplateError>> {
    let path = [dir.join("templates").join(name), dir.join(name)]
        .into_iter()
        .find(|p| p.is_file())?;
    Some(
        std::fs::read_to_string(&path).map_err(|source| TemplateError::Unreadable { path, source }),
    )
}

/// Read a template as Ansible finds it: `templates/NAME` next to the
/// playbook, then `NAME` relative to the playbook; then the shipped one. A
/// shipped playbook has an empty `base` and sees only shipped templates.
pub fn load_template(base: &Path, name: &str) -> Result<String, TemplateError> {
    if !base.as_os_str().is_empty() {
        for path in [base.join("templates").join(name), base.join(name)] {
            if path.is_file() {
                return std::fs::read_to_string(&path)
                    .map_err(|source| TemplateError::Unreadable { path, source });
            }
        }
    }
    crate::bundle::template(name)
        .map(str::to_string)
        .ok_or_else(|| {
            let name = name.to_string();
            if base.as_os_str().is_empty() {
                TemplateError::NotShipped { name }
            } else {
                TemplateError::NotFound {
                    name,
                    base: base.to_path_buf(),
                }
            }
        })
}
