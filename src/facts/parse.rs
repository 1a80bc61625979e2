//! Turning the gather script's output into [`Facts`].
//!
//! A section that is missing or empty (a command the host lacks) leaves its
//! fact empty; a section whose text is present but unreadable is an error
//! that names the section, since guessing there would hide a real problem.

use super::items;
use super::model::{FactRequest, Facts, OsInfo, UnitState};
use super::network;
use super::sections::{body, lines, split, Section};
use std::collections::{BTreeMap, BTreeSet};

/// Parse the output of [`super::gather_script`]`(requests)`.
pub fn parse(output: &[u8], requests: &[FactRequest]) -> Result<Facts, String> {
    let s = split(output)?;
    let (memory_kb, swap_kb) = meminfo(&s)?;
    let mut routes = network::routes(body(&s, "ip-route"), "ip-route")?;
    routes.extend(network::routes(body(&s, "ip-route6"), "ip-route6")?);
    Ok(Facts {
        os: os_release(body(&s, "os-release")),
        hostname: first_line(&s, "hostname"),
        machine_id: first_line(&s, "machine-id"),
        product_uuid: Some(first_line(&s, "product-uuid")).filter(|u| !u.is_empty()),
        cpus: number(&s, "nproc")?,
        memory_mb: memory_kb / 1024,
        swap_total_mb: swap_kb / 1024,
        interfaces: network::interfaces(body(&s, "ip-addr"))?,
        default_route: network::default_route(&routes),
        routes,
        dns: lines(body(&s, "resolv")).collect(),
        swaps: swaps(&s),
        swap_units: swap_units(&s),
        kernel_modules: lines(body(&s, "modules")).collect(),
        loadable_modules: loadable_modules(&s)?,
        listening: listening(&s)?,
        commands: lines(body(&s, "commands")).collect(),
        time: number(&s, "time")?,
        files: items::files(&s, requests)?,
        packages: items::packages(&s, requests),
        units: {
            // Asked-for units win over what list-units said of swap units.
            let mut units = swap_unit_states(&s);
            units.extend(items::units(&s, requests));
            units
        },
        sysctls: items::sysctls(&s, requests),
        unit_files_changed: false,
        pending_handlers: super::pending::parse(body(&s, "pending-handlers")),
    })
}

fn first_line(s: &[Section<'_>], name: &str) -> String {
    lines(body(s, name))
        .next()
        .map(|l| l.trim().to_string())
        .unwrap_or_default()
}

/// A section holding one number; empty means unknown (0).
fn number<T: std::str::FromStr + Default>(s: &[Section<'_>], name: &str) -> Result<T, String> {
    let text = first_line(s, name);
    if text.is_empty() {
        return Ok(T::default());
    }
    text.parse()
        .map_err(|_| format!("fact section `{name}`: expected a number, got {text:?}"))
}

/// (MemTotal, SwapTotal) in kB.
fn meminfo(s: &[Section<'_>]) -> Result<(u64, u64), String> {
    let (mut mem, mut swap) = (0, 0);
    for line in lines(body(s, "meminfo")) {
        let (key, value) = line.split_once(' ').unwrap_or((&line, ""));
        let kb = || {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("fact section `meminfo`: expected `{key} <kB>`, got {line:?}"))
        };
        match key {
            "MemTotal:" => mem = kb()?,
            "SwapTotal:" => swap = kb()?,
            _ => {}
        }
    }
    Ok((mem, swap))
}

/// `yes` or `no`; an absent section (older output) leaves the default, true.
fn loadable_modules(s: &[Section<'_>]) -> Result<bool, String> {
    match first_line(s, "loadable-modules").as_str() {
        "" | "yes" => Ok(true),
        "no" => Ok(false),
        other => Err(format!(
            "fact section `loadable-modules`: expected yes or no, got {other:?}"
        )),
    }
}

/// One hex port per line, from the local address column of /proc/net/tcp{,6}.
fn listening(s: &[Section<'_>]) -> Result<BTreeSet<u16>, String> {
    lines(body(s, "tcp-listen"))
        .map(|l| {
            let hex = l.trim();
            let hex = hex.rsplit_once(':').map_or(hex, |(_, p)| p);
            u16::from_str_radix(hex, 16)
                .map_err(|_| format!("fact section `tcp-listen`: expected a hex port, got {l:?}"))
        })
        .collect()
}

/// /etc/os-release is shell assignments; values may be quoted.
fn os_release(body: &[u8]) -> OsInfo {
    let mut os = OsInfo::default();
    for line in lines(body) {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value)
            .to_string();
        match key.trim() {
            "ID" => os.id = value,
            "VERSION_ID" => os.version_id = value,
            "VERSION_CODENAME" => os.codename = value,
            // Older releases name the codename only here.
            "UBUNTU_CODENAME" if os.codename.is_empty() => os.codename = value,
            "PRETTY_NAME" => os.pretty_name = value,
            _ => {}
        }
    }
    os
}

/// Active swap areas: the first column of /proc/swaps, octal escapes undone.
fn swaps(s: &[Section<'_>]) -> Vec<String> {
    lines(body(s, "swaps"))
        .skip_while(|l| l.starts_with("Filename"))
        .filter_map(|l| l.split_whitespace().next().map(unescape_octal))
        .collect()
}

fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let code = b
            .get(i + 1..i + 4)
            .filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)))
            .and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok());
        match code {
            Some(c) => {
                out.push(c);
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Swap units loaded now or only installed as unit files, each once.
fn swap_units(s: &[Section<'_>]) -> Vec<String> {
    let mut units = BTreeSet::new();
    for name in ["swap-units", "swap-unit-files"] {
        for line in lines(body(s, name)) {
            let unit = line
                .split_whitespace()
                .find(|w| *w != "●" && *w != "*")
                .unwrap_or_default();
            if unit.ends_with(".swap") {
                units.insert(unit.to_string());
            }
        }
    }
    units.into_iter().collect()
}

/// What is known of each swap unit without asking systemctl again: the
/// LOAD and ACTIVE columns of list-units, and a unit file linked to
/// /dev/null (masked). The swap module needs this to stay idempotent.
fn swap_unit_states(s: &[Section<'_>]) -> BTreeMap<String, UnitState> {
    let mut units: BTreeMap<String, UnitState> = BTreeMap::new();
    for line in lines(body(s, "swap-units")) {
        let mut cols = line.split_whitespace().filter(|w| *w != "●" && *w != "*");
        if let (Some(unit), Some(load), Some(active)) = (cols.next(), cols.next(), cols.next()) {
            if unit.ends_with(".swap") {
                let st = units.entry(unit.to_string()).or_default();
                st.load_state = load.to_string();
                st.active_state = active.to_string();
                if load == "masked" {
                    st.unit_file_state = "masked".into();
                }
            }
        }
    }
    for line in lines(body(s, "swap-unit-files")) {
        let mut cols = line.split_whitespace();
        if let (Some(unit), Some("masked")) = (cols.next(), cols.next()) {
            let st = units.entry(unit.to_string()).or_default();
            st.unit_file_state = "masked".into();
            if st.load_state.is_empty() {
                st.load_state = "masked".into();
            }
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_values_lose_their_quotes() {
        let os = os_release(
            b"PRETTY_NAME=\"Ubuntu 24.04 LTS\"\nID=ubuntu\nVERSION_ID='24.04'\nUBUNTU_CODENAME=noble\n",
        );
        assert_eq!(os.id, "ubuntu");
        assert_eq!(os.version_id, "24.04");
        assert_eq!(os.codename, "noble");
        assert_eq!(os.pretty_name, "Ubuntu 24.04 LTS");
    }

    #[test]
    fn modules_swaps_and_meminfo() {
        let out = b"\x1eKS:begin 1\n\x1eKS:meminfo\nMemTotal: 2048000\nSwapTotal: 1048576\n\
            \x1eKS:swaps\nFilename\tType\tSize\tUsed\tPriority\n/swap\\040file file 1048572 0 -2\n\
            \x1eKS:swap-units\ndev-sdb2.swap loaded active active /dev/sdb2\nswap.img.swap masked inactive dead swap.img.swap\n\
            \x1eKS:swap-unit-files\nzram0.swap masked\nswap.img.swap masked\n\
            \x1eKS:modules\noverlay\nbr_netfilter\n\x1eKS:end\n";
        let f = parse(out, &[]).unwrap();
        assert_eq!((f.memory_mb, f.swap_total_mb), (2000, 1024));
        assert_eq!(f.swaps, ["/swap file"]);
        assert!(f.kernel_modules.contains("br_netfilter"));
        assert_eq!(
            f.swap_units,
            ["dev-sdb2.swap", "swap.img.swap", "zram0.swap"]
        );
        let state = |u: &str| {
            (
                f.units[u].load_state.as_str(),
                f.units[u].active_state.as_str(),
                f.units[u].unit_file_state.as_str(),
            )
        };
        assert_eq!(state("dev-sdb2.swap"), ("loaded", "active", ""));
        assert_eq!(state("swap.img.swap"), ("masked", "inactive", "masked"));
        assert_eq!(state("zram0.swap"), ("masked", "", "masked"));
        assert!(parse(
            b"\x1eKS:begin 1\n\x1eKS:meminfo\nMemTotal: lots\n\x1eKS:end\n",
            &[]
        )
        .unwrap_err()
        .contains("`meminfo`"));
    }

    #[test]
    fn listening_ports_and_module_support() {
        let out = b"\x1eKS:begin 1\n\x1eKS:loadable-modules\nno\n\
            \x1eKS:tcp-listen\n192B\n0016\n192B\n0100007F:2A0B\n\x1eKS:end\n";
        let f = parse(out, &[]).unwrap();
        assert!(!f.loadable_modules);
        assert_eq!(
            f.listening.iter().copied().collect::<Vec<_>>(),
            [22, 6443, 10763]
        );
        let f = parse(
            b"\x1eKS:begin 1\n\x1eKS:loadable-modules\nyes\n\x1eKS:end\n",
            &[],
        )
        .unwrap();
        assert!(f.loadable_modules);
        assert!(f.listening.is_empty());
        for (bad, section) in [
            (
                &b"\x1eKS:begin 1\n\x1eKS:tcp-listen\n0016\nZZ\n\x1eKS:end\n"[..],
                "`tcp-listen`",
            ),
            (
                b"\x1eKS:begin 1\n\x1eKS:tcp-listen\n1FFFF\n\x1eKS:end\n",
                "`tcp-listen`",
            ),
            (
                b"\x1eKS:begin 1\n\x1eKS:loadable-modules\nmaybe\n\x1eKS:end\n",
                "`loadable-modules`",
            ),
            (
                b"\x1eKS:begin 1\n\x1eKS:ip-route6\n[{\n\x1eKS:end\n",
                "`ip-route6`",
            ),
        ] {
            assert!(parse(bad, &[]).unwrap_err().contains(section), "{section}");
        }
    }

    #[test]
    fn swap_names_are_unescaped() {
        assert_eq!(unescape_octal(r"/swap\040file"), "/swap file");
        assert_eq!(unescape_octal(r"/a\0"), r"/a\0");
    }
}
