//! Read an Ansible INI inventory into an [`AnsibleTree`], reporting every bad line, not just the first.
//!
//! Mirrors ansible-core's `plugins/inventory/ini.py`: hosts before any section
//! are `ungrouped`; `[g]`, `[g:children]`, `[g:vars]`; `#` and `;` comment
//! lines; host lines split like a POSIX shell (so `#` outside quotes ends the
//! line), while `:vars` values are taken verbatim after the first `=`.

use super::ansible_groups::{AnsibleTree, Var};
use super::collect::Problems;
use super::host_range;
use super::ini_value;
use crate::shlex::{self, Comments};
use std::collections::BTreeMap;

enum State {
    Hosts,
    Children,
    Vars,
}

/// A group named in `[x:vars]` or `[y:children]` before it was declared.
struct Pending {
    line: usize,
    parents: Vec<String>,
    vars_only: bool,
}

pub fn parse(text: &str, problems: &mut Problems) -> AnsibleTree {
    let mut tree = AnsibleTree::default();
    let mut pending: BTreeMap<String, Pending> = BTreeMap::new();
    let mut group = "ungrouped".to_string();
    let mut state = State::Hosts;

    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        // As Ansible: a valid header is a section; any other `[...]` line is a
        // broken header; `[a:c].example.com` or `[::1]:22` is a host line.
        let header = section(line);
        if header.is_ok() || (line.starts_with('[') && line.ends_with(']')) {
            group = String::new();
            match header {
                Ok((name, kind)) => {
                    let next = match kind {
                        "" | "hosts" => Some(State::Hosts),
                        "children" => Some(State::Children),
                        "vars" => Some(State::Vars),
                        _ => None,
                    };
                    if let Some(next) = next {
                        state = next;
                        group = name.to_string();
                        let is_vars = matches!(state, State::Vars);
                        declare(&mut tree, &mut pending, &group, is_vars, line_no, problems);
                    } else {
                        problems.roles_uncertain = true;
                        problems.push(
                            line_no,
                            None,
                            format!("section [{name}:{kind}] has unknown type {kind:?} (expected hosts, children or vars)"),
                        );
                    }
                }
                Err(msg) => {
                    problems.roles_uncertain = true;
                    problems.push(line_no, None, msg);
                }
            }
            continue;
        }
        if group.is_empty() {
            continue; // inside a section whose header was already reported
        }
        match state {
            State::Hosts => host_line(&mut tree, &group, line, line_no, problems),
            State::Vars => match line.split_once('=') {
                Some((k, v)) => {
                    let var = Var {
                        value: ini_value::parse(v.trim()),
                        line: line_no,
                        from_group: true,
                        file: None,
                    };
                    tree.set_group_var(&group, k.trim(), var);
                }
                None => problems.push(
                    line_no,
                    None,
                    format!("expected key=value in [{group}:vars], got {line:?}"),
                ),
            },
            State::Children => match group_name(line) {
                Some(child) if tree.has_group(child) => {
                    if let Err(e) = tree.add_child(&group, child) {
                        problems.push(line_no, None, e);
                    }
                }
                Some(child) => {
                    let p = pending.entry(child.to_string()).or_insert(Pending {
                        line: line_no,
                        parents: Vec::new(),
                        vars_only: false,
                    });
                    p.vars_only = false;
                    p.parents.push(group.clone());
                }
                None => problems.push(
                    line_no,
                    None,
                    format!("expected a group name in [{group}:children], got {line:?}"),
                ),
            },
        }
    }

    for (name, p) in pending {
        problems.roles_uncertain = true;
        let msg = if p.vars_only {
            format!("section [{name}:vars] is for group {name:?}, which is never defined")
        } else {
            let parent = p.parents.last().map(String::as_str).unwrap_or_default();
            format!("section [{parent}:children] names group {name:?}, which is never defined")
        };
        problems.push(p.line, None, msg);
    }
    tree
}

/// Record that a section names `group`, resolving earlier forward references.
fn declare(
    tree: &mut AnsibleTree,
    pending: &mut BTreeMap<String, Pending>,
    group: &str,
    is_vars: bool,
    line: usize,
    problems: &mut Problems,
) {
    if is_vars {
        // `[g:vars]` alone does not declare g; wait for `[g]` or `[g:children]`.
        if !tree.has_group(group) && !pending.contains_key(group) {
            pending.insert(
                group.to_string(),
                Pending {
                    line,
                    parents: Vec::new(),
                    vars_only: true,
                },
            );
        }
        tree.add_group(group);
        return;
    }
    tree.add_group(group);
    if let Some(p) = pending.remove(group) {
        for parent in p.parents {
            if let Err(e) = tree.add_child(&parent, group) {
                problems.push(p.line, None, e);
            }
        }
    }
}

/// A `[...]` line that is no section header.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid section header {line:?}: group names cannot contain spaces, ':' or ']'")]
struct BadHeader {
    line: String,
}

/// `[name]` or `[name:kind]`, trailing comment allowed; returns (name, kind).
fn section(line: &str) -> Result<(&str, &str), BadHeader> {
    let invalid = || BadHeader {
        line: line.to_string(),
    };
    let close = match line.find(']') {
        Some(close) if line.starts_with('[') => close,
        _ => return Err(invalid()),
    };
    let after = line[close + 1..].trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return Err(invalid());
    }
    let inner = &line[1..close];
    let (name, kind) = inner.split_once(':').unwrap_or((inner, ""));
    let name_ok = !name.is_empty() && !name.contains(char::is_whitespace);
    let kind_ok = kind.chars().all(|c| c.is_alphanumeric() || c == '_') && !(inner.ends_with(':'));
    if name_ok && kind_ok {
        Ok((name, kind))
    } else {
        Err(invalid())
    }
}

fn group_name(line: &str) -> Option<&str> {
    let name = line.split('#').next().unwrap_or_default().trim();
    (!name.is_empty() && !name.contains([':', ']']) && !name.contains(char::is_whitespace))
        .then_some(name)
}

/// `pattern [key=value ...]`: add each expanded host to `group` with its vars.
fn host_line(
    tree: &mut AnsibleTree,
    group: &str,
    line: &str,
    line_no: usize,
    problems: &mut Problems,
) {
    // Ansible's INI plugin reads a host line with `shlex.split(line, comments=True)`.
    let tokens = match shlex::split(line, Comments::Stripped) {
        Ok(t) => t,
        Err(e) => {
            problems.roles_uncertain = true;
            problems.push(
                line_no,
                None,
                format!("cannot read host line {line:?}: {e}"),
            );
            return;
        }
    };
    let Some((pattern, rest)) = tokens.split_first() else {
        return;
    };
    if pattern == "---" {
        problems.push(
            line_no,
            None,
            "\"---\" is not a host name; is this file meant to be YAML?",
        );
        return;
    }
    let (host_part, port) = host_range::split_port(pattern);
    if port.is_none() && pattern.ends_with(':') {
        problems.roles_uncertain = true;
        problems.push(
            line_no,
            None,
            format!("host pattern {pattern:?} ends in ':' but gives no port"),
        );
        return;
    }
    let names = match host_range::expand(host_part) {
        Ok(n) => n,
        Err(e) => {
            problems.roles_uncertain = true;
            problems.push(line_no, None, e);
            return;
        }
    };
    let mut vars = Vec::new();
    for t in rest {
        match t.split_once('=') {
            Some((k, v)) => vars.push((k.to_string(), ini_value::parse(v))),
            None => {
                let host = names.first().map(String::as_str);
                problems.push(
                    line_no,
                    host,
                    format!("expected key=value host variable, got {t:?}"),
                );
            }
        }
    }
    for name in &names {
        let port = port.clone().map(|p| Var {
            value: p,
            line: line_no,
            from_group: false,
            file: None,
        });
        tree.add_host(name, group, line_no, port);
        for (k, v) in &vars {
            let var = Var {
                value: v.clone(),
                line: line_no,
                from_group: false,
                file: None,
            };
            tree.set_host_var(name, k, var);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_headers() {
        assert_eq!(section("[kube_node]"), Ok(("kube_node", "")));
        assert_eq!(section("[all:vars] # x"), Ok(("all", "vars")));
        assert!(section("[bad group]").is_err());
        assert!(section("[a:c].example.com").is_err());
    }
}
