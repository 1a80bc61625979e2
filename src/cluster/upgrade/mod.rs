//! The upgrade plan: from the versions the cluster runs to the inventory's, one minor at a time, node by node.
//!
//! Pure: the phases gather the versions (every Node's kubelet, every control
//! plane's kube-apiserver manifest) and the package repositories' listings;
//! this module checks them against Kubernetes' version-skew rules and
//! decides the steps (one per minor release, as kubeadm upgrades) and, per
//! step, the batches: the first control plane (`kubeadm upgrade apply`),
//! every other control plane alone (`kubeadm upgrade node`), then the
//! workers, `max_unavailable` at a time.

pub mod repo;
mod schedule;
#[cfg(test)]
mod tests;

use std::fmt;

use super::versions::KubeVersion;
pub use schedule::{schedule, Batch, Schedule, Step};

/// One cluster member as the cluster reports it.
#[derive(Debug, Clone, Default)]
pub struct Member {
    pub name: String,
    pub control_plane: bool,
    /// The Node's `status.nodeInfo.kubeletVersion`; None when the host is
    /// no node yet (it joins at the new version afterwards).
    pub kubelet: Option<KubeVersion>,
    /// A control plane's kube-apiserver image tag, from its static Pod manifest.
    pub apiserver: Option<KubeVersion>,
    /// kubestrap cordoned it and an earlier run stopped before the uncordon.
    pub cordoned_by_us: bool,
    /// In this run: in `--limit` and reachable.
    pub in_run: bool,
}

impl Member {
    /// The oldest thing this member runs.
    fn lowest(&self) -> Option<KubeVersion> {
        match (self.kubelet, self.apiserver) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn highest(&self) -> Option<KubeVersion> {
        self.kubelet.max(self.apiserver)
    }
}

/// Why the inventory's version cannot be reached; each is one line.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Downgrade {
        host: String,
        what: &'static str,
        running: KubeVersion,
        target: KubeVersion,
    },
    MajorChange {
        running: KubeVersion,
        target: KubeVersion,
    },
    NoRepository {
        minor: String,
        url: String,
        why: String,
    },
    NotInRepository {
        version: KubeVersion,
        url: String,
        has: Vec<KubeVersion>,
    },
    FirstNotInRun {
        host: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Downgrade {
                host,
                what,
                running,
                target,
            } => write!(
                f,
                "{host}: {what} runs {running}, newer than kubernetes_version {target}: downgrades are not supported"
            ),
            Problem::MajorChange { running, target } => write!(
                f,
                "the cluster runs {running}; kubernetes_version {target} is another major release, which kubeadm cannot upgrade to"
            ),
            Problem::NoRepository { minor, url, why } => {
                write!(f, "no package repository for {minor} at {url}: {why}")
            }
            Problem::NotInRepository { version, url, has } => {
                let has: Vec<String> = has.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "kubeadm {version} is not in {url} (it has {})",
                    if has.is_empty() {
                        "none".to_string()
                    } else {
                        has.join(", ")
                    }
                )
            }
            Problem::FirstNotInRun { host } => write!(
                f,
                "{host}: the control plane is upgraded first, but this host is not in the run (--limit, or unreachable)"
            ),
        }
    }
}

/// What a step's version is before the repositories are read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepVersion {
    Exact(KubeVersion),
    /// The newest patch release the repository of this minor has.
    Newest {
        major: u32,
        minor: u32,
    },
}

impl StepVersion {
    pub fn minor_name(&self) -> String {
        match self {
            StepVersion::Exact(v) => v.minor_name(),
            StepVersion::Newest { major, minor } => format!("{major}.{minor}"),
        }
    }
}

/// The control plane's version: the first control plane's API server, or
/// the oldest control plane's when the first has none.
pub fn control_plane_version(first: &str, members: &[Member]) -> Option<KubeVersion> {
    members
        .iter()
        .find(|m| m.name == first)
        .and_then(|m| m.apiserver)
        .or_else(|| members.iter().filter_map(|m| m.apiserver).min())
}

/// The minor releases to walk from what the cluster runs to `target`, or
/// None when every member runs `target` already and none waits for its
/// uncordon. Every rule broken is reported at once.
pub fn walk(
    target: KubeVersion,
    first: &str,
    members: &[Member],
) -> Result<Option<Vec<StepVersion>>, Vec<Problem>> {
    let mut problems = Vec::new();
    for m in members {
        for (what, v) in [("kubelet", m.kubelet), ("kube-apiserver", m.apiserver)] {
            if let Some(running) = v.filter(|v| *v > target) {
                problems.push(Problem::Downgrade {
                    host: m.name.clone(),
                    what,
                    running,
                    target,
                });
            }
        }
    }
    let Some(low) = members.iter().filter_map(Member::lowest).min() else {
        return if problems.is_empty() {
            Ok(None)
        } else {
            Err(problems)
        };
    };
    let high = members.iter().filter_map(Member::highest).max();
    if low.major != target.major || high.is_some_and(|h| h.major != target.major) {
        problems.push(Problem::MajorChange {
            running: low,
            target,
        });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    if low >= target && !members.iter().any(|m| m.cordoned_by_us) {
        return Ok(None);
    }
    let cluster = control_plane_version(first, members);
    let mut steps: Vec<StepVersion> = ((low.minor + 1)..target.minor)
        .map(|minor| match cluster {
            Some(c) if c.minor == minor => StepVersion::Exact(c),
            _ => StepVersion::Newest {
                major: target.major,
                minor,
            },
        })
        .collect();
    steps.push(StepVersion::Exact(target));
    Ok(Some(steps))
}

/// Each step's exact version from the repositories' listings (minor → the
/// kubeadm versions its repository has, or why it could not be read).
pub fn resolve(
    steps: &[StepVersion],
    listing: impl Fn(&str) -> Result<(String, Result<Vec<KubeVersion>, String>), Problem>,
) -> Result<Vec<KubeVersion>, Vec<Problem>> {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for step in steps {
        let minor = step.minor_name();
        let (url, found) = match listing(&minor) {
            Ok(l) => l,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let has = match found {
            Ok(has) => has,
            Err(why) => {
                problems.push(Problem::NoRepository { minor, url, why });
                continue;
            }
        };
        let version = match step {
            StepVersion::Exact(v) => has.contains(v).then_some(*v).ok_or(*v),
            StepVersion::Newest { major, minor } => has
                .iter()
                .filter(|v| v.major == *major && v.minor == *minor)
                .max()
                .copied()
                .ok_or(KubeVersion::new(*major, *minor, 0)),
        };
        match version {
            Ok(v) => out.push(v),
            Err(version) => problems.push(Problem::NotInRepository {
                version,
                url,
                has: has.clone(),
            }),
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}
