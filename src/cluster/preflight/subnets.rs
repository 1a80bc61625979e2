//! The pod and service subnets against each other and every network a host is on.
//!
//! A pod or service subnet that overlaps a network a host can reach makes
//! that network unreachable from pods (or silently routes it into the
//! cluster); Calico and kubeadm do not check (calico#1401, kubeadm#1185).

use super::{PreflightProblem, Subject};
use crate::cluster::defaults;
use crate::cluster::net::Cidr;
use crate::facts::RouteEntry;
use crate::inventory::Inventory;
use std::net::IpAddr;

const CHECK: &str = "subnets";

/// One of the cluster's own blocks.
struct Block {
    what: &'static str,
    text: String,
    cidr: Cidr,
}

impl Block {
    fn label(&self) -> String {
        format!("{} {}", self.what, self.text)
    }
}

pub(super) fn check(inv: &Inventory, subjects: &[Subject<'_>]) -> Vec<PreflightProblem> {
    let mut out = Vec::new();
    let mut cluster = |message: String| {
        out.push(PreflightProblem {
            check: CHECK,
            host: None,
            message,
        })
    };
    let mut blocks = Vec::new();
    for (what, text) in [
        ("pod subnet", defaults::pod_subnet(&inv.cluster)),
        ("service subnet", defaults::service_subnet(&inv.cluster)),
    ] {
        match Cidr::parse(text) {
            Ok(cidr) => blocks.push(Block {
                what,
                text: text.to_string(),
                cidr,
            }),
            Err(why) => cluster(format!("{what} {text:?} is not a CIDR block: {why}")),
        }
    }
    if let [pods, services] = &blocks[..] {
        if pods.cidr.overlaps(&services.cidr) {
            cluster(format!("{} overlaps {}", pods.label(), services.label()));
        }
    }
    if let Some(ip) = endpoint_ip(inv.cluster.control_plane_endpoint.as_deref()) {
        for b in blocks.iter().filter(|b| b.cidr.contains(ip)) {
            cluster(format!(
                "{} contains the control_plane_endpoint address {ip}",
                b.label()
            ));
        }
    }
    for s in subjects {
        for b in &blocks {
            host(s, b, &blocks, &mut out);
        }
    }
    out
}

/// What one host has in one block: its inventory addresses, its interface
/// addresses, the networks it routes. On a host already in a cluster,
/// whatever lies wholly inside the cluster's own blocks is that cluster's
/// (a CNI's tunnel address and pod routes, kube-proxy's service addresses).
fn host(s: &Subject<'_>, b: &Block, blocks: &[Block], out: &mut Vec<PreflightProblem>) {
    let cluster_owned = |c: &Cidr| {
        s.is_node()
            && blocks
                .iter()
                .any(|o| o.cidr.prefix <= c.prefix && o.cidr.contains(c.addr))
    };
    let facts = s.facts();
    let iface_addrs: Vec<(Cidr, &str)> = facts
        .map(|f| {
            f.interfaces
                .iter()
                .flat_map(|i| {
                    i.addresses
                        .iter()
                        .filter_map(|a| Some((Cidr::parse(a).ok()?, i.name.as_str())))
                })
                .collect()
        })
        .unwrap_or_default();

    for (ip, from) in inventory_addresses(s) {
        // The same address on an interface is reported there, with its prefix.
        let on_iface = iface_addrs.iter().any(|(c, _)| c.addr == ip);
        if b.cidr.contains(ip) && !on_iface {
            out.push(s.problem(
                CHECK,
                format!("{} contains the host's {from} {ip}", b.label()),
            ));
        }
    }
    for (c, name) in &iface_addrs {
        if b.cidr.overlaps(c) && !cluster_owned(c) {
            out.push(s.problem(
                CHECK,
                format!(
                    "{} overlaps address {c_text} on {name}",
                    b.label(),
                    c_text = show(c)
                ),
            ));
        }
    }
    let Some(f) = facts else {
        return;
    };
    for r in &f.routes {
        let Ok(c) = Cidr::parse(&r.dst) else {
            continue;
        };
        // The default route overlaps everything and takes only what no
        // other route does; a connected route repeats an interface address.
        let connected = iface_addrs
            .iter()
            .any(|(a, _)| a.prefix == c.prefix && a.contains(c.addr));
        if c.prefix == 0 || connected || cluster_owned(&c) || !b.cidr.overlaps(&c) {
            continue;
        }
        out.push(s.problem(
            CHECK,
            format!("{} overlaps route {}", b.label(), route_text(r)),
        ));
    }
}

/// Addresses the inventory gives the host, with the key that gave each.
fn inventory_addresses(s: &Subject<'_>) -> Vec<(IpAddr, &'static str)> {
    let h = s.host;
    let mut out = Vec::new();
    if let Some(ip) = h.ip {
        out.push((ip, "inventory ip"));
    }
    if let Some(c) = h
        .network
        .as_ref()
        .and_then(|n| n.address.as_deref())
        .and_then(|a| Cidr::parse(a).ok())
    {
        out.push((c.addr, "inventory network.address"));
    }
    if let Some(ip) = h.address.as_deref().and_then(|a| a.parse().ok()) {
        out.push((ip, "inventory address"));
    }
    out.sort();
    out.dedup_by_key(|(ip, _)| *ip);
    out
}

fn show(c: &Cidr) -> String {
    format!("{}/{}", c.addr, c.prefix)
}

fn route_text(r: &RouteEntry) -> String {
    let mut t = if r.kind == "unicast" {
        r.dst.clone()
    } else {
        format!("{} {}", r.kind, r.dst)
    };
    if let Some(g) = &r.gateway {
        t.push_str(&format!(" via {g}"));
    }
    if let Some(d) = &r.interface {
        t.push_str(&format!(" dev {d}"));
    }
    if let Some(p) = &r.protocol {
        t.push_str(&format!(" proto {p}"));
    }
    t
}

/// The address of `HOST`, `HOST:PORT` or `[V6]:PORT` when HOST is an IP.
fn endpoint_ip(ep: Option<&str>) -> Option<IpAddr> {
    let ep = ep?;
    if let Ok(ip) = ep.parse() {
        return Some(ip);
    }
    let host = match ep.strip_prefix('[') {
        Some(rest) => rest.split_once(']')?.0,
        None => ep.rsplit_once(':')?.0,
    };
    host.parse().ok()
}
