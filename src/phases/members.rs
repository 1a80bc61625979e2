//! The cluster's members as `apply` last saw them, kept in the state directory so `remove` knows a node already deleted from the inventory.
//!
//! `members.json` (0600, replaced atomically) lists every host `apply`
//! took into the cluster: its name, whether it is a control plane, and the
//! address kubestrap reached it at. The cluster's Node list stays the truth
//! about who is a member now; the record only answers what the inventory
//! may no longer say (a deleted host's role and address).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cluster::state::write_private_file;
use crate::inventory::{Inventory, Role};
use crate::phases::cluster_run::ClusterRun;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::Event;
use crate::{Error, ExitCode};

const FILE: &str = "members.json";

/// One member as the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    pub control_plane: bool,
    /// Where kubestrap reaches it over SSH (the inventory's address, or its name).
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
}

pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// The record (empty when there is none yet).
pub fn read(state_dir: &Path) -> Result<Vec<Member>, Error> {
    let p = path(state_dir);
    match std::fs::read_to_string(&p) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| Error::StateRecord {
            path: p,
            problem: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::Io { path: p, source: e }),
    }
}

/// The inventory's cluster hosts as members.
pub fn of_inventory(inv: &Inventory) -> Vec<Member> {
    inv.hosts
        .iter()
        .filter(|h| h.roles.contains(&Role::ControlPlane) || h.roles.contains(&Role::Worker))
        .map(|h| Member {
            name: h.name.clone(),
            control_plane: h.roles.contains(&Role::ControlPlane),
            address: h.address.clone().unwrap_or_else(|| h.name.clone()),
            port: h.port,
            user: h.user.clone(),
        })
        .collect()
}

/// `old` with every member of `seen` added or brought up to date, in the
/// old order and then the new one's.
pub fn merged(old: Vec<Member>, seen: &[Member]) -> Vec<Member> {
    let mut all = old;
    for m in seen {
        match all.iter_mut().find(|o| o.name == m.name) {
            Some(o) => *o = m.clone(),
            None => all.push(m.clone()),
        }
    }
    all
}

/// Replace the record with `members`.
pub fn write(state_dir: &Path, members: &[Member]) -> Result<(), Error> {
    std::fs::create_dir_all(state_dir).map_err(|e| Error::Io {
        path: state_dir.to_path_buf(),
        source: e,
    })?;
    let text = serde_json::to_string_pretty(members).expect("plain data serializes");
    Ok(write_private_file(&path(state_dir), text.as_bytes())?)
}

/// Phase (apply, after the cluster stage): the hosts of this run that
/// went through join the record.
pub struct RecordMembers;

impl<'r> Phase<ClusterRun<'r>> for RecordMembers {
    fn title(&self) -> &'static str {
        "member record"
    }

    fn stage(&self) -> Option<&'static str> {
        Some("cluster")
    }

    fn runs_in_check(&self) -> bool {
        false
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let runner = &*ctx.runner;
            let went_through = |name: &str| {
                runner.sessions.iter().flatten().any(|s| {
                    s.name == name && runner.limit.contains(&s.name) && s.active() && !s.failed
                })
            };
            let seen: Vec<Member> = of_inventory(&runner.inventory)
                .into_iter()
                .filter(|m| went_through(&m.name))
                .collect();
            record(ctx, &seen)
        })
    }
}

/// `seen` merged into the record; a record that cannot be written is said
/// and counted, and the run goes on (the cluster changed all the same).
pub fn record(ctx: &ClusterRun<'_>, seen: &[Member]) -> Flow {
    let result = read(&ctx.state_path).and_then(|old| write(&ctx.state_path, &merged(old, seen)));
    match result {
        Ok(()) => Flow::Next(ExitCode::Ok),
        Err(e) => {
            ctx.runner.emit(Event::Error(e.to_string()));
            Flow::Next(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, cp: bool, address: &str) -> Member {
        Member {
            name: name.into(),
            control_plane: cp,
            address: address.into(),
            port: None,
            user: None,
        }
    }

    #[test]
    fn the_record_keeps_deleted_hosts_and_follows_changed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("state");
        assert!(read(&d).unwrap().is_empty());
        write(
            &d,
            &[m("cp1", true, "10.0.0.1"), m("w1", false, "10.0.0.2")],
        )
        .unwrap();
        // w1 left the inventory, w2 came, cp1 moved.
        let now = merged(
            read(&d).unwrap(),
            &[m("cp1", true, "10.0.0.9"), m("w2", false, "10.0.0.3")],
        );
        write(&d, &now).unwrap();
        assert_eq!(
            read(&d).unwrap(),
            [
                m("cp1", true, "10.0.0.9"),
                m("w1", false, "10.0.0.2"),
                m("w2", false, "10.0.0.3")
            ]
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::write(d.join(FILE), "{").unwrap();
        let err = read(&d).unwrap_err().to_string();
        assert!(err.contains("members.json"), "{err}");
    }
}
