//! Which of the commands kubestrap cares about the host has (network stack, package tooling, become).

use super::Kind;
use crate::facts::model::{FactRequest, Facts};
use crate::facts::sections::{body, lines, Section};

const COMMANDS_SECTION: &str = "commands";

/// Commands whose presence is a fact.
const COMMANDS: &[&str] = &[
    "netplan",
    "ifup",
    "networkctl",
    "nmcli",
    "apt-get",
    "systemctl",
    "sudo",
];

pub(crate) struct Commands;

impl Kind for Commands {
    fn script(&self, _: &[FactRequest], s: &mut String) {
        s.push_str(&format!(
            "m {COMMANDS_SECTION}; for c in {}; do command -v \"$c\" >/dev/null 2>&1 && printf '%s\\n' \"$c\"; done\n",
            COMMANDS.join(" ")
        ));
    }

    fn read(&self, s: &[Section], _: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        f.commands = lines(body(s, COMMANDS_SECTION)).collect();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{read, script};
    use super::*;

    /// (section body, commands found)
    #[test]
    fn commands_from_fixtures() {
        let table: &[(&str, &[&str])] = &[
            ("", &[]),
            (
                "apt-get\nsystemctl\nsudo\n",
                &["apt-get", "sudo", "systemctl"],
            ),
        ];
        for (text, want) in table {
            let f = read(&Commands, &[(COMMANDS_SECTION, text)], &[]).unwrap();
            let got: Vec<&str> = f.commands.iter().map(String::as_str).collect();
            assert_eq!(&got, want);
        }
        let s = script(&Commands, &[]);
        assert!(COMMANDS.iter().all(|c| s.contains(&format!(" {c}"))), "{s}");
    }
}
