//! `kubestrap remove NODE... -i INV`: nodes leave the cluster (drained, reset, deleted), or a dead server's node is forgotten so a replacement can join.

use std::path::PathBuf;
use std::sync::Arc;

use super::apply::load_playbook;
use super::connect::SshRequest;
use crate::cluster::state::StateDir;
use crate::engine::{RunRequest, Session};
use crate::inventory::{self, Host, Role};
use crate::phases::cluster_run::ClusterRun;
use crate::phases::manager::{Manager, Phase};
use crate::phases::members::{self, Member};
use crate::phases::remove::{RecordRemoved, Remove, RemovePlan};
use crate::phases::{connect::Connect, gather::Gather, locking};
use crate::{Error, ExitCode};

/// What `kubestrap remove` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RemoveRequest {
    pub inventory: PathBuf,
    /// The node names, as the cluster (and the inventory) name them.
    pub nodes: Vec<String>,
    pub state_dir: Option<PathBuf>,
    /// `--check`: show what would happen, change nothing.
    pub check: bool,
    /// A drain a PodDisruptionBudget blocks does not stop the removal.
    pub force: bool,
    /// Purge the Kubernetes packages instead of keeping them held.
    pub purge: bool,
    /// How long a drain may wait for evictions (`300s`).
    pub drain_timeout: String,
    pub force_unlock: bool,
    pub report: Option<PathBuf>,
    pub verbose: bool,
    pub ssh: SshRequest,
}

/// remove, phase by phase.
fn phases<'p, 'r: 'p>(
    plan: RemovePlan,
    remove: Remove,
) -> Vec<Box<dyn Phase<ClusterRun<'r>> + 'p>> {
    vec![
        Box::new(Connect),
        Box::new(Gather),
        Box::new(plan),
        Box::new(locking::Lock),
        Box::new(remove),
        Box::new(RecordRemoved),
        Box::new(locking::Unlock),
    ]
}

/// The asked nodes the inventory no longer has, put back from the member
/// record (so they can be reached at their address); a name neither knows
/// is refused.
fn with_remembered(
    hosts: &mut Vec<Host>,
    asked: &[String],
    record: &[Member],
    inventory: &std::path::Path,
    state_path: &std::path::Path,
) -> Result<(), Error> {
    for name in asked {
        if hosts.iter().any(|h| &h.name == name) {
            continue;
        }
        let m = record
            .iter()
            .find(|m| &m.name == name)
            .ok_or_else(|| Error::UnknownNode {
                node: name.clone(),
                inventory: inventory.to_path_buf(),
                record: members::path(state_path),
            })?;
        let role = if m.control_plane {
            Role::ControlPlane
        } else {
            Role::Worker
        };
        // Connection settings the record lacks come from the inventory's
        // other hosts of that role, as the host was likely set up alike.
        let like = hosts.iter().find(|h| h.roles.contains(&role)).cloned();
        let like = like.as_ref();
        hosts.push(Host {
            name: m.name.clone(),
            address: Some(m.address.clone()),
            port: m.port.or(like.and_then(|h| h.port)),
            user: m.user.clone().or(like.and_then(|h| h.user.clone())),
            identity_file: like.and_then(|h| h.identity_file.clone()),
            become_: like.is_some_and(|h| h.become_),
            become_user: like.and_then(|h| h.become_user.clone()),
            roles: [role].into(),
            ..Host::default()
        });
    }
    Ok(())
}

/// Run `kubestrap remove`.
pub fn run(args: RemoveRequest) -> Result<ExitCode, Error> {
    let mut inv = inventory::load(&args.inventory).map_err(Error::Inventory)?;
    let state_path = args
        .state_dir
        .clone()
        .unwrap_or_else(|| StateDir::default_path(&args.inventory, inv.cluster.name.as_deref()));
    let record = members::read(&state_path)?;
    with_remembered(
        &mut inv.hosts,
        &args.nodes,
        &record,
        &args.inventory,
        &state_path,
    )?;
    let cluster_name = inv
        .cluster
        .name
        .clone()
        .unwrap_or_else(|| crate::cluster::defaults::CLUSTER_NAME.into());
    let all: Vec<String> = inv.hosts.iter().map(|h| h.name.clone()).collect();
    let req = RunRequest {
        report: args.report.clone(),
        ..RunRequest::on_hosts(&args.inventory, &all, args.check, args.verbose)
    };
    let (book, base) = load_playbook("remove.yaml", None)?;
    let book = Arc::new(book);
    let plan = RemovePlan {
        asked: args.nodes.clone(),
        force: args.force,
        purge: args.purge,
    };
    let remove = Remove {
        book: book.clone(),
        base: base.clone(),
        force: args.force,
        purge: args.purge,
        drain_timeout: args.drain_timeout.clone(),
    };
    let reach = args.ssh.reach_all(&inv)?;
    let session = Session::with_inventory(req, reach, inv, book, base)?;
    session.finish(async move |runner| {
        let mut ctx = ClusterRun::new(
            runner,
            args.check,
            args.force_unlock,
            state_path,
            cluster_name,
        );
        Manager::new(&[], phases(plan, remove))
            .check(args.check)
            .run(&mut ctx)
            .await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deleted_host_comes_back_from_the_record_and_a_stranger_is_refused() {
        let mut hosts = vec![Host {
            name: "w1".into(),
            user: Some("deploy".into()),
            become_: true,
            roles: [Role::Worker].into(),
            ..Host::default()
        }];
        let record = [Member {
            name: "w2".into(),
            control_plane: false,
            address: "10.0.0.2".into(),
            port: None,
            user: None,
        }];
        let (i, s) = (PathBuf::from("inv.yaml"), PathBuf::from(".kubestrap/c"));
        with_remembered(&mut hosts, &["w1".into(), "w2".into()], &record, &i, &s).unwrap();
        let w2 = &hosts[1];
        assert_eq!(
            (
                w2.name.as_str(),
                w2.address.as_deref(),
                w2.user.as_deref(),
                w2.become_
            ),
            ("w2", Some("10.0.0.2"), Some("deploy"), true)
        );
        assert!(w2.roles.contains(&Role::Worker));
        let err = with_remembered(&mut hosts, &["w9".into()], &record, &i, &s)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("w9: no cluster member of this name: not in inv.yaml")
                && err.contains(".kubestrap/c/members.json"),
            "{err}"
        );
    }
}
