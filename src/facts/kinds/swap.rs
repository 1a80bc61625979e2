//! Swap: the active areas, and systemd's swap units with what is known of their states.

use super::Kind;
use crate::facts::model::{FactRequest, Facts, UnitState};
use crate::facts::sections::{body, lines, Section};
use std::collections::{BTreeMap, BTreeSet};

const SWAPS: &str = "swaps";
const SWAP_UNITS: &str = "swap-units";
const SWAP_UNIT_FILES: &str = "swap-unit-files";

/// Where systemd finds unit files, as `*.swap` globs.
const UNIT_FILE_GLOBS: &str = "/etc/systemd/system/*.swap /run/systemd/system/*.swap /run/systemd/generator/*.swap /usr/local/lib/systemd/system/*.swap /lib/systemd/system/*.swap /usr/lib/systemd/system/*.swap";

pub(crate) struct Swap;

impl Kind for Swap {
    /// Swap unit files come from a glob over systemd's unit directories, not
    /// `systemctl list-unit-files`, which costs ~240 ms (it loads every unit).
    fn script(&self, _: &[FactRequest], s: &mut String) {
        s.push_str(&format!(
            "m {SWAPS}; r /proc/swaps\n\
             m {SWAP_UNITS}; systemctl list-units --type=swap --all --plain --no-legend 2>/dev/null\n\
             m {SWAP_UNIT_FILES}; for f in {UNIT_FILE_GLOBS}; do {{ [ -e \"$f\" ] || [ -L \"$f\" ]; }} && if [ \"$(readlink \"$f\")\" = /dev/null ]; then printf '%s masked\\n' \"${{f##*/}}\"; else printf '%s\\n' \"${{f##*/}}\"; fi; done\n"
        ));
    }

    fn read(&self, s: &[Section], _: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        f.swaps = swaps(s);
        f.swap_units = swap_units(s);
        f.units.extend(swap_unit_states(s));
        Ok(())
    }
}

/// Active swap areas: the first column of /proc/swaps, octal escapes undone.
fn swaps(s: &[Section<'_>]) -> Vec<String> {
    lines(body(s, SWAPS))
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
    for name in [SWAP_UNITS, SWAP_UNIT_FILES] {
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
    for line in lines(body(s, SWAP_UNITS)) {
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
    for line in lines(body(s, SWAP_UNIT_FILES)) {
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
    use super::super::test_kit::{read, unit_rows, UnitRow};
    use super::*;

    #[test]
    fn swap_names_are_unescaped() {
        assert_eq!(unescape_octal(r"/swap\040file"), "/swap file");
        assert_eq!(unescape_octal(r"/a\0"), r"/a\0");
    }

    /// (sections, active areas, swap units, unit states)
    #[test]
    fn swap_sections_from_fixtures() {
        type Row<'a> = (
            &'a [(&'a str, &'a str)],
            &'a [&'a str],
            &'a [&'a str],
            &'a [UnitRow<'a>],
        );
        let table: &[Row] = &[
            (&[], &[], &[], &[]),
            (
                &[
                    (SWAPS, "Filename\tType\tSize\tUsed\tPriority\n/dev/sdb2 partition 1048572 0 -2\n"),
                    (SWAP_UNITS, "● dev-sdb2.swap loaded active active /dev/sdb2\nnot-a-swap.mount loaded active mounted x\n"),
                    (SWAP_UNIT_FILES, "swap.img.swap masked\nplain.swap\n"),
                ],
                &["/dev/sdb2"],
                &["dev-sdb2.swap", "plain.swap", "swap.img.swap"],
                &[
                    ("dev-sdb2.swap", "loaded", "active", "", false),
                    ("swap.img.swap", "masked", "", "masked", false),
                ],
            ),
        ];
        for (sections, areas, units, states) in table {
            let f = read(&Swap, sections, &[]).unwrap();
            assert_eq!(&f.swaps, areas);
            assert_eq!(&f.swap_units, units);
            assert_eq!(&unit_rows(&f), states);
        }
    }
}
