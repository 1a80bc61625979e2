//! Read an Ansible YAML inventory (`all: {hosts, children, vars}`) into an [`AnsibleTree`].
//!
//! Mirrors ansible-core's `plugins/inventory/yaml.py`, except that keys
//! Ansible merely warns about (`host:` for `hosts:`, a group that is a list)
//! are errors here: a typo there silently drops nodes from the cluster.

use super::ansible_groups::{AnsibleTree, Var};
use super::collect::Problems;
use super::host_range;
use super::values::{key_text, yaml_to_json};
use crate::yaml_pos::YamlPos;
use serde_yaml::{Mapping, Value};

/// Nesting limit for `children`, so a hostile file cannot overflow the stack.
const MAX_DEPTH: usize = 64;

struct Reader {
    lines: YamlPos,
    tree: AnsibleTree,
}

pub fn parse(map: &Mapping, text: &str, problems: &mut Problems) -> AnsibleTree {
    let mut r = Reader {
        lines: YamlPos::new(text),
        tree: AnsibleTree::default(),
    };
    if map.contains_key("plugin") {
        let line = r.lines.line_of_keys(&["plugin"]);
        problems.push(
            line,
            None,
            "this is an inventory plugin configuration, not a static inventory",
        );
        return r.tree;
    }
    for (k, v) in map {
        let name = key_text(k);
        r.group(&name, v, &[], problems);
    }
    r.tree
}

impl Reader {
    /// `parents` is the key path to this group's own key, for line lookups.
    fn group(&mut self, name: &str, data: &Value, parents: &[String], problems: &mut Problems) {
        let mut path: Vec<String> = parents.to_vec();
        path.push(name.to_string());
        let line = self.line(&path);
        if path.len() / 2 > MAX_DEPTH {
            problems.push(line, None, format!("group {name:?} is nested too deeply"));
            return;
        }
        self.tree.add_group(name);
        let data = match data {
            Value::Null => return,
            Value::Mapping(m) => m,
            _ => {
                problems.roles_uncertain = true;
                problems.push(
                    line,
                    None,
                    format!("group {name:?} must be a mapping of hosts, children and vars"),
                );
                return;
            }
        };
        for (k, v) in data {
            let key = key_text(k);
            let mut kpath = path.clone();
            kpath.push(key.clone());
            let kline = self.line(&kpath);
            let section = match v {
                Value::Null => continue,
                // Ansible lets a single host or child be written as a string.
                Value::String(s) => {
                    let mut m = Mapping::new();
                    m.insert(Value::String(s.clone()), Value::Null);
                    m
                }
                Value::Mapping(m) => m.clone(),
                _ => {
                    problems.roles_uncertain = true;
                    problems.push(
                        kline,
                        None,
                        format!("{key:?} of group {name:?} must be a mapping"),
                    );
                    continue;
                }
            };
            match key.as_str() {
                "hosts" => self.hosts(name, &section, &kpath, problems),
                "children" => {
                    for (ck, cv) in &section {
                        let child = key_text(ck);
                        self.group(&child, cv, &kpath, problems);
                        if let Err(e) = self.tree.add_child(name, &child) {
                            let mut cpath = kpath.clone();
                            cpath.push(child.clone());
                            problems.push(self.line(&cpath), None, e);
                        }
                    }
                }
                "vars" => {
                    for (vk, vv) in &section {
                        let var_name = key_text(vk);
                        let mut vpath = kpath.clone();
                        vpath.push(var_name.clone());
                        let var = Var {
                            value: yaml_to_json(vv),
                            line: self.line(&vpath),
                            from_group: true,
                            file: None,
                        };
                        self.tree.set_group_var(name, &var_name, var);
                    }
                }
                _ => {
                    problems.roles_uncertain = true;
                    problems.push(
                        kline,
                        None,
                        format!("unknown key {key:?} in group {name:?} (expected hosts, children or vars)"),
                    );
                }
            }
        }
    }

    fn hosts(&mut self, group: &str, hosts: &Mapping, path: &[String], problems: &mut Problems) {
        for (hk, hv) in hosts {
            let Value::String(pattern) = hk else {
                let text = key_text(hk);
                let mut hpath = path.to_vec();
                hpath.push(text.clone());
                problems.roles_uncertain = true;
                problems.push(
                    self.line(&hpath),
                    None,
                    format!("host name {text} must be a string; put it in quotes"),
                );
                continue;
            };
            let mut hpath = path.to_vec();
            hpath.push(pattern.clone());
            let line = self.line(&hpath);
            let (host_part, port) = host_range::split_port(pattern);
            let names = match host_range::expand(host_part) {
                Ok(n) => n,
                Err(e) => {
                    problems.roles_uncertain = true;
                    problems.push(line, None, e);
                    continue;
                }
            };
            let vars = match hv {
                Value::Null => None,
                Value::Mapping(m) => Some(m),
                _ => {
                    let host = names.first().map(String::as_str);
                    problems.push(line, host, "host variables must be a mapping");
                    None
                }
            };
            for name in &names {
                let port = port.clone().map(|value| Var {
                    value,
                    line,
                    from_group: false,
                    file: None,
                });
                self.tree.add_host(name, group, line, port);
                for (vk, vv) in vars.into_iter().flatten() {
                    let var_name = key_text(vk);
                    let mut vpath = hpath.clone();
                    vpath.push(var_name.clone());
                    let var = Var {
                        value: yaml_to_json(vv),
                        line: self.line(&vpath),
                        from_group: false,
                        file: None,
                    };
                    self.tree.set_host_var(name, &var_name, var);
                }
            }
        }
    }

    fn line(&self, path: &[String]) -> usize {
        let keys: Vec<&str> = path.iter().map(String::as_str).collect();
        self.lines.line_of_keys(&keys)
    }
}
