//! Host locks: one `apply` at a time on a host, and no lock outlives a dead run for long.
//!
//! The lock is a small file, [`LOCK_PATH`], on every host the run changes.
//! It names its holder (operator user and machine, kubestrap's pid, since
//! when) and carries a lease expiry in the host's own clock. Taking,
//! renewing and releasing it are each one short script on the host's open
//! connection, serialised on the host by `flock`, the file replaced
//! atomically. Whether another run holds it is already known from the
//! facts gathered for preflight (the lock file is one of them), so a second
//! run refuses before it takes anything.
//!
//! While the run lasts a heartbeat renews the lease every [`HEARTBEAT`];
//! the run releases its locks at the end, also after a failure or SIGINT. A
//! run killed outright leaves its lock behind, and that lock expires by
//! itself after [`LEASE`]; `--force-unlock` takes a lock whoever holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::engine::session::HostSession;
use crate::engine::{BetweenTasks, Runner};
use crate::facts::Facts;
use crate::report::{Event, Reporter};
use crate::ssh::run_as::as_root;
use crate::ssh::{shell_quote, Connection, Options};

/// The lock file on each host.
pub const LOCK_PATH: &str = "/var/lib/kubestrap/lock";
/// A lock not renewed for this long is free again.
pub const LEASE: Duration = Duration::from_secs(120);
/// How often a running apply renews its leases.
pub const HEARTBEAT: Duration = Duration::from_secs(30);
/// The script's exit status when another run holds the lock.
const HELD: u32 = 75;
/// Bound on one lock command, so a dead host cannot hold up the end of a run.
const COMMAND_BOUND: Duration = Duration::from_secs(15);

/// Who holds a host's lock, as its lock file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Random per run: tells this run's lock from another's.
    pub id: String,
    /// `user@machine` of the operator.
    pub operator: String,
    pub pid: u32,
    /// When that run started (seconds since the epoch, operator's clock).
    pub since: i64,
    /// When the lease ends (seconds since the epoch, the host's clock).
    pub expires: i64,
}

impl Holder {
    /// Parse a lock file (`key=value` lines); None when it is not one.
    pub fn parse(text: &str) -> Option<Holder> {
        let mut id = None;
        let mut operator = String::new();
        let mut pid = 0;
        let mut since = 0;
        let mut expires = 0;
        for line in text.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            match k.trim() {
                "id" => id = Some(v.trim().to_string()),
                "operator" => operator = v.trim().to_string(),
                "pid" => pid = v.trim().parse().unwrap_or(0),
                "since" => since = v.trim().parse().unwrap_or(0),
                "expires" => expires = v.trim().parse().unwrap_or(0),
                _ => {}
            }
        }
        Some(Holder {
            id: id.filter(|i| !i.is_empty())?,
            operator,
            pid,
            since,
            expires,
        })
    }

    /// One line for an operator: who, which process, since when, until when.
    pub fn describe(&self, host_now: i64) -> String {
        format!(
            "kubestrap pid {} of {}, since {} (lease ends in {} s unless renewed)",
            self.pid,
            self.operator,
            utc(self.since),
            (self.expires - host_now).max(0)
        )
    }
}

/// This run, as its lock files name it.
#[derive(Debug, Clone)]
pub struct Me {
    pub id: String,
    pub operator: String,
    pub pid: u32,
    pub since: i64,
}

impl Me {
    pub fn new() -> Me {
        let mut bytes = [0u8; 12];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
        let user = crate::ssh::target::local_user();
        let machine = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .or_else(|_| std::fs::read_to_string("/etc/hostname"))
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| std::env::var("HOSTNAME").ok())
            .unwrap_or_else(|| "unknown".into());
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_ascii_graphic() { c } else { '_' })
                .collect()
        };
        Me {
            id: data_encoding::HEXLOWER.encode(&bytes),
            operator: format!("{}@{}", clean(&user), clean(&machine)),
            pid: std::process::id(),
            since: now_secs(),
        }
    }
}

impl Default for Me {
    fn default() -> Self {
        Me::new()
    }
}

/// The holder of `host`'s lock when it is another run whose lease has not
/// ended, judged from gathered facts (the host's own clock).
pub fn held_elsewhere(facts: &Facts, me: &Me) -> Option<Holder> {
    let content = facts.files.get(LOCK_PATH)?.content.as_ref()?;
    let holder = Holder::parse(&String::from_utf8_lossy(content))?;
    (holder.id != me.id && holder.expires > facts.time).then_some(holder)
}

/// The script's common start: the directory, and the host-wide mutex
/// every take, renew and release holds while it looks and writes.
fn prologue() -> String {
    let dir = LOCK_PATH.rsplit_once('/').map(|(d, _)| d).unwrap_or("/");
    format!(
        "set -e\nd={dir}\nlock={LOCK_PATH}\nmkdir -p -m 0700 \"$d\"\nexec 9>\"$d/lock.mutex\"\nflock -w 10 9\nnow=$(date +%s)\n"
    )
}

/// Write the lock file for `me` atomically with a fresh lease.
fn write_lock(me: &Me) -> String {
    format!(
        "tmp=$(mktemp \"$d/.lock.XXXXXX\")\nprintf 'id=%s\\noperator=%s\\npid=%s\\nsince=%s\\nexpires=%s\\n' {} {} {} {} \"$((now + {}))\" >\"$tmp\"\nsync \"$tmp\" 2>/dev/null || true\nmv -f \"$tmp\" \"$lock\"\n",
        shell_quote(&me.id),
        shell_quote(&me.operator),
        me.pid,
        me.since,
        LEASE.as_secs()
    )
}

/// Take the lock unless another run's lease is live (then print its lock
/// file and exit [`HELD`]); `force` takes it regardless.
pub fn take_script(me: &Me, force: bool) -> String {
    let check = if force {
        String::new()
    } else {
        format!(
            "if [ -f \"$lock\" ]; then\n  id=$(sed -n 's/^id=//p' \"$lock\")\n  exp=$(sed -n 's/^expires=//p' \"$lock\")\n  if [ \"$id\" != {} ] && [ \"${{exp:-0}}\" -gt \"$now\" ] 2>/dev/null; then cat \"$lock\"; echo \"now=$now\"; exit {HELD}; fi\nfi\n",
            shell_quote(&me.id)
        )
    };
    format!("{}{check}{}", prologue(), write_lock(me))
}

/// Extend the lease if the lock is still `me`'s; else print it and exit [`HELD`].
pub fn renew_script(me: &Me) -> String {
    format!(
        "{}id=$(sed -n 's/^id=//p' \"$lock\" 2>/dev/null || true)\nif [ \"$id\" != {} ]; then cat \"$lock\" 2>/dev/null || true; echo \"now=$now\"; exit {HELD}; fi\n{}",
        prologue(),
        shell_quote(&me.id),
        write_lock(me)
    )
}

/// Remove the lock if it is `me`'s (never another run's).
pub fn release_script(me: &Me) -> String {
    format!(
        "{}id=$(sed -n 's/^id=//p' \"$lock\" 2>/dev/null || true)\nif [ \"$id\" = {} ]; then rm -f \"$lock\"; fi\n",
        prologue(),
        shell_quote(&me.id)
    )
}

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

/// Why a lock could not be taken on a host.
pub enum Refused {
    Held(String, Holder, i64),
    Failed(String, String),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Held(host, h, now) => write!(
                f,
                "{host} is locked by another run: {} (lock file {LOCK_PATH} on {host}; if that run is dead, wait for its lease to end or use --force-unlock)",
                h.describe(*now)
            ),
            Refused::Failed(host, why) => write!(f, "{host}: cannot take the lock: {why}"),
        }
    }
}

/// Run `script` as root on each connection at once, each bounded; per host
/// its output or why not.
async fn on_all(
    conns: Vec<(String, Arc<Connection>)>,
    script: String,
    opts: &Options,
) -> Vec<(String, Result<crate::ssh::Output, String>)> {
    let mut set = tokio::task::JoinSet::new();
    for (name, conn) in conns {
        let (script, opts) = (script.clone(), opts.clone());
        set.spawn(async move {
            let command = format!("/bin/sh -c {}", shell_quote(&script));
            let run = conn.run_with(&command, None, as_root(), &opts);
            let r = match tokio::time::timeout(COMMAND_BOUND, run).await {
                Ok(Ok(out)) => Ok(out),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {} s", COMMAND_BOUND.as_secs())),
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

/// The hosts of `names` whose lock file (in their facts) names another
/// live run, with that holder and the host's clock.
pub fn check(sessions: &[Option<HostSession>], names: &[String], me: &Me) -> Vec<Refused> {
    sessions
        .iter()
        .flatten()
        .filter(|s| names.contains(&s.name))
        .filter_map(|s| {
            let f = s.facts.as_ref()?;
            held_elsewhere(f, me).map(|h| Refused::Held(s.name.clone(), h, f.time))
        })
        .collect()
}

/// What [`take_script`] said on `host`, run alone or riding with the gather:
/// taken, or why not.
pub fn taken(host: &str, status: Option<u32>, stdout: &[u8], stderr: &[u8]) -> Result<(), Refused> {
    match status {
        Some(0) => Ok(()),
        Some(HELD) => {
            let text = String::from_utf8_lossy(stdout).into_owned();
            let now = text
                .lines()
                .find_map(|l| l.strip_prefix("now="))
                .and_then(|n| n.trim().parse().ok())
                .unwrap_or_else(now_secs);
            Err(match Holder::parse(&text) {
                Some(h) => Refused::Held(host.into(), h, now),
                None => Refused::Failed(host.into(), "held by another run".into()),
            })
        }
        other => Err(Refused::Failed(
            host.into(),
            format!(
                "rc={}: {}",
                other.map_or(-1, i64::from),
                String::from_utf8_lossy(if stderr.is_empty() { stdout } else { stderr }).trim()
            ),
        )),
    }
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
                Err(e) => Err(Refused::Failed(name.clone(), e)),
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

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM:SS UTC` for seconds since the epoch.
pub fn utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FileKind, FileState};

    fn facts_with(lock: Option<&str>, time: i64) -> Facts {
        let mut f = Facts {
            time,
            ..Default::default()
        };
        f.files.insert(
            LOCK_PATH.into(),
            FileState {
                kind: if lock.is_some() {
                    FileKind::File
                } else {
                    FileKind::Missing
                },
                content: lock.map(|l| l.as_bytes().to_vec()),
                ..Default::default()
            },
        );
        f
    }

    #[test]
    fn a_live_foreign_lock_is_held_an_expired_or_own_one_is_not() {
        let me = Me::new();
        let text = "id=abc\noperator=ops@laptop\npid=4242\nsince=1700000000\nexpires=1700000120\n";
        let h = held_elsewhere(&facts_with(Some(text), 1_700_000_100), &me).unwrap();
        assert_eq!((h.pid, h.operator.as_str()), (4242, "ops@laptop"));
        let line = h.describe(1_700_000_100);
        assert!(
            line.contains("pid 4242 of ops@laptop, since 2023-11-14 22:13:20 UTC"),
            "{line}"
        );
        assert!(line.contains("ends in 20 s"), "{line}");
        assert!(held_elsewhere(&facts_with(Some(text), 1_700_000_120), &me).is_none());
        let mine = text.replace("id=abc", &format!("id={}", me.id));
        assert!(held_elsewhere(&facts_with(Some(&mine), 1_700_000_100), &me).is_none());
        assert!(held_elsewhere(&facts_with(None, 0), &me).is_none());
        assert!(held_elsewhere(&facts_with(Some("garbage"), 0), &me).is_none());
    }

    #[test]
    fn scripts_write_atomically_and_only_touch_their_own_lock() {
        let me = Me::new();
        let take = take_script(&me, false);
        assert!(take.contains("flock -w 10 9") && take.contains("mv -f \"$tmp\" \"$lock\""));
        assert!(take.contains("exit 75"));
        assert!(
            !take_script(&me, true).contains("exit 75"),
            "force takes it"
        );
        assert!(release_script(&me).contains(&format!("[ \"$id\" = '{}' ]", me.id)));
        assert!(renew_script(&me).contains("exit 75"));
    }

    #[test]
    fn utc_formats_the_epoch() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
    }
}
