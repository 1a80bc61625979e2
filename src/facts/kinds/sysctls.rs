//! Sysctls asked about: live values read straight from /proc/sys.

use super::Kind;
use crate::facts::model::{FactRequest, Facts};
use crate::facts::sections::Section;
use crate::ssh::shell_quote;

/// `sysctl <i>`: the value of request `i`.
const SYSCTL: &str = "sysctl";

/// The /proc/sys file behind a sysctl key, as sysctl(8) maps it: dots
/// separate levels and a slash stands for a dot inside a name.
pub(crate) fn sysctl_path(key: &str) -> Option<String> {
    let rel: String = key
        .chars()
        .map(|c| match c {
            '.' => '/',
            '/' => '.',
            c => c,
        })
        .collect();
    let parts_ok = rel
        .split('/')
        .all(|p| !p.is_empty() && p != "." && p != "..");
    (parts_ok && !rel.contains(['\n', '\0'])).then(|| format!("/proc/sys/{rel}"))
}

pub(crate) struct Sysctls;

impl Kind for Sysctls {
    /// A key that does not exist simply prints no section. `cat`, not the
    /// shell's `read`: many sysctl files answer only a read at offset 0, and
    /// `read` takes one byte per read(2).
    fn script(&self, requests: &[FactRequest], s: &mut String) {
        for (i, r) in requests.iter().enumerate() {
            if let FactRequest::Sysctl(key) = r {
                if let Some(path) = sysctl_path(key) {
                    let q = shell_quote(&path);
                    s.push_str(&format!(
                        "[ -f {q} ] && {{ m {SYSCTL} {i}; cat -- {q} 2>/dev/null; }}\n"
                    ));
                }
            }
        }
    }

    /// Live values; a key with no section does not exist on this kernel.
    fn read(&self, s: &[Section], requests: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        for (i, r) in requests.iter().enumerate() {
            let FactRequest::Sysctl(key) = r else {
                continue;
            };
            let name = format!("{SYSCTL} {i}");
            let value = s.iter().find(|s| s.name == name).map(|s| {
                let v = String::from_utf8_lossy(s.body);
                v.strip_suffix('\n').unwrap_or(&v).to_string()
            });
            f.sysctls.insert(key.clone(), value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::read;
    use super::*;

    #[test]
    fn sysctl_keys_map_as_sysctl_does() {
        assert_eq!(
            sysctl_path("net.ipv4.ip_forward").as_deref(),
            Some("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            sysctl_path("net.ipv4.conf.eth0/10.rp_filter").as_deref(),
            Some("/proc/sys/net/ipv4/conf/eth0.10/rp_filter")
        );
        assert_eq!(sysctl_path("net..x"), None);
        assert_eq!(sysctl_path("/../../etc/shadow"), None);
    }

    /// (sections by request index, the value of each key asked)
    #[test]
    fn sysctl_values_from_fixtures() {
        let asked = [
            FactRequest::Sysctl("net.ipv4.ip_forward".into()),
            FactRequest::Unit("not a sysctl".into()),
            FactRequest::Sysctl("net.ipv4.ip_local_port_range".into()),
        ];
        type Row<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>, Option<&'a str>);
        let table: &[Row] = &[
            (&[], None, None),
            (
                &[("sysctl 0", "1\n"), ("sysctl 2", "32768\t60999\n")],
                Some("1"),
                Some("32768\t60999"),
            ),
            // An empty file is a key with an empty value, not a missing key.
            (&[("sysctl 2", "")], None, Some("")),
        ];
        for (sections, forward, range) in table {
            let f = read(&Sysctls, sections, &asked).unwrap();
            assert_eq!(f.sysctls.len(), 2);
            assert_eq!(f.sysctls["net.ipv4.ip_forward"].as_deref(), *forward);
            assert_eq!(f.sysctls["net.ipv4.ip_local_port_range"].as_deref(), *range);
        }
    }
}
