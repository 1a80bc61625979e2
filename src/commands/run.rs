//! `kubestrap run PLAYBOOK`: one playbook over the inventory's hosts.

use std::io::IsTerminal;
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

/// `run`'s flags that only look at the playbook, as ansible-playbook's.
#[derive(Debug, Default, Clone, Copy)]
pub struct Only {
    pub list_hosts: bool,
    pub list_tasks: bool,
    pub syntax_check: bool,
}

/// Run a playbook (or only check or list it); the exit code covers every host.
pub fn run(
    req: RunRequest,
    playbook: &Path,
    ssh: &SshRequest,
    only: Only,
) -> Result<ExitCode, Error> {
    // The playbook's group_vars/ and host_vars/ count, as in Ansible.
    let inv = inventory::load_for_playbook(&req.inventory, &base_dir_of(playbook))
        .map_err(Error::Inventory)?;
    let book = crate::playbook::load(playbook)
        .map_err(|errs| Error::Playbook(errs.iter().map(|e| e.to_string()).collect()))?;
    if only.syntax_check {
        let shown = format!("\nplaybook: {}\n", playbook.display());
        crate::report::say(crate::report::Event::Document(shown));
        return Ok(ExitCode::Ok);
    }
    if let Some(want) = &req.start_at_task {
        crate::engine::step::check_start(&book, want).map_err(|e| Error::Playbook(vec![e]))?;
    }
    let listing = only.list_hosts || only.list_tasks;
    if req.step && !listing && !std::io::stdin().is_terminal() {
        return Err(Error::StepNeedsTerminal);
    }
    let reach = ssh.reach_all(&inv)?;
    let mut session = Session::with_inventory(req, reach, inv, book, base_dir_of(playbook))?;
    if listing {
        // Nothing is connected to: the plays' hosts and tasks as loaded.
        let shown = session
            .runner
            .listing(only.list_hosts, only.list_tasks)
            .map_err(|e| Error::Playbook(vec![e.to_string()]))?;
        crate::report::say(crate::report::Event::Document(shown));
        return Ok(ExitCode::Ok);
    }
    session.finish(async |runner| Manager::new(&[], phases()).run(runner).await)
}
