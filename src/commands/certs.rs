//! `kubestrap certs` and `kubestrap certs renew`: the control planes' kubeadm certificates, listed or renewed.

use std::path::PathBuf;
use std::sync::Arc;

use super::connect::SshRequest;
use crate::cluster::state::StateDir;
use crate::engine::{RunRequest, Session};
use crate::inventory::{self, Role};
use crate::phases::certs::{
    check::CheckExpiration, kubeconfig::RefreshKubeconfig, plan::RenewPlan, renew::Renew,
    table::Table, CertsRun,
};
use crate::phases::cluster_plan::plan::plan;
use crate::phases::connect::Connect;
use crate::phases::manager::{Manager, Phase};
use crate::playbook::Playbook;
use crate::{Error, ExitCode};

/// What `kubestrap certs [renew]` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct CertsRequest {
    pub inventory: PathBuf,
    pub state_dir: Option<PathBuf>,
    /// `certs renew`: renew every control plane's certificates.
    pub renew: bool,
    /// `--check` (renew): say what it would do, change nothing.
    pub check: bool,
    pub verbose: bool,
    pub ssh: SshRequest,
}

/// `certs`, phase by phase.
fn list_phases<'p, 'r: 'p>() -> Vec<Box<dyn Phase<CertsRun<'r>> + 'p>> {
    vec![
        Box::new(Connect),
        Box::new(CheckExpiration),
        Box::new(Table),
    ]
}

/// `certs renew`, phase by phase: the table afterwards shows the new expiries.
fn renew_phases<'p, 'r: 'p>() -> Vec<Box<dyn Phase<CertsRun<'r>> + 'p>> {
    vec![
        Box::new(Connect),
        Box::new(RenewPlan),
        Box::new(Renew),
        Box::new(CheckExpiration),
        Box::new(Table),
        Box::new(RefreshKubeconfig),
    ]
}

/// Run `kubestrap certs` or `kubestrap certs renew`.
pub fn run(args: CertsRequest) -> Result<ExitCode, Error> {
    let inv = inventory::load(&args.inventory).map_err(Error::Inventory)?;
    // The first control plane and the endpoint as apply's cluster plan
    // names them, so the stored kubeconfig is the one apply would store.
    let cluster =
        plan(&inv, |_| None, &[]).map_err(|_| Error::NoControlPlane(args.inventory.clone()))?;
    let state_path = args
        .state_dir
        .clone()
        .unwrap_or_else(|| StateDir::default_path(&args.inventory, inv.cluster.name.as_deref()));
    let (session, control_planes) =
        control_plane_session(&args.inventory, inv, &args.ssh, args.verbose, args.check)?;
    session.finish(async move |runner| {
        let mut ctx = CertsRun {
            runner,
            control_planes,
            first_control_plane: cluster.first_control_plane,
            endpoint: cluster.endpoint,
            state_path,
            check: args.check,
            expiries: Vec::new(),
            manifests_out: None,
        };
        let phases = if args.renew {
            renew_phases()
        } else {
            list_phases()
        };
        Manager::new(&[], phases)
            .check(args.check)
            .run(&mut ctx)
            .await
    })
}

/// A session on the inventory's control planes (role control_plane, in
/// its order) with no playbook: the phases of a command that works on the
/// control planes alone run their commands themselves.
pub(super) fn control_plane_session(
    inventory: &std::path::Path,
    inv: inventory::Inventory,
    ssh: &SshRequest,
    verbose: bool,
    check: bool,
) -> Result<(Session, Vec<String>), Error> {
    let control_planes: Vec<String> = inv
        .hosts
        .iter()
        .filter(|h| h.roles.contains(&Role::ControlPlane))
        .map(|h| h.name.clone())
        .collect();
    if control_planes.is_empty() {
        return Err(Error::NoControlPlane(inventory.to_path_buf()));
    }
    let req = RunRequest::on_hosts(inventory, &control_planes, check, verbose);
    let none = Arc::new(Playbook {
        path: PathBuf::from("control planes"),
        plays: Vec::new(),
    });
    // Sessions for the control planes alone: nothing else is connected to
    // or counted in the recap.
    let (opts, mut targets) = ssh.reach_all(&inv)?;
    targets.retain(|t| control_planes.contains(&t.name));
    let session = Session::with_inventory(req, (opts, targets), inv, none, PathBuf::new())?;
    Ok((session, control_planes))
}
