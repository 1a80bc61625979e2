//! Checks that need the whole parsed inventory: addresses, duplicates, roles, files, subnets.
//!
//! Parsers already reported what they could not read; this pass adds what is
//! wrong with what they did read, and keeps going so the user sees every
//! problem in one run.

use super::collect::{Located, Problems};
use super::model::{Format, Host, Inventory, Role};
use super::net::{self, Cidr};
use std::collections::HashMap;

pub fn validate(inv: &Inventory, located: &Located, problems: &mut Problems) {
    let mut targets: HashMap<(String, u16), &str> = HashMap::new();
    for host in &inv.hosts {
        check_host(host, located, problems);
        // Two entries dialling the same sshd would bootstrap one machine twice.
        let key = (
            host.ssh_target().to_ascii_lowercase(),
            host.port.unwrap_or(22),
        );
        if let Some(first) = targets.get(&key) {
            let line = located.host(&host.name, "address", host.line);
            problems.push(
                line,
                Some(&host.name),
                format!(
                    "same SSH address and port as host {first} ({}:{})",
                    host.ssh_target(),
                    key.1
                ),
            );
        } else {
            targets.insert(key, &host.name);
        }
    }

    if !problems.roles_uncertain {
        if inv.hosts.is_empty() {
            problems.push(0, None, "no hosts in the inventory");
        } else if problems.need_control_plane
            && !inv
                .hosts
                .iter()
                .any(|h| h.roles.contains(&Role::ControlPlane))
        {
            let msg = match inv.format {
                Format::Kubestrap => {
                    "no control plane: no host has the control_plane role".to_string()
                }
                _ => format!(
                    "no control plane: no host is in a control-plane group ({})",
                    super::roles::CONTROL_PLANE_GROUPS.join(", ")
                ),
            };
            problems.push(0, None, msg);
        }
    }
    check_cluster(inv, located, problems);
}

fn check_host(host: &Host, located: &Located, problems: &mut Problems) {
    let name = Some(host.name.as_str());
    match &host.address {
        Some(a) if !net::is_address(a) => problems.push(
            located.host(&host.name, "address", host.line),
            name,
            format!("address {a:?} is neither an IP address nor a valid DNS name"),
        ),
        None if !net::is_address(&host.name) => problems.push(
            host.line,
            name,
            "the host name is not a valid address and no address is given to connect to",
        ),
        _ => {}
    }
    if let Some(path) = &host.identity_file {
        if let Err(e) = std::fs::File::open(path) {
            let written = located
                .identity_written(&host.name)
                .map(str::to_string)
                .unwrap_or_else(|| path.display().to_string());
            let line = located.host(&host.name, "identity_file", host.line);
            let msg = format!(
                "identity file {written:?} cannot be read: {}",
                io_reason(&e)
            );
            if located.is_shared(line) {
                problems.push_once(line, msg);
            } else {
                problems.push(line, name, msg);
            }
        }
    }
    let Some(network) = &host.network else {
        return;
    };
    let mut subnet = None;
    if let Some(addr) = &network.address {
        let line = located.host(&host.name, "network.address", host.line);
        match Cidr::parse(addr) {
            Ok(c) => subnet = Some(c),
            Err(why) => problems.push(
                line,
                name,
                format!("network.address {addr:?} is not an address with prefix length like 10.0.0.11/24: {why}"),
            ),
        }
    }
    if let (Some(gw), Some(subnet), Some(addr)) = (network.gateway, subnet, &network.address) {
        if !subnet.contains(gw) {
            problems.push(
                located.host(&host.name, "network.gateway", host.line),
                name,
                format!("network.gateway {gw} is outside network.address {addr}"),
            );
        }
    }
}

fn check_cluster(inv: &Inventory, located: &Located, problems: &mut Problems) {
    let c = &inv.cluster;
    let subnet = |key: &str, value: &Option<String>, problems: &mut Problems| {
        let v = value.as_deref()?;
        let line = located.cluster(key);
        match Cidr::parse(v) {
            Ok(c) if c.has_host_bits() => {
                problems.push(
                    line,
                    None,
                    format!("{key} {v:?} has host bits set; give the network address"),
                );
                None
            }
            Ok(c) => Some(c),
            Err(why) => {
                problems.push(
                    line,
                    None,
                    format!("{key} {v:?} is not a valid CIDR block: {why}"),
                );
                None
            }
        }
    };
    let pods = subnet("pod_subnet", &c.pod_subnet, problems);
    let services = subnet("service_subnet", &c.service_subnet, problems);
    if let (Some(p), Some(s)) = (pods, services) {
        if p.overlaps(&s) {
            problems.push(
                located.cluster("service_subnet"),
                None,
                format!(
                    "pod_subnet {} overlaps service_subnet {}",
                    c.pod_subnet.as_deref().unwrap_or_default(),
                    c.service_subnet.as_deref().unwrap_or_default()
                ),
            );
        }
    }
    if let Some(ep) = &c.control_plane_endpoint {
        if !valid_endpoint(ep) {
            problems.push(
                located.cluster("control_plane_endpoint"),
                None,
                format!("control_plane_endpoint {ep:?} is not ADDRESS or ADDRESS:PORT (e.g. 10.0.0.10:6443)"),
            );
        }
    }
    if let Some(v) = &c.kubernetes_version {
        let digits = v.strip_prefix('v').unwrap_or(v);
        let parts: Vec<&str> = digits.split('.').collect();
        let ok = (2..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if !ok {
            problems.push(
                located.cluster("kubernetes_version"),
                None,
                format!("kubernetes_version {v:?} is not a version like 1.31.4"),
            );
        }
    }
}

/// `host`, `host:port`, `[v6]:port` or a bare IPv6 address.
fn valid_endpoint(ep: &str) -> bool {
    if net::is_address(ep) {
        return true;
    }
    let (host, port) = match ep.strip_prefix('[') {
        Some(rest) => match rest.split_once("]:") {
            Some(hp) => hp,
            None => return false,
        },
        None => match ep.rsplit_once(':') {
            Some(hp) => hp,
            None => return false,
        },
    };
    net::is_address(host) && matches!(port.parse::<u16>(), Ok(p) if p > 0)
}

/// The OS's reason without the "(os error N)" suffix, so messages read the same everywhere.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}
