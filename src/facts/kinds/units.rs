//! systemd units asked about: load, active and unit-file states, from one `systemctl show`.

use super::{quoted_names, Kind};
use crate::facts::model::{FactRequest, Facts, UnitState};
use crate::facts::sections::{body, Section};
use std::collections::HashMap;

const UNITS: &str = "units";

/// Units `systemctl show` answers with exactly one block each: a glob would
/// expand to many units and a bare number would name a job.
pub(crate) fn unit_ok(n: &str) -> bool {
    !n.is_empty()
        && !n.starts_with('-')
        && !n.contains(['\n', '\0', '*', '?', '['])
        && !n.chars().all(|c| c.is_ascii_digit())
}

/// The unit names the script asks about, in request order.
fn asked(requests: &[FactRequest]) -> impl Iterator<Item = &String> {
    requests.iter().filter_map(|r| match r {
        FactRequest::Unit(n) if unit_ok(n) => Some(n),
        _ => None,
    })
}

pub(crate) struct Units;

impl Kind for Units {
    fn script(&self, requests: &[FactRequest], s: &mut String) {
        let Some(names) = quoted_names(requests, |r| match r {
            FactRequest::Unit(n) if unit_ok(n) => Some(n),
            _ => None,
        }) else {
            return;
        };
        s.push_str(&format!(
            "m {UNITS}; systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- {names} 2>/dev/null\n"
        ));
    }

    /// `systemctl show` prints one block per unit, in the order asked; when the
    /// count does not match (an old systemd, a unit it refused) blocks are
    /// matched by `Id` instead. Units with no answer keep empty states: unknown.
    /// Asked-for units win over what the swap kind read from list-units.
    fn read(&self, s: &[Section], requests: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        let text = String::from_utf8_lossy(body(s, UNITS));
        let blocks: Vec<HashMap<&str, &str>> = text
            .split("\n\n")
            .map(|b| b.lines().filter_map(|l| l.split_once('=')).collect())
            .filter(|b: &HashMap<&str, &str>| !b.is_empty())
            .collect();
        let asked: Vec<&String> = asked(requests).collect();
        let by_order = blocks.len() == asked.len();
        for r in requests {
            let FactRequest::Unit(name) = r else {
                continue;
            };
            let block = if by_order {
                asked.iter().position(|a| *a == name).map(|i| &blocks[i])
            } else {
                let service = format!("{name}.service");
                blocks
                    .iter()
                    .find(|b| b.get("Id").is_some_and(|id| *id == name || *id == service))
            };
            let get = |k: &str| {
                block
                    .and_then(|b| b.get(k))
                    .map_or_else(String::new, |v| v.to_string())
            };
            let state = UnitState {
                load_state: get("LoadState"),
                active_state: get("ActiveState"),
                unit_file_state: get("UnitFileState"),
                need_daemon_reload: get("NeedDaemonReload") == "yes",
            };
            f.units.insert(name.clone(), state);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{read, unit_rows, UnitRow};
    use super::*;

    const SSH: &str = "Id=ssh.service\nLoadState=loaded\nActiveState=active\nUnitFileState=enabled\nNeedDaemonReload=no\n";
    const KUBELET: &str = "Id=kubelet.service\nLoadState=loaded\nActiveState=failed\nUnitFileState=disabled\nNeedDaemonReload=yes\n";

    /// (systemctl show output, units asked, the state of each: load, active, file, reload)
    #[test]
    fn unit_states_from_fixtures() {
        let both = format!("{SSH}\n{KUBELET}");
        let table: &[(&str, &[&str], &[UnitRow])] = &[
            ("", &["ssh"], &[("ssh", "", "", "", false)]),
            // One block each, in order: matched by position, whatever the Id.
            (
                &both,
                &["sshd", "kubelet"],
                &[
                    ("kubelet", "loaded", "failed", "disabled", true),
                    ("sshd", "loaded", "active", "enabled", false),
                ],
            ),
            // Fewer blocks than units asked: matched by Id (or Id.service).
            (
                KUBELET,
                &["ssh", "kubelet", "*"],
                &[
                    ("*", "", "", "", false),
                    ("kubelet", "loaded", "failed", "disabled", true),
                    ("ssh", "", "", "", false),
                ],
            ),
        ];
        for (text, names, want) in table {
            let asked: Vec<FactRequest> = names
                .iter()
                .map(|n| FactRequest::Unit(n.to_string()))
                .collect();
            let f = read(&Units, &[(UNITS, text)], &asked).unwrap();
            assert_eq!(&unit_rows(&f), want, "{text:?}");
        }
    }
}
