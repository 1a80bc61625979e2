//! The resolved inventory: hosts with their connection settings and cluster roles.
//!
//! Every parser (kubestrap YAML, Ansible INI, Ansible YAML) produces this one
//! model, so everything downstream is independent of the source format.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::PathBuf;

/// Which syntax an inventory file was written in (detected, never configured).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// kubestrap's own YAML: `cluster:`, `defaults:`, `hosts:`.
    Kubestrap,
    /// Ansible's static INI inventory.
    AnsibleIni,
    /// Ansible's static YAML inventory.
    AnsibleYaml,
}

/// The part a host plays in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    ControlPlane,
    Worker,
}

/// Static network settings to pin on a host (kubestrap format only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetworkSettings {
    /// Interface to configure, e.g. `eth0`; detected from facts when absent.
    pub interface: Option<String>,
    /// Address with prefix length, e.g. `10.0.0.11/24`.
    pub address: Option<String>,
    pub gateway: Option<IpAddr>,
    pub dns: Vec<IpAddr>,
}

/// One server, with every connection setting the inventory gave for it.
///
/// Connection fields left `None` were not set by the inventory; the SSH layer
/// fills them from ~/.ssh/config and then from OpenSSH's defaults, in that
/// order, as `ssh` does with command-line options.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Host {
    /// Inventory name; also the node name in the cluster.
    pub name: String,
    /// Address to reach over SSH (ansible_host / address). None: use the name.
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub identity_file: Option<PathBuf>,
    /// Run commands through sudo (ansible_become).
    #[serde(rename = "become")]
    pub become_: bool,
    /// User to become; root when None.
    pub become_user: Option<String>,
    /// The node's cluster address when it differs from the SSH address
    /// (kubespray's `ip`, kubestrap's `ip`).
    pub ip: Option<IpAddr>,
    pub roles: BTreeSet<Role>,
    /// Groups the host belongs to (Ansible formats), sorted.
    pub groups: BTreeSet<String>,
    pub network: Option<NetworkSettings>,
    /// All other variables, merged with group vars as Ansible merges them.
    pub vars: BTreeMap<String, serde_json::Value>,
    /// The connection variables (`ansible_host`, `ansible_ssh_port`,
    /// `ansible_become`, …) as the inventory set them, for `hostvars`; the
    /// fields above are what they mean.
    #[serde(skip)]
    pub connection_vars: BTreeMap<String, serde_json::Value>,
    /// 1-based line of the host's definition in the inventory file.
    #[serde(skip)]
    pub line: usize,
}

impl Host {
    /// The connection fields under the names an Ansible inventory gives
    /// them (kubestrap's format writes them as `address`, `port`, …).
    pub fn ansible_connection_vars(&self) -> BTreeMap<String, serde_json::Value> {
        use serde_json::Value;
        let mut v = BTreeMap::new();
        let mut put = |k: &str, val: Option<Value>| {
            if let Some(val) = val {
                v.insert(k.to_string(), val);
            }
        };
        put("ansible_host", self.address.clone().map(Value::from));
        put("ansible_port", self.port.map(Value::from));
        put("ansible_user", self.user.clone().map(Value::from));
        put(
            "ansible_ssh_private_key_file",
            self.identity_file
                .as_ref()
                .map(|p| Value::from(p.display().to_string())),
        );
        put("ansible_become", Some(Value::from(self.become_)));
        put(
            "ansible_become_user",
            self.become_user.clone().map(Value::from),
        );
        v
    }

    /// The address the SSH layer should dial, before ~/.ssh/config is applied.
    pub fn ssh_target(&self) -> &str {
        self.address.as_deref().unwrap_or(&self.name)
    }
}

/// Cluster-wide settings (kubestrap format `cluster:`; Ansible `all:vars`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClusterSpec {
    pub name: Option<String>,
    pub kubernetes_version: Option<String>,
    pub control_plane_endpoint: Option<String>,
    pub pod_subnet: Option<String>,
    pub service_subnet: Option<String>,
    /// Every other cluster key, kept for playbooks and templates.
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A fully parsed and validated inventory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    pub source: PathBuf,
    pub format: Format,
    pub cluster: ClusterSpec,
    /// Hosts in the order the file first names them.
    pub hosts: Vec<Host>,
    /// Group name → member host names (Ansible formats; role groups for ours).
    pub groups: BTreeMap<String, Vec<String>>,
}

impl Inventory {
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }
}
