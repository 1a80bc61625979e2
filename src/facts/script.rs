//! The one POSIX sh script that gathers every fact of a host in a single round trip.
//!
//! Output is a series of sections, each opened by a marker line
//! `\x1eKS:<name>` (ASCII record separator, never found at the start of a
//! line of the text we print: names that could smuggle a newline in are
//! filtered out below). Each item is isolated (`2>/dev/null`, no `set -e`),
//! so one missing thing never fails the whole script; nothing is written on
//! the host. Batched where one command can answer many items (one `stat`,
//! one `sha256sum`, one `dpkg-query`, one `systemctl show`); small files are
//! read with the shell's own `read`, so they cost no process.

use super::model::{FactRequest, MAX_CONTENT};
use crate::ssh::shell_quote;

/// First byte of every section marker line.
pub(crate) const MARK: &[u8] = b"\x1eKS:";

/// Version of the output format, printed in the `begin` section.
pub(crate) const FORMAT: &str = "1";

/// Commands whose presence is a fact (network stack, package tooling, become).
pub(crate) const COMMANDS: &[&str] = &[
    "netplan",
    "ifup",
    "networkctl",
    "nmcli",
    "apt-get",
    "systemctl",
    "sudo",
];

/// Helpers and base facts; kept as one literal so it reads like the shell it is.
/// Swap unit files come from a glob over systemd's unit directories, not
/// `systemctl list-unit-files`, which costs ~240 ms (it loads every unit).
/// Listening ports come from /proc/net/tcp{,6} rather than `ss`: the kernel
/// lists listening sockets before all others (tcp_get_idx walks the
/// listening hash first), so the loop stops at the first other state and
/// reads a few lines, however many connections a busy node holds.
const PRELUDE: &str = r#"LC_ALL=C; export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH; export PATH
m() { printf '\036KS:%s\n' "$*"; }
r() { [ -r "$1" ] && while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$1"; }
m begin __FORMAT__
m os-release; r /etc/os-release || r /usr/lib/os-release
m hostname; r /proc/sys/kernel/hostname
m machine-id; r /etc/machine-id
m product-uuid; r /sys/class/dmi/id/product_uuid 2>/dev/null
m nproc; nproc 2>/dev/null
m meminfo; while read -r k v _; do case $k in MemTotal:|SwapTotal:) printf '%s %s\n' "$k" "$v";; esac; done < /proc/meminfo
m ip-addr; ip -j addr show 2>/dev/null
m ip-route; ip -j route show 2>/dev/null
m ip-route6; ip -j -6 route show 2>/dev/null
m resolv; [ -r /etc/resolv.conf ] && while read -r k v _; do [ "$k" = nameserver ] && printf '%s\n' "$v"; done < /etc/resolv.conf
m swaps; r /proc/swaps
m swap-units; systemctl list-units --type=swap --all --plain --no-legend 2>/dev/null
m swap-unit-files; for f in /etc/systemd/system/*.swap /run/systemd/system/*.swap /run/systemd/generator/*.swap /usr/local/lib/systemd/system/*.swap /lib/systemd/system/*.swap /usr/lib/systemd/system/*.swap; do { [ -e "$f" ] || [ -L "$f" ]; } && if [ "$(readlink "$f")" = /dev/null ]; then printf '%s masked\n' "${f##*/}"; else printf '%s\n' "${f##*/}"; fi; done
m modules; { cut -d' ' -f1 /proc/modules; ls /sys/module; } 2>/dev/null
m loadable-modules; if [ -e /proc/modules ]; then echo yes; else echo no; fi
m tcp-listen; for f in /proc/net/tcp /proc/net/tcp6; do [ -r "$f" ] && while read -r _ a _ st _; do case $st in st) ;; 0A) printf '%s\n' "${a##*:}";; *) break;; esac; done < "$f"; done
m commands; for c in __COMMANDS__; do command -v "$c" >/dev/null 2>&1 && printf '%s\n' "$c"; done
m time; date +%s
"#;

/// The script that prints the base facts and answers `requests`.
///
/// [`super::parse`] must be given the same `requests`, in the same order:
/// per-item sections name their request by index. A name that cannot be
/// asked safely (a path with a newline, a package or unit name that would
/// be a pattern or an option) is left out and comes back empty: missing,
/// not installed, unknown.
pub fn gather_script(requests: &[FactRequest]) -> String {
    let mut s = PRELUDE
        .replace("__FORMAT__", FORMAT)
        .replace("__COMMANDS__", &COMMANDS.join(" "));
    s.push_str(&super::pending::gather_line());
    files(&mut s, requests);
    packages(&mut s, requests);
    units(&mut s, requests);
    sysctls(&mut s, requests);
    s.push_str("m end\nexit 0\n");
    s
}

/// A path the script can ask about: a newline would let stat's output
/// forge a marker line, and NUL cannot pass through a shell at all.
pub(crate) fn path_ok(p: &str) -> bool {
    !p.is_empty() && !p.contains(['\n', '\0'])
}

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

/// Units `systemctl show` answers with exactly one block each: a glob would
/// expand to many units and a bare number would name a job.
pub(crate) fn unit_ok(n: &str) -> bool {
    !n.is_empty()
        && !n.starts_with('-')
        && !n.contains(['\n', '\0', '*', '?', '['])
        && !n.chars().all(|c| c.is_ascii_digit())
}

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

fn files(s: &mut String, requests: &[FactRequest]) {
    let paths: Vec<&str> = requests
        .iter()
        .filter_map(|r| match r {
            FactRequest::File { path, .. } if path_ok(path) => Some(path.as_str()),
            _ => None,
        })
        .collect();
    if paths.is_empty() {
        return;
    }
    let quoted: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
    let all = quoted.join(" ");
    // Raw mode in hex (%f) carries type and permissions without locale words.
    s.push_str(&format!(
        "m stat; stat --printf '%f\\t%s\\t%U\\t%G\\t%n\\n' -- {all} 2>/dev/null\n"
    ));
    s.push_str(&format!(
        "m sha256; set --; for p in {all}; do [ -f \"$p\" ] && [ ! -L \"$p\" ] && set -- \"$@\" \"$p\"; done; \
         [ $# -gt 0 ] && sha256sum -- \"$@\" 2>/dev/null\n"
    ));
    content(s, requests);
}

/// Base64 of each small regular file whose content was asked for. One
/// `stat` gives all sizes; files over the limit are not sent at all. The
/// parser checks each decoded length against the stat section, so a file
/// that vanished between the two steps cannot shift the pairing unnoticed.
fn content(s: &mut String, requests: &[FactRequest]) {
    let mut picks = String::new();
    for (i, r) in requests.iter().enumerate() {
        if let FactRequest::File {
            path,
            content: true,
        } = r
        {
            if path_ok(path) {
                let q = shell_quote(path);
                picks.push_str(&format!(
                    "if [ -f {q} ] && [ ! -L {q} ]; then set -- \"$@\" {q}; ix=\"$ix {i}\"; fi\n"
                ));
            }
        }
    }
    if picks.is_empty() {
        return;
    }
    s.push_str("set --; ix=\n");
    s.push_str(&picks);
    s.push_str(&format!(
        "if [ $# -gt 0 ]; then for z in $(stat -c %s -- \"$@\" 2>/dev/null); do \
         ix=${{ix# }}; i=${{ix%% *}}; ix=${{ix#\"$i\"}}; \
         if [ \"$z\" -le {MAX_CONTENT} ]; then m content \"$i\"; base64 -w0 -- \"$1\" 2>/dev/null; echo; fi; \
         shift; done; fi\n"
    ));
}

fn packages(s: &mut String, requests: &[FactRequest]) {
    let names: Vec<String> = requests
        .iter()
        .filter_map(|r| match r {
            FactRequest::Package(n) if package_ok(n) => Some(shell_quote(n)),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        return;
    }
    // dpkg-query expands the \t and \n itself.
    // Holds are dpkg selections (`apt-mark hold` sets want=hold), so the
    // Status field answers "held?" without apt-mark's 100+ ms cache load.
    let format = shell_quote(r"${binary:Package}\t${Package}\t${Status}\t${Version}\n");
    s.push_str(&format!(
        "m packages; dpkg-query -W -f={format} -- {} 2>/dev/null\n",
        names.join(" ")
    ));
}

fn units(s: &mut String, requests: &[FactRequest]) {
    let names: Vec<String> = requests
        .iter()
        .filter_map(|r| match r {
            FactRequest::Unit(n) if unit_ok(n) => Some(shell_quote(n)),
            _ => None,
        })
        .collect();
    if names.is_empty() {
        return;
    }
    s.push_str(&format!(
        "m units; systemctl show -p Id -p LoadState -p ActiveState -p UnitFileState -p NeedDaemonReload -- {} 2>/dev/null\n",
        names.join(" ")
    ));
}

/// Read straight from /proc/sys, so a key that does not exist simply prints
/// no section. `cat`, not the shell's `read`: many sysctl files answer only
/// a read at offset 0, and `read` takes one byte per read(2).
fn sysctls(s: &mut String, requests: &[FactRequest]) {
    for (i, r) in requests.iter().enumerate() {
        if let FactRequest::Sysctl(key) = r {
            if let Some(path) = sysctl_path(key) {
                let q = shell_quote(&path);
                s.push_str(&format!(
                    "[ -f {q} ] && {{ m sysctl {i}; cat -- {q} 2>/dev/null; }}\n"
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_forge_markers_or_options_are_left_out() {
        assert!(!path_ok("/a\nb"));
        assert!(path_ok("/etc/it's here"));
        assert!(package_ok("containerd"));
        assert!(package_ok("libc6:amd64"));
        assert!(package_ok("g++"));
        assert!(!package_ok("kube*"));
        assert!(!package_ok("-V"));
        assert!(!unit_ok("ssh*"));
        assert!(!unit_ok("42"));
        assert!(unit_ok("getty@tty1.service"));
    }

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

    #[test]
    fn every_name_is_quoted() {
        let s = gather_script(&[
            FactRequest::File {
                path: "/tmp/a b'c".into(),
                content: true,
            },
            FactRequest::Package("sudo".into()),
            FactRequest::Unit("x;rm -rf /".into()),
        ]);
        assert!(s.contains(r"'/tmp/a b'\''c'"));
        assert!(s.contains("'x;rm -rf /'"));
        assert!(s.ends_with("m end\nexit 0\n"));
    }
}
