//! One host's state during a run: its connection, facts, registered results and counters.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value as Json};

use crate::facts::rider::RiderOutput;
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
    /// Facts as Ansible names them, rebuilt when facts are gathered. Kept
    /// as template values, converted once, because every task of every host
    /// reads them and `hostvars` shares them (see [`fact_values`]).
    pub fact_vars: BTreeMap<String, minijinja::Value>,
    /// Play vars rendered for this host.
    pub play_vars: Map<String, Json>,
    /// `register:` results and `set_fact`s.
    pub registered: Map<String, Json>,
    /// The items of the `include_tasks` the current task is in, by their
    /// `loop_var` (see [`super::include_flow`]).
    pub include_vars: Map<String, Json>,
    /// Handlers (by index) notified on this host and not yet run.
    pub notified: BTreeSet<usize>,
    /// Handler names the host's pending-handler record holds, as far as
    /// this run knows: read with the first facts, then kept current.
    pub recorded_handlers: BTreeSet<String>,
    /// Under `--check`: the first change predicted on this host whose
    /// effects its plan cannot list (a package install, a command), by task
    /// title. Later tasks may depend on what only that change would make
    /// (see [`super::predict`]).
    pub unmade_change: Option<String>,
    /// The host failed a task and takes no further part, as in Ansible.
    pub failed: bool,
    /// `meta: end_host` ended the play for this host (not failed; reset
    /// with every play).
    pub ended: bool,
    /// Where the host is in the play's blocks (reset with every play).
    pub flow: super::block_flow::BlockFlow,
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
            fact_vars: BTreeMap::new(),
            play_vars: Map::new(),
            registered: Map::new(),
            include_vars: Map::new(),
            notified: BTreeSet::new(),
            recorded_handlers: BTreeSet::new(),
            unmade_change: None,
            failed: false,
            ended: false,
            flow: Default::default(),
            stats: HostStats::default(),
        }
    }

    /// Still taking part in the run.
    pub fn active(&self) -> bool {
        !self.failed && self.unreachable.is_none()
    }

    /// The host failed and takes no further part in the run.
    pub fn fail(&mut self) {
        self.failed = true;
        self.worst = self.worst.max(crate::ExitCode::HostFailed);
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
        self.gather_riding(requests, become_user, opts, None)
            .await
            .map(|_| ())
    }

    /// [`HostSession::gather`], with the caller's `rider` script run in the
    /// same round trip (see [`facts::rider`]); its result when there was one.
    pub async fn gather_riding(
        &mut self,
        requests: &[FactRequest],
        become_user: Option<&str>,
        opts: &Options,
        rider: Option<&str>,
    ) -> Result<Option<RiderOutput>, GatherError> {
        let conn = self.conn.as_ref().ok_or(GatherError::NotConnected)?;
        let requests = facts::needed(requests);
        let mut script = facts::gather_script(&requests);
        if let Some(rider) = rider {
            script = facts::rider::with_rider(&script, rider);
        }
        let out = conn
            .run_with(&sh_c(&script), None, become_user, opts)
            .await?;
        if !out.success() {
            return Err(GatherError::Script {
                rc: out.rc(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        let fresh = facts::parse(&out.stdout, &requests).map_err(GatherError::Parse)?;
        let ridden = rider.and_then(|_| facts::rider::rider_output(&out.stdout));
        match &mut self.facts {
            None => {
                self.fact_vars = fact_values(&fresh);
                self.recorded_handlers
                    .extend(fresh.pending_handlers.iter().cloned());
                self.facts = Some(fresh);
            }
            Some(known) => known.merge_items(fresh),
        }
        Ok(ridden)
    }
}

/// [`facts::to_ansible_vars`] as template values: the same variables, but
/// `ansible_X` and `ansible_facts.X` share one copy of their data, so a run
/// holds each host's facts once (they were the largest part of its own
/// per-host state; bench/RESULTS.md).
pub fn fact_values(f: &Facts) -> BTreeMap<String, minijinja::Value> {
    let facts: BTreeMap<String, minijinja::Value> = facts::ansible_facts(f)
        .iter()
        .map(|(k, v)| (k.clone(), crate::render::to_jinja(v)))
        .collect();
    let mut vars: BTreeMap<String, minijinja::Value> = facts
        .iter()
        .map(|(k, v)| (format!("ansible_{k}"), v.clone()))
        .collect();
    vars.insert("ansible_facts".into(), minijinja::Value::from(facts));
    vars
}

/// Why facts could not be had on a host.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("not connected")]
    NotConnected,
    /// The gather script failed: its exit status and what it said.
    #[error("gathering facts failed (rc={rc}): {stderr}")]
    Script { rc: i64, stderr: String },
    /// The script's output that the facts parser refused.
    #[error("{0}")]
    Parse(String),
    /// The host could not be reached earlier in the run; why.
    #[error("{0}")]
    Unreachable(String),
}

/// `script` as one `/bin/sh -c` command line, so it runs the same whatever
/// the login shell is.
pub fn sh_c(script: &str) -> String {
    format!("/bin/sh -c {}", crate::ssh::shell_quote(script))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared form must hold exactly the variables the JSON form does,
    /// for a real host's facts (the lab fixture) and for none at all.
    #[test]
    fn fact_values_are_the_ansible_vars() {
        let lab = facts::parse(
            include_bytes!("../facts/fixtures/node1-root.out"),
            &facts::needed(&[]),
        )
        .unwrap();
        let v = fact_values(&lab);
        assert_eq!(v["ansible_hostname"].as_str(), Some("node1"));
        assert_eq!(
            v["ansible_facts"].get_attr("hostname").unwrap().as_str(),
            Some("node1")
        );
        for f in [lab, Facts::default()] {
            let want = crate::render::map_to_jinja(&facts::to_ansible_vars(&f));
            assert_eq!(minijinja::Value::from(fact_values(&f)), want);
        }
    }
}
