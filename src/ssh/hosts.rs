//! Where each inventory host is reached: the inventory's settings over ssh_config's over OpenSSH's defaults.

use std::path::Path;

use super::config::{ConfigError, SshConfig};
use super::target::{home_dir, local_user, Resolver, TargetError};
use super::{Options, Target};
use crate::inventory::Inventory;

/// Why the hosts cannot be placed: ssh_config unreadable, or a host whose
/// inventory and ssh_config settings give no usable target.
#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    #[error(transparent)]
    SshConfig(#[from] ConfigError),
    #[error("{}:{line}: host {host}: {why}", .file.display())]
    Target {
        file: std::path::PathBuf,
        line: usize,
        host: String,
        #[source]
        why: TargetError,
    },
}

/// ~/.ssh/config, or the file given with -F.
pub fn load_ssh_config(path: Option<&Path>) -> Result<SshConfig, HostsError> {
    match path {
        Some(p) => SshConfig::load(p),
        None => SshConfig::load_user(),
    }
    .map_err(HostsError::SshConfig)
}

/// Connection targets for the named hosts, in the given order.
pub fn resolve_targets(
    inv: &Inventory,
    names: &[String],
    config: &SshConfig,
    opts: &Options,
) -> Result<Vec<Target>, HostsError> {
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
            resolver.resolve(host).map_err(|why| HostsError::Target {
                file: inv.source.clone(),
                line: host.line,
                host: host.name.clone(),
                why,
            })
        })
        .collect()
}
