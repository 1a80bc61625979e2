//! Host patterns for `--limit` and plays' `hosts:`, as Ansible reads them.
//!
//! `all` or `*`; host or group names; globs (`node*`, `web?`); several
//! patterns joined with `,` or `:`; `!p` removes and `&p` intersects.
//! A role's group names are aliases of each other: `workers`, `kube_node`
//! and `worker` select the workers of any inventory format (README,
//! "Inventories"), unless the inventory has a group of that very name.

use std::path::PathBuf;

use crate::inventory::{Inventory, Role, CONTROL_PLANE_GROUPS, WORKER_GROUPS};

/// A host pattern that selects nothing it can name.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("host pattern {pattern:?} is empty")]
    Empty { pattern: String },
    /// One part of the pattern names no host or group of the inventory.
    #[error("host pattern {part:?} matches no host or group in {} (groups: {})",
        .inventory.display(),
        if .groups.is_empty() { "none".to_string() } else { .groups.join(", ") })]
    NoMatch {
        part: String,
        inventory: PathBuf,
        groups: Vec<String>,
    },
    /// Every part names something, yet together they select no host
    /// (`a:&b` with nothing in both, or outside `--limit`).
    #[error("host pattern {pattern:?} selects no host")]
    NoHost { pattern: String },
}

/// The hosts `pattern` selects that `limit` selects too (`ansible PATTERN
/// --limit LIMIT`), in inventory order; none at all is an error.
pub fn select_within(
    inv: &Inventory,
    pattern: &str,
    limit: &str,
) -> Result<Vec<String>, PatternError> {
    let limit = select(inv, limit)?;
    let hosts: Vec<String> = select(inv, pattern)?
        .into_iter()
        .filter(|h| limit.contains(h))
        .collect();
    if hosts.is_empty() {
        return Err(PatternError::NoHost {
            pattern: pattern.to_string(),
        });
    }
    Ok(hosts)
}

/// The inventory's host names selected by `pattern`, in inventory order.
/// A pattern that names nothing is an error: a typo in `--limit` must not
/// silently run on no host.
pub fn select(inv: &Inventory, pattern: &str) -> Result<Vec<String>, PatternError> {
    let mut chosen: Vec<bool> = vec![false; inv.hosts.len()];
    let mut parts: Vec<&str> = pattern
        .split([',', ':'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.is_empty() {
        return Err(PatternError::Empty {
            pattern: pattern.to_string(),
        });
    }
    // Ansible applies plain patterns first, then intersections, then exclusions.
    parts.sort_by_key(|p| match p.chars().next() {
        Some('&') => 1,
        Some('!') => 2,
        _ => 0,
    });
    let mut any_plain = false;
    for part in parts {
        let (op, name) = match part.chars().next() {
            Some(c @ ('&' | '!')) => (c, &part[1..]),
            _ => (' ', part),
        };
        let hits: Vec<bool> = inv
            .hosts
            .iter()
            .map(|h| matches(inv, name, &h.name))
            .collect();
        if !hits.iter().any(|&x| x) {
            return Err(PatternError::NoMatch {
                part: name.to_string(),
                inventory: inv.source.clone(),
                groups: inv.groups.keys().cloned().collect(),
            });
        }
        for (c, hit) in chosen.iter_mut().zip(hits) {
            match op {
                '&' => *c &= hit,
                '!' => *c &= !hit,
                _ => *c |= hit,
            }
        }
        any_plain |= op == ' ';
    }
    if !any_plain {
        // `!node1` alone means "all but node1", as in Ansible.
        return select(inv, &format!("all,{pattern}"));
    }
    Ok(inv
        .hosts
        .iter()
        .zip(chosen)
        .filter(|(_, c)| *c)
        .map(|(h, _)| h.name.clone())
        .collect())
}

/// Whether `pattern` (one name or glob, no operators) selects `host`.
fn matches(inv: &Inventory, pattern: &str, host: &str) -> bool {
    if pattern == "all" || pattern == "*" || glob(pattern, host) {
        return true;
    }
    if inv
        .groups
        .iter()
        .any(|(group, members)| glob(pattern, group) && members.iter().any(|m| m == host))
    {
        return true;
    }
    // A role's alias, when no group has that name.
    match alias_role(pattern) {
        Some(role) if !inv.groups.contains_key(pattern) => {
            inv.host(host).is_some_and(|h| h.roles.contains(&role))
        }
        _ => false,
    }
}

/// The role a group name stands for in any inventory format: kubespray's
/// names and kubestrap's own `control_plane` and `worker`.
fn alias_role(name: &str) -> Option<Role> {
    if CONTROL_PLANE_GROUPS.contains(&name) {
        Some(Role::ControlPlane)
    } else if WORKER_GROUPS.contains(&name) || name == "worker" {
        Some(Role::Worker)
    } else {
        None
    }
}

/// Shell-style glob with `*` and `?`.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{ClusterSpec, Format, Host};
    use std::collections::BTreeMap;

    fn inv() -> Inventory {
        let host = |n: &str| Host {
            name: n.into(),
            line: 1,
            ..Default::default()
        };
        let mut groups = BTreeMap::new();
        groups.insert("control_plane".to_string(), vec!["cp1".to_string()]);
        groups.insert(
            "worker".to_string(),
            vec!["node1".to_string(), "node2".to_string()],
        );
        Inventory {
            source: "inv.yaml".into(),
            format: Format::Kubestrap,
            cluster: ClusterSpec::default(),
            hosts: vec![host("cp1"), host("node1"), host("node2")],
            groups,
        }
    }

    #[test]
    fn patterns_select_as_ansible_does() {
        let table: &[(&str, &[&str])] = &[
            ("all", &["cp1", "node1", "node2"]),
            ("*", &["cp1", "node1", "node2"]),
            ("node1", &["node1"]),
            ("node*", &["node1", "node2"]),
            ("worker", &["node1", "node2"]),
            ("cp1,node2", &["cp1", "node2"]),
            ("cp1:node2", &["cp1", "node2"]),
            ("all:!worker", &["cp1"]),
            ("!node1", &["cp1", "node2"]),
            ("worker:&node2", &["node2"]),
            ("work*", &["node1", "node2"]),
            ("node?", &["node1", "node2"]),
        ];
        for (pattern, want) in table {
            assert_eq!(select(&inv(), pattern).unwrap(), *want, "pattern {pattern}");
        }
    }

    #[test]
    fn role_group_names_are_aliases_unless_a_group_has_the_name() {
        let mut inv = inv();
        for h in &mut inv.hosts {
            h.roles.insert(if h.name == "cp1" {
                Role::ControlPlane
            } else {
                Role::Worker
            });
        }
        let table: &[(&str, &[&str])] = &[
            ("workers", &["node1", "node2"]),
            ("kube_node", &["node1", "node2"]),
            ("nodes:!node1", &["node2"]),
            ("kube_control_plane", &["cp1"]),
            ("masters,workers", &["cp1", "node1", "node2"]),
        ];
        for (pattern, want) in table {
            assert_eq!(select(&inv, pattern).unwrap(), *want, "pattern {pattern}");
        }
        // A real group of that name is the group, as in Ansible.
        inv.groups.insert("nodes".into(), vec!["node2".into()]);
        assert_eq!(select(&inv, "nodes").unwrap(), ["node2"]);
    }

    #[test]
    fn a_pattern_matching_nothing_is_an_error_listing_the_groups() {
        let err = select(&inv(), "nodee1").unwrap_err().to_string();
        assert_eq!(
            err,
            "host pattern \"nodee1\" matches no host or group in inv.yaml (groups: control_plane, worker)"
        );
        assert!(select(&inv(), " , ").is_err());
    }

    #[test]
    fn a_pattern_within_a_limit_selects_what_both_select() {
        type Want = Result<&'static [&'static str], &'static str>;
        let table: &[(&str, &str, Want)] = &[
            ("worker", "all", Ok(&["node1", "node2"])),
            ("all", "node2,cp1", Ok(&["cp1", "node2"])),
            ("node*", "worker:!node1", Ok(&["node2"])),
            ("cp1", "worker", Err("host pattern \"cp1\" selects no host")),
            (
                "cp1:&node1",
                "all",
                Err("host pattern \"cp1:&node1\" selects no host"),
            ),
        ];
        for (pattern, limit, want) in table {
            let got = select_within(&inv(), pattern, limit).map_err(|e| e.to_string());
            let want = want.map(|w| w.to_vec()).map_err(str::to_string);
            assert_eq!(got, want.map(|w| w.iter().map(|h| h.to_string()).collect()));
        }
    }
}
