//! The settings of a static_ip task: each from its argument, else from the facts.

use std::net::Ipv4Addr;

use super::{Stack, Want, MIN_TIMEOUT, NETWORKD_UNIT, NM_UNIT};
use crate::modules::{Args, Context};

/// The settings, each from its argument or else from the facts.
pub fn resolve(args: &Args, ctx: &Context) -> Result<Want, String> {
    let facts = ctx.facts;
    let route = facts.default_route.as_ref();
    let interface = match args.str("interface")?.filter(|s| !s.is_empty()) {
        Some(i) => i,
        None => route.map(|r| r.interface.clone()).ok_or(
            "argument `interface` is not given and the host has no default route to take it from",
        )?,
    };
    if !interface
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.@:".contains(c))
        || interface.len() > 15
    {
        return Err(format!(
            "argument `interface` is not an interface name: {interface:?}"
        ));
    }
    let current = facts.interfaces.iter().find(|i| i.name == interface);
    let (ip, prefix) = match args.str("address")?.filter(|s| !s.is_empty()) {
        Some(a) => parse_cidr(&a).map_err(|e| format!("argument `address`: {e}"))?,
        None => {
            let first = current
                .and_then(|i| i.addresses.iter().find_map(|a| parse_cidr(a).ok()))
                .ok_or_else(|| {
                    format!(
                        "argument `address` is not given and {interface} has no IPv4 address to pin"
                    )
                })?;
            first
        }
    };
    let gateway = match args.str("gateway")?.filter(|s| !s.is_empty()) {
        Some(g) => Some(
            g.parse::<Ipv4Addr>()
                .map_err(|_| format!("argument `gateway` is not an IPv4 address: {g:?}"))?,
        ),
        None => route
            .filter(|r| r.interface == interface && !r.gateway.is_empty())
            .and_then(|r| r.gateway.parse().ok()),
    };
    if let Some(g) = gateway {
        let mask = prefix_mask(prefix);
        if u32::from(g) & mask != u32::from(ip) & mask || g == ip {
            return Err(format!(
                "gateway {g} is not a neighbour of {ip}/{prefix}: the host could not reach it"
            ));
        }
    }
    let dns = if args.has("dns") {
        args.list("dns")?
    } else {
        // A local stub (systemd-resolved's 127.0.0.53) as upstream would loop.
        facts
            .dns
            .iter()
            .filter(|d| {
                d.parse::<std::net::IpAddr>()
                    .is_ok_and(|a| !a.is_loopback())
            })
            .cloned()
            .collect()
    };
    for d in &dns {
        if d.parse::<std::net::IpAddr>().is_err() {
            return Err(format!("argument `dns`: not an IP address: {d:?}"));
        }
    }
    let stack = pick_stack(args, ctx)?;
    let rollback_timeout = match args.str("rollback_timeout")? {
        None => 60,
        Some(t) => t
            .parse::<u64>()
            .ok()
            .filter(|t| (MIN_TIMEOUT..=3600).contains(t))
            .ok_or_else(|| {
                format!(
                    "argument `rollback_timeout` must be seconds from {MIN_TIMEOUT} to 3600, got {t:?}"
                )
            })?,
    };
    Ok(Want {
        interface,
        ip,
        prefix,
        gateway,
        dns,
        stack,
        rollback_timeout,
    })
}

/// `a.b.c.d/n` (IPv4 only: the stanzas kubestrap writes are `inet`).
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (ip, prefix) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} needs a prefix length, e.g. 10.0.0.11/24"))?;
    let ip: Ipv4Addr = ip
        .parse()
        .map_err(|_| format!("{s:?} is not an IPv4 address with a prefix length"))?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| (1..=32).contains(p))
        .ok_or_else(|| format!("{s:?}: the prefix length must be 1 to 32"))?;
    Ok((ip, prefix))
}

pub fn prefix_mask(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

/// The stack asked for, or the one the host runs: netplan where it exists
/// (it renders for networkd or NetworkManager itself), else an active
/// NetworkManager, else an active systemd-networkd, else ifupdown.
pub fn pick_stack(args: &Args, ctx: &Context) -> Result<Stack, String> {
    let facts = ctx.facts;
    let has = |c: &str| facts.commands.contains(c);
    let active = |u: &str| {
        facts
            .units
            .get(u)
            .is_some_and(|s| s.active_state == "active")
    };
    let asked = args.choice(
        "stack",
        &["auto", "ifupdown", "netplan", "networkd", "networkmanager"],
        "auto",
    )?;
    let stack = match asked.as_str() {
        "auto" if has("netplan") => Stack::Netplan,
        "auto" if active(NM_UNIT) => Stack::NetworkManager,
        "auto" if active(NETWORKD_UNIT) => Stack::Networkd,
        "auto" if has("ifup") => Stack::Ifupdown,
        "auto" => {
            return Err(
                "no supported network stack found (netplan, NetworkManager, systemd-networkd or ifupdown); set `stack`"
                    .into(),
            )
        }
        "ifupdown" => Stack::Ifupdown,
        "netplan" => Stack::Netplan,
        "networkd" => Stack::Networkd,
        _ => Stack::NetworkManager,
    };
    let (tool, unit) = match stack {
        Stack::Ifupdown => ("ifup", None),
        Stack::Netplan => ("netplan", None),
        Stack::Networkd => ("networkctl", Some(NETWORKD_UNIT)),
        Stack::NetworkManager => ("nmcli", Some(NM_UNIT)),
    };
    if !has(tool) {
        return Err(format!(
            "stack {}: `{tool}` is not installed on the host",
            stack.name()
        ));
    }
    if let Some(u) = unit.filter(|u| !active(u)) {
        return Err(format!(
            "stack {}: {u} is not active, so it would not apply the file; start and enable it first",
            stack.name()
        ));
    }
    if !has("systemctl") {
        return Err("the rollback needs systemd (systemctl, systemd-run) on the host".into());
    }
    Ok(stack)
}
