//! How a command reaches its hosts: SSH and become settings from the command line, turned into options and targets.

use std::path::PathBuf;
use std::time::Duration;

use crate::inventory::Inventory;
use crate::secret::Secret;
use crate::ssh::hosts::{load_ssh_config, resolve_targets};
use crate::ssh::{Options, Target};
use crate::Error;

/// The SSH and become settings every command that reaches hosts takes.
#[derive(Debug, Clone, Default)]
pub struct SshRequest {
    pub accept_new_host_keys: bool,
    pub known_hosts: Vec<PathBuf>,
    pub ssh_config: Option<PathBuf>,
    pub connect_timeout: u64,
    pub command_timeout: u64,
    pub keepalive: u64,
    pub retries: u32,
    /// `--become`: every host runs commands through sudo.
    pub become_: bool,
    pub become_user: Option<String>,
    /// Ask for the sudo password on the terminal.
    pub ask_become_pass: bool,
    pub become_password_file: Option<PathBuf>,
}

impl SshRequest {
    /// Connection options; asks for the become password here, once.
    pub fn options(&self) -> Result<Options, Error> {
        let become_password = if self.ask_become_pass {
            let pass =
                rpassword::prompt_password("BECOME password: ").map_err(Error::BecomePassword)?;
            Some(Secret::new(pass))
        } else if let Some(path) = &self.become_password_file {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
                path: path.clone(),
                source: e,
            })?;
            let pass = text.strip_suffix('\n').unwrap_or(&text);
            Some(Secret::new(
                pass.strip_suffix('\r').unwrap_or(pass).to_string(),
            ))
        } else {
            None
        };
        if let Some(p) = &become_password {
            crate::report::redact::register(p.expose());
        }
        Ok(Options {
            connect_timeout: Duration::from_secs(self.connect_timeout.max(1)),
            command_timeout: (self.command_timeout > 0)
                .then(|| Duration::from_secs(self.command_timeout)),
            keepalive: Duration::from_secs(self.keepalive),
            retries: self.retries,
            accept_new_host_keys: self.accept_new_host_keys,
            known_hosts: self.known_hosts.clone(),
            become_password,
        })
    }

    /// Options, and the targets of the named hosts (in that order) with
    /// `--become` / `--become-user` laid over the inventory's settings.
    pub fn reach(
        &self,
        inv: &Inventory,
        names: &[String],
    ) -> Result<(Options, Vec<Target>), Error> {
        let opts = self.options()?;
        let config = load_ssh_config(self.ssh_config.as_deref())?;
        let mut targets = resolve_targets(inv, names, &config, &opts)?;
        for t in &mut targets {
            if self.become_ {
                t.become_ = true;
            }
            if let Some(user) = &self.become_user {
                t.become_user = user.clone();
            }
        }
        Ok((opts, targets))
    }

    /// [`reach`](Self::reach) every host of the inventory.
    pub fn reach_all(&self, inv: &Inventory) -> Result<(Options, Vec<Target>), Error> {
        let all: Vec<String> = inv.hosts.iter().map(|h| h.name.clone()).collect();
        self.reach(inv, &all)
    }
}
