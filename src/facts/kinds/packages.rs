//! Debian packages asked about: installed version and hold, from one `dpkg-query`.

use super::{quoted_names, Kind};
use crate::facts::model::{FactRequest, Facts, PackageState};
use crate::facts::sections::{body, lines, Section};
use crate::ssh::shell_quote;

const PACKAGES: &str = "packages";

/// Debian package names (policy 5.6.1), with an optional `:arch`; anything
/// else would be a dpkg-query pattern or option, not a name.
pub(crate) fn package_ok(n: &str) -> bool {
    let (name, arch) = n.split_once(':').unwrap_or((n, "a"));
    let name_ok = name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
    let arch_ok = !arch.is_empty() && arch.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    name_ok && arch_ok
}

pub(crate) struct Packages;

impl Kind for Packages {
    fn script(&self, requests: &[FactRequest], s: &mut String) {
        let Some(names) = quoted_names(requests, |r| match r {
            FactRequest::Package(n) if package_ok(n) => Some(n),
            _ => None,
        }) else {
            return;
        };
        // dpkg-query expands the \t and \n itself.
        // Holds are dpkg selections (`apt-mark hold` sets want=hold), so the
        // Status field answers "held?" without apt-mark's 100+ ms cache load.
        let format = shell_quote(r"${binary:Package}\t${Package}\t${Status}\t${Version}\n");
        s.push_str(&format!(
            "m {PACKAGES}; dpkg-query -W -f={format} -- {names} 2>/dev/null\n"
        ));
    }

    /// `binary:Package\tPackage\tStatus\tVersion` lines; unlisted means not installed.
    fn read(&self, s: &[Section], requests: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        let rows: Vec<Vec<String>> = lines(body(s, PACKAGES))
            .map(|l| l.split('\t').map(str::to_string).collect())
            .filter(|r: &Vec<String>| r.len() == 4)
            .collect();
        for r in requests {
            let FactRequest::Package(name) = r else {
                continue;
            };
            let mut state = PackageState::default();
            for row in rows.iter().filter(|row| row[0] == *name || row[1] == *name) {
                let words: Vec<&str> = row[2].split_whitespace().collect();
                // Status is "want flag state"; `apt-mark hold` sets want=hold.
                if words.first() == Some(&"hold") {
                    state.held = true;
                }
                let installed = matches!(
                    words.get(2),
                    Some(&"installed" | &"triggers-awaited" | &"triggers-pending")
                );
                if installed && state.version.is_none() && !row[3].is_empty() {
                    state.version = Some(row[3].clone());
                }
            }
            f.packages.insert(name.clone(), state);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::read;
    use super::*;

    /// (dpkg-query lines, the package asked for, its version, held)
    #[test]
    fn package_states_from_fixtures() {
        let table: &[(&str, &str, Option<&str>, bool)] = &[
            ("", "sudo", None, false),
            (
                "sudo\tsudo\tinstall ok installed\t1.9.13p3-1\n",
                "sudo",
                Some("1.9.13p3-1"),
                false,
            ),
            (
                "sudo\tsudo\thold ok installed\t1.9.13p3-1\n",
                "sudo",
                Some("1.9.13p3-1"),
                true,
            ),
            (
                "kubeadm\tkubeadm\thold ok not-installed\t\n",
                "kubeadm",
                None,
                true,
            ),
            (
                "libc6:amd64\tlibc6\tinstall ok triggers-pending\t2.36\n",
                "libc6",
                Some("2.36"),
                false,
            ),
            (
                "libc6:amd64\tlibc6\tinstall ok unpacked\t2.36\n",
                "libc6:amd64",
                None,
                false,
            ),
            ("short\tline\n", "short", None, false),
        ];
        for (text, name, version, held) in table {
            let asked = [FactRequest::Package(name.to_string())];
            let f = read(&Packages, &[(PACKAGES, text)], &asked).unwrap();
            let p = &f.packages[*name];
            assert_eq!(
                (p.version.as_deref(), p.held),
                (*version, *held),
                "{text:?}"
            );
        }
    }
}
