//! Read kubestrap's own YAML inventory: `cluster:`, `defaults:` and `hosts:`.
//!
//! Stricter than the Ansible formats on purpose: every key is known, so a
//! misspelt key is an error naming it instead of a setting silently ignored.

use super::collect::{Located, Problems};
use super::model::{ClusterSpec, Format, Host, Inventory, NetworkSettings, Role};
use super::values::{self, key_text, yaml_to_json};
use crate::yaml_pos::YamlPos;
use serde_json::Value as Json;
use serde_yaml::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every key allowed under `cluster:`. The first five fill [`ClusterSpec`]'s
/// own fields; add new keys here and they are kept in `ClusterSpec::extra`.
pub const CLUSTER_KEYS: &[&str] = &[
    "name",
    "kubernetes_version",
    "control_plane_endpoint",
    "pod_subnet",
    "service_subnet",
    // Where packages come from (see inventory/example.yaml):
    "apt_mirror",
    "kubernetes_packages",
    "containerd",
    "sandbox_image",
    // Static IP pinning, and how long a host may stay unreachable after a
    // network change before it rolls the change back by itself.
    "static_ip",
    "network_rollback_timeout",
    // The pod network (Calico) and the HA endpoint's kube-vip image.
    "calico",
    "kube_vip_image",
];

/// Connection settings allowed under `defaults:` (and on each host).
const DEFAULTS_KEYS: &[&str] = &["user", "port", "identity_file", "become", "become_user"];

const HOST_KEYS: &[&str] = &[
    "address",
    "port",
    "user",
    "identity_file",
    "become",
    "become_user",
    "roles",
    "ip",
    "network",
    "vars",
];

const NETWORK_KEYS: &[&str] = &["interface", "address", "gateway", "dns"];

struct Reader<'a> {
    lines: YamlPos,
    path: &'a Path,
    located: Located,
}

pub fn parse(
    map: &Mapping,
    text: &str,
    path: &Path,
    problems: &mut Problems,
) -> (Inventory, Located) {
    let mut r = Reader {
        lines: YamlPos::new(text),
        path,
        located: Located::default(),
    };
    let cluster = r.cluster(map.get("cluster"), problems);
    let defaults = r.section(
        map.get("defaults"),
        "defaults",
        DEFAULTS_KEYS,
        &["defaults"],
        problems,
    );
    for (_, line) in defaults.values() {
        r.located.mark_shared(*line);
    }

    let mut hosts = Vec::new();
    match map.get("hosts") {
        Some(Value::Mapping(m)) => {
            for (k, v) in m {
                let Value::String(name) = k else {
                    let line = r.lines.line_of_keys(&["hosts"]);
                    problems.roles_uncertain = true;
                    problems.push(
                        line,
                        None,
                        format!("host name {} must be a string", key_text(k)),
                    );
                    continue;
                };
                hosts.push(r.host(name, v, &defaults, problems));
            }
        }
        Some(Value::Null) | None => {}
        Some(_) => {
            let line = r.lines.line_of_keys(&["hosts"]);
            problems.roles_uncertain = true;
            problems.push(
                line,
                None,
                "hosts must be a mapping of host name to settings",
            );
        }
    }

    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for name in ["all", "control_plane", "worker"] {
        groups.insert(name.to_string(), Vec::new());
    }
    for h in &mut hosts {
        h.groups.insert("all".into());
        for role in &h.roles {
            h.groups.insert(role_group(*role).into());
        }
        for g in &h.groups {
            groups.entry(g.clone()).or_default().push(h.name.clone());
        }
    }
    let inv = Inventory {
        source: path.to_path_buf(),
        format: Format::Kubestrap,
        cluster,
        hosts,
        groups,
    };
    (inv, r.located)
}

fn role_group(role: Role) -> &'static str {
    match role {
        Role::ControlPlane => "control_plane",
        Role::Worker => "worker",
    }
}

/// A raw setting with the line it was written on.
type Raw = BTreeMap<String, (Json, usize)>;

impl Reader<'_> {
    /// Read a mapping whose keys must come from `allowed`; `host` names the
    /// host in messages.
    fn checked_map<'m>(
        &self,
        value: Option<&'m Value>,
        what: &str,
        allowed: &[&str],
        at: &[&str],
        host: Option<&str>,
        problems: &mut Problems,
    ) -> Vec<(String, &'m Value, usize)> {
        let mut out = Vec::new();
        let m = match value {
            None | Some(Value::Null) => return out,
            Some(Value::Mapping(m)) => m,
            Some(_) => {
                problems.push(
                    self.lines.line_of_keys(at),
                    host,
                    format!("{what} must be a mapping"),
                );
                return out;
            }
        };
        for (k, v) in m {
            let key = key_text(k);
            let mut path = at.to_vec();
            path.push(&key);
            let line = self.lines.line_of_keys(&path);
            if allowed.contains(&key.as_str()) {
                out.push((key, v, line));
            } else {
                problems.push(
                    line,
                    host,
                    format!(
                        "unknown {what} key {key:?} (allowed: {})",
                        allowed.join(", ")
                    ),
                );
            }
        }
        out
    }

    fn section(
        &self,
        value: Option<&Value>,
        what: &str,
        allowed: &[&str],
        at: &[&str],
        problems: &mut Problems,
    ) -> Raw {
        self.checked_map(value, what, allowed, at, None, problems)
            .into_iter()
            .map(|(k, v, line)| (k, (yaml_to_json(v), line)))
            .collect()
    }

    fn cluster(&mut self, value: Option<&Value>, problems: &mut Problems) -> ClusterSpec {
        let mut spec = ClusterSpec::default();
        for (key, (v, line)) in self.section(value, "cluster", CLUSTER_KEYS, &["cluster"], problems)
        {
            self.located.set_cluster(&key, line);
            let slot = match key.as_str() {
                "name" => &mut spec.name,
                "kubernetes_version" => &mut spec.kubernetes_version,
                "control_plane_endpoint" => &mut spec.control_plane_endpoint,
                "pod_subnet" => &mut spec.pod_subnet,
                "service_subnet" => &mut spec.service_subnet,
                _ => {
                    spec.extra.insert(key, v);
                    continue;
                }
            };
            match values::string(&key, &v) {
                Ok(s) => *slot = Some(s),
                Err(e) => problems.push(line, None, e),
            }
        }
        spec
    }

    fn host(&mut self, name: &str, value: &Value, defaults: &Raw, problems: &mut Problems) -> Host {
        let line = self.lines.line_of_keys(&["hosts", name]);
        let at = ["hosts", name];
        let mut raw = defaults.clone();
        let mut network = None;
        let mut roles_value = None;
        let mut vars = BTreeMap::new();
        for (key, v, kline) in
            self.checked_map(Some(value), "host", HOST_KEYS, &at, Some(name), problems)
        {
            match key.as_str() {
                "roles" => roles_value = Some((v, kline)),
                "network" => network = Some(self.network(name, v, problems)),
                "vars" => match yaml_to_json(v) {
                    Json::Object(m) => vars = m.into_iter().collect(),
                    Json::Null => {}
                    _ => problems.push(kline, Some(name), "vars must be a mapping"),
                },
                _ => {
                    raw.insert(key, (yaml_to_json(v), kline));
                }
            }
        }

        let mut host = Host {
            name: name.to_string(),
            roles: self.roles(name, roles_value, line, problems),
            network,
            vars,
            line,
            ..Default::default()
        };
        for (key, (v, kline)) in &raw {
            self.located.set_host(name, key, *kline);
            let result = match key.as_str() {
                "address" => values::string(key, v).map(|s| host.address = Some(s)),
                "port" => values::port(v).map(|p| host.port = Some(p)),
                "user" => values::string(key, v).map(|s| host.user = Some(s)),
                "become" => values::boolean(key, v).map(|b| host.become_ = b),
                "become_user" => values::string(key, v).map(|s| host.become_user = Some(s)),
                "ip" => values::ip(key, v).map(|ip| host.ip = Some(ip)),
                "identity_file" => values::string(key, v).map(|s| {
                    self.located.set_identity_written(name, &s);
                    host.identity_file = Some(values::resolve_path(&s, self.path));
                }),
                _ => Ok(()),
            };
            match result {
                Err(e) if self.located.is_shared(*kline) => problems.push_once(*kline, e),
                Err(e) => problems.push(*kline, Some(name), e),
                Ok(()) => {}
            }
        }
        host.connection_vars = host.ansible_connection_vars();
        host
    }

    fn roles(
        &self,
        name: &str,
        value: Option<(&Value, usize)>,
        host_line: usize,
        problems: &mut Problems,
    ) -> BTreeSet<Role> {
        let mut roles = BTreeSet::new();
        let (items, line) = match value {
            Some((Value::Sequence(s), line)) => (s.clone(), line),
            // A single role may be written without brackets.
            Some((Value::String(s), line)) => (vec![Value::String(s.clone())], line),
            Some((Value::Null, line)) => (Vec::new(), line),
            Some((_, line)) => {
                problems.roles_uncertain = true;
                problems.push(
                    line,
                    Some(name),
                    "roles must be a list: [control_plane] and/or [worker]",
                );
                return roles;
            }
            None => (Vec::new(), host_line),
        };
        for item in &items {
            match item.as_str() {
                Some("control_plane") => {
                    roles.insert(Role::ControlPlane);
                }
                Some("worker") => {
                    roles.insert(Role::Worker);
                }
                _ => {
                    problems.roles_uncertain = true;
                    let shown = values::describe(&yaml_to_json(item));
                    problems.push(
                        line,
                        Some(name),
                        format!("unknown role {shown} (expected control_plane or worker)"),
                    );
                }
            }
        }
        if items.is_empty() {
            problems.roles_uncertain = true;
            problems.push(
                line,
                Some(name),
                "no roles: give roles: [control_plane] and/or [worker]",
            );
        }
        roles
    }

    fn network(&mut self, name: &str, value: &Value, problems: &mut Problems) -> NetworkSettings {
        let mut net = NetworkSettings::default();
        let at = ["hosts", name, "network"];
        for (key, v, line) in self.checked_map(
            Some(value),
            "network",
            NETWORK_KEYS,
            &at,
            Some(name),
            problems,
        ) {
            let v = yaml_to_json(v);
            let field = format!("network.{key}");
            self.located.set_host(name, &field, line);
            let result = match key.as_str() {
                "interface" => values::string(&field, &v).map(|s| net.interface = Some(s)),
                "address" => values::string(&field, &v).map(|s| net.address = Some(s)),
                "gateway" => values::ip(&field, &v).map(|ip| net.gateway = Some(ip)),
                _ => {
                    let items = match v {
                        Json::Array(items) => items,
                        other => vec![other],
                    };
                    items
                        .iter()
                        .try_for_each(|item| values::ip(&field, item).map(|ip| net.dns.push(ip)))
                }
            };
            if let Err(e) = result {
                problems.push(line, Some(name), e);
            }
        }
        net
    }
}
