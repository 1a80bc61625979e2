//! `kubestrap restore FILE -i INV --yes`: the cluster brought back to a backup's etcd snapshot, on every control plane at once.
//!
//! The file is checked (its SHA-256 against its SHA256SUMS, etcd's own
//! hash at its end) before any host is connected to; then the control
//! planes are locked as apply locks them and [`crate::phases::restore`]
//! runs.

use std::path::PathBuf;

use super::certs::control_plane_session;
use super::connect::SshRequest;
use crate::cluster::backup;
use crate::cluster::state::StateDir;
use crate::phases::cluster_run::ClusterRun;
use crate::phases::manager::{Manager, Phase};
use crate::phases::restore::Restore;
use crate::phases::{connect::Connect, gather::Gather, locking};
use crate::report::{say, Event};
use crate::{inventory, Error, ExitCode};

/// What `kubestrap restore` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct RestoreRequest {
    /// A backup directory or its snapshot file.
    pub file: PathBuf,
    pub inventory: PathBuf,
    /// `--yes`: restore (without it, refused).
    pub yes: bool,
    pub force_unlock: bool,
    pub state_dir: Option<PathBuf>,
    pub verbose: bool,
    pub ssh: SshRequest,
}

/// restore, phase by phase.
fn phases<'p, 'r: 'p>(restore: Restore) -> Vec<Box<dyn Phase<ClusterRun<'r>> + 'p>> {
    vec![
        Box::new(Connect),
        Box::new(Gather),
        Box::new(locking::Lock),
        Box::new(restore),
        Box::new(locking::Unlock),
    ]
}

/// Run `kubestrap restore`.
pub fn run(args: RestoreRequest) -> Result<ExitCode, Error> {
    if !args.yes {
        return Err(Error::RestoreNeedsYes);
    }
    let checked = backup::check_snapshot(&args.file)?;
    let inv = inventory::load(&args.inventory).map_err(Error::Inventory)?;
    let name = inv
        .cluster
        .name
        .clone()
        .unwrap_or_else(|| crate::cluster::defaults::CLUSTER_NAME.into());
    let state_path = args
        .state_dir
        .clone()
        .unwrap_or_else(|| StateDir::default_path(&args.inventory, inv.cluster.name.as_deref()));
    let bytes = std::fs::read(&checked.path).map_err(|source| Error::Unreadable {
        path: checked.path.clone(),
        source,
    })?;
    say(Event::Section {
        title: "RESTORE".into(),
        lines: vec![format!(
            "{}: {} bytes, SHA-256 {} ({})",
            checked.path.display(),
            checked.size,
            checked.sha256,
            match &checked.sums {
                Some(sums) => format!("as {} records, and etcd's own hash", sums.display()),
                None => "no SHA256SUMS beside it: etcd's own hash only".into(),
            }
        )],
    });
    let (session, _) = control_plane_session(&args.inventory, inv, &args.ssh, args.verbose, false)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let restore = Restore::new(checked, bytes, backup::stamp(now));
    session.finish(async move |runner| {
        let mut ctx = ClusterRun::new(runner, false, args.force_unlock, state_path, name);
        Manager::new(&[], phases(restore)).run(&mut ctx).await
    })
}
