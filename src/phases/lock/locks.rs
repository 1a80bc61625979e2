//! The locks a run holds: taken on open connections, renewed by a heartbeat, given back at the end.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::scripts::{release_script, renew_script, take_script};
use super::{taken, Me, Refused, COMMAND_BOUND, HEARTBEAT, HELD, LEASE};
use crate::engine::{BetweenTasks, Runner};
use crate::report::{Event, Reporter};
use crate::ssh::run_as::as_root;
use crate::ssh::{shell_quote, Connection, Options, SshError};

/// The locks a run holds, and the heartbeat that keeps them.
pub struct Locks {
    pub me: Me,
    /// Locked hosts and the connection each is renewed on. Weak, so a task
    /// that replaces a host's connection can still close the old one.
    conns: Arc<Mutex<HashMap<String, Weak<Connection>>>>,
    opts: Options,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
    /// Where the heartbeat's and the release's warnings go.
    reporter: Arc<dyn Reporter>,
}

/// Why a lock script got no output from a host.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("no answer within {} s", .within.as_secs())]
    NoAnswer { within: std::time::Duration },
}

/// Run `script` as root on each connection at once, each bounded; per host
/// its output or why not.
async fn on_all(
    conns: Vec<(String, Arc<Connection>)>,
    script: String,
    opts: &Options,
) -> Vec<(String, Result<crate::ssh::Output, ScriptError>)> {
    let mut set = tokio::task::JoinSet::new();
    for (name, conn) in conns {
        let (script, opts) = (script.clone(), opts.clone());
        set.spawn(async move {
            let command = format!("/bin/sh -c {}", shell_quote(&script));
            let run = conn.run_with(&command, None, as_root(), &opts);
            let r = match tokio::time::timeout(COMMAND_BOUND, run).await {
                Ok(Ok(out)) => Ok(out),
                Ok(Err(e)) => Err(ScriptError::Ssh(e)),
                Err(_) => Err(ScriptError::NoAnswer {
                    within: COMMAND_BOUND,
                }),
            };
            (name, r)
        });
    }
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(r) = r {
            out.push(r);
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

impl Locks {
    /// No lock yet; [`Locks::add`] records each one taken.
    pub fn new(me: Me, opts: Options, reporter: Arc<dyn Reporter>) -> Locks {
        Locks {
            me,
            conns: Arc::new(Mutex::new(HashMap::new())),
            opts,
            heartbeat: None,
            reporter,
        }
    }

    /// `host`'s lock was taken on `conn`.
    pub fn add(&self, host: &str, conn: &Arc<Connection>) {
        if let Ok(mut c) = self.conns.lock() {
            c.insert(host.to_string(), Arc::downgrade(conn));
        }
    }

    /// Whether `host`'s lock is held by this run.
    pub fn holds(&self, host: &str) -> bool {
        self.conns.lock().is_ok_and(|c| c.contains_key(host))
    }

    /// Take the lock on each of `conns` at once (one command each); every
    /// refusal is returned, and the locks taken are added.
    pub async fn take(&self, conns: Vec<(String, Arc<Connection>)>, force: bool) -> Vec<Refused> {
        let results = on_all(conns.clone(), take_script(&self.me, force), &self.opts).await;
        let mut refused = Vec::new();
        for (name, r) in results {
            let verdict = match r {
                Ok(out) => taken(&name, out.exit_status, &out.stdout, &out.stderr),
                Err(e) => Err(Refused::Failed(name.clone(), e.to_string())),
            };
            match verdict {
                Ok(()) => {
                    if let Some((_, c)) = conns.iter().find(|(n, _)| *n == name) {
                        self.add(&name, c);
                    }
                }
                Err(r) => refused.push(r),
            }
        }
        refused
    }

    /// Renew the leases every [`HEARTBEAT`] until released.
    pub fn start_heartbeat(&mut self) {
        let conns = self.conns.clone();
        let (me, opts) = (self.me.clone(), self.opts.clone());
        let reporter = self.reporter.clone();
        self.heartbeat = Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEARTBEAT);
            tick.tick().await;
            loop {
                tick.tick().await;
                let now: Vec<(String, Arc<Connection>)> = conns
                    .lock()
                    .map(|c| {
                        c.iter()
                            .filter_map(|(n, c)| Some((n.clone(), c.upgrade()?)))
                            .collect()
                    })
                    .unwrap_or_default();
                for (name, r) in on_all(now, renew_script(&me), &opts).await {
                    match r {
                        Ok(out) if out.success() => {}
                        Ok(out) if out.exit_status == Some(HELD) => {
                            reporter.emit(&Event::Notice(format!(
                                "warning: {name}: the lock was taken over by another run ({})",
                                String::from_utf8_lossy(&out.stdout)
                                    .trim()
                                    .replace('\n', ", ")
                            )))
                        }
                        Ok(out) => tracing::warn!("{name}: renewing the lock: rc={}", out.rc()),
                        Err(e) => tracing::warn!("{name}: renewing the lock: {e}"),
                    }
                }
            }
        }));
    }

    /// What the engine calls between tasks to keep the heartbeat on the
    /// hosts' current connections (a task may have replaced one, e.g. after
    /// changing the host's network).
    pub fn follower(&self) -> Arc<dyn BetweenTasks> {
        Arc::new(FollowConnections(self.conns.clone()))
    }

    /// The same, once, now.
    pub fn refresh(&self, runner: &Runner) {
        self.follower().between_tasks(runner);
    }

    /// Stop the heartbeat and remove this run's lock files (bounded).
    pub async fn release(&mut self) {
        if let Some(h) = self.heartbeat.take() {
            h.abort();
            let _ = h.await;
        }
        let conns: Vec<(String, Arc<Connection>)> = self
            .conns
            .lock()
            .map(|mut c| {
                c.drain()
                    .filter_map(|(n, c)| Some((n, c.upgrade()?)))
                    .collect()
            })
            .unwrap_or_default();
        for (name, r) in on_all(conns, release_script(&self.me), &self.opts).await {
            match r {
                Ok(out) if out.success() => {}
                Ok(out) => self.reporter.emit(&Event::Notice(format!(
                    "warning: {name}: could not release the lock (rc={}); it expires within {} s",
                    out.rc(),
                    LEASE.as_secs()
                ))),
                Err(e) => self.reporter.emit(&Event::Notice(format!(
                    "warning: {name}: could not release the lock ({e}); it expires within {} s",
                    LEASE.as_secs()
                ))),
            }
        }
    }
}

/// Keeps the heartbeat's connections those the hosts use now.
struct FollowConnections(Arc<Mutex<HashMap<String, Weak<Connection>>>>);

impl BetweenTasks for FollowConnections {
    fn between_tasks(&self, runner: &Runner) {
        if let Ok(mut conns) = self.0.lock() {
            for s in runner.sessions.iter().flatten() {
                if let (Some(slot), Some(c)) = (conns.get_mut(&s.name), s.conn.as_ref()) {
                    if !Weak::ptr_eq(slot, &Arc::downgrade(c)) {
                        *slot = Arc::downgrade(c);
                    }
                }
            }
        }
    }
}
