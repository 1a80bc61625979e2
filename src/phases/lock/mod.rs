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

use std::time::Duration;

use crate::engine::session::HostSession;
use crate::facts::Facts;

mod locks;
mod scripts;

pub use locks::Locks;
pub use scripts::{release_script, renew_script, take_script};

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

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM:SS UTC` for seconds since the epoch.
pub fn utc(secs: i64) -> String {
    let (year, month, day, rem) = crate::utc::civil(secs);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;
