//! Preflight: checks over every host's facts at once, before anything on any host changes.
//!
//! kubeadm runs its own preflight per node, one node at a time, after
//! packages are installed; by then half the cluster may be changed. These
//! checks run on the facts of all hosts together, so they can also see what
//! no single node can: duplicate identities, clocks that disagree, subnets
//! that collide with a network some host is on.
//!
//! Every check has a stable name (see [`check_names`]) that
//! `--skip-preflight` accepts.

mod host;
mod subnets;
#[cfg(test)]
mod tests;
mod unique;

use crate::facts::Facts;
use crate::inventory::{Host, Inventory, Role};
use std::fmt;

/// What the caller gathered from one host for preflight.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostFacts {
    /// Inventory name of the host.
    pub name: String,
    /// None when gathering failed; `gather_error` then says why.
    pub facts: Option<Facts>,
    pub gather_error: Option<String>,
    /// Host clock minus the operator's clock while gathering, in seconds.
    pub clock_skew_secs: Option<i64>,
    /// The host is already a node of a cluster (/etc/kubernetes/kubelet.conf
    /// exists): what that cluster holds (its ports, its CNI's routes) is no
    /// problem for a re-run.
    pub is_node: bool,
}

/// One thing that would make the bootstrap fail or the cluster misbehave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreflightProblem {
    /// The check's name, as `--skip-preflight` takes it (`skip` for a bad
    /// `--skip-preflight` itself).
    pub check: &'static str,
    /// The host concerned; None for the cluster as a whole.
    pub host: Option<String>,
    pub message: String,
}

impl fmt::Display for PreflightProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(h) => write!(f, "host {h}: [{}] {}", self.check, self.message),
            None => write!(f, "cluster: [{}] {}", self.check, self.message),
        }
    }
}

/// Every check, in the order problems are listed within a host.
const CHECKS: &[&str] = &[
    "facts",
    "sudo",
    "os",
    "cpu",
    "memory",
    "ports",
    "clock",
    "subnets",
    "unique-hostname",
    "unique-machine-id",
    "unique-product-uuid",
    "unique-mac",
    "unique-ip",
];

/// The check name for a problem with `--skip-preflight` itself; never skippable.
const SKIP: &str = "skip";

/// `--skip-preflight all` skips every check (for a lab or a rescue, never a default).
const ALL: &str = "all";

/// The names `--skip-preflight` accepts.
pub fn check_names() -> &'static [&'static str] {
    CHECKS
}

/// `--skip-preflight` names that are no check; its Display lists the valid ones.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("--skip-preflight: unknown check {}; valid names: {}, or {ALL}",
    .unknown.iter().map(|u| format!("{u:?}")).collect::<Vec<_>>().join(", "),
    CHECKS.join(", "))]
pub struct UnknownChecks {
    pub unknown: Vec<String>,
}

/// Every name in `skip` is a check; otherwise an error listing the valid names.
pub fn validate_skip(skip: &[String]) -> Result<(), UnknownChecks> {
    let unknown: Vec<String> = skip
        .iter()
        .filter(|s| !CHECKS.contains(&s.as_str()) && *s != ALL)
        .cloned()
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(UnknownChecks { unknown })
}

/// A host with what was gathered from it, for the checks.
pub(crate) struct Subject<'a> {
    pub host: &'a Host,
    pub gathered: Option<&'a HostFacts>,
}

impl Subject<'_> {
    pub fn facts(&self) -> Option<&Facts> {
        self.gathered.and_then(|g| g.facts.as_ref())
    }

    pub fn is_node(&self) -> bool {
        self.gathered.is_some_and(|g| g.is_node)
    }

    pub fn is_control_plane(&self) -> bool {
        self.host.roles.contains(&Role::ControlPlane)
    }

    pub fn is_worker(&self) -> bool {
        self.host.roles.contains(&Role::Worker)
    }

    pub fn problem(&self, check: &'static str, message: String) -> PreflightProblem {
        PreflightProblem {
            check,
            host: Some(self.host.name.clone()),
            message,
        }
    }
}

/// Run every check not in `skip` over all of the inventory's hosts.
///
/// `hosts` holds what was gathered, matched to the inventory by name; an
/// inventory host missing from it counts as not gathered. Problems come
/// ordered by host (inventory order; cluster-wide ones first), then by
/// check (as [`check_names`] lists them). An unknown name in `skip` is a
/// problem itself (check `skip`); the known names are still skipped.
pub fn preflight(inv: &Inventory, hosts: &[HostFacts], skip: &[String]) -> Vec<PreflightProblem> {
    let subjects: Vec<Subject<'_>> = inv
        .hosts
        .iter()
        .map(|host| Subject {
            host,
            gathered: hosts.iter().find(|g| g.name == host.name),
        })
        .collect();
    let mut problems = Vec::new();
    for s in &subjects {
        problems.extend(host::check(s));
    }
    problems.extend(unique::check(&subjects));
    problems.extend(unique::clock(&subjects));
    problems.extend(subnets::check(inv, &subjects));

    let skip_all = skip.iter().any(|s| s == ALL);
    problems.retain(|p| !skip_all && !skip.iter().any(|s| s == p.check));
    if let Err(e) = validate_skip(skip) {
        problems.push(PreflightProblem {
            check: SKIP,
            host: None,
            message: e.to_string(),
        });
    }
    let host_rank = |p: &PreflightProblem| match &p.host {
        None => 0,
        Some(h) => {
            1 + inv
                .hosts
                .iter()
                .position(|x| &x.name == h)
                .unwrap_or(usize::MAX - 1)
        }
    };
    let check_rank = |p: &PreflightProblem| CHECKS.iter().position(|c| *c == p.check);
    // Stable: problems of one host and check keep the order their check gave.
    problems.sort_by_key(|p| (host_rank(p), check_rank(p)));
    problems
}
