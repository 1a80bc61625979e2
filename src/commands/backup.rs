//! `kubestrap backup -i INV [-o DIR] [--keep N]`: an etcd snapshot of the cluster, with the CA and the kubeadm config, on the operator's machine.

use std::path::PathBuf;

use super::certs::control_plane_session;
use super::connect::SshRequest;
use crate::cluster::state::StateDir;
use crate::phases::backup::{BackupRun, Save, Snapshot};
use crate::phases::connect::Connect;
use crate::phases::manager::{Manager, Phase};
use crate::{inventory, Error, ExitCode};

/// The backups of a cluster kept by default.
pub const DEFAULT_KEEP: usize = 7;

/// What `kubestrap backup` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct BackupRequest {
    pub inventory: PathBuf,
    /// `-o`: where backups go (default: `<state dir>/backups`).
    pub output: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
    /// This cluster's backups that stay in the directory, the new one included.
    pub keep: usize,
    pub verbose: bool,
    pub ssh: SshRequest,
}

/// backup, phase by phase.
fn phases<'p, 'r: 'p>() -> Vec<Box<dyn Phase<BackupRun<'r>> + 'p>> {
    vec![Box::new(Connect), Box::new(Snapshot), Box::new(Save::new())]
}

/// Run `kubestrap backup`.
pub fn run(args: BackupRequest) -> Result<ExitCode, Error> {
    let inv = inventory::load(&args.inventory).map_err(Error::Inventory)?;
    let cluster_name = inv
        .cluster
        .name
        .clone()
        .unwrap_or_else(|| crate::cluster::defaults::CLUSTER_NAME.into());
    let dir = args.output.clone().unwrap_or_else(|| {
        args.state_dir
            .clone()
            .unwrap_or_else(|| StateDir::default_path(&args.inventory, inv.cluster.name.as_deref()))
            .join("backups")
    });
    let (session, control_planes) =
        control_plane_session(&args.inventory, inv, &args.ssh, args.verbose, false)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    session.finish(async move |runner| {
        let mut ctx = BackupRun {
            runner,
            control_planes,
            cluster_name,
            dir,
            keep: args.keep.max(1),
            now,
            taken: None,
        };
        Manager::new(&[], phases()).run(&mut ctx).await
    })
}
