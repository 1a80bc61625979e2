//! One task (or the play's handlers) on every host of a play, with a barrier at its end: events, results, registered vars.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::block_flow::Caught;
use super::delegate;
use super::handlers;
use super::play_run::{play_become, say_status, Runner};
use super::session::HostSession;
use super::task_run::{fail, run_task, scope, RunEnv, TaskResult};
use crate::playbook::{Play, Playbook, Task};
use crate::report::timings::{Phase, PhaseKind};
use crate::report::{Event, Outcome};
use crate::ssh::run_as::{run_as, Become};
use crate::ui::still_running;
use crate::ExitCode;

impl Runner {
    /// Run task `t` (or handler `t`) of play `index` on `hosts`, print and record it.
    pub(super) async fn run_on(
        &mut self,
        hosts: &[usize],
        index: usize,
        t: usize,
        handler: bool,
    ) -> Vec<(usize, TaskResult)> {
        self.publish_failed_hosts();
        let env = self.env.clone();
        let playbook = self.playbook.clone();
        let reporter = self.reporter.clone();
        let task = task_of(&playbook, index, t, handler);
        let title = shown_title(&env, task, hosts.iter().map(|&i| self.session(i)));
        let names: BTreeSet<String> = hosts
            .iter()
            .map(|&i| self.session(i).name.clone())
            .collect();
        self.emit(Event::TaskStart {
            title: title.clone(),
            hosts: names.iter().cloned().collect(),
        });
        let running = Arc::new(std::sync::Mutex::new(names));
        let every = still_running::interval(reporter.live());
        let started = std::time::Instant::now();
        let delegates = Arc::new(self.delegates(hosts, task).await);
        // `throttle`: fewer hosts at once than --forks, for this task only.
        let forks = self.forks;
        if task.throttle > 0 {
            self.forks = forks.min(task.throttle);
        }
        let work = self.on_hosts(hosts, |mut s| {
            let (env, playbook, reporter, running, title, delegates) = (
                env.clone(),
                playbook.clone(),
                reporter.clone(),
                running.clone(),
                title.clone(),
                delegates.clone(),
            );
            async move {
                let play = &playbook.plays[index];
                let task = task_of(&playbook, index, t, handler);
                say_status(&*reporter, &s.name, &title);
                let task_become = Become {
                    on: task.become_,
                    user: task.become_user.as_deref(),
                };
                let delegate = delegates.get(&s.name);
                let runs_on = match delegate {
                    Some(Ok(d)) => &d.target,
                    _ => &s.target,
                };
                let who = run_as(runs_on, &[task_become, play_become(play)]);
                // After SIGINT a running task has a grace period; then it
                // is dropped with its channel, and the session comes home.
                // Boxed: inline, the task's future is laid out in the
                // select's state more than once (~19 KB per host instead
                // of ~7 KB), and all hosts of a task hold theirs at once.
                let (r, handed) = match delegate {
                    None => tokio::select! {
                        r = Box::pin(run_task(&env, task, who.as_deref(), &mut s)) => (r, None),
                        _ = crate::interrupt::grace_over() => (TaskResult::interrupted(), None),
                    },
                    Some(Err(msg)) => (fail(msg.clone()), None),
                    Some(Ok(d)) => tokio::select! {
                        r = Box::pin(delegate::run(&env, task, who.as_deref(), &mut s, d)) => r,
                        _ = crate::interrupt::grace_over() => (TaskResult::interrupted(), None),
                    },
                };
                // The host remembers a notified handler before anything
                // else can happen to this run, and forgets it once it ran.
                let warning = match (handler, r.outcome) {
                    (false, Outcome::Changed) => {
                        handlers::remember(&env, &mut s, play, task, who.as_deref()).await
                    }
                    (true, Outcome::Ok | Outcome::Changed | Outcome::Skipped) => {
                        handlers::forget(&env, &mut s, task, who.as_deref()).await
                    }
                    _ => None,
                };
                if let Ok(mut r) = running.lock() {
                    r.remove(&s.name);
                }
                say_status(&*reporter, &s.name, "waiting for the other hosts");
                (s, (r, warning, handed))
            }
        });
        let results = still_running::watch(work, &running, every, |hosts, elapsed| {
            reporter.emit(&Event::StillRunning {
                task: title.clone(),
                hosts,
                elapsed,
            })
        })
        .await;
        self.forks = forks;
        let kind = if handler {
            PhaseKind::Handler
        } else {
            PhaseKind::Task
        };
        let phase = Phase::since(kind, &title, hosts.len(), started);
        self.emit(Event::Phase(phase));
        self.emit(Event::TaskEnd {
            title,
            handler,
            location: format!("{}:{}", task.file.display(), task.line),
            module: task.module_name.clone(),
        });
        let mut ordered = results;
        ordered.sort_by_key(|(i, _)| *i);
        let mut handed_over = Vec::new();
        let ordered: Vec<(usize, TaskResult)> = ordered
            .into_iter()
            .map(|(i, (r, warning, handed))| {
                if let Some(msg) = warning {
                    let host = self.session(i).name.clone();
                    self.emit(Event::Warning { host, msg });
                }
                handed_over.extend(handed);
                (i, r)
            })
            .collect();
        self.hand_over(handed_over);
        for (i, r) in &ordered {
            let s = self.sessions[*i].as_mut().expect("home");
            // Registered for later tasks as it is; the reporters show it
            // with every secret masked (and a no_log task's output censored).
            record(s, task, r, &self.playbook.plays[index]);
            let host = s.name.clone();
            self.emit(Event::HostResult {
                host,
                result: r.clone(),
                no_log: task.no_log,
            });
        }
        // Other hosts see a registered result or a set_fact's variables in
        // `hostvars` at once, as in Ansible (`hostvars[cp].join.stdout`);
        // no other task pays for rebuilding it.
        if task.register.is_some() || task.module.name() == "set_fact" {
            self.refresh_hostvars();
        }
        ordered
    }

    /// Handlers run once per host, in the order they are defined, on the
    /// hosts whose tasks notified them (or an earlier run did: the host's
    /// record) and that are still active; with `force`, also on hosts that
    /// failed a task, as long as they can be reached.
    pub(super) async fn run_handlers(
        &mut self,
        hosts: &[usize],
        index: usize,
        play: &Play,
        force: bool,
    ) {
        for &i in hosts {
            if let Some(s) = self.sessions[i].as_mut() {
                let left = handlers::left_pending(play, &s.recorded_handlers);
                s.notified.extend(left);
            }
        }
        for h in 0..play.handlers.len() {
            if crate::interrupt::interrupted() {
                return;
            }
            let notified: Vec<usize> = hosts
                .iter()
                .copied()
                .filter(|&i| {
                    let s = self.session(i);
                    handlers::host_runs(force, s.failed, s.unreachable.is_some())
                        && s.notified.contains(&h)
                })
                .collect();
            if notified.is_empty() {
                continue;
            }
            for &i in &notified {
                if let Some(s) = self.sessions[i].as_mut() {
                    s.notified.remove(&h);
                }
            }
            self.run_on(&notified, index, h, true).await;
        }
    }
}

/// A task's name as its banner shows it: `{{ … }}` rendered, as Ansible
/// does, when every host of the task renders it the same; else as written
/// (a name that differs per host, or uses what is not known yet).
fn shown_title<'a>(
    env: &RunEnv,
    task: &Task,
    hosts: impl Iterator<Item = &'a HostSession>,
) -> String {
    let raw = task.title();
    if !raw.contains("{{") && !raw.contains("{%") {
        return raw;
    }
    let mut shown: Option<String> = None;
    for s in hosts {
        let rendered = scope(env, s, Some(task)).and_then(|sc| {
            env.renderer
                .render_value(&Json::from(raw.as_str()), &sc.value())
        });
        let text = match rendered {
            Ok(Json::String(t)) => t,
            Ok(other) => other.to_string(),
            Err(_) => return raw,
        };
        match &shown {
            Some(first) if *first != text => return raw,
            _ => shown = Some(text),
        }
    }
    shown.unwrap_or(raw)
}

fn task_of(playbook: &Playbook, play: usize, t: usize, handler: bool) -> &Task {
    let p = &playbook.plays[play];
    if handler {
        &p.handlers[t]
    } else {
        &p.tasks[t]
    }
}

/// Fold one task's result into the host's session: counters, register,
/// notified handlers, failure.
pub(super) fn record(s: &mut HostSession, task: &Task, r: &TaskResult, play: &Play) {
    let caught = match (r.outcome, r.ignored) {
        (Outcome::Failed, false) => s.flow.on_failure(&task.blocks, &play.blocks),
        _ => Caught::Uncaught,
    };
    match (r.outcome, r.ignored) {
        (Outcome::Failed, true) => s.stats.ignored += 1,
        // As in Ansible: a failure a rescue catches counts as rescued, not failed.
        (Outcome::Failed, false) if caught == Caught::Rescue => s.stats.rescued += 1,
        (o, _) => s.stats.record(o),
    }
    if let Some(name) = &task.register {
        s.registered.insert(name.clone(), r.registered.clone());
    }
    if caught == Caught::Rescue {
        let failed_task = json!({"name": task.title(), "action": task.module_name});
        s.registered
            .insert("ansible_failed_task".into(), failed_task);
        s.registered
            .insert("ansible_failed_result".into(), r.registered.clone());
    }
    if r.outcome == Outcome::Changed {
        s.notified.extend(handlers::notified_by(play, task));
    }
    match r.outcome {
        Outcome::Failed if !r.ignored && caught == Caught::Uncaught => s.fail(),
        Outcome::Unreachable => {
            s.unreachable = Some(r.msg.clone());
            s.worst = s.worst.max(ExitCode::Unreachable);
        }
        _ => {}
    }
}
