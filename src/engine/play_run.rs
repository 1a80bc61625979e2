//! Running plays: connect, render play vars, gather facts, run tasks with a barrier per task, then handlers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::handlers;
use super::session::{GatherError, HostSession};
use super::tags::selected;
use super::task_run::{all_true, run_task, scope, RunEnv, TaskResult};
use crate::facts::rider::RiderOutput;
use crate::facts::FactRequest;
use crate::modules::Args;
use crate::playbook::{Play, Playbook, Task};
use crate::render::vars::Scope;
use crate::report::timings::{Phase, PhaseKind};
use crate::report::{Event, Outcome, Reporter, Stop};
use crate::ssh::run_as::{as_root, run_as, Become};
use crate::ssh::Connection;
use crate::ui::still_running;
use crate::{pattern, ExitCode};

/// A whole `kubestrap run`: the playbook, the hosts' sessions and where its events go.
pub struct Runner {
    pub env: Arc<RunEnv>,
    pub playbook: Arc<Playbook>,
    pub inventory: Arc<crate::inventory::Inventory>,
    /// Sessions in inventory order; `None` while a host is being worked on.
    pub sessions: Vec<Option<HostSession>>,
    /// Host names allowed by `--limit`.
    pub limit: Vec<String>,
    pub forks: usize,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// Where everything the run has to say goes (text, reporter, --report).
    pub reporter: Arc<dyn Reporter>,
    /// A play was aborted by any_errors_fatal or max_fail_percentage, or
    /// the run by its failure budget.
    pub aborted: bool,
    /// Work the command wants done between tasks (apply: its host locks
    /// follow connections a task replaced).
    pub between_tasks: Option<Arc<dyn BetweenTasks>>,
}

/// Something a command needs done between two tasks of a run.
pub trait BetweenTasks: Send + Sync {
    fn between_tasks(&self, runner: &Runner);
}

/// When a failure on some hosts stops the whole run, not just those hosts.
#[derive(Debug, Clone, Default)]
pub struct RunBudget {
    /// Any failure of one of these stops the run (apply: the control planes).
    pub fatal: Vec<String>,
    /// These may fail up to `percent` of them before the run stops (apply: the workers).
    pub shared: Vec<String>,
    pub percent: f64,
    /// What the hosts are called in messages ("control plane", "workers").
    pub fatal_label: String,
    pub shared_label: String,
}

impl RunBudget {
    /// Why the run must stop, given the hosts that failed or are unreachable.
    pub fn exceeded(&self, failed: &[&str]) -> Option<String> {
        if let Some(h) = self.fatal.iter().find(|h| failed.contains(&h.as_str())) {
            return Some(format!("{} {h} failed", self.fatal_label));
        }
        let bad = self
            .shared
            .iter()
            .filter(|h| failed.contains(&h.as_str()))
            .count();
        let share = if self.shared.is_empty() {
            0.0
        } else {
            bad as f64 * 100.0 / self.shared.len() as f64
        };
        (share > self.percent).then(|| {
            format!(
                "{bad} of {} {} failed ({share:.0}% > {}%)",
                self.shared.len(),
                self.shared_label,
                self.percent
            )
        })
    }
}

impl Runner {
    /// Tell the run's reporters.
    pub fn emit(&self, event: Event) {
        self.reporter.emit(&event);
    }

    /// Run every play in order; the exit code covers all hosts.
    pub async fn run(&mut self) -> ExitCode {
        self.run_budgeted(&RunBudget::default()).await
    }

    /// [`Runner::run`], stopping every host once `budget` is spent.
    pub async fn run_budgeted(&mut self, budget: &RunBudget) -> ExitCode {
        let playbook = self.playbook.clone();
        for (index, play) in playbook.plays.iter().enumerate() {
            if crate::interrupt::interrupted() {
                break;
            }
            if let Err(message) = self.run_play(index, play, budget).await {
                self.emit(Event::Error(message));
                return ExitCode::BadInput;
            }
            if self.aborted {
                break;
            }
        }
        let mut code = ExitCode::Ok;
        for s in self.sessions.iter().flatten() {
            code = code.max(s.worst);
        }
        if self.aborted {
            code = code.max(ExitCode::HostFailed);
        }
        code
    }

    /// Indices of the sessions a play runs on: its pattern, within --limit,
    /// still active.
    fn play_hosts(&self, play: &Play) -> Result<Vec<usize>, String> {
        let at = format!(
            "{}:{}: play {:?}",
            self.playbook.path.display(),
            play.line,
            play.name
        );
        // `hosts:` may be a template; like Ansible, only extra vars and
        // `groups` are known at that point, no host's own vars.
        let mut scope = Scope::default();
        scope.set("groups", self.env.groups.clone());
        scope.layer(&self.env.extra_vars);
        let pattern = match self
            .env
            .renderer
            .render_value(&Json::from(play.hosts.as_str()), &scope.value())
        {
            Ok(Json::String(p)) => p,
            Ok(other) => other.to_string(),
            Err(e) => return Err(format!("{at}: hosts: {e}")),
        };
        let names = pattern::select(&self.inventory, &pattern).map_err(|e| format!("{at}: {e}"))?;
        Ok(self
            .sessions
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().map(|s| (i, s)))
            .filter(|(_, s)| names.contains(&s.name) && self.limit.contains(&s.name) && s.active())
            .map(|(i, _)| i)
            .collect())
    }

    async fn run_play(
        &mut self,
        index: usize,
        play: &Play,
        budget: &RunBudget,
    ) -> Result<(), String> {
        let hosts = self.play_hosts(play)?;
        self.emit(Event::PlayStart {
            name: play.name.clone(),
        });
        if hosts.is_empty() {
            self.emit(Event::NoHostsMatched);
            return Ok(());
        }
        let started = std::time::Instant::now();
        self.connect(&hosts).await;
        let phase = Phase::since(PhaseKind::Connect, &play.name, hosts.len(), started);
        self.emit(Event::Phase(phase));
        self.render_play_vars(&hosts, play);
        if play.gather_facts {
            let started = std::time::Instant::now();
            self.gather(&hosts, index, play).await;
            let phase = Phase::since(PhaseKind::Gather, &play.name, hosts.len(), started);
            self.emit(Event::Phase(phase));
        }
        let total = hosts.len();
        let tasks: Vec<usize> = (0..play.tasks.len())
            .filter(|&t| {
                let tags: Vec<String> = play.tasks[t]
                    .tags
                    .iter()
                    .chain(&play.tags)
                    .cloned()
                    .collect();
                selected(&tags, &self.tags, &self.skip_tags)
            })
            .collect();
        for t in tasks {
            if crate::interrupt::interrupted() || self.stop_for_budget(budget) {
                break;
            }
            if let Some(hook) = self.between_tasks.clone() {
                hook.between_tasks(self);
            }
            let active: Vec<usize> = hosts
                .iter()
                .copied()
                .filter(|&i| self.session(i).active())
                .collect();
            if active.is_empty() {
                break;
            }
            let results = self.run_on(&active, index, t, false).await;
            if self.over_budget(play, &results, total) {
                self.aborted = true;
                self.emit(Event::Stopped(Stop::PlayBudget {
                    play: play.name.clone(),
                }));
                break;
            }
        }
        // Handlers that do not run now stay in the hosts' records.
        let force = self.env.force_handlers || play.force_handlers;
        let interrupted = crate::interrupt::interrupted();
        let stopped = interrupted || self.aborted || self.stop_for_budget(budget);
        if handlers::run_at_end(force, stopped, interrupted) {
            self.run_handlers(&hosts, index, play, force).await;
        }
        Ok(())
    }

    /// Stop the run when its failure budget is spent (the hosts that failed
    /// already stopped; this stops the others).
    pub fn stop_for_budget(&mut self, budget: &RunBudget) -> bool {
        if self.aborted {
            return true;
        }
        let failed: Vec<&str> = self
            .sessions
            .iter()
            .flatten()
            .filter(|s| !s.active() && self.limit.contains(&s.name))
            .map(|s| s.name.as_str())
            .collect();
        match budget.exceeded(&failed) {
            Some(why) => {
                self.emit(Event::Stopped(Stop::RunBudget { why }));
                self.aborted = true;
                true
            }
            None => false,
        }
    }

    /// Add variables for the playbooks still to run, over the extra vars
    /// (they are never printed nor reported: secrets travel this way).
    pub fn add_extra_vars(&mut self, vars: Map<String, Json>) {
        match Arc::get_mut(&mut self.env) {
            Some(env) => env.extra_vars.extend(vars),
            None => tracing::error!("internal: run environment still shared; variables not added"),
        }
    }

    /// Run one command on a host's open connection, as root (through sudo
    /// when the login user is not root).
    pub async fn run_command(
        &self,
        host: &str,
        command: &str,
    ) -> Result<crate::ssh::Output, String> {
        let s = self
            .sessions
            .iter()
            .flatten()
            .find(|s| s.name == host)
            .ok_or_else(|| format!("{host}: no such host"))?;
        let conn = s
            .conn
            .as_ref()
            .ok_or_else(|| format!("{host}: not connected"))?;
        conn.run_with(command, None, as_root(), &self.env.opts)
            .await
            .map_err(|e| e.to_string())
    }

    /// Run another playbook next with the same hosts, connections and facts.
    pub fn switch_playbook(
        &mut self,
        playbook: impl Into<Arc<Playbook>>,
        base_dir: std::path::PathBuf,
    ) {
        if let Some(env) = Arc::get_mut(&mut self.env) {
            env.base_dir = base_dir;
        }
        self.playbook = playbook.into();
    }

    fn session(&self, i: usize) -> &HostSession {
        self.sessions[i]
            .as_ref()
            .expect("session is home between tasks")
    }

    /// any_errors_fatal, or more than max_fail_percentage of the play's hosts failed.
    fn over_budget(&self, play: &Play, results: &[(usize, TaskResult)], total: usize) -> bool {
        let failed_now = results.iter().any(|(_, r)| {
            matches!(r.outcome, Outcome::Failed | Outcome::Unreachable) && !r.ignored
        });
        if play.any_errors_fatal && failed_now {
            return true;
        }
        if let Some(pct) = play.max_fail_percentage {
            let failed = self
                .sessions
                .iter()
                .flatten()
                .filter(|s| !s.active())
                .count();
            return total > 0 && (failed as f64) * 100.0 / (total as f64) > pct;
        }
        false
    }

    /// Take sessions out, run `work` on each concurrently (bounded by forks),
    /// and put them back.
    async fn on_hosts<R, F, Fut>(&mut self, hosts: &[usize], work: F) -> Vec<(usize, R)>
    where
        R: Send + 'static,
        F: Fn(HostSession) -> Fut,
        Fut: Future<Output = (HostSession, R)> + Send + 'static,
    {
        let taken: Vec<(usize, HostSession)> = hosts
            .iter()
            .filter_map(|&i| self.sessions[i].take().map(|s| (i, s)))
            .collect();
        let done = super::fan_out::fan_out(taken, self.forks, |(i, s)| {
            let fut = work(s);
            async move {
                let (s, r) = fut.await;
                (i, s, r)
            }
        })
        .await;
        done.into_iter()
            .map(|(i, s, r)| {
                self.sessions[i] = Some(s);
                (i, r)
            })
            .collect()
    }

    pub async fn connect(&mut self, hosts: &[usize]) {
        let need: Vec<usize> = hosts
            .iter()
            .copied()
            .filter(|&i| self.session(i).conn.is_none())
            .collect();
        let env = self.env.clone();
        let reporter = self.reporter.clone();
        self.on_hosts(&need, |mut s| {
            let (env, reporter) = (env.clone(), reporter.clone());
            async move {
                say_status(&*reporter, &s.name, "connecting");
                match Connection::open(&s.target, &env.opts).await {
                    Ok(c) => s.conn = Some(Arc::new(c)),
                    Err(e) => {
                        s.worst = s.worst.max(e.exit_code());
                        s.unreachable = Some(e.to_string());
                        s.stats.record(Outcome::Unreachable);
                    }
                }
                (s, ())
            }
        })
        .await;
        for &i in &need {
            let s = self.session(i);
            if let Some(msg) = &s.unreachable {
                self.emit(Event::Unreachable {
                    host: s.name.clone(),
                    msg: msg.clone(),
                });
            }
        }
    }

    /// Render play vars per host, each seeing the ones before it.
    fn render_play_vars(&mut self, hosts: &[usize], play: &Play) {
        for &i in hosts {
            let Some(s) = self.sessions[i].as_mut() else {
                continue;
            };
            let (vars, failures) = resolve_vars(&self.env, s, &play.vars);
            s.play_vars = vars;
            for (k, e) in failures {
                // Left undefined: a task that uses it fails naming it.
                tracing::warn!(
                    "{}: play {:?}: var `{k}` cannot be rendered: {e}",
                    s.name,
                    play.name
                );
            }
        }
    }

    /// Facts for every host in one round trip, including what the play's
    /// tasks will ask for (so a no-op re-run needs no other command).
    async fn gather(&mut self, hosts: &[usize], index: usize, play: &Play) {
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
                Err(GatherError::Failed(m)) => {
                    s.failed = true;
                    s.worst = s.worst.max(ExitCode::HostFailed);
                    s.stats.record(Outcome::Failed);
                    Some(m)
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
                let (vars, _) = resolve_vars(&self.env, s, &play.vars);
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
    ) -> Vec<(usize, Result<i64, String>)> {
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
    ) -> Vec<(usize, Result<i64, String>, Option<RiderOutput>)> {
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
                            Err(e.to_string())
                        }
                        Err(GatherError::Failed(m)) => Err(m),
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
                out.push((i, Err(why.clone()), None));
            }
        }
        self.refresh_hostvars();
        out.sort_by_key(|(i, _, _)| *i);
        out
    }

    /// `hostvars` as every host sees it: inventory vars plus facts.
    /// Facts are shared with the sessions, not copied.
    fn refresh_hostvars(&mut self) {
        let mut all = BTreeMap::new();
        for s in self.sessions.iter().flatten() {
            let mut v = Scope::default();
            v.layer(&s.inventory_vars);
            v.layer_values(&s.fact_vars);
            v.layer(&s.registered);
            all.insert(s.name.clone(), v.value());
        }
        if let Ok(mut h) = self.env.hostvars.write() {
            *h = minijinja::Value::from(all);
        }
    }

    /// Tell the tasks to come which hosts failed or were unreachable so far
    /// (`kubestrap_failed_hosts`, in inventory order).
    fn publish_failed_hosts(&self) {
        let failed: Vec<Json> = self
            .sessions
            .iter()
            .flatten()
            .filter(|s| !s.active())
            .map(|s| Json::from(s.name.as_str()))
            .collect();
        if let Ok(mut f) = self.env.failed_hosts.write() {
            *f = Json::Array(failed);
        }
    }

    /// Run task `t` (or handler `t`) of play `index` on `hosts`, print and record it.
    async fn run_on(
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
        let work = self.on_hosts(hosts, |mut s| {
            let (env, playbook, reporter, running, title) = (
                env.clone(),
                playbook.clone(),
                reporter.clone(),
                running.clone(),
                title.clone(),
            );
            async move {
                let play = &playbook.plays[index];
                let task = task_of(&playbook, index, t, handler);
                say_status(&*reporter, &s.name, &title);
                let task_become = Become {
                    on: task.become_,
                    user: task.become_user.as_deref(),
                };
                let who = run_as(&s.target, &[task_become, play_become(play)]);
                // After SIGINT a running task has a grace period; then it
                // is dropped with its channel, and the session comes home.
                // Boxed: inline, the task's future is laid out in the
                // select's state more than once (~19 KB per host instead
                // of ~7 KB), and all hosts of a task hold theirs at once.
                let r = tokio::select! {
                    r = Box::pin(run_task(&env, task, who.as_deref(), &mut s)) => r,
                    _ = crate::interrupt::grace_over() => TaskResult::interrupted(),
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
                (s, (r, warning))
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
        let ordered: Vec<(usize, TaskResult)> = ordered
            .into_iter()
            .map(|(i, (r, warning))| {
                if let Some(msg) = warning {
                    let host = self.session(i).name.clone();
                    self.emit(Event::Warning { host, msg });
                }
                (i, r)
            })
            .collect();
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
        ordered
    }

    /// Handlers run once per host, in the order they are defined, on the
    /// hosts whose tasks notified them (or an earlier run did: the host's
    /// record) and that are still active; with `force`, also on hosts that
    /// failed a task, as long as they can be reached.
    async fn run_handlers(&mut self, hosts: &[usize], index: usize, play: &Play, force: bool) {
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

/// Render play vars the way Ansible resolves them: lazily, so a var may use
/// any other whatever their order. Each pass renders the vars whose
/// references are already resolved; it stops when a pass makes no progress.
/// Returns the rendered vars and, for the rest, why they could not be.
fn resolve_vars(
    env: &RunEnv,
    s: &mut HostSession,
    raw: &Map<String, Json>,
) -> (Map<String, Json>, Vec<(String, String)>) {
    s.play_vars = Map::new();
    let mut pending: Vec<(&String, &Json)> = raw.iter().collect();
    let mut failures = Vec::new();
    while !pending.is_empty() {
        failures.clear();
        let before = pending.len();
        let mut still = Vec::new();
        for (k, v) in pending {
            match scope(env, s, None).and_then(|sc| env.renderer.render_value(v, &sc.value())) {
                Ok(rendered) => {
                    s.play_vars.insert(k.clone(), rendered);
                }
                Err(e) => {
                    failures.push((k.clone(), e));
                    still.push((k, v));
                }
            }
        }
        if still.len() == before {
            break;
        }
        pending = still;
    }
    (std::mem::take(&mut s.play_vars), failures)
}

/// This machine's clock, in seconds since the epoch.
fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
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
fn record(s: &mut HostSession, task: &Task, r: &TaskResult, play: &Play) {
    match (r.outcome, r.ignored) {
        (Outcome::Failed, true) => s.stats.ignored += 1,
        (o, _) => s.stats.record(o),
    }
    if let Some(name) = &task.register {
        s.registered.insert(name.clone(), r.registered.clone());
    }
    if r.outcome == Outcome::Changed {
        s.notified.extend(handlers::notified_by(play, task));
    }
    match r.outcome {
        Outcome::Failed if !r.ignored => {
            s.failed = true;
            s.worst = s.worst.max(ExitCode::HostFailed);
        }
        Outcome::Unreachable => {
            s.unreachable = Some(r.msg.clone());
            s.worst = s.worst.max(ExitCode::Unreachable);
        }
        _ => {}
    }
}

/// The facts a play's tasks will need on this host, found by rendering each
/// task's arguments with what is known before the play runs. Tasks whose
/// arguments depend on results not known yet are asked about when they run.
fn predict_needs(env: &RunEnv, s: &HostSession, play: &Play) -> Vec<FactRequest> {
    let Ok(sc) = scope(env, s, None) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for task in play.tasks.iter().chain(&play.handlers) {
        let items: Vec<Option<Json>> = match &task.loop_ {
            None => vec![None],
            Some(spec) => match env.renderer.render_value(spec, &sc.value()) {
                Ok(Json::Array(items)) => items.into_iter().map(Some).collect(),
                _ => continue,
            },
        };
        for item in items {
            let mut scope_i = sc.clone();
            if let Some(item) = &item {
                scope_i.set_json(&task.loop_var, item);
            }
            // A task its conditions skip needs no facts; one whose
            // conditions cannot be told yet is asked for.
            if matches!(all_true(env, &task.when, &scope_i.value()), Ok(false)) {
                continue;
            }
            if let Ok(Json::Object(m)) = env
                .renderer
                .render_value(&Json::Object(task.args.clone()), &scope_i.value())
            {
                if let Ok(n) = task.module.needs(&Args(m)) {
                    out.extend(n);
                }
            }
        }
    }
    out
}

/// A play's become settings, as the run-as rule takes them.
fn play_become(play: &Play) -> Become<'_> {
    Become {
        on: play.become_,
        user: play.become_user.as_deref(),
    }
}

/// Tell the reporters what a host is doing now.
fn say_status(reporter: &dyn Reporter, host: &str, status: &str) {
    reporter.emit(&Event::HostStatus {
        host: host.into(),
        status: status.into(),
    });
}
