//! `delegate_to`: a task run on another host (or the controller) in place of this one, with this host's variables.
//!
//! As in Ansible, the task is the delegating host's: its variables
//! (`inventory_hostname`, facts, play vars, registered results) render it,
//! its result is recorded, registered and counted under it, and it notifies
//! the delegating host's handlers. Only the commands run elsewhere: on the
//! connection of the inventory host named, or, for `localhost` (and
//! `127.0.0.1`, `::1`) when the inventory has no such host, on the
//! controller as local processes, without SSH. The facts a delegated
//! module needs are read from the host it runs on, in the same round trip
//! as for any task, and are not kept: the delegating host's own file facts
//! are never changed by a task that ran elsewhere. Under `--check` they are
//! kept per delegate for the run, so a task sees what an earlier task
//! delegated there would have made. `delegate_facts: true`
//! makes a delegated `set_fact` set the delegate's variables instead.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::play_run::Runner;
use super::session::HostSession;
use super::task_run::{run_task, scope, RunEnv, TaskResult};
use crate::playbook::Task;
use crate::ssh::{Connection, Target};

/// Names that mean the controller when the inventory has no host so called.
const CONTROLLER: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// Where one host's delegated task runs.
pub(super) struct Delegate {
    pub target: Target,
    pub conn: Arc<Connection>,
    /// An inventory host (its session index), not the controller.
    pub host: Option<usize>,
}

/// For each host (by name), where its run of a delegated task goes, or why it cannot.
pub(super) type Delegates = HashMap<String, Result<Delegate, String>>;

impl Runner {
    /// Render `delegate_to` of `task` for each of `hosts` and find (and
    /// connect) the hosts named; empty when the task is not delegated.
    pub(super) async fn delegates(&mut self, hosts: &[usize], task: &Task) -> Delegates {
        let mut out = Delegates::new();
        let Some(raw) = &task.delegate_to else {
            return out;
        };
        let mut wanted: Vec<(String, Result<String, String>)> = Vec::new();
        for &i in hosts {
            let s = self.session(i);
            let name = scope(&self.env, s, Some(task))
                .and_then(|sc| {
                    self.env
                        .renderer
                        .render_value(&Json::from(raw.as_str()), &sc.value())
                })
                .map(|v| match v {
                    Json::String(t) => t.trim().to_string(),
                    other => other.to_string(),
                })
                .map_err(|e| format!("{}:{}: delegate_to: {e}", task.file.display(), task.line));
            wanted.push((s.name.clone(), name));
        }
        let index_of = |sessions: &[Option<HostSession>], name: &str| {
            sessions
                .iter()
                .position(|s| s.as_ref().is_some_and(|s| s.name == name))
        };
        let named: Vec<usize> = wanted
            .iter()
            .filter_map(|(_, n)| n.as_ref().ok().and_then(|n| index_of(&self.sessions, n)))
            .collect();
        self.connect(&named).await;
        for (host, name) in wanted {
            let found = name.and_then(|name| match index_of(&self.sessions, &name) {
                Some(j) => {
                    let d = self.session(j);
                    match (&d.conn, &d.unreachable) {
                        (Some(conn), _) => Ok(Delegate {
                            target: d.target.clone(),
                            conn: conn.clone(),
                            host: Some(j),
                        }),
                        (None, why) => Err(format!(
                            "delegate_to {name}: {}",
                            why.as_deref().unwrap_or("not connected")
                        )),
                    }
                }
                None if CONTROLLER.contains(&name.as_str()) => {
                    let target = controller(&name);
                    Ok(Delegate {
                        conn: Arc::new(Connection::local(&target)),
                        target,
                        host: None,
                    })
                }
                None => Err(format!(
                    "{}:{}: delegate_to `{name}`: not a host of the inventory \
                     (kubestrap delegates to inventory hosts and to localhost)",
                    task.file.display(),
                    task.line
                )),
            });
            out.insert(host, found);
        }
        out
    }

    /// Give the delegates of a `delegate_facts` task what it set for them.
    pub(super) fn hand_over(&mut self, facts: Vec<(usize, Map<String, Json>)>) {
        let any = !facts.is_empty();
        for (j, vars) in facts {
            if let Some(s) = self.sessions[j].as_mut() {
                s.registered.extend(vars);
            }
        }
        if any {
            self.refresh_hostvars();
        }
    }
}

/// The controller as a target: the local user, no become of its own (the
/// task's and the play's decide).
fn controller(name: &str) -> Target {
    Target {
        name: name.to_string(),
        hostname: name.to_string(),
        port: 22,
        user: crate::ssh::target::local_user(),
        identity_files: Vec::new(),
        explicit_identities: false,
        jumps: Vec::new(),
        known_hosts: Vec::new(),
        become_: false,
        become_user: "root".into(),
    }
}

/// What a delegated task gives back: its result, and with
/// `delegate_facts`, the variables it set for the delegate (by session index).
pub(super) type Delegated = (TaskResult, Option<(usize, Map<String, Json>)>);

/// Run `task` for the host of `s` on `d`, as `who`.
pub(super) async fn run(
    env: &RunEnv,
    task: &Task,
    who: Option<&str>,
    s: &mut HostSession,
    d: &Delegate,
) -> Delegated {
    let mut there = HostSession::new(d.target.clone(), std::mem::take(&mut s.inventory_vars));
    there.name = s.name.clone();
    there.conn = Some(d.conn.clone());
    there.fact_vars = std::mem::take(&mut s.fact_vars);
    there.play_vars = std::mem::take(&mut s.play_vars);
    there.registered = std::mem::take(&mut s.registered);
    let before = task.delegate_facts.then(|| there.registered.clone());
    let known = &env.delegate_facts_under_check;
    if env.check_mode {
        there.facts = known
            .lock()
            .ok()
            .and_then(|k| k.get(&d.target.name).cloned());
    }
    let r = run_task(env, task, who, &mut there).await;
    if let (true, Ok(mut k), Some(f)) = (env.check_mode, known.lock(), there.facts.take()) {
        k.insert(d.target.name.clone(), f);
    }
    s.inventory_vars = there.inventory_vars;
    s.fact_vars = there.fact_vars;
    s.play_vars = there.play_vars;
    s.registered = there.registered;
    let moved = match (before, d.host) {
        (Some(before), Some(j)) => Some((j, take_set(&mut s.registered, before, task))),
        _ => None,
    };
    (r, moved)
}

/// What the task set besides its `register`, taken back from `now` (which
/// returns to `before` for those names).
fn take_set(
    now: &mut Map<String, Json>,
    before: Map<String, Json>,
    task: &Task,
) -> Map<String, Json> {
    let set: Vec<String> = now
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v) && task.register.as_deref() != Some(k))
        .map(|(k, _)| k.clone())
        .collect();
    let mut out = Map::new();
    for k in set {
        if let Some(v) = now.remove(&k) {
            out.insert(k.clone(), v);
        }
        if let Some(old) = before.get(&k) {
            now.insert(k, old.clone());
        }
    }
    out
}
