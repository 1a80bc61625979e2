//! Checks across hosts: identities that must differ, clocks that must agree.

use super::{PreflightProblem, Subject};
use crate::cluster::net::Cidr;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Most any two hosts' clocks may differ: certificates and tokens minted on
/// one are checked on another, and etcd's leases notice drift.
pub const CLOCK_TOLERANCE_SECS: i64 = 30;

/// MAC addresses that are the same everywhere by design: none, and the one
/// Calico gives the host end of every pod's veth.
const SHARED_MACS: &[&str] = &["00:00:00:00:00:00", "ee:ee:ee:ee:ee:ee"];

pub(super) fn check(subjects: &[Subject<'_>]) -> Vec<PreflightProblem> {
    let mut out = Vec::new();
    out.extend(duplicates(
        subjects,
        "unique-hostname",
        "set a unique one with hostnamectl",
        |s| {
            let h = &s.facts()?.hostname;
            let key = h.to_ascii_lowercase();
            (!h.is_empty()).then(|| vec![(key, format!("hostname {h:?}"))])
        },
    ));
    out.extend(duplicates(
        subjects,
        "unique-machine-id",
        "a cloned image? remove /etc/machine-id and run systemd-machine-id-setup",
        |s| {
            let id = &s.facts()?.machine_id;
            (!id.is_empty()).then(|| vec![(id.clone(), format!("machine-id {id}"))])
        },
    ));
    out.extend(duplicates(
        subjects,
        "unique-product-uuid",
        "a cloned VM, or firmware without a real UUID",
        |s| {
            let u = s.facts()?.product_uuid.as_ref()?;
            Some(vec![(u.to_ascii_lowercase(), format!("product_uuid {u}"))])
        },
    ));
    out.extend(duplicates(
        subjects,
        "unique-mac",
        "a cloned VM? give each NIC its own MAC",
        |s| Some(macs(s)),
    ));
    out.extend(duplicates(subjects, "unique-ip", "", |s| {
        let (ip, from) = node_ip(s)?;
        Some(vec![(ip.to_string(), format!("node IP {ip} ({from})"))])
    }));
    out
}

/// For each host, each of its values that another host also has: one
/// problem per host, naming the others.
fn duplicates(
    subjects: &[Subject<'_>],
    check: &'static str,
    hint: &str,
    values: impl Fn(&Subject<'_>) -> Option<Vec<(String, String)>>,
) -> Vec<PreflightProblem> {
    let per_host: Vec<BTreeMap<String, String>> = subjects
        .iter()
        .map(|s| values(s).unwrap_or_default().into_iter().collect())
        .collect();
    let mut holders: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (s, vals) in subjects.iter().zip(&per_host) {
        for key in vals.keys() {
            holders.entry(key).or_default().push(&s.host.name);
        }
    }
    let mut out = Vec::new();
    for (s, vals) in subjects.iter().zip(&per_host) {
        for (key, shown) in vals {
            let others: Vec<&str> = holders[key.as_str()]
                .iter()
                .copied()
                .filter(|h| *h != s.host.name)
                .collect();
            if others.is_empty() {
                continue;
            }
            let hint = if hint.is_empty() {
                String::new()
            } else {
                format!(" ({hint})")
            };
            out.push(s.problem(
                check,
                format!("{shown} is also on {}{hint}", others.join(", ")),
            ));
        }
    }
    out
}

/// MACs of the interfaces the host is reached on: those with an address
/// other than loopback or link-local. Bridges, veths and tunnels a CNI
/// made carry none, or random MACs; bond members share theirs on one host.
fn macs(s: &Subject<'_>) -> Vec<(String, String)> {
    let Some(f) = s.facts() else {
        return Vec::new();
    };
    f.interfaces
        .iter()
        .filter(|i| i.addresses.iter().any(|a| routable(a)))
        .filter_map(|i| {
            let mac = i.mac.as_ref()?.to_ascii_lowercase();
            let octets: Vec<&str> = mac.split(':').collect();
            let is_mac = octets.len() == 6
                && octets
                    .iter()
                    .all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_hexdigit()));
            (is_mac && !SHARED_MACS.contains(&mac.as_str()))
                .then(|| (mac.clone(), format!("MAC {mac} ({})", i.name)))
        })
        .collect()
}

fn routable(addr: &str) -> bool {
    let Ok(c) = Cidr::parse(addr) else {
        return false;
    };
    match c.addr {
        IpAddr::V4(a) => !a.is_loopback() && !a.is_link_local(),
        IpAddr::V6(a) => !a.is_loopback() && (a.segments()[0] & 0xffc0) != 0xfe80,
    }
}

/// The address the node will have in the cluster, and where it came from:
/// the inventory's `ip`, its static `network.address`, an SSH address
/// given as an IP, else the first IPv4 address of the default route's
/// interface (what kubelet picks).
pub(super) fn node_ip(s: &Subject<'_>) -> Option<(IpAddr, &'static str)> {
    let h = s.host;
    if let Some(ip) = h.ip {
        return Some((ip, "inventory ip"));
    }
    if let Some(a) = h.network.as_ref().and_then(|n| n.address.as_deref()) {
        if let Ok(c) = Cidr::parse(a) {
            return Some((c.addr, "inventory network.address"));
        }
    }
    if let Some(ip) = h.address.as_deref().and_then(|a| a.parse().ok()) {
        return Some((ip, "inventory address"));
    }
    let f = s.facts()?;
    let dev = &f.default_route.as_ref()?.interface;
    let iface = f.interfaces.iter().find(|i| &i.name == dev)?;
    iface.addresses.iter().find_map(|a| {
        let c = Cidr::parse(a).ok()?;
        c.addr
            .is_ipv4()
            .then_some((c.addr, "default route interface"))
    })
}

/// Hosts whose clock is off the others: with the spread above the
/// tolerance, every host more than half of it from the median is named.
/// Some host always is, since the median lies between the extremes.
pub(super) fn clock(subjects: &[Subject<'_>]) -> Vec<PreflightProblem> {
    let skews: Vec<(&Subject<'_>, i64)> = subjects
        .iter()
        .filter_map(|s| Some((s, s.gathered?.clock_skew_secs?)))
        .filter(|(s, _)| s.facts().is_some())
        .collect();
    let mut sorted: Vec<i64> = skews.iter().map(|(_, k)| *k).collect();
    sorted.sort_unstable();
    let (Some(min), Some(max)) = (sorted.first(), sorted.last()) else {
        return Vec::new();
    };
    let spread = max - min;
    if spread <= CLOCK_TOLERANCE_SECS {
        return Vec::new();
    }
    // Twice the median, so an even count needs no rounding.
    let n = sorted.len();
    let median2 = sorted[(n - 1) / 2] + sorted[n / 2];
    skews
        .iter()
        .filter(|(_, k)| (2 * k - median2).abs() > CLOCK_TOLERANCE_SECS)
        .map(|(s, k)| {
            let off = (2 * k - median2) / 2;
            let dir = if off > 0 { "ahead of" } else { "behind" };
            s.problem(
                "clock",
                format!(
                    "clock is {} s {dir} the hosts' median ({k:+} s against this machine); \
                     hosts must agree within {CLOCK_TOLERANCE_SECS} s and are {spread} s apart: \
                     is time synchronised (timedatectl)?",
                    off.abs()
                ),
            )
        })
        .collect()
}
