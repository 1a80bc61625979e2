//! The variables a task sees on one host, layered with Ansible's precedence.
//!
//! Lowest to highest: inventory (group, then host) vars and magic variables,
//! facts, play vars, registered results, task vars, the loop item, extra vars.

use std::collections::BTreeMap;

use minijinja::Value;
use serde_json::{Map, Value as Json};

use super::error::ExtraVarsError;
use crate::inventory::{ClusterSpec, Host, Inventory, Role};

/// Inventory-derived variables of one host: its own vars, the connection
/// settings under their `ansible_*` names (as the inventory wrote them, and
/// `ansible_host`, `ansible_port`, `ansible_user` whatever alias set them),
/// and kubestrap's
/// own: `kubestrap_cluster` (the cluster settings), `kubestrap_roles`,
/// `kubestrap_network` (the host's static network settings, or none) and
/// `node_ip` (the node's cluster address, when known).
pub fn inventory_vars(host: &Host, cluster: &ClusterSpec) -> Map<String, Json> {
    let mut v: Map<String, Json> = host
        .vars
        .iter()
        .chain(&host.connection_vars)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut set = |k: &str, val: Option<Json>| {
        if let Some(val) = val {
            v.entry(k.to_string()).or_insert(val);
        }
    };
    set("ansible_host", host.address.clone().map(Json::from));
    set("ansible_port", host.port.map(Json::from));
    set("ansible_user", host.user.clone().map(Json::from));
    set("ip", host.ip.map(|i| Json::from(i.to_string())));
    v.insert("kubestrap_cluster".into(), cluster_var(cluster));
    v.insert(
        "kubestrap_roles".into(),
        Json::from(
            host.roles
                .iter()
                .map(|r| match r {
                    Role::ControlPlane => "control_plane",
                    Role::Worker => "worker",
                })
                .collect::<Vec<_>>(),
        ),
    );
    v.insert(
        "kubestrap_network".into(),
        host.network
            .as_ref()
            .and_then(|n| serde_json::to_value(n).ok())
            .unwrap_or(Json::Null),
    );
    let node_ip = host.ip.map(|i| i.to_string()).or_else(|| {
        host.address
            .clone()
            .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
    });
    v.insert(
        "node_ip".into(),
        node_ip.map(Json::from).unwrap_or(Json::Null),
    );
    v.insert("inventory_hostname".into(), Json::from(host.name.clone()));
    v.insert(
        "inventory_hostname_short".into(),
        Json::from(host.name.split('.').next().unwrap_or(&host.name)),
    );
    v.insert(
        "group_names".into(),
        Json::from(
            host.groups
                .iter()
                .filter(|g| *g != "all" && *g != "ungrouped")
                .cloned()
                .collect::<Vec<_>>(),
        ),
    );
    v
}

/// The cluster settings as one mapping: the named fields and every other
/// `cluster:` key (package sources, mirrors, …) side by side.
fn cluster_var(c: &ClusterSpec) -> Json {
    let mut m: Map<String, Json> = c
        .extra
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut put = |k: &str, v: &Option<String>| {
        m.insert(
            k.to_string(),
            v.clone().map(Json::from).unwrap_or(Json::Null),
        );
    };
    put("name", &c.name);
    put("kubernetes_version", &c.kubernetes_version);
    put("control_plane_endpoint", &c.control_plane_endpoint);
    put("pod_subnet", &c.pod_subnet);
    put("service_subnet", &c.service_subnet);
    Json::Object(m)
}

/// `groups`: every group with its members, `all` included.
pub fn groups_var(inv: &Inventory) -> Json {
    let mut g: Map<String, Json> = inv
        .groups
        .iter()
        .map(|(k, members)| (k.clone(), Json::from(members.clone())))
        .collect();
    g.insert(
        "all".into(),
        Json::from(inv.hosts.iter().map(|h| h.name.clone()).collect::<Vec<_>>()),
    );
    Json::Object(g)
}

/// A layered variable scope, cheap to extend per task: values are
/// minijinja Values, which share their data.
#[derive(Clone, Default)]
pub struct Scope(BTreeMap<String, Value>);

impl Scope {
    /// Put every entry of `vars` in, over what is there.
    pub fn layer(&mut self, vars: &Map<String, Json>) {
        for (k, v) in vars {
            self.0.insert(k.clone(), crate::render::to_jinja(v));
        }
    }

    /// Put every entry of `vars` in, over what is there (values are shared, not copied).
    pub fn layer_values(&mut self, vars: &BTreeMap<String, Value>) {
        for (k, v) in vars {
            self.0.insert(k.clone(), v.clone());
        }
    }

    pub fn set(&mut self, key: &str, value: Value) {
        self.0.insert(key.to_string(), value);
    }

    pub fn set_json(&mut self, key: &str, value: &Json) {
        self.0
            .insert(key.to_string(), crate::render::to_jinja(value));
    }

    /// The scope as one minijinja context value.
    pub fn value(&self) -> Value {
        Value::from(self.0.clone())
    }
}

/// Parse one `-e` argument: `@file.yaml`, a YAML/JSON mapping, or
/// `key=value` pairs separated by spaces (values stay strings, as Ansible's are).
pub fn parse_extra_vars(arg: &str) -> Result<Map<String, Json>, ExtraVarsError> {
    let text;
    let src = if let Some(path) = arg.strip_prefix('@') {
        text = std::fs::read_to_string(path).map_err(|source| ExtraVarsError::File {
            path: path.to_string(),
            source,
        })?;
        text.as_str()
    } else {
        arg
    };
    let trimmed = src.trim_start();
    if arg.starts_with('@') || trimmed.starts_with('{') {
        let v: serde_yaml::Value =
            serde_yaml::from_str(src).map_err(|source| ExtraVarsError::Yaml {
                arg: arg.to_string(),
                source,
            })?;
        return match serde_json::to_value(v) {
            Ok(Json::Object(m)) => Ok(m),
            Ok(Json::Null) => Ok(Map::new()),
            _ => Err(ExtraVarsError::NotMapping {
                arg: arg.to_string(),
            }),
        };
    }
    let mut out = Map::new();
    for pair in src.split_whitespace() {
        let (k, v) = pair.split_once('=').ok_or_else(|| ExtraVarsError::Pair {
            pair: pair.to_string(),
        })?;
        if k.is_empty() {
            return Err(ExtraVarsError::EmptyName {
                pair: pair.to_string(),
            });
        }
        out.insert(k.to_string(), Json::from(v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_vars_come_in_three_shapes() {
        let kv = parse_extra_vars("a=1 b=two").unwrap();
        assert_eq!(kv["a"], Json::from("1"));
        assert_eq!(kv["b"], Json::from("two"));
        let yaml = parse_extra_vars("{x: [1, 2], y: true}").unwrap();
        assert_eq!(yaml["x"], serde_json::json!([1, 2]));
        assert_eq!(yaml["y"], Json::from(true));
        assert!(parse_extra_vars("novalue")
            .unwrap_err()
            .to_string()
            .contains("expected key=value"));
        assert!(parse_extra_vars("@/nonexistent/x.yaml")
            .unwrap_err()
            .to_string()
            .starts_with("-e @/nonexistent/x.yaml:"));
    }

    /// (inventory, host, variable, what hostvars shows as JSON; None:
    /// undefined). INI values stay text unless Python would read them as
    /// a literal, as ansible-inventory shows them.
    const CONNECTION_CASES: &[(&str, &str, &str, Option<&str>)] = &[
        (
            "[kube_control_plane]\ncp1 ansible_ssh_host=10.0.0.1 ansible_ssh_port=2200",
            "cp1",
            "ansible_ssh_host",
            Some("\"10.0.0.1\""),
        ),
        (
            "[kube_control_plane]\ncp1 ansible_ssh_host=10.0.0.1",
            "cp1",
            "ansible_host",
            Some("\"10.0.0.1\""),
        ),
        (
            "[kube_control_plane]\ncp1 ansible_ssh_port=2200",
            "cp1",
            "ansible_ssh_port",
            Some("2200"),
        ),
        (
            "[kube_control_plane]\ncp1 ansible_ssh_port=2200",
            "cp1",
            "ansible_port",
            Some("2200"),
        ),
        (
            "[kube_control_plane]\ncp1\n[all:vars]\nansible_become=true",
            "cp1",
            "ansible_become",
            Some("\"true\""),
        ),
        (
            "[kube_control_plane]\ncp1 ansible_become_user=ops",
            "cp1",
            "ansible_become_user",
            Some("\"ops\""),
        ),
        (
            "[kube_control_plane]\ncp1 ansible_ssh_private_key_file=/dev/null",
            "cp1",
            "ansible_ssh_private_key_file",
            Some("\"/dev/null\""),
        ),
        (
            "[kube_control_plane]\ncp1 ip=10.1.0.1",
            "cp1",
            "ip",
            Some("\"10.1.0.1\""),
        ),
        ("[kube_control_plane]\ncp1", "cp1", "ansible_become", None),
        // kubestrap's own format: its fields under Ansible's names.
        (
            "hosts:\n  cp1:\n    address: 10.0.0.1\n    become: true\n    roles: [control_plane]",
            "cp1",
            "ansible_become",
            Some("true"),
        ),
        (
            "hosts:\n  cp1:\n    address: 10.0.0.1\n    roles: [control_plane]",
            "cp1",
            "ansible_host",
            Some("\"10.0.0.1\""),
        ),
    ];

    #[test]
    fn hostvars_show_every_connection_variable() {
        for (text, host, var, want) in CONNECTION_CASES {
            let inv = crate::inventory::parse_str(text, std::path::Path::new("/x/inv"))
                .unwrap_or_else(|p| panic!("{text}: {p:?}"));
            let vars = inventory_vars(inv.host(host).unwrap(), &inv.cluster);
            let got = vars.get(*var).map(|v| v.to_string());
            assert_eq!(got.as_deref(), *want, "{text} → {var}");
        }
    }

    #[test]
    fn later_layers_win() {
        let mut s = Scope::default();
        let mut low = Map::new();
        low.insert("x".into(), Json::from(1));
        let mut high = Map::new();
        high.insert("x".into(), Json::from(2));
        s.layer(&low);
        s.layer(&high);
        let v = s.value();
        assert_eq!(v.get_attr("x").unwrap(), Value::from(2));
    }
}
