//! Turning the gather script's output into [`Facts`], one kind at a time.
//!
//! A section that is missing or empty (a command the host lacks) leaves its
//! fact empty; a section whose text is present but unreadable is an error
//! that names the section, since guessing there would hide a real problem.

use super::kinds::KINDS;
use super::model::{FactRequest, Facts};
use super::sections::split;

/// Parse the output of [`super::gather_script`]`(requests)`: every kind
/// reads its own sections, in the order the script printed them.
pub fn parse(output: &[u8], requests: &[FactRequest]) -> Result<Facts, String> {
    let sections = split(output)?;
    let mut facts = Facts::default();
    for kind in KINDS {
        kind.read(&sections, requests, &mut facts)?;
    }
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
