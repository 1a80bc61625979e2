//! The UPGRADE block: per step, per batch, each host from → to, in the order they go.

use crate::cluster::upgrade::{Member, Schedule};
use crate::cluster::versions::KubeVersion;

/// What apply (and `--check`) shows before the upgrade starts.
pub fn upgrade_lines(
    schedule: &Schedule,
    members: &[Member],
    target: KubeVersion,
    max_unavailable: usize,
) -> Vec<String> {
    let from = |name: &str| -> String {
        members
            .iter()
            .find(|m| m.name == name)
            .and_then(|m| match (m.kubelet, m.apiserver) {
                (Some(k), Some(a)) if k != a => Some(format!("kubelet {k}, control plane {a}")),
                (k, a) => k.or(a).map(|v| v.to_string()),
            })
            .unwrap_or_else(|| "?".into())
    };
    if schedule.steps.is_empty() {
        return vec![
            format!("every host of this run runs {target}"),
            format!(
                "not in this run, still older: {}",
                schedule.left_out.join(", ")
            ),
        ];
    }
    let versions: Vec<String> = schedule
        .steps
        .iter()
        .map(|s| s.version.to_string())
        .collect();
    let mut lines = vec![format!(
        "to {target} in {} step{} ({}), control plane first, workers {} at a time",
        versions.len(),
        if versions.len() == 1 { "" } else { "s" },
        versions.join(" → "),
        max_unavailable.max(1)
    )];
    let mut seen: Vec<&str> = Vec::new();
    for step in &schedule.steps {
        lines.push(format!("step {}:", step.version));
        for (i, b) in step.batches.iter().enumerate() {
            let who: Vec<String> = b
                .hosts
                .iter()
                .map(|h| {
                    // Where a host starts from is only news the first time.
                    let start = if seen.contains(&h.as_str()) {
                        " →".to_string()
                    } else {
                        format!(" {} →", from(h))
                    };
                    format!("{h}{start} {}", step.version)
                })
                .collect();
            for h in &b.hosts {
                seen.push(h);
            }
            let how = if b.apply {
                "control plane, kubeadm upgrade apply"
            } else if b.control_plane {
                "control plane, kubeadm upgrade node"
            } else {
                "workers, kubeadm upgrade node"
            };
            lines.push(format!("  {}. {} ({how})", i + 1, who.join(", ")));
        }
    }
    if !schedule.left_out.is_empty() {
        lines.push(format!(
            "not in this run, left as they are: {}",
            schedule.left_out.join(", ")
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::upgrade::schedule;

    #[test]
    fn the_block_names_every_host_in_order() {
        let v = |s| KubeVersion::parse(s).unwrap();
        let m = |name: &str, cp: bool| Member {
            name: name.into(),
            control_plane: cp,
            kubelet: Some(v("1.31.4")),
            apiserver: cp.then(|| v("1.31.4")),
            cordoned_by_us: false,
            in_run: name != "w3",
        };
        let members = vec![
            m("cp1", true),
            m("w1", false),
            m("w2", false),
            m("w3", false),
        ];
        let s = schedule(&[v("1.32.1"), v("1.33.0")], "cp1", &members, 2).unwrap();
        let lines = upgrade_lines(&s, &members, v("1.33.0"), 2);
        assert_eq!(
            lines,
            [
                "to 1.33.0 in 2 steps (1.32.1 → 1.33.0), control plane first, workers 2 at a time",
                "step 1.32.1:",
                "  1. cp1 1.31.4 → 1.32.1 (control plane, kubeadm upgrade apply)",
                "  2. w1 1.31.4 → 1.32.1, w2 1.31.4 → 1.32.1 (workers, kubeadm upgrade node)",
                "step 1.33.0:",
                "  1. cp1 → 1.33.0 (control plane, kubeadm upgrade apply)",
                "  2. w1 → 1.33.0, w2 → 1.33.0 (workers, kubeadm upgrade node)",
                "not in this run, left as they are: w3",
            ]
        );
        // Only hosts out of the run are behind: nothing to do but say so.
        let mut members = members;
        for m in members.iter_mut().filter(|m| m.name != "w3") {
            m.kubelet = Some(v("1.33.0"));
            m.apiserver = m.apiserver.map(|_| v("1.33.0"));
        }
        let s = schedule(&[v("1.33.0")], "cp1", &members, 1).unwrap();
        assert_eq!(
            upgrade_lines(&s, &members, v("1.33.0"), 1),
            [
                "every host of this run runs 1.33.0",
                "not in this run, still older: w3"
            ]
        );
    }
}
