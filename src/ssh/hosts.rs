//! Where each inventory host is reached: the inventory's settings over ssh_config's over OpenSSH's defaults.

use std::path::Path;

use super::config::SshConfig;
use super::target::{home_dir, local_user, Resolver};
use super::{Options, Target};
use crate::inventory::Inventory;
use crate::Error;

/// ~/.ssh/config, or the file given with -F.
pub fn load_ssh_config(path: Option<&Path>) -> Result<SshConfig, Error> {
    match path {
        Some(p) => SshConfig::load(p),
        None => SshConfig::load_user(),
    }
    .map_err(|e| Error::BadInput(e.to_string()))
}

/// Connection targets for the named hosts, in the given order.
pub fn resolve_targets(
    inv: &Inventory,
    names: &[String],
    config: &SshConfig,
    opts: &Options,
) -> Result<Vec<Target>, Error> {
    let resolver = Resolver {
        config,
        known_hosts_override: &opts.known_hosts,
        home: home_dir(),
        local_user: local_user(),
    };
    names
        .iter()
        .filter_map(|n| inv.host(n))
        .map(|host| {
            resolver.resolve(host).map_err(|e| {
                Error::BadInput(format!(
                    "{}:{}: host {}: {e}",
                    inv.source.display(),
                    host.line,
                    host.name
                ))
            })
        })
        .collect()
}
