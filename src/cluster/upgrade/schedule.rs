//! Per step, who is upgraded in which batch: the first control plane, each other control plane alone, then the workers.

use super::{Member, Problem};
use crate::cluster::versions::KubeVersion;

/// Hosts upgraded together: drained, upgraded, Ready at the step's version, uncordoned.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub hosts: Vec<String>,
    /// The first control plane's `kubeadm upgrade apply` runs in this batch.
    pub apply: bool,
    pub control_plane: bool,
}

/// One minor release's full cycle.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub version: KubeVersion,
    pub batches: Vec<Batch>,
}

/// Every step, and the members this run leaves as they are.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schedule {
    pub steps: Vec<Step>,
    /// Members that need the upgrade but are not in this run.
    pub left_out: Vec<String>,
}

impl Schedule {
    /// Every host some step upgrades (its packages are the upgrade's to move).
    pub fn hosts(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for b in self.steps.iter().flat_map(|s| &s.batches) {
            for h in &b.hosts {
                if !out.contains(&h.as_str()) {
                    out.push(h);
                }
            }
        }
        out
    }
}

/// The batches of every step. A member behind by several steps takes part
/// in each; one already at a step's version sits it out; one kubestrap left
/// cordoned joins the last step so it ends uncordoned.
pub fn schedule(
    steps: &[KubeVersion],
    first: &str,
    members: &[Member],
    max_unavailable: usize,
) -> Result<Schedule, Vec<Problem>> {
    let mut out = Schedule::default();
    let mut problems = Vec::new();
    // Where each member stands as the steps go by.
    let mut now: Vec<Member> = members.to_vec();
    let size = max_unavailable.max(1);
    for (i, &version) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        let behind = |m: &Member| {
            m.kubelet.is_some()
                && (m.lowest().is_some_and(|v| v < version) || (last && m.cordoned_by_us))
        };
        let mut batches = Vec::new();
        let mut skipped = Vec::new();
        if let Some(f) = now.iter().find(|m| m.name == first) {
            let apply = f.apiserver.is_none_or(|v| v < version);
            if apply || behind(f) {
                if f.in_run {
                    batches.push(Batch {
                        hosts: vec![f.name.clone()],
                        apply,
                        control_plane: true,
                    });
                } else {
                    problems.push(Problem::FirstNotInRun {
                        host: f.name.clone(),
                    });
                }
            }
        }
        for m in now
            .iter()
            .filter(|m| m.name != first && m.control_plane && behind(m))
        {
            if m.in_run {
                batches.push(Batch {
                    hosts: vec![m.name.clone()],
                    apply: false,
                    control_plane: true,
                });
            } else {
                skipped.push(m.name.clone());
            }
        }
        let workers: Vec<&Member> = now
            .iter()
            .filter(|m| m.name != first && !m.control_plane && behind(m))
            .collect();
        for m in workers.iter().filter(|m| !m.in_run) {
            skipped.push(m.name.clone());
        }
        let ready: Vec<String> = workers
            .iter()
            .filter(|m| m.in_run)
            .map(|m| m.name.clone())
            .collect();
        for chunk in ready.chunks(size) {
            batches.push(Batch {
                hosts: chunk.to_vec(),
                apply: false,
                control_plane: false,
            });
        }
        for m in now.iter_mut() {
            let upgraded = batches.iter().any(|b| b.hosts.contains(&m.name));
            if upgraded {
                m.kubelet = m.kubelet.map(|v| v.max(version));
                m.apiserver = m.apiserver.map(|v| v.max(version));
                m.cordoned_by_us = false;
            }
        }
        if let Some(f) = now.iter_mut().find(|m| m.name == first && m.in_run) {
            f.apiserver = Some(f.apiserver.map_or(version, |v| v.max(version)));
        }
        for s in skipped {
            if !out.left_out.contains(&s) {
                out.left_out.push(s);
            }
        }
        if !batches.is_empty() {
            out.steps.push(Step { version, batches });
        }
        // A step stops where its control plane could not go: the later
        // ones would skip a minor release.
        if !problems.is_empty() {
            break;
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}
