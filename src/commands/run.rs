//! `kubestrap run PLAYBOOK`: one playbook over the inventory's hosts.

use std::path::{Path, PathBuf};

use super::connect::SshRequest;
use crate::engine::{RunRequest, Runner, Session};
use crate::phases::manager::{Manager, Phase};
use crate::phases::plays::Plays;
use crate::{inventory, Error, ExitCode};

/// The directory a playbook's relative paths start from.
pub fn base_dir_of(playbook: &Path) -> PathBuf {
    match playbook.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// run, phase by phase.
fn phases<'p>() -> Vec<Box<dyn Phase<Runner> + 'p>> {
    vec![Box::new(Plays)]
}

/// Run a playbook; the exit code covers every host.
pub fn run(req: RunRequest, playbook: &Path, ssh: &SshRequest) -> Result<ExitCode, Error> {
    // The playbook's group_vars/ and host_vars/ count, as in Ansible.
    let inv = inventory::load_for_playbook(&req.inventory, &base_dir_of(playbook))
        .map_err(Error::Inventory)?;
    let book = crate::playbook::load(playbook)
        .map_err(|errs| Error::Playbook(errs.iter().map(|e| e.to_string()).collect()))?;
    let reach = ssh.reach_all(&inv)?;
    let session = Session::with_inventory(req, reach, inv, book, base_dir_of(playbook))?;
    session.finish(async |runner| Manager::new(&[], phases()).run(runner).await)
}
