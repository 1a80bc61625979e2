//! Cluster defaults, in one place: preflight checks them and the shipped playbooks use them.
//!
//! The subnets are kubespray's: the manifests' usual 192.168.0.0/16 and
//! 10.244.0.0/16 collide with many campus and office LANs (FACTS.md).

use crate::inventory::{ClusterSpec, Inventory, Role};

/// Kubernetes version when the inventory names none (the shipped
/// playbooks' `default(...)`).
pub const KUBERNETES_VERSION: &str = "1.31.4";

/// The cluster name `apply` uses when the inventory names none.
pub const CLUSTER_NAME: &str = "kubernetes";

/// The API server port when the endpoint names none.
pub const API_PORT: u16 = 6443;

/// Pod network when the inventory names none.
pub const POD_SUBNET: &str = "10.233.64.0/18";

/// Service network when the inventory names none.
pub const SERVICE_SUBNET: &str = "10.233.0.0/18";

/// The pod subnet the cluster will use.
pub fn pod_subnet(spec: &ClusterSpec) -> &str {
    spec.pod_subnet.as_deref().unwrap_or(POD_SUBNET)
}

/// The service subnet the cluster will use.
pub fn service_subnet(spec: &ClusterSpec) -> &str {
    spec.service_subnet.as_deref().unwrap_or(SERVICE_SUBNET)
}

/// The cluster's settings as `apply` will use them, each default marked
/// as such: what `inventory show` prints.
pub fn settings(inv: &Inventory) -> Vec<(&'static str, String)> {
    let spec = &inv.cluster;
    let or_default = |v: &Option<String>, default: String| match v {
        Some(v) => v.clone(),
        None => format!("{default} (default)"),
    };
    let first_control_plane = inv
        .hosts
        .iter()
        .find(|h| h.roles.contains(&Role::ControlPlane))
        .map(|h| {
            let addr = h.ip.map(|i| i.to_string());
            addr.or_else(|| h.address.clone())
                .unwrap_or_else(|| h.name.clone())
        });
    let endpoint = match first_control_plane {
        Some(a) => format!("{a}:{API_PORT}"),
        None => "none (no control plane)".into(),
    };
    vec![
        ("name", or_default(&spec.name, CLUSTER_NAME.into())),
        (
            "kubernetes_version",
            or_default(&spec.kubernetes_version, KUBERNETES_VERSION.into()),
        ),
        (
            "control_plane_endpoint",
            or_default(&spec.control_plane_endpoint, endpoint),
        ),
        (
            "pod_subnet",
            or_default(&spec.pod_subnet, POD_SUBNET.into()),
        ),
        (
            "service_subnet",
            or_default(&spec.service_subnet, SERVICE_SUBNET.into()),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::net::Cidr;

    #[test]
    fn the_playbooks_default_to_the_same_kubernetes_version() {
        for (name, text) in crate::bundle::PLAYBOOKS {
            for line in text
                .lines()
                .filter(|l| l.contains("kubernetes_version | default("))
            {
                assert!(
                    line.contains(&format!("default('{KUBERNETES_VERSION}')")),
                    "{name}: {line}"
                );
            }
        }
    }

    #[test]
    fn settings_show_the_effective_values_and_mark_defaults() {
        let inv = crate::inventory::load(std::path::Path::new("inventory/example.yaml")).unwrap();
        let mut bare = inv.clone();
        bare.cluster = ClusterSpec::default();
        let shown: Vec<String> = settings(&bare)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let cp = bare
            .hosts
            .iter()
            .find(|h| h.roles.contains(&Role::ControlPlane))
            .unwrap();
        let addr = cp.ip.map(|i| i.to_string()).or(cp.address.clone()).unwrap();
        assert_eq!(
            shown,
            [
                "name=kubernetes (default)".to_string(),
                "kubernetes_version=1.31.4 (default)".into(),
                format!("control_plane_endpoint={addr}:6443 (default)"),
                "pod_subnet=10.233.64.0/18 (default)".into(),
                "service_subnet=10.233.0.0/18 (default)".into(),
            ]
        );
    }

    #[test]
    fn defaults_are_disjoint_networks_and_yield_to_the_inventory() {
        let pods = Cidr::parse(POD_SUBNET).unwrap();
        let services = Cidr::parse(SERVICE_SUBNET).unwrap();
        assert!(!pods.has_host_bits() && !services.has_host_bits());
        assert!(!pods.overlaps(&services));
        let mut spec = ClusterSpec::default();
        assert_eq!(
            (pod_subnet(&spec), service_subnet(&spec)),
            (POD_SUBNET, SERVICE_SUBNET)
        );
        spec.pod_subnet = Some("10.244.0.0/16".into());
        assert_eq!(pod_subnet(&spec), "10.244.0.0/16");
    }
}
