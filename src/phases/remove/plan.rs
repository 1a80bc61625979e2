//! What `remove` does to each node, decided from the cluster's Node list before anything changes; or the one-line refusals.

use crate::facts::KubeNode;

/// What happens to one node asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Drained, reset on the host, its Node deleted.
    Reset,
    /// Its host does not answer: the Node deleted (and, for a control
    /// plane, its etcd member removed) through a healthy control plane.
    Forget,
    /// No Node of that name: removed already, nothing to do.
    Gone,
}

/// One node asked for and what happens to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub node: String,
    pub control_plane: bool,
    pub action: Action,
}

/// The removals, in the order asked, or why none may happen (one line each).
///
/// `nodes` is the Node list a healthy control plane gave; `remembered`
/// says whether the state directory's record (or the inventory) knows a
/// name that is no Node; `reachable` whether its host answered.
pub fn decide(
    asked: &[String],
    nodes: &[KubeNode],
    remembered: impl Fn(&str) -> bool,
    reachable: impl Fn(&str) -> bool,
) -> Result<Vec<Removal>, Vec<String>> {
    let mut refusals = Vec::new();
    let mut out = Vec::new();
    for name in asked {
        match nodes.iter().find(|n| &n.name == name) {
            Some(n) => out.push(Removal {
                node: name.clone(),
                control_plane: n.control_plane,
                action: if reachable(name) {
                    Action::Reset
                } else {
                    Action::Forget
                },
            }),
            None if remembered(name) => out.push(Removal {
                node: name.clone(),
                control_plane: false,
                action: Action::Gone,
            }),
            None => refusals.push(format!(
                "{name}: no cluster member of this name (the cluster's Nodes: {})",
                nodes
                    .iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    let members = nodes.iter().filter(|n| n.control_plane).count();
    let leaving: Vec<&str> = out
        .iter()
        .filter(|r| r.control_plane && r.action != Action::Gone)
        .map(|r| r.node.as_str())
        .collect();
    let left = members.saturating_sub(leaving.len());
    // The control planes that stay but do not answer still count as etcd
    // members: those that answer must stay a majority of what is left.
    let silent: Vec<&str> = nodes
        .iter()
        .filter(|n| n.control_plane && !leaving.contains(&n.name.as_str()) && !reachable(&n.name))
        .map(|n| n.name.as_str())
        .collect();
    if !leaving.is_empty() && left == 0 {
        refusals.push(format!(
            "{}: removing the last control plane would leave no cluster to remove it from",
            leaving.join(", ")
        ));
    } else if !leaving.is_empty() && left < members / 2 + 1 {
        refusals.push(format!(
            "{}: removing {} of {members} control planes leaves {left}, fewer than etcd's quorum of {}",
            leaving.join(", "),
            leaving.len(),
            members / 2 + 1
        ));
    } else if !leaving.is_empty() && left - silent.len() < left / 2 + 1 {
        refusals.push(format!(
            "{}: etcd would keep {left} members, {} of them not answering ({}): fewer answering than its quorum of {}; remove those first",
            leaving.join(", "),
            silent.len(),
            silent.join(", "),
            left / 2 + 1
        ));
    }
    if refusals.is_empty() {
        Ok(out)
    } else {
        Err(refusals)
    }
}

/// The REMOVE block's line for one removal.
pub fn line(r: &Removal, force: bool, purge: bool) -> String {
    let role = if r.control_plane {
        "control plane"
    } else {
        "worker"
    };
    match r.action {
        Action::Reset => format!(
            "{}: {role}: drain{}, kubeadm reset{}, CNI config, iptables/ipvs rules and kubelet state cleaned, packages {}, Node deleted",
            r.node,
            if force { " (--force: a blocked drain goes on)" } else { "" },
            if r.control_plane { " (removes its etcd member)" } else { "" },
            if purge { "purged" } else { "kept held" },
        ),
        Action::Forget => format!(
            "{}: {role}: host unreachable: {}Node deleted",
            r.node,
            if r.control_plane {
                "etcd member removed through a healthy control plane, "
            } else {
                ""
            }
        ),
        Action::Gone => format!("{}: no Node of this name: removed already, nothing to do", r.node),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, cp: bool) -> KubeNode {
        KubeNode {
            name: name.into(),
            control_plane: cp,
            ..KubeNode::default()
        }
    }

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn workers_reachable_unreachable_and_gone() {
        let nodes = [node("cp1", true), node("w1", false), node("w2", false)];
        let got = decide(
            &names(&["w1", "w2", "w3"]),
            &nodes,
            |n| n == "w3",
            |n| n == "w1",
        )
        .unwrap();
        let actions: Vec<(&str, &Action)> =
            got.iter().map(|r| (r.node.as_str(), &r.action)).collect();
        assert_eq!(
            actions,
            [
                ("w1", &Action::Reset),
                ("w2", &Action::Forget),
                ("w3", &Action::Gone)
            ]
        );
    }

    /// (control planes, asked, hosts that do not answer, refused with)
    #[test]
    fn refusals_name_the_nodes_and_the_rule() {
        type Row<'a> = (usize, &'a [&'a str], &'a [&'a str], Option<&'a str>);
        let table: &[Row] = &[
            (1, &["cp1"], &[], Some("cp1: removing the last control plane")),
            (3, &["cp1", "cp2", "cp3"], &[], Some("cp1, cp2, cp3: removing the last control plane")),
            (3, &["cp1"], &[], None),
            (3, &["cp1", "cp2"], &[], Some("removing 2 of 3 control planes leaves 1, fewer than etcd's quorum of 2")),
            (2, &["cp2"], &[], Some("removing 1 of 2 control planes leaves 1")),
            (5, &["cp1", "cp2"], &[], None),
            (3, &["nobody"], &[], Some("nobody: no cluster member of this name (the cluster's Nodes: cp1, cp2, cp3, w1)")),
            // A dead control plane is removed first, not one that answers.
            (3, &["cp2"], &["cp3"], Some("cp2: etcd would keep 2 members, 1 of them not answering (cp3): fewer answering than its quorum of 2; remove those first")),
            (3, &["cp3"], &["cp3"], None),
            (5, &["cp2"], &["cp3"], None),
            (5, &["cp2"], &["cp3", "cp4"], Some("etcd would keep 4 members, 2 of them not answering (cp3, cp4)")),
            (3, &["w1"], &["cp3"], None),
        ];
        for (cps, asked, dead, want) in table {
            let mut nodes: Vec<KubeNode> =
                (1..=*cps).map(|i| node(&format!("cp{i}"), true)).collect();
            nodes.push(node("w1", false));
            let got = decide(&names(asked), &nodes, |_| false, |n| !dead.contains(&n));
            match want {
                None => assert!(got.is_ok(), "{asked:?}: {got:?}"),
                Some(w) => {
                    let lines = got.unwrap_err();
                    assert_eq!(lines.len(), 1, "{lines:?}");
                    assert!(lines[0].contains(w), "{lines:?}");
                }
            }
        }
    }
}
