//! Facts for the runner's hosts: per play, before preflight (with a rider), and the needs predicted from playbooks.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::hosts::resolve_vars;
use super::play_run::{play_become, say_status, Runner};
use super::session::{GatherError, HostSession};
use super::task_run::{all_true, scope, RunEnv};
use crate::facts::rider::RiderOutput;
use crate::facts::FactRequest;
use crate::modules::Args;
use crate::playbook::{Play, Playbook, Task};
use crate::render::vars::Scope;
use crate::report::{Event, Outcome};
use crate::ssh::run_as::run_as;
use crate::ExitCode;

impl Runner {
    /// Facts for every host in one round trip, including what the play's
    /// tasks will ask for (so a no-op re-run needs no other command).
    pub(super) async fn gather(&mut self, hosts: &[usize], index: usize, play: &Play) {
        self.emit(Event::GatherStart);
        let mut needs: HashMap<String, Vec<FactRequest>> = HashMap::new();
        let mut idx = Vec::new();
        let mut known = Vec::new();
        for &i in hosts {
            let s = self.session(i);
            if !s.active() {
                continue;
            }
            let wanted = predict_needs(&self.env, s, play);
            // Facts are kept current as tasks change things, so facts from an
            // earlier play (or playbook) that answer everything need no new
            // round trip.
            if s.facts
                .as_ref()
                .is_some_and(|f| wanted.iter().all(|r| f.has(r)))
            {
                known.push(i);
                continue;
            }
            needs.insert(s.name.clone(), wanted);
            idx.push(i);
        }
        for &i in &known {
            let s = self.sessions[i].as_mut().expect("home");
            s.stats.record(Outcome::Ok);
            let host = s.name.clone();
            self.emit(Event::Gathered { host, error: None });
        }
        let env = self.env.clone();
        let playbook = self.playbook.clone();
        let reporter = self.reporter.clone();
        let needs = Arc::new(needs);
        let results = self
            .on_hosts(&idx, |mut s| {
                let (env, playbook, reporter, needs) = (
                    env.clone(),
                    playbook.clone(),
                    reporter.clone(),
                    needs.clone(),
                );
                async move {
                    say_status(&*reporter, &s.name, "gathering facts");
                    let play = &playbook.plays[index];
                    let reqs = needs.get(&s.name).cloned().unwrap_or_default();
                    let who = run_as(&s.target, &[play_become(play)]);
                    let r = s.gather(&reqs, who.as_deref(), &env.opts).await;
                    (s, r)
                }
            })
            .await;
        for (i, r) in results {
            let s = self.sessions[i].as_mut().expect("home");
            let error = match r {
                Ok(()) => {
                    s.stats.record(Outcome::Ok);
                    None
                }
                Err(GatherError::Ssh(e)) => {
                    s.worst = s.worst.max(e.exit_code());
                    if e.is_unreachable() {
                        s.unreachable = Some(e.to_string());
                        s.stats.record(Outcome::Unreachable);
                    } else {
                        s.failed = true;
                        s.stats.record(Outcome::Failed);
                    }
                    Some(e.to_string())
                }
                Err(e) => {
                    s.failed = true;
                    s.worst = s.worst.max(ExitCode::HostFailed);
                    s.stats.record(Outcome::Failed);
                    Some(e.to_string())
                }
            };
            let host = s.name.clone();
            self.emit(Event::Gathered { host, error });
        }
        self.refresh_hostvars();
    }

    /// The facts every play of `books` will ask for on any host of the run,
    /// as far as they can be known before the first play: what a task's
    /// arguments need once rendered with inventory vars, extra vars and play
    /// vars. Gathered up front, they spare each play its own round trip.
    pub fn predicted_needs(&mut self, books: &[&Playbook]) -> Vec<FactRequest> {
        // Tasks may read other hosts' inventory vars (`hostvars[h].node_ip`).
        self.refresh_hostvars();
        let mut out: BTreeSet<FactRequest> = BTreeSet::new();
        for i in 0..self.sessions.len() {
            let Some(s) = self.sessions[i].as_mut() else {
                continue;
            };
            if !self.limit.contains(&s.name) {
                continue;
            }
            for play in books.iter().flat_map(|b| &b.plays) {
                let (vars, _) = resolve_vars(&self.env, s, play);
                s.play_vars = vars;
                out.extend(predict_needs(&self.env, s, play));
            }
            s.play_vars = Map::new();
        }
        out.into_iter().collect()
    }

    /// Gather base facts plus `requests` on every reachable host of `hosts`,
    /// measuring each host's clock against this machine's. Per host: the
    /// clock skew in seconds (host minus operator), or why facts could not
    /// be had.
    pub async fn gather_for_preflight(
        &mut self,
        hosts: &[usize],
        requests: Vec<FactRequest>,
    ) -> Vec<(usize, Result<i64, GatherError>)> {
        self.gather_riding(hosts, requests, HashMap::new())
            .await
            .into_iter()
            .map(|(i, r, _)| (i, r))
            .collect()
    }

    /// [`Runner::gather_for_preflight`], with a script of the caller's
    /// riding along on the hosts `riders` names (see [`crate::facts::rider`]):
    /// per host also what that script said.
    pub async fn gather_riding(
        &mut self,
        hosts: &[usize],
        requests: Vec<FactRequest>,
        riders: HashMap<String, String>,
    ) -> Vec<(usize, Result<i64, GatherError>, Option<RiderOutput>)> {
        let env = self.env.clone();
        let reporter = self.reporter.clone();
        let requests = Arc::new(requests);
        let riders = Arc::new(riders);
        let reachable: Vec<usize> = hosts
            .iter()
            .copied()
            .filter(|&i| self.session(i).active())
            .collect();
        let mut out = self
            .on_hosts(&reachable, |mut s| {
                let (env, reporter, requests, riders) = (
                    env.clone(),
                    reporter.clone(),
                    requests.clone(),
                    riders.clone(),
                );
                async move {
                    say_status(&*reporter, &s.name, "preflight: gathering facts");
                    let who = run_as(&s.target, &[]);
                    let before = now_secs();
                    let rider = riders.get(&s.name).map(String::as_str);
                    let r = s
                        .gather_riding(&requests, who.as_deref(), &env.opts, rider)
                        .await;
                    let midpoint = (before + now_secs()) / 2.0;
                    let mut ridden = None;
                    let r = match r {
                        Ok(out) => {
                            ridden = out;
                            let host_time = s.facts.as_ref().map(|f| f.time).unwrap_or_default();
                            Ok((host_time as f64 - midpoint).round() as i64)
                        }
                        Err(GatherError::Ssh(e)) => {
                            // Lost on the way: as unreachable as a failed connect.
                            if e.is_unreachable() {
                                s.worst = s.worst.max(e.exit_code());
                                s.unreachable = Some(e.to_string());
                            }
                            Err(GatherError::Ssh(e))
                        }
                        Err(e) => Err(e),
                    };
                    (s, (r, ridden))
                }
            })
            .await
            .into_iter()
            .map(|(i, (r, ridden))| (i, r, ridden))
            .collect::<Vec<_>>();
        for &i in hosts.iter().filter(|i| !reachable.contains(i)) {
            if let Some(why) = &self.session(i).unreachable {
                out.push((i, Err(GatherError::Unreachable(why.clone())), None));
            }
        }
        self.refresh_hostvars();
        out.sort_by_key(|(i, _, _)| *i);
        out
    }
}

/// This machine's clock, in seconds since the epoch.
fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The facts a play's tasks will need on this host, found by rendering each
/// task's arguments with what is known before the play runs. Tasks whose
/// arguments depend on results not known yet are asked about when they run.
fn predict_needs(env: &RunEnv, s: &HostSession, play: &Play) -> Vec<FactRequest> {
    let Ok(mut sc) = scope(env, s, None) else {
        return Vec::new();
    };
    // A `pipe` lookup runs its command when its task runs, not here.
    sc.set(
        crate::render::lookups::PREDICTING,
        minijinja::Value::from(true),
    );
    let mut out = Vec::new();
    // Per include_tasks' block: the loop variable and the items its tasks run with.
    let mut included: HashMap<usize, Included> = HashMap::new();
    // A delegated task looks at another host's files: not this host's to gather.
    for task in play.tasks.iter().chain(&play.handlers) {
        if task.delegate_to.is_some() {
            continue;
        }
        let outer = task.blocks.iter().rev().find_map(|(b, _)| included.get(b));
        for (scope_i, item) in item_scopes(env, &sc, task, outer) {
            // A task its conditions skip needs no facts; one whose
            // conditions cannot be told yet is asked for.
            if matches!(all_true(env, &task.when, &scope_i.value()), Ok(false)) {
                continue;
            }
            if let (Some(block), Some(item)) = (task.opens, item) {
                let inc = included.entry(block).or_insert_with(|| Included {
                    var: task.loop_var.clone(),
                    items: Vec::new(),
                });
                inc.items.push(item);
            }
            let vars = scope_i.value();
            let args = match env
                .renderer
                .render_value(&Json::Object(task.args.clone()), &vars)
            {
                Ok(Json::Object(m)) => m,
                // An argument known only later (a set_fact's variable in a
                // file's content) need not hide the path the task looks at.
                _ => task
                    .args
                    .iter()
                    .filter_map(|(k, v)| {
                        Some((k.clone(), env.renderer.render_value(v, &vars).ok()?))
                    })
                    .collect(),
            };
            if let Ok(n) = task.module.needs(&Args(args)) {
                out.extend(n);
            }
        }
    }
    out
}

/// What an `include_tasks` with a loop gives the tasks of its file: its
/// loop variable and each item its `when` let through.
struct Included {
    var: String,
    items: Vec<Json>,
}

/// The scopes `task` will run with, as far as they are known before the
/// play: one per item of the looping include around it (if any), times one
/// per item of its own loop; with its own item. A loop that cannot be
/// rendered yet gives none (the task asks for its facts when it runs).
fn item_scopes(
    env: &RunEnv,
    sc: &Scope,
    task: &Task,
    outer: Option<&Included>,
) -> Vec<(Scope, Option<Json>)> {
    let bases: Vec<Scope> = match outer {
        None => vec![sc.clone()],
        Some(inc) => inc
            .items
            .iter()
            .map(|item| {
                let mut s = sc.clone();
                s.set_json(&inc.var, item);
                s
            })
            .collect(),
    };
    let mut out = Vec::new();
    for base in bases {
        let Some(spec) = &task.loop_ else {
            out.push((base, None));
            continue;
        };
        let items = env
            .renderer
            .render_value(spec, &base.value())
            .map(|terms| crate::playbook::loop_items(task.loop_kind, &terms, &env.base_dir));
        if let Ok(Ok(items)) = items {
            for (index, item) in items.into_iter().enumerate() {
                let mut s = base.clone();
                s.set_json(&task.loop_var, &item);
                if let Some(var) = &task.loop_control.index_var {
                    s.set_json(var, &Json::from(index));
                }
                out.push((s, Some(item)));
            }
        }
    }
    out
}
