//! The host itself: distribution, names, CPUs and memory.

use super::Kind;
use crate::facts::model::{FactRequest, Facts, OsInfo};
use crate::facts::sections::{body, first_line, lines, number, Section};

const OS_RELEASE: &str = "os-release";
const HOSTNAME: &str = "hostname";
const MACHINE_ID: &str = "machine-id";
const PRODUCT_UUID: &str = "product-uuid";
const NPROC: &str = "nproc";
const MEMINFO: &str = "meminfo";

pub(crate) struct Host;

impl Kind for Host {
    fn script(&self, _: &[FactRequest], s: &mut String) {
        s.push_str(&format!(
            "m {OS_RELEASE}; r /etc/os-release || r /usr/lib/os-release\n\
             m {HOSTNAME}; r /proc/sys/kernel/hostname\n\
             m {MACHINE_ID}; r /etc/machine-id\n\
             m {PRODUCT_UUID}; r /sys/class/dmi/id/product_uuid 2>/dev/null\n\
             m {NPROC}; nproc 2>/dev/null\n\
             m {MEMINFO}; while read -r k v _; do case $k in MemTotal:|SwapTotal:) printf '%s %s\\n' \"$k\" \"$v\";; esac; done < /proc/meminfo\n"
        ));
    }

    fn read(&self, s: &[Section], _: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        let (memory_kb, swap_kb) = meminfo(s)?;
        f.os = os_release(body(s, OS_RELEASE));
        f.hostname = first_line(s, HOSTNAME);
        f.machine_id = first_line(s, MACHINE_ID);
        f.product_uuid = Some(first_line(s, PRODUCT_UUID)).filter(|u| !u.is_empty());
        f.cpus = number(s, NPROC)?;
        f.memory_mb = memory_kb / 1024;
        f.swap_total_mb = swap_kb / 1024;
        Ok(())
    }
}

/// (MemTotal, SwapTotal) in kB.
fn meminfo(s: &[Section<'_>]) -> Result<(u64, u64), String> {
    let (mut mem, mut swap) = (0, 0);
    for line in lines(body(s, MEMINFO)) {
        let (key, value) = line.split_once(' ').unwrap_or((&line, ""));
        let kb = || {
            value.trim().parse::<u64>().map_err(|_| {
                format!("fact section `{MEMINFO}`: expected `{key} <kB>`, got {line:?}")
            })
        };
        match key {
            "MemTotal:" => mem = kb()?,
            "SwapTotal:" => swap = kb()?,
            _ => {}
        }
    }
    Ok((mem, swap))
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

#[cfg(test)]
mod tests {
    use super::super::test_kit::read;
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

    /// (sections, hostname, machine id, product uuid, cpus, memory MiB, swap MiB)
    #[test]
    fn host_sections_from_fixtures() {
        type Row<'a> = (
            &'a [(&'a str, &'a str)],
            &'a str,
            &'a str,
            Option<&'a str>,
            u32,
            u64,
            u64,
        );
        let table: &[Row] = &[
            (&[], "", "", None, 0, 0, 0),
            (
                &[
                    (HOSTNAME, " cp1 \n"),
                    (MACHINE_ID, "0123abcd\n"),
                    (PRODUCT_UUID, "\n"),
                    (NPROC, "4\n"),
                    (MEMINFO, "MemTotal: 4096000\nSwapTotal: 0\n"),
                ],
                "cp1",
                "0123abcd",
                None,
                4,
                4000,
                0,
            ),
            (
                &[
                    (PRODUCT_UUID, "4c4c4544-0042\n"),
                    (MEMINFO, "SwapTotal: 2048\nMemTotal: 1024\nOther: x\n"),
                ],
                "",
                "",
                Some("4c4c4544-0042"),
                0,
                1,
                2,
            ),
        ];
        for (sections, host, id, uuid, cpus, mem, swap) in table {
            let f = read(&Host, sections, &[]).unwrap();
            assert_eq!(
                (
                    f.hostname.as_str(),
                    f.machine_id.as_str(),
                    f.product_uuid.as_deref(),
                    f.cpus,
                    f.memory_mb,
                    f.swap_total_mb
                ),
                (*host, *id, *uuid, *cpus, *mem, *swap),
                "{sections:?}"
            );
        }
        for (bad, section) in [
            ((NPROC, "many\n"), "`nproc`"),
            ((MEMINFO, "MemTotal: lots\n"), "`meminfo`"),
        ] {
            let err = read(&Host, &[bad], &[]).unwrap_err();
            assert!(err.contains(section), "{err}");
        }
    }
}
