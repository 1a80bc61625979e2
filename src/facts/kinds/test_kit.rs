//! The kinds' fixture tables share this: a gather output built from section bodies, read by one kind.

use super::Kind;
use crate::facts::model::{FactRequest, Facts};
use crate::facts::sections::split;

/// The output the script would print with these sections (name, body);
/// a body without its last newline gets one, as the commands print it.
pub(crate) fn output(sections: &[(&str, &str)]) -> Vec<u8> {
    let mut out = b"\x1eKS:begin 1\n".to_vec();
    for (name, body) in sections {
        out.extend_from_slice(format!("\x1eKS:{name}\n{body}").as_bytes());
        if !body.is_empty() && !body.ends_with('\n') {
            out.push(b'\n');
        }
    }
    out.extend_from_slice(b"\x1eKS:end\n");
    out
}

/// What `kind` alone reads from `sections` into empty facts.
pub(crate) fn read(
    kind: &dyn Kind,
    sections: &[(&str, &str)],
    requests: &[FactRequest],
) -> Result<Facts, String> {
    let out = output(sections);
    let split = split(&out)?;
    let mut facts = Facts::default();
    kind.read(&split, requests, &mut facts)?;
    Ok(facts)
}

/// The script lines `kind` adds for `requests`.
pub(crate) fn script(kind: &dyn Kind, requests: &[FactRequest]) -> String {
    let mut s = String::new();
    kind.script(requests, &mut s);
    s
}

/// A unit's state as a row: name, load, active, unit file, reload needed.
pub(crate) type UnitRow<'a> = (&'a str, &'a str, &'a str, &'a str, bool);

/// Every unit in `f`, by name, as rows.
pub(crate) fn unit_rows(f: &Facts) -> Vec<UnitRow<'_>> {
    f.units
        .iter()
        .map(|(n, u)| {
            (
                n.as_str(),
                u.load_state.as_str(),
                u.active_state.as_str(),
                u.unit_file_state.as_str(),
                u.need_daemon_reload,
            )
        })
        .collect()
}
