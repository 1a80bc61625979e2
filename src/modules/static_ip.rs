//! static_ip: pin a host's address in its own network stack, never losing the host.
//!
//! kubestrap's own module. It writes the interface's configuration for the
//! stack the host runs (ifupdown, netplan, systemd-networkd or
//! NetworkManager) from `templates/network/STACK.j2`, validates it with the
//! stack's own tool before anything is used, and applies it the way
//! `netplan try` does: a rollback is armed on the host first (a transient
//! systemd timer, so it survives the SSH session), the change is applied by a
//! detached unit, and only a fresh SSH login afterwards confirms it. A host
//! that cannot be reached again restores its old files and addresses by itself.
//!
//! The files kubestrap owns carry no interface name: `needs` sees only the
//! arguments, and the interface is usually the default route's, known only
//! from facts. One host has one pinned interface (the node address).

mod ifupdown;
mod resolve;
mod scripts;
#[cfg(test)]
mod tests;

use std::net::Ipv4Addr;

use resolve::prefix_mask;
pub use resolve::{parse_cidr, resolve};

use serde_json::{json, Map, Value};

use super::sys_common::{file_fact, file_text, sha256_hex, text_diff, written_state};
use super::{Action, Args, Context, Module, Plan};
use crate::facts::{FactRequest, FactUpdate, FileKind};

pub struct StaticIp;

/// /etc/network/interfaces: stanzas for the pinned interface are commented out.
pub const IFACES: &str = "/etc/network/interfaces";
pub const IFUPDOWN_FILE: &str = "/etc/network/interfaces.d/60-kubestrap";
/// Read by netplan after the distribution's 50-cloud-init.yaml, so it wins.
pub const NETPLAN_FILE: &str = "/etc/netplan/60-kubestrap.yaml";
/// networkd uses the first matching file in lexical order: 10- sorts early.
pub const NETWORKD_FILE: &str = "/etc/systemd/network/10-kubestrap.network";
pub const NM_FILE: &str = "/etc/NetworkManager/system-connections/kubestrap.nmconnection";
pub const NM_ID: &str = "kubestrap";

const NETWORKD_UNIT: &str = "systemd-networkd";
const NM_UNIT: &str = "NetworkManager";

/// Seconds between giving up on a login and the host's rollback firing.
const MIN_TIMEOUT: u64 = 20;

/// The network stack that owns the interface's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    Ifupdown,
    Netplan,
    Networkd,
    NetworkManager,
}

impl Stack {
    pub fn name(self) -> &'static str {
        match self {
            Stack::Ifupdown => "ifupdown",
            Stack::Netplan => "netplan",
            Stack::Networkd => "networkd",
            Stack::NetworkManager => "networkmanager",
        }
    }

    fn template(self) -> String {
        format!("network/{}.j2", self.name())
    }

    /// The file kubestrap owns for this stack, and its mode.
    fn own_file(self) -> (&'static str, u32) {
        match self {
            Stack::Ifupdown => (IFUPDOWN_FILE, 0o644),
            // netplan warns about (and will refuse) world-readable files.
            Stack::Netplan => (NETPLAN_FILE, 0o600),
            Stack::Networkd => (NETWORKD_FILE, 0o644),
            // NetworkManager ignores keyfiles others can read.
            Stack::NetworkManager => (NM_FILE, 0o600),
        }
    }
}

/// What the host should look like, from the arguments and the facts.
#[derive(Debug, Clone, PartialEq)]
pub struct Want {
    pub interface: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Option<Ipv4Addr>,
    pub dns: Vec<String>,
    pub stack: Stack,
    pub rollback_timeout: u64,
}

impl Want {
    /// `10.0.0.11/24`.
    pub fn cidr(&self) -> String {
        format!("{}/{}", self.ip, self.prefix)
    }

    /// The variables the templates see (over the task's own).
    fn template_vars(&self, ctx: &Context) -> Map<String, Value> {
        let mask = prefix_mask(self.prefix);
        let vars = json!({
            "interface": self.interface,
            "address": self.cidr(),
            "ip": self.ip.to_string(),
            "prefix": self.prefix,
            "netmask": Ipv4Addr::from(mask).to_string(),
            "gateway": self.gateway.map(|g| g.to_string()).unwrap_or_default(),
            "dns": self.dns,
            "connection_id": NM_ID,
            "uuid": nm_uuid(&ctx.facts.machine_id, &self.interface),
            "stack": self.stack.name(),
        });
        match vars {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

/// One file the change writes: its path, the whole new content, its mode.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFile {
    pub path: &'static str,
    pub content: String,
    pub mode: u32,
}

impl Module for StaticIp {
    fn name(&self) -> &'static str {
        "static_ip"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "interface",
            "address",
            "gateway",
            "dns",
            "stack",
            "rollback_timeout",
        ]
    }

    fn needs(&self, _args: &Args) -> Result<Vec<FactRequest>, String> {
        // The stack is chosen from facts, so every candidate is asked for:
        // one stat (and a small read) each, in the same round trip.
        let mut out = vec![
            FactRequest::Unit(NETWORKD_UNIT.into()),
            FactRequest::Unit(NM_UNIT.into()),
        ];
        for path in [IFACES, IFUPDOWN_FILE, NETPLAN_FILE, NETWORKD_FILE, NM_FILE] {
            out.push(FactRequest::File {
                path: path.into(),
                content: true,
            });
        }
        Ok(out)
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let want = resolve(args, ctx)?;
        let files = render_files(&want, ctx)?;
        let changed: Vec<&NewFile> = files
            .iter()
            .filter(|f| !file_holds(ctx, f).unwrap_or(false))
            .collect();
        let live = live_mismatch(&want, ctx);
        let summary = format!(
            "{} pinned to {}{} ({})",
            want.interface,
            want.cidr(),
            want.gateway
                .map(|g| format!(" via {g}"))
                .unwrap_or_default(),
            want.stack.name()
        );
        if changed.is_empty() && live.is_none() {
            return Ok(Plan::noop(format!("{summary}: configuration in place")));
        }
        let mut diff = String::new();
        for f in &changed {
            let old = file_text(ctx, f.path)?.unwrap_or_default();
            diff.push_str(&text_diff(f.path, &old, &f.content));
            if old == f.content {
                let mode = file_fact(ctx, f.path)?.mode.unwrap_or(0);
                diff.push_str(&format!("{}: mode {mode:04o} → {:04o}\n", f.path, f.mode));
            }
        }
        if let Some(why) = &live {
            diff.push_str(&format!("{}: {why}\n", want.interface));
        }
        let updates = changed
            .iter()
            .map(|f| {
                let old = ctx.facts.files.get(f.path);
                FactUpdate::File(
                    f.path.to_string(),
                    written_state(old, f.content.as_bytes(), Some(f.mode)),
                )
            })
            .collect();
        let mut what = Vec::new();
        if !changed.is_empty() {
            let paths: Vec<&str> = changed.iter().map(|f| f.path).collect();
            what.push(format!("wrote {}", paths.join(", ")));
        }
        if let Some(why) = live {
            what.push(why);
        }
        Ok(Plan {
            changed: true,
            actions: actions(&want, ctx, &changed),
            diff: Some(diff),
            updates,
            msg: format!("{summary}: {}", what.join("; ")),
            read_only: false,
        })
    }
}

/// Every file the chosen stack's configuration needs, as it should read.
pub fn render_files(want: &Want, ctx: &Context) -> Result<Vec<NewFile>, String> {
    let vars = want.template_vars(ctx);
    let text = (ctx.render_template)(&want.stack.template(), &vars)?;
    let (path, mode) = want.stack.own_file();
    match want.stack {
        Stack::Networkd => check_ini(&text, &["Match", "Network", "Address", "Route", "Link"])
            .map_err(|e| format!("{}: rendered {path}: {e}", want.stack.template()))?,
        Stack::NetworkManager => check_ini(&text, &[])
            .map_err(|e| format!("{}: rendered {path}: {e}", want.stack.template()))?,
        _ => {}
    }
    let mut files = vec![NewFile {
        path,
        content: text,
        mode,
    }];
    if want.stack == Stack::Ifupdown {
        let old = file_text(ctx, IFACES)?.unwrap_or_default();
        let mode = file_fact(ctx, IFACES)?.mode.unwrap_or(0o644);
        files.push(NewFile {
            path: IFACES,
            content: ifupdown::release_interface(&old, &want.interface, IFUPDOWN_FILE),
            mode,
        });
    }
    Ok(files)
}

/// A syntax check of an INI-style file (systemd's and GKeyFile's): every line
/// a comment, a `[Section]` or `Key=Value`; with `sections`, only those.
/// networkd has no offline validator, so a broken template override is
/// caught here, before anything reaches the host.
pub fn check_ini(text: &str, sections: &[&str]) -> Result<(), String> {
    let mut in_section = false;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(name) = t.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            if !sections.is_empty() && !sections.contains(&name) {
                return Err(format!("line {}: unknown section [{name}]", n + 1));
            }
            in_section = true;
            continue;
        }
        match t.split_once('=') {
            Some((k, _)) if in_section && !k.trim().is_empty() => {}
            Some(_) if !in_section => {
                return Err(format!("line {}: a key before any [Section]", n + 1))
            }
            _ => return Err(format!("line {}: not `Key=Value`: {t:?}", n + 1)),
        }
    }
    Ok(())
}

/// Whether the file at `f.path` already holds exactly this, with this mode.
fn file_holds(ctx: &Context, f: &NewFile) -> Result<bool, String> {
    let st = file_fact(ctx, f.path)?;
    Ok(st.kind == FileKind::File
        && st.sha256.as_deref() == Some(sha256_hex(f.content.as_bytes()).as_str())
        && st.mode.is_none_or(|m| m == f.mode))
}

/// Why the running interface differs from the pinned one, if it does.
fn live_mismatch(want: &Want, ctx: &Context) -> Option<String> {
    let facts = ctx.facts;
    let has_addr = facts
        .interfaces
        .iter()
        .find(|i| i.name == want.interface)
        .is_some_and(|i| i.addresses.contains(&want.cidr()));
    if !has_addr {
        return Some(format!(
            "{} does not have {} now",
            want.interface,
            want.cidr()
        ));
    }
    let gw = want.gateway?;
    let ok = facts
        .default_route
        .as_ref()
        .is_some_and(|r| r.interface == want.interface && r.gateway == gw.to_string());
    (!ok).then(|| format!("the default route is not via {gw} on {}", want.interface))
}

/// The remote steps: stage, validate + back up + arm rollback + start the
/// detached apply, then a fresh login that confirms.
fn actions(want: &Want, ctx: &Context, changed: &[&NewFile]) -> Vec<Action> {
    let margin = (want.rollback_timeout / 4).clamp(5, 15);
    let s = scripts::Scripts::new(want, ctx, changed);
    let mut out = s.stage();
    out.push(Action::Run {
        script: s.arm(),
        stdin: None,
    });
    out.push(Action::Reconnect {
        timeout_secs: want.rollback_timeout - margin,
        // The host's rollback fires `margin` seconds after the last login
        // attempt and then restores files and addresses.
        rollback_secs: margin + scripts::APPLY_SECS,
        confirm: s.confirm(),
        rolled_back: format!(
            "{}: network change rolled back: pinning {} to {} ({}) left the host unreachable over SSH, so after {}s it restored its previous configuration",
            ctx.host,
            want.interface,
            want.cidr(),
            want.stack.name(),
            want.rollback_timeout
        ),
    });
    out
}

/// A UUID (random-looking, version 4 layout) that stays the same for this
/// host and interface, so the rendered keyfile is stable between runs.
pub fn nm_uuid(machine_id: &str, interface: &str) -> String {
    let h = sha256_hex(format!("kubestrap static_ip {machine_id} {interface}").as_bytes());
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}
