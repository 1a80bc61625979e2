//! Running one task on one host: when, loop, render, check, apply, register.

use std::path::Path;

use serde_json::{json, Map, Value as Json};

use super::predict;
use super::session::{sh_c, GatherError, HostSession};
use crate::modules::{Action, Args, Context, Plan};
use crate::playbook::Task;
use crate::render::vars::Scope;
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

    fn skipped(reason: &str) -> TaskResult {
        TaskResult {
            outcome: Outcome::Skipped,
            ignored: false,
            msg: reason.into(),
            diffs: Vec::new(),
            items: Vec::new(),
            registered: json!({"changed": false, "skipped": true, "skip_reason": reason}),
        }
    }
}

/// One module invocation's result (one loop item).
struct ItemResult {
    outcome: Outcome,
    msg: String,
    diff: Option<String>,
    registered: Map<String, Json>,
}

/// Location prefix for messages: `FILE:LINE: `.
fn at(task: &Task) -> String {
    format!("{}:{}: ", task.file.display(), task.line)
}

/// Build the variable scope of `session` for `task`.
pub fn scope(env: &RunEnv, session: &HostSession, task: Option<&Task>) -> Result<Scope, String> {
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
    s.set("ansible_check_mode", minijinja::Value::from(env.check_mode));
    s.set("ansible_diff_mode", minijinja::Value::from(env.diff));
    s.set_json(
        "playbook_dir",
        &Json::from(env.base_dir.display().to_string()),
    );
    s.layer_values(&session.fact_vars);
    s.layer(&session.play_vars);
    s.layer(&session.registered);
    if let Some(task) = task {
        if !task.vars.is_empty() {
            let base = s.value();
            let mut rendered = Map::new();
            for (k, v) in &task.vars {
                rendered.insert(k.clone(), env.renderer.render_value(v, &base)?);
            }
            s.layer(&rendered);
        }
    }
    s.layer(&env.extra_vars);
    Ok(s)
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
            Ok(Json::Array(items)) => Some(items),
            Ok(other) => return fail(format!("{}loop must be a list, got {other}", at(task))),
            Err(e) => return fail(format!("{}{e}", at(task))),
        },
    };
    let Some(items) = items else {
        let r = run_item(env, task, become_user, session, scope).await;
        return finish(task, vec![r], None);
    };
    let mut results = Vec::new();
    let mut labels = Vec::new();
    for item in &items {
        let mut s = scope.clone();
        s.set_json(&task.loop_var, item);
        labels.push(match item {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        });
        let r = run_item(env, task, become_user, session, s).await;
        let stop = r.outcome == Outcome::Unreachable;
        results.push(r);
        if stop {
            break;
        }
    }
    finish(task, results, Some(labels))
}

/// Combine item results into the task's result, as Ansible does for loops.
fn finish(task: &Task, results: Vec<ItemResult>, labels: Option<Vec<String>>) -> TaskResult {
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
    }
}

fn fail(msg: String) -> TaskResult {
    TaskResult {
        outcome: Outcome::Failed,
        ignored: false,
        registered: json!({"changed": false, "failed": true, "msg": msg.clone()}),
        msg,
        diffs: Vec::new(),
        items: Vec::new(),
    }
}

fn item_fail(msg: String) -> ItemResult {
    let mut registered = Map::new();
    registered.insert("changed".into(), Json::from(false));
    registered.insert("failed".into(), Json::from(true));
    registered.insert("msg".into(), Json::from(msg.clone()));
    ItemResult {
        outcome: Outcome::Failed,
        msg,
        diff: None,
        registered,
    }
}

fn item_unreachable(msg: String) -> ItemResult {
    ItemResult {
        outcome: Outcome::Unreachable,
        registered: Map::from_iter([
            ("unreachable".to_string(), Json::from(true)),
            ("msg".to_string(), Json::from(msg.clone())),
        ]),
        msg,
        diff: None,
    }
}

/// Evaluate every condition; all must hold.
pub(super) fn all_true(
    env: &RunEnv,
    exprs: &[String],
    scope: &minijinja::Value,
) -> Result<bool, String> {
    for e in exprs {
        if !env.renderer.eval_bool(e, scope)? {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn run_item(
    env: &RunEnv,
    task: &Task,
    become_user: Option<&str>,
    session: &mut HostSession,
    scope: Scope,
) -> ItemResult {
    let vars = scope.value();
    match all_true(env, &task.when, &vars) {
        Ok(true) => {}
        Ok(false) => {
            let r = TaskResult::skipped("Conditional result was False");
            return ItemResult {
                outcome: Outcome::Skipped,
                msg: r.msg,
                diff: None,
                registered: r.registered.as_object().cloned().unwrap_or_default(),
            };
        }
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
    let needs = match task.module.needs(&args) {
        Ok(n) => n,
        Err(e) => return item_fail(format!("{}{}: {e}", at(task), task.module.name())),
    };
    let missing: Vec<_> = needs
        .iter()
        .filter(|r| session.facts.as_ref().is_none_or(|f| !f.has(r)))
        .cloned()
        .collect();
    if !missing.is_empty() {
        if let Err(e) = session.gather(&missing, become_user, &env.opts).await {
            return match e {
                GatherError::Ssh(e) if e.is_unreachable() => item_unreachable(e.to_string()),
                GatherError::Ssh(e) => item_fail(e.to_string()),
                GatherError::Failed(m) => item_fail(format!("{}{m}", at(task))),
            };
        }
    }
    let check_mode = env.check_mode && task.check_mode != Some(false);
    // The context borrows a closure that is not Sync, so it must be gone
    // before the next await.
    let plan = {
        let facts = session.facts.clone().unwrap_or_default();
        let render_template = |name: &str, extra: &Map<String, Json>| -> Result<String, String> {
            let text = load_template(&env.base_dir, name)?;
            if extra.is_empty() {
                env.renderer.render_text(name, &text, &vars)
            } else {
                let mut s = scope.clone();
                s.layer(extra);
                env.renderer.render_text(name, &text, &s.value())
            }
        };
        let check = |facts: &crate::facts::Facts| {
            let ctx = Context {
                host: &session.name,
                facts,
                base_dir: &env.base_dir,
                render_template: &render_template,
            };
            task.module.check(&args, &ctx)
        };
        match check(&facts) {
            Ok(p) => p,
            Err(e) => {
                // Under --check, it may fail only for want of a change
                // that --check did not make.
                let unmade = session.unmade_change.as_deref().filter(|_| check_mode);
                match unmade.and_then(|cause| predict::would(&facts, &needs, &e, cause, check)) {
                    Some(p) => p,
                    None => return item_fail(format!("{}{}: {e}", at(task), task.module.name())),
                }
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
    if check_mode && plan.changed && !task.module.supports_check_mode() {
        return ItemResult {
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
        };
    }
    let mut plan = plan;
    // A wait runs under --check too, but not for what --check did not make.
    if let (true, true, Some(cause)) = (check_mode, plan.read_only, &session.unmade_change) {
        plan.actions.clear();
        plan.msg = format!(
            "would wait once {cause:?} has changed the host: {}",
            plan.msg
        );
    }
    let mut registered = Map::new();
    let mut failed_msg = None;
    if !plan.actions.is_empty() && (!check_mode || plan.read_only) {
        match apply(env, &plan, become_user, session).await {
            Ok(reg) => registered = reg,
            Err(ApplyError::Unreachable(m)) => return item_unreachable(m),
            Err(ApplyError::Failed(m, reg)) => {
                registered = reg;
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
    // changed_when / failed_when see the result under its register name, as in Ansible.
    let mut cond_scope = scope;
    if let Some(name) = &task.register {
        cond_scope.set_json(name, &Json::Object(registered.clone()));
    }
    for (k, v) in &registered {
        cond_scope.set_json(k, v);
    }
    let cond_vars = cond_scope.value();
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
    let ran = !plan.actions.is_empty() && !check_mode;
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
    }
}

/// Values shorter than this that a `no_log` task was given are not masked
/// everywhere: too likely to be ordinary words ("true", "0600").
const MIN_NO_LOG_VALUE: usize = 6;

/// The values a `no_log` task got from templates (a password, a key) are
/// secrets: masked in all output from now on, also where a task without
/// no_log echoes them. Literal arguments are the playbook's own text.
fn register_no_log_values(raw: &Map<String, Json>, rendered: &Map<String, Json>) {
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

enum ApplyError {
    Unreachable(String),
    Failed(String, Map<String, Json>),
}

/// Execute a plan's actions in order; the last command's output is the
/// registered rc/stdout/stderr.
async fn apply(
    env: &RunEnv,
    plan: &Plan,
    become_user: Option<&str>,
    session: &mut HostSession,
) -> Result<Map<String, Json>, ApplyError> {
    let mut reg = Map::new();
    for action in &plan.actions {
        match action {
            Action::Run { script, stdin } => {
                let out = connection(session)?
                    .run_with(&sh_c(script), stdin.clone(), become_user, &env.opts)
                    .await
                    .map_err(|e| {
                        if e.is_unreachable() {
                            ApplyError::Unreachable(e.to_string())
                        } else {
                            ApplyError::Failed(e.to_string(), Map::new())
                        }
                    })?;
                let stdout = String::from_utf8_lossy(&out.stdout)
                    .trim_end_matches('\n')
                    .to_string();
                let stderr = String::from_utf8_lossy(&out.stderr)
                    .trim_end_matches('\n')
                    .to_string();
                reg.insert("rc".into(), Json::from(out.rc()));
                reg.insert(
                    "stdout_lines".into(),
                    Json::from(stdout.lines().map(str::to_string).collect::<Vec<_>>()),
                );
                reg.insert(
                    "stderr_lines".into(),
                    Json::from(stderr.lines().map(str::to_string).collect::<Vec<_>>()),
                );
                reg.insert("stdout".into(), Json::from(stdout.clone()));
                reg.insert("stderr".into(), Json::from(stderr.clone()));
                if !out.success() {
                    let why = reason(&stderr, &stdout);
                    return Err(ApplyError::Failed(format!("rc={}: {why}", out.rc()), reg));
                }
            }
            Action::Reconnect {
                timeout_secs,
                rollback_secs,
                confirm,
                rolled_back,
            } => {
                let out = reconnect(
                    env,
                    session,
                    *timeout_secs,
                    *rollback_secs,
                    confirm,
                    rolled_back,
                    become_user,
                )
                .await?;
                reg.insert("rc".into(), Json::from(out.rc()));
                if !out.success() {
                    let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
                    return Err(ApplyError::Failed(
                        format!("confirming the change failed (rc={}): {why}", out.rc()),
                        reg,
                    ));
                }
                continue;
            }
            Action::Fetch { remote, local } => {
                let out = connection(session)?
                    .run_with(
                        &format!("cat -- {}", crate::ssh::shell_quote(remote)),
                        None,
                        become_user,
                        &env.opts,
                    )
                    .await
                    .map_err(|e| ApplyError::Unreachable(e.to_string()))?;
                if !out.success() || out.truncated {
                    let why = if out.truncated {
                        "file is larger than kubestrap fetches".to_string()
                    } else {
                        String::from_utf8_lossy(&out.stderr).trim().to_string()
                    };
                    return Err(ApplyError::Failed(format!("fetch {remote}: {why}"), reg));
                }
                write_local(local, &out.stdout).map_err(|e| {
                    ApplyError::Failed(
                        format!("fetch {remote} to {}: {e}", local.display()),
                        Map::new(),
                    )
                })?;
                reg.insert("dest".into(), Json::from(local.display().to_string()));
            }
        }
    }
    Ok(reg)
}

/// Lines of a failed command's output its failure message keeps: the
/// reason is at the end (kubeadm's "error execution phase …").
const REASON_LINES: usize = 20;

/// Why a command failed, for its message: the tail of its stderr, else of
/// its stdout (some tools report errors there), else the bare fact.
fn reason(stderr: &str, stdout: &str) -> String {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    if text.trim().is_empty() {
        return "non-zero return code".into();
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(REASON_LINES)..];
    let cut = if lines.len() > REASON_LINES {
        "…\n"
    } else {
        ""
    };
    format!("{cut}{}", tail.join("\n"))
}

fn connection(session: &HostSession) -> Result<&crate::ssh::Connection, ApplyError> {
    session
        .conn
        .as_deref()
        .ok_or_else(|| ApplyError::Unreachable("not connected".into()))
}

/// The exit status by which a `Reconnect` confirm asks for another, later
/// login (EX_TEMPFAIL): its login came before the change was complete.
const CONFIRM_RETRY: u32 = 75;

/// Replace the host's connection with a fresh one, then run `confirm` on it.
/// Until the fresh login succeeds the host's own rollback stays armed; if it
/// never does, wait for that rollback and fail naming what happened. A
/// confirm that exits 75, fails over SSH or hangs is retried on a new login
/// until the deadline.
async fn reconnect(
    env: &RunEnv,
    session: &mut HostSession,
    timeout_secs: u64,
    rollback_secs: u64,
    confirm: &str,
    rolled_back: &str,
    become_user: Option<&str>,
) -> Result<crate::ssh::Output, ApplyError> {
    use std::time::{Duration, Instant};
    if let Some(old) = session
        .conn
        .take()
        .and_then(|c| std::sync::Arc::try_unwrap(c).ok())
    {
        old.close().await;
    }
    let mut opts = env.opts.clone();
    opts.retries = 0;
    // Each login gets the operator's connect timeout, cut to the time left
    // (a slow but reachable host needs it: a real VM under emulation takes
    // over 3 s for the SSH handshake, and a 3 s cap rolled back every pin).
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    let mut last_error = String::new();
    // Bounded: one attempt at most every second until the deadline.
    while Instant::now() < deadline {
        let started = Instant::now();
        opts.connect_timeout = env
            .opts
            .connect_timeout
            .min(deadline.saturating_duration_since(started))
            .max(Duration::from_secs(1));
        match crate::ssh::Connection::open(&session.target, &opts).await {
            Ok(conn) => {
                // A login can land before the change took effect, on a
                // connection the change then cuts off: the confirm may hang
                // or ask (exit 75, EX_TEMPFAIL) for a login made afterwards.
                let left = deadline.saturating_duration_since(Instant::now());
                let script = sh_c(confirm);
                let run = conn.run_with(&script, None, become_user, &env.opts);
                match tokio::time::timeout(left + Duration::from_secs(5), run).await {
                    Ok(Ok(out)) if out.exit_status != Some(CONFIRM_RETRY) => {
                        session.conn = Some(std::sync::Arc::new(conn));
                        return Ok(out);
                    }
                    Ok(Ok(out)) => {
                        last_error = String::from_utf8_lossy(&out.stderr).trim().to_string()
                    }
                    Ok(Err(e)) => last_error = e.to_string(),
                    Err(_) => last_error = "confirming timed out".into(),
                }
                let _ = tokio::time::timeout(Duration::from_secs(2), conn.close()).await;
            }
            Err(e) if e.exit_code() == crate::ExitCode::HostKey => {
                return Err(ApplyError::Failed(e.to_string(), Map::new()));
            }
            Err(e) => last_error = e.to_string(),
        }
        tokio::time::sleep(Duration::from_secs(1).saturating_sub(started.elapsed())).await;
    }
    // Not confirmed: the host restores its old configuration by itself.
    // Restoring can take a while on a busy host, so log in again within a
    // bounded window rather than once.
    tokio::time::sleep(Duration::from_secs(rollback_secs)).await;
    opts.connect_timeout = env.opts.connect_timeout;
    let window = Instant::now() + AFTER_ROLLBACK;
    loop {
        match crate::ssh::Connection::open(&session.target, &opts).await {
            Ok(conn) => {
                session.conn = Some(std::sync::Arc::new(conn));
                return Err(ApplyError::Failed(
                    format!("{rolled_back} (no SSH login within {timeout_secs}s: {last_error})"),
                    Map::new(),
                ));
            }
            Err(e) if Instant::now() >= window || e.exit_code() == crate::ExitCode::HostKey => {
                return Err(ApplyError::Unreachable(format!(
                    "{rolled_back}, but the host is still unreachable {}s later: {e}",
                    rollback_secs + AFTER_ROLLBACK.as_secs()
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(2)).await,
        }
    }
}

/// How long after its rollback a host may take to answer SSH again.
const AFTER_ROLLBACK: std::time::Duration = std::time::Duration::from_secs(60);

/// Write a fetched file atomically on the operator's machine.
fn write_local(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.kubestrap-tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("fetch")
    ));
    // Fetched files may be credentials (admin.conf): 0600 from the start.
    let mut f = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?
    };
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Read a template as Ansible finds it: `templates/NAME` next to the
/// playbook, then `NAME` relative to the playbook; then the shipped one. A
/// shipped playbook has an empty `base` and sees only shipped templates.
pub fn load_template(base: &Path, name: &str) -> Result<String, String> {
    if !base.as_os_str().is_empty() {
        for path in [base.join("templates").join(name), base.join(name)] {
            if path.is_file() {
                return std::fs::read_to_string(&path)
                    .map_err(|e| format!("template {}: {e}", path.display()));
            }
        }
    }
    crate::bundle::template(name)
        .map(str::to_string)
        .ok_or_else(|| {
            if base.as_os_str().is_empty() {
                format!("template {name:?} is not among the shipped templates")
            } else {
                format!(
                    "template {name:?} not found in {}/templates, {} or the shipped templates",
                    base.display(),
                    base.display()
                )
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reason_is_the_tail_of_stderr_else_of_stdout() {
        let cases: &[(&str, &str, &str)] = &[
            ("boom", "out", "boom"),
            (
                "",
                "error execution phase preflight",
                "error execution phase preflight",
            ),
            ("  \n", "", "non-zero return code"),
        ];
        for (err, out, want) in cases {
            assert_eq!(reason(err, out), *want, "{err:?} {out:?}");
        }
        let long: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
        let why = reason(&long.join("\n"), "");
        assert!(
            why.starts_with("…\nline 11\n") && why.ends_with("line 30"),
            "{why}"
        );
    }

    #[test]
    fn templated_values_of_a_no_log_task_are_masked_afterwards() {
        let raw = json!({"content": "{{ pw }}", "dest": "/etc/x", "nested": {"key": "{{ k }}"}, "mode": "{{ m }}"});
        let rendered = json!({"content": "nolog-pw-4711", "dest": "/etc/x", "nested": {"key": "nolog-key-0815"}, "mode": "0600"});
        register_no_log_values(raw.as_object().unwrap(), rendered.as_object().unwrap());
        let shown = crate::report::redact::text("nolog-pw-4711 nolog-key-0815 /etc/x 0600");
        assert_eq!(shown, "******** ******** /etc/x 0600");
    }
}
