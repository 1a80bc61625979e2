//! `kubestrap inventory check|show`: an inventory read, validated and shown as kubestrap understands it.

use std::path::Path;

use crate::inventory::{self, Inventory, Role};
use crate::report::{say, Event};
use crate::ssh::config::SshConfig;
use crate::ssh::hosts::load_ssh_config;
use crate::ssh::target::{home_dir, local_user, Resolver};
use crate::{Error, ExitCode};

/// Validate the inventory; one summary line when it is sound.
pub fn check(path: &Path) -> Result<ExitCode, Error> {
    let inv = inventory::load(path).map_err(Error::Inventory)?;
    let count = |role: Role| inv.hosts.iter().filter(|h| h.roles.contains(&role)).count();
    say(Event::Line(format!(
        "{}: ok ({} hosts, {} control plane, {} workers)",
        path.display(),
        inv.hosts.len(),
        count(Role::ControlPlane),
        count(Role::Worker),
    )));
    Ok(ExitCode::Ok)
}

/// Print the inventory as a table (or JSON) with the settings in effect.
pub fn show(path: &Path, json: bool) -> Result<ExitCode, Error> {
    let inv = inventory::load(path).map_err(Error::Inventory)?;
    let effective = inventory::Effective {
        hosts: effective_connections(&inv),
        cluster: crate::cluster::defaults::settings(&inv),
    };
    say(Event::Document(inventory::render_show(
        &inv, json, &effective,
    )));
    Ok(ExitCode::Ok)
}

/// Port, user and identity of each host as SSH will use them: the
/// inventory's, else ~/.ssh/config's, else OpenSSH's defaults.
fn effective_connections(inv: &Inventory) -> Vec<Option<(u16, String, String)>> {
    // An unreadable ~/.ssh/config is for the commands that connect to report.
    let config = load_ssh_config(None).unwrap_or_else(|_| SshConfig::empty());
    let resolver = Resolver {
        config: &config,
        known_hosts_override: &[],
        home: home_dir(),
        local_user: local_user(),
    };
    inv.hosts
        .iter()
        .map(|h| {
            let t = resolver.resolve(h).ok()?;
            let identity = if t.explicit_identities {
                t.identity_files
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                "agent,~/.ssh/id_*".to_string()
            };
            Some((t.port, t.user, identity))
        })
        .collect()
}
