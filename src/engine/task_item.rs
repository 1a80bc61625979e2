//! One loop item of a task on one host: when, render the arguments, check the module, apply its plan, register.

use serde_json::{Map, Value as Json};

use super::plan_exec::{apply, ApplyError};
use super::predict;
use super::session::{GatherError, HostSession};
use super::task_run::{
    all_true, at, item_fail, item_skipped, item_unreachable, load_template, role_template,
    ItemResult, RunEnv, MIN_NO_LOG_VALUE,
};
use crate::modules::{Action, Args, Context, Local, LocalContext, Plan};
use crate::playbook::Task;
use crate::render::vars::Scope;
use crate::report::Outcome;

/// One item of `task` on the host (the task itself when it has no loop).
pub(super) async fn run_item(
    env: &RunEnv,
    task: &Task,
    become_user: Option<&str>,
    session: &mut HostSession,
    scope: Scope,
) -> ItemResult {
    let vars = scope.value();
    match all_true(env, &task.when, &vars) {
        Ok(true) => {}
        Ok(false) => return item_skipped("Conditional result was False"),
        Err(e) => return item_fail(format!("{}when: {e}", at(task))),
    }
    let args = match env
        .renderer
        .render_value(&Json::Object(task.args.clone()), &vars)
    {
        Ok(Json::Object(m)) => Args(m),
        Ok(_) => return item_fail(format!("{}arguments must be a mapping", at(task))),
        Err(e) => return item_fail(format!("{}{e}", at(task))),
    };
    if task.no_log {
        register_no_log_values(&task.args, &args.0);
    }
    let check_mode = env.check_mode && task.check_mode != Some(false);
    let decided = match local(env, task, &args, &vars) {
        Some(Err(e)) => return item_fail(format!("{}{}: {e}", at(task), task.module.name())),
        Some(Ok(l)) if l.skipped => return item_skipped(&l.msg),
        Some(Ok(l)) => {
            // set_fact: the host's variables from the next task on, no round trip.
            session.registered.extend(l.facts);
            let failed = l.failed.then(|| l.msg.clone());
            Ok((Plan::noop(l.msg), l.result, failed, l.shown))
        }
        None => on_host(env, task, become_user, session, &args, &scope, check_mode).await,
    };
    let (plan, mut registered, mut failed_msg, shown) = match decided {
        Ok(d) => d,
        Err(item) => return item,
    };
    let mut changed = plan.changed;
    registered.insert("changed".into(), Json::from(changed));
    registered.insert("failed".into(), Json::from(failed_msg.is_some()));
    registered.insert(
        "msg".into(),
        Json::from(failed_msg.clone().unwrap_or_else(|| plan.msg.clone())),
    );
    if let Some(d) = &plan.diff {
        registered.insert("diff".into(), Json::from(d.clone()));
    }
    let cond_vars = result_scope(scope, task, &registered).value();
    if let Some(exprs) = &task.changed_when {
        match all_true(env, exprs, &cond_vars) {
            Ok(c) => changed = c,
            Err(e) => return item_fail(format!("{}changed_when: {e}", at(task))),
        }
    }
    if let Some(exprs) = &task.failed_when {
        match all_true(env, exprs, &cond_vars) {
            Ok(f) => {
                failed_msg = f.then(|| {
                    failed_msg
                        .clone()
                        .unwrap_or_else(|| "failed_when condition was true".into())
                });
            }
            Err(e) => return item_fail(format!("{}failed_when: {e}", at(task))),
        }
    }
    registered.insert("changed".into(), Json::from(changed));
    registered.insert("failed".into(), Json::from(failed_msg.is_some()));
    // What a package install or a command changed is not in its plan: a
    // later task asks the host again instead of trusting older facts.
    // Not under --check: there the facts hold what earlier tasks would
    // have changed, which the host does not show (a `check_mode: false`
    // command would make a later task lose them).
    let ran = !plan.actions.is_empty() && !check_mode && !env.check_mode;
    if ran && (changed || failed_msg.is_some()) && !task.module.effects_in_facts() {
        if let Some(f) = session.facts.as_mut() {
            f.forget_items();
        }
    }
    let outcome = match (&failed_msg, changed) {
        (Some(_), _) => Outcome::Failed,
        (None, true) => Outcome::Changed,
        (None, false) => Outcome::Ok,
    };
    ItemResult {
        outcome,
        msg: failed_msg.unwrap_or(plan.msg),
        diff: plan.diff.filter(|_| changed),
        registered,
        shown: shown.filter(|_| outcome != Outcome::Failed),
    }
}

/// `scope` with an item's result in it, for the conditions that judge it
/// (`changed_when`, `failed_when`, `until`): under the task's register name,
/// and its keys on their own, as in Ansible.
pub(super) fn result_scope(mut scope: Scope, task: &Task, registered: &Map<String, Json>) -> Scope {
    if let Some(name) = &task.register {
        scope.set_json(name, &Json::Object(registered.clone()));
    }
    for (k, v) in registered {
        scope.set_json(k, v);
    }
    scope
}

/// A result the task may still change (changed_when, failed_when): the
/// plan, what the module registered, why it failed, what to print.
type Decided = (Plan, Map<String, Json>, Option<String>, Option<Json>);

/// A controller-side module's decision (set_fact, debug, assert, fail),
/// with the task's variables for its expressions; None for the others.
fn local(
    env: &RunEnv,
    task: &Task,
    args: &Args,
    vars: &minijinja::Value,
) -> Option<Result<Local, String>> {
    let eval = |expr: &str| {
        env.renderer
            .render_value(&Json::from(format!("{{{{ {expr} }}}}")), vars)
            .map_err(|e| e.to_string())
    };
    let holds = |expr: &str| {
        env.renderer
            .eval_bool(expr, vars)
            .map_err(|e| e.to_string())
    };
    let ctx = LocalContext {
        eval: &eval,
        holds: &holds,
        verbosity: env.verbosity,
    };
    task.module.local(args, &ctx)
}

/// Check the module against the host's facts (gathering what it needs
/// first) and apply its plan. Err: the item's result as it is.
async fn on_host(
    env: &RunEnv,
    task: &Task,
    become_user: Option<&str>,
    session: &mut HostSession,
    args: &Args,
    scope: &Scope,
    check_mode: bool,
) -> Result<Decided, ItemResult> {
    let vars = scope.value();
    let needs = match task.module.needs(args) {
        Ok(n) => n,
        Err(e) => {
            return Err(item_fail(format!(
                "{}{}: {e}",
                at(task),
                task.module.name()
            )))
        }
    };
    gather_missing(env, task, become_user, session, &needs).await?;
    // Facts that the first ones name (a user's home): one more round trip
    // only when the usual guess in `needs` was wrong.
    let after = session
        .facts
        .as_ref()
        .map(|f| task.module.needs_after(args, f))
        .unwrap_or_default();
    gather_missing(env, task, become_user, session, &after).await?;
    // The context borrows a closure that is not Sync, so it must be gone
    // before the next await.
    let (plan, returned) = {
        let facts = session.facts.clone().unwrap_or_default();
        // Modules take the failure as their message (it becomes the task's `msg`).
        let render_template = |name: &str, extra: &Map<String, Json>| -> Result<String, String> {
            let text = match task
                .role_dir
                .as_deref()
                .and_then(|d| role_template(d, name))
            {
                Some(found) => found.map_err(|e| e.to_string())?,
                None => load_template(&env.base_dir, name).map_err(|e| e.to_string())?,
            };
            let rendered = if extra.is_empty() {
                env.renderer.render_text(name, &text, &vars)
            } else {
                let mut s = scope.clone();
                s.layer(extra);
                env.renderer.render_text(name, &text, &s.value())
            };
            rendered.map_err(|e| e.to_string())
        };
        let check = |facts: &crate::facts::Facts| {
            let ctx = Context {
                host: &session.name,
                facts,
                base_dir: &env.base_dir,
                role_dir: task.role_dir.as_deref(),
                render_template: &render_template,
            };
            task.module.check(args, &ctx)
        };
        let plan = match check(&facts) {
            Ok(p) => p,
            Err(e) => {
                // Under --check, it may fail only for want of a change
                // that --check did not make.
                let unmade = session.unmade_change.as_deref().filter(|_| check_mode);
                match unmade.and_then(|cause| predict::would(&facts, &needs, &e, cause, check)) {
                    Some(p) => p,
                    None => {
                        return Err(item_fail(format!(
                            "{}{}: {e}",
                            at(task),
                            task.module.name()
                        )))
                    }
                }
            }
        };
        // What the module returns (stat's `stat`) comes from the same facts.
        let ctx = Context {
            host: &session.name,
            facts: &facts,
            base_dir: &env.base_dir,
            role_dir: task.role_dir.as_deref(),
            render_template: &render_template,
        };
        match task.module.returns(args, &ctx) {
            Ok(r) => (plan, r),
            Err(e) => {
                return Err(item_fail(format!(
                    "{}{}: {e}",
                    at(task),
                    task.module.name()
                )))
            }
        }
    };
    if check_mode
        && plan.changed
        && !task.module.effects_in_facts()
        && session.unmade_change.is_none()
    {
        session.unmade_change = Some(task.title());
    }
    let (mut plan, mut returned) = (plan, returned);
    if check_mode && plan.changed && task.module.changes_under_check(args) {
        plan.msg = "Command would have run if not in check mode".into();
        for (key, value) in [
            ("rc", Json::from(0)),
            ("stdout", "".into()),
            ("stderr", "".into()),
        ] {
            returned.insert(key.into(), value);
        }
    } else if check_mode && plan.changed && !task.module.supports_check_mode() {
        return Err(ItemResult {
            outcome: Outcome::Skipped,
            msg: "skipped, running in check mode".into(),
            diff: None,
            registered: Map::from_iter([
                ("changed".to_string(), Json::from(false)),
                ("skipped".to_string(), Json::from(true)),
                (
                    "msg".to_string(),
                    Json::from("skipped, running in check mode"),
                ),
            ]),
            shown: None,
        });
    }
    if !task.environment.is_empty() {
        match exports(env, task, &vars) {
            Ok(prefix) => export_to(&mut plan, &prefix),
            Err(e) => return Err(item_fail(format!("{}environment: {e}", at(task)))),
        }
    }
    // A wait runs under --check too, but not for what --check did not make.
    if let (true, true, Some(cause)) = (check_mode, plan.read_only, &session.unmade_change) {
        plan.actions.clear();
        plan.msg = format!(
            "would wait once {cause:?} has changed the host: {}",
            plan.msg
        );
    }
    let mut registered = returned;
    let mut failed_msg = None;
    if !plan.actions.is_empty() && (!check_mode || plan.read_only) {
        match apply(env, &plan, become_user, session).await {
            Ok(reg) => registered.extend(reg),
            Err(ApplyError::Unreachable(m)) => return Err(item_unreachable(m)),
            Err(ApplyError::Failed(m, reg)) => {
                registered.extend(reg);
                failed_msg = Some(m);
            }
        }
    }
    if failed_msg.is_none() {
        if let Some(f) = session.facts.as_mut() {
            for u in &plan.updates {
                f.update(u);
            }
        }
    }
    Ok((plan, registered, failed_msg, None))
}

/// Gather those of `needs` the session does not know yet.
async fn gather_missing(
    env: &RunEnv,
    task: &Task,
    become_user: Option<&str>,
    session: &mut HostSession,
    needs: &[crate::facts::FactRequest],
) -> Result<(), ItemResult> {
    let missing: Vec<_> = needs
        .iter()
        .filter(|r| session.facts.as_ref().is_none_or(|f| !f.has(r)))
        .cloned()
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    session
        .gather(&missing, become_user, &env.opts)
        .await
        .map_err(|e| match e {
            GatherError::Ssh(e) if e.is_unreachable() => item_unreachable(e.to_string()),
            GatherError::Ssh(e) => item_fail(e.to_string()),
            e => item_fail(format!("{}{e}", at(task))),
        })
}

/// `export NAME='value'` lines for the task's `environment`, rendered.
fn exports(env: &RunEnv, task: &Task, vars: &minijinja::Value) -> Result<String, String> {
    let rendered = env
        .renderer
        .render_value(&Json::Object(task.environment.clone()), vars)
        .map_err(|e| e.to_string())?;
    let mut out = String::new();
    for (name, value) in rendered.as_object().into_iter().flatten() {
        let text = match value {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.push_str(&format!("export {name}={}\n", crate::modules::q(&text)));
    }
    Ok(out)
}

/// Every command of the plan runs with the task's environment, as a
/// module does in Ansible.
fn export_to(plan: &mut Plan, exports: &str) {
    for action in &mut plan.actions {
        if let Action::Run { script, .. } = action {
            script.insert_str(0, exports);
        }
    }
}

/// The values a `no_log` task got from templates (a password, a key) are
/// secrets: masked in all output from now on, also where a task without
/// no_log echoes them. Literal arguments are the playbook's own text.
pub(super) fn register_no_log_values(raw: &Map<String, Json>, rendered: &Map<String, Json>) {
    for (k, r) in raw {
        match (r, rendered.get(k)) {
            (Json::String(r), Some(Json::String(v)))
                if r.contains("{{") && v.len() >= MIN_NO_LOG_VALUE =>
            {
                crate::report::redact::register(v)
            }
            (Json::Object(r), Some(Json::Object(v))) => register_no_log_values(r, v),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templated_values_of_a_no_log_task_are_masked_afterwards() {
        let raw = json!({"content": "{{ pw }}", "dest": "/etc/x", "nested": {"key": "{{ k }}"}, "mode": "{{ m }}"});
        let rendered = json!({"content": "nolog-pw-4711", "dest": "/etc/x", "nested": {"key": "nolog-key-0815"}, "mode": "0600"});
        register_no_log_values(raw.as_object().unwrap(), rendered.as_object().unwrap());
        let shown = crate::report::redact::text("nolog-pw-4711 nolog-key-0815 /etc/x 0600");
        assert_eq!(shown, "******** ******** /etc/x 0600");
    }
}
