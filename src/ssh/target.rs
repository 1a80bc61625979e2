//! Where and how to reach one host: inventory settings merged with ~/.ssh/config.

use std::path::{Path, PathBuf};

use super::config::{JumpHost, SshConfig};
use crate::inventory::Host;

/// How deep ProxyJump chains may go before we call it a loop.
const MAX_JUMPS: usize = 8;

/// A host whose settings give no usable target.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// `alias` is where the chain went past [`MAX_JUMPS`].
    #[error("ProxyJump chain through {alias} is deeper than {MAX_JUMPS}; is there a loop in ~/.ssh/config?")]
    JumpsTooDeep { alias: String },
}

/// Everything needed to open one SSH connection, fully resolved.
///
/// Precedence follows OpenSSH with Ansible's inventory acting as command-line
/// options: inventory value, then ~/.ssh/config, then OpenSSH's default.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Inventory name, used in every message.
    pub name: String,
    /// Address to dial (after HostName).
    pub hostname: String,
    pub port: u16,
    pub user: String,
    /// Identity files to try, in order (agent keys are tried too).
    pub identity_files: Vec<PathBuf>,
    /// Whether the identity files were named explicitly (inventory or
    /// ssh config) rather than being OpenSSH's default list.
    pub explicit_identities: bool,
    /// Jump hosts, outermost first.
    pub jumps: Vec<Target>,
    /// known_hosts files to read; new keys are appended to the first.
    pub known_hosts: Vec<PathBuf>,
    pub become_: bool,
    pub become_user: String,
}

impl Target {
    /// The key under which known_hosts stores this host, as OpenSSH writes it.
    pub fn known_hosts_name(&self) -> String {
        if self.port == 22 {
            self.hostname.clone()
        } else {
            format!("[{}]:{}", self.hostname, self.port)
        }
    }

    /// `user@host:port`, for messages.
    pub fn display_addr(&self) -> String {
        format!("{}@{}:{}", self.user, self.hostname, self.port)
    }
}

/// Inputs shared by every host's resolution.
pub struct Resolver<'a> {
    pub config: &'a SshConfig,
    /// `--known-hosts` files; when empty, ssh config / ~/.ssh/known_hosts.
    pub known_hosts_override: &'a [PathBuf],
    pub home: Option<PathBuf>,
    pub local_user: String,
}

impl Resolver<'_> {
    /// Resolve an inventory host into a connection target.
    pub fn resolve(&self, host: &Host) -> Result<Target, TargetError> {
        let alias = host.ssh_target();
        let mut target = self.resolve_alias(
            alias,
            host.user.clone(),
            host.port,
            host.identity_file.clone(),
            0,
        )?;
        target.name = host.name.clone();
        target.become_ = host.become_;
        target.become_user = host.become_user.clone().unwrap_or_else(|| "root".into());
        Ok(target)
    }

    fn resolve_alias(
        &self,
        alias: &str,
        user: Option<String>,
        port: Option<u16>,
        identity: Option<PathBuf>,
        depth: usize,
    ) -> Result<Target, TargetError> {
        if depth > MAX_JUMPS {
            return Err(TargetError::JumpsTooDeep {
                alias: alias.to_string(),
            });
        }
        let cfg = self.config.resolve(alias);
        let mut identity_files: Vec<PathBuf> = identity.into_iter().collect();
        identity_files.extend(cfg.identity_files.iter().cloned());
        let explicit_identities = !identity_files.is_empty();
        if !explicit_identities {
            identity_files = self.default_identities();
        }
        let jumps = cfg
            .proxy_jump
            .iter()
            .map(|j: &JumpHost| {
                self.resolve_alias(&j.host, j.user.clone(), j.port, None, depth + 1)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let known_hosts = if !self.known_hosts_override.is_empty() {
            self.known_hosts_override.to_vec()
        } else if !cfg.user_known_hosts_files.is_empty() {
            cfg.user_known_hosts_files.clone()
        } else {
            self.home_file(&["known_hosts", "known_hosts2"])
        };
        Ok(Target {
            name: alias.to_string(),
            hostname: cfg.hostname.clone().unwrap_or_else(|| alias.to_string()),
            port: port.or(cfg.port).unwrap_or(22),
            user: user
                .or(cfg.user.clone())
                .unwrap_or_else(|| self.local_user.clone()),
            identity_files,
            explicit_identities,
            jumps,
            known_hosts,
            become_: false,
            become_user: "root".into(),
        })
    }

    /// OpenSSH's default identity files, in its order.
    fn default_identities(&self) -> Vec<PathBuf> {
        self.home_file(&["id_ed25519", "id_ecdsa", "id_rsa"])
    }

    fn home_file(&self, names: &[&str]) -> Vec<PathBuf> {
        match &self.home {
            Some(h) => names.iter().map(|n| h.join(".ssh").join(n)).collect(),
            None => Vec::new(),
        }
    }
}

/// The invoking user's name, as OpenSSH picks the default login user.
pub fn local_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            // No $USER (cron, systemd units, `env -i`): the account of our
            // uid, as OpenSSH's getpwuid() finds it.
            let uid = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").ok()?);
            let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
            user_of(&passwd, uid).or(Some(format!("uid{uid}")))
        })
        .unwrap_or_else(|| "root".into())
}

/// The name /etc/passwd gives `uid`.
fn user_of(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let id = f.nth(1)?.parse::<u32>().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

/// $HOME, if set.
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// Expand a leading `~/` with $HOME.
pub fn expand_tilde(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(h)) => h.join(rest),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_is_found_by_uid_when_user_is_unset() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n\
                      # comment\n\
                      broken\n\
                      alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n";
        let table = [(0, Some("root")), (1000, Some("alice")), (4242, None)];
        for (uid, want) in table {
            assert_eq!(user_of(passwd, uid).as_deref(), want, "uid {uid}");
        }
    }
}
