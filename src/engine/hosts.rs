//! The runner's hosts: their sessions taken out and put back around concurrent work, connections, play vars, hostvars.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use super::error::CommandError;
use super::play_run::{say_status, Runner};
use super::session::HostSession;
use super::task_run::{scope_with, RunEnv};
use crate::playbook::{Play, Playbook};
use crate::render::vars::Scope;
use crate::render::RenderError;
use crate::report::{Event, Outcome};
use crate::ssh::run_as::as_root;
use crate::ssh::Connection;

impl Runner {
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
    ) -> Result<crate::ssh::Output, CommandError> {
        Ok(self
            .connection_of(host)?
            .run_with(command, None, as_root(), &self.env.opts)
            .await?)
    }

    /// Run one command on a host as root, its stdout streamed to `sink`
    /// (a file copied to the operator's machine, whatever its size).
    pub async fn run_streaming(
        &self,
        host: &str,
        command: &str,
        sink: crate::ssh::StdoutSink<'_>,
    ) -> Result<crate::ssh::Output, CommandError> {
        Ok(self
            .connection_of(host)?
            .run_streaming(command, as_root(), &self.env.opts, sink)
            .await?)
    }

    /// Run one command on a host as root with `stdin` (a file copied to
    /// the host goes this way, never on a command line).
    pub async fn run_with_stdin(
        &self,
        host: &str,
        command: &str,
        stdin: Vec<u8>,
    ) -> Result<crate::ssh::Output, CommandError> {
        Ok(self
            .connection_of(host)?
            .run_with(command, Some(stdin), as_root(), &self.env.opts)
            .await?)
    }

    fn connection_of(&self, host: &str) -> Result<&Connection, CommandError> {
        let s = self
            .sessions
            .iter()
            .flatten()
            .find(|s| s.name == host)
            .ok_or_else(|| CommandError::NoSuchHost {
                host: host.to_string(),
            })?;
        s.conn.as_deref().ok_or_else(|| CommandError::NotConnected {
            host: host.to_string(),
        })
    }

    /// Count an outcome of a command run outside a playbook on `host` in
    /// the PLAY RECAP that ends the run.
    pub fn record(&mut self, host: &str, outcome: Outcome) {
        if let Some(s) = self.sessions.iter_mut().flatten().find(|s| s.name == host) {
            s.stats.record(outcome);
        }
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

    /// A host's session by name, when it is home.
    pub fn session_named(&self, name: &str) -> Option<&HostSession> {
        self.sessions.iter().flatten().find(|s| s.name == name)
    }

    /// A host's facts by name, when they were gathered.
    pub fn facts_of(&self, name: &str) -> Option<&crate::facts::Facts> {
        self.session_named(name)?.facts.as_ref()
    }

    pub(super) fn session(&self, i: usize) -> &HostSession {
        self.sessions[i]
            .as_ref()
            .expect("session is home between tasks")
    }

    /// Take sessions out, run `work` on each concurrently (bounded by forks),
    /// and put them back.
    pub(super) async fn on_hosts<R, F, Fut>(&mut self, hosts: &[usize], work: F) -> Vec<(usize, R)>
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
    pub(super) fn render_play_vars(&mut self, hosts: &[usize], play: &Play) {
        for &i in hosts {
            let Some(s) = self.sessions[i].as_mut() else {
                continue;
            };
            let (vars, failures) = resolve_vars(&self.env, s, play);
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

    /// `hostvars` as every host sees it: inventory vars plus facts.
    /// Facts are shared with the sessions, not copied.
    pub(super) fn refresh_hostvars(&mut self) {
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
}

/// Render a host's play vars the way Ansible resolves them (see
/// [`render_lazily`]). Returns the rendered vars and, for the rest, why
/// they could not be.
pub(super) fn resolve_vars(
    env: &RunEnv,
    s: &HostSession,
    play: &Play,
) -> (Map<String, Json>, Vec<(String, RenderError)>) {
    let raw = with_role_defaults(s, play);
    render_lazily(&raw, |done, v| {
        scope_with(env, s, done, None).and_then(|sc| env.renderer.render_value(v, &sc.value()))
    })
}

/// The play's vars with its roles' defaults under them: a default counts
/// only where no inventory var or fact has the name (Ansible's lowest
/// precedence), and costs nothing for a play without roles.
fn with_role_defaults<'p>(
    s: &HostSession,
    play: &'p Play,
) -> std::borrow::Cow<'p, Map<String, Json>> {
    if play.role_defaults.is_empty() {
        return std::borrow::Cow::Borrowed(&play.vars);
    }
    let mut raw: Map<String, Json> = play
        .role_defaults
        .iter()
        .filter(|(k, _)| !s.inventory_vars.contains_key(*k) && !s.fact_vars.contains_key(*k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    raw.extend(play.vars.clone());
    std::borrow::Cow::Owned(raw)
}

/// Render vars lazily, as Ansible does, so a var may use any other whatever
/// their order: `render(done, value)` renders one with those rendered so
/// far. Each pass renders the vars whose references are already resolved;
/// it stops when a pass makes no progress. Returns the rendered vars and,
/// for the rest, why they could not be.
pub(super) fn render_lazily(
    raw: &Map<String, Json>,
    mut render: impl FnMut(&Map<String, Json>, &Json) -> Result<Json, RenderError>,
) -> (Map<String, Json>, Vec<(String, RenderError)>) {
    let mut done = Map::new();
    let mut pending: Vec<(&String, &Json)> = raw.iter().collect();
    let mut failures = Vec::new();
    while !pending.is_empty() {
        failures.clear();
        let before = pending.len();
        let mut still = Vec::new();
        for (k, v) in pending {
            match render(&done, v) {
                Ok(rendered) => {
                    done.insert(k.clone(), rendered);
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
    (done, failures)
}
