//! One host's state during a run: its connection, facts, registered results and counters.

use std::collections::BTreeSet;

use serde_json::{Map, Value as Json};

use crate::facts::{self, FactRequest, Facts};
use crate::report::HostStats;
use crate::ssh::{Connection, Options, SshError, Target};

/// Everything kubestrap holds for one host between tasks.
pub struct HostSession {
    pub name: String,
    pub target: Target,
    /// Shared with the lock heartbeat, which renews leases on it.
    pub conn: Option<std::sync::Arc<Connection>>,
    /// Why the host cannot be reached, once that is known.
    pub unreachable: Option<String>,
    /// Exit code class of the host's worst problem so far.
    pub worst: crate::ExitCode,
    pub facts: Option<Facts>,
    /// Inventory vars + magic vars (lowest layer).
    pub inventory_vars: Map<String, Json>,
    /// Facts as Ansible names them, rebuilt when facts are gathered.
    pub fact_vars: Map<String, Json>,
    /// Play vars rendered for this host.
    pub play_vars: Map<String, Json>,
    /// `register:` results and `set_fact`s.
    pub registered: Map<String, Json>,
    /// Handlers (by index) notified on this host and not yet run.
    pub notified: BTreeSet<usize>,
    /// The host failed a task and takes no further part, as in Ansible.
    pub failed: bool,
    pub stats: HostStats,
}

impl HostSession {
    pub fn new(target: Target, inventory_vars: Map<String, Json>) -> Self {
        HostSession {
            name: target.name.clone(),
            target,
            conn: None,
            unreachable: None,
            worst: crate::ExitCode::Ok,
            facts: None,
            inventory_vars,
            fact_vars: Map::new(),
            play_vars: Map::new(),
            registered: Map::new(),
            notified: BTreeSet::new(),
            failed: false,
            stats: HostStats::default(),
        }
    }

    /// Still taking part in the run.
    pub fn active(&self) -> bool {
        !self.failed && self.unreachable.is_none()
    }

    /// Commands run on this host so far.
    pub fn exec_count(&self) -> u32 {
        self.conn.as_ref().map(|c| c.exec_count()).unwrap_or(0)
    }

    /// Gather base facts plus `requests` in one round trip. When facts are
    /// already known, only the requested entries are merged in, so facts
    /// changed by earlier tasks are kept.
    pub async fn gather(
        &mut self,
        requests: &[FactRequest],
        become_user: Option<&str>,
        opts: &Options,
    ) -> Result<(), GatherError> {
        let conn = self
            .conn
            .as_ref()
            .ok_or_else(|| GatherError::Failed("not connected".into()))?;
        let requests = facts::needed(requests);
        let script = facts::gather_script(&requests);
        let out = conn
            .run_with(&sh_c(&script), None, become_user, opts)
            .await
            .map_err(GatherError::Ssh)?;
        if !out.success() {
            return Err(GatherError::Failed(format!(
                "gathering facts failed (rc={}): {}",
                out.rc(),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let fresh = facts::parse(&out.stdout, &requests).map_err(GatherError::Failed)?;
        match &mut self.facts {
            None => {
                self.fact_vars = facts::to_ansible_vars(&fresh);
                self.facts = Some(fresh);
            }
            Some(known) => {
                known.files.extend(fresh.files);
                known.packages.extend(fresh.packages);
                known.units.extend(fresh.units);
                known.sysctls.extend(fresh.sysctls);
            }
        }
        Ok(())
    }
}

/// Why facts could not be had.
pub enum GatherError {
    Ssh(SshError),
    Failed(String),
}

/// `script` as one `/bin/sh -c` command line, so it runs the same whatever
/// the login shell is.
pub fn sh_c(script: &str) -> String {
    format!("/bin/sh -c {}", crate::ssh::shell_quote(script))
}
