//! Cluster defaults, in one place: preflight checks them and the shipped playbooks use them.
//!
//! The subnets are kubespray's: the manifests' usual 192.168.0.0/16 and
//! 10.244.0.0/16 collide with many campus and office LANs (FACTS.md).

use crate::inventory::ClusterSpec;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::net::Cidr;

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
