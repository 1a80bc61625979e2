//! The one POSIX sh script that gathers every fact of a host in a single round trip.
//!
//! This file is the frame: the shell helpers, the `begin` and `end`
//! sections, and every kind's fragment in between, in the order of
//! [`KINDS`] (each kind's lines live with its parser in `kinds/`).
//!
//! Output is a series of sections, each opened by a marker line
//! `\x1eKS:<name>` (ASCII record separator, never found at the start of a
//! line of the text we print: names that could smuggle a newline in are
//! filtered out by the kinds). Each item is isolated (`2>/dev/null`, no
//! `set -e`), so one missing thing never fails the whole script; nothing is
//! written on the host. Batched where one command can answer many items (one
//! `stat`, one `sha256sum`, one `dpkg-query`, one `systemctl show`); small
//! files are read with the shell's own `read`, so they cost no process.

use super::kinds::KINDS;
use super::model::FactRequest;
use super::sections::{BEGIN, END};

/// Version of the output format, printed in the `begin` section.
const FORMAT: &str = "1";

/// The shell helpers every fragment uses: `m NAME` opens a section, `r FILE`
/// prints a small file without starting a process.
const HELPERS: &str = r#"LC_ALL=C; export LC_ALL
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH; export PATH
m() { printf '\036KS:%s\n' "$*"; }
r() { [ -r "$1" ] && while IFS= read -r l || [ -n "$l" ]; do printf '%s\n' "$l"; done < "$1"; }
"#;

/// The script's last lines; [`super::rider`] slips its report in before them.
pub(crate) fn tail() -> String {
    format!("m {END}\nexit 0\n")
}

/// The script that prints the base facts and answers `requests`.
///
/// [`super::parse`] must be given the same `requests`, in the same order:
/// per-item sections name their request by index. A name that cannot be
/// asked safely (a path with a newline, a package or unit name that would
/// be a pattern or an option) is left out and comes back empty: missing,
/// not installed, unknown.
pub fn gather_script(requests: &[FactRequest]) -> String {
    let mut s = format!("{HELPERS}m {BEGIN} {FORMAT}\n");
    for kind in KINDS {
        kind.script(requests, &mut s);
    }
    s.push_str(&tail());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

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
