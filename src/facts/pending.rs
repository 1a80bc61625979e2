//! Handlers a run notified on a host and has not run yet, remembered on the host itself.
//!
//! A change whose handler never ran (Ctrl-C, a lost connection, a task that
//! failed after it) would otherwise be lost: the next run finds the file
//! right, reports ok, and the service keeps its old configuration. So the
//! runner writes the handler's name to [`PATH`] right after the change that
//! notified it, the gather script reads the file with the other facts (no
//! extra round trip), the next run notifies those handlers again, and each
//! name is removed once its handler has succeeded.
//!
//! The file is text, one `handler=NAME` line per handler; other lines (a
//! comment, a later format's keys) are ignored.

use std::collections::BTreeSet;

use super::kinds::Kind;
use super::model::{FactRequest, Facts};
use super::sections::{body, Section};
use crate::ssh::shell_quote;

/// Where the record lives on the host (next to the run lock).
pub const PATH: &str = "/var/lib/kubestrap/pending-handlers";

const KEY: &str = "handler=";

/// The handler names in a record's text.
pub fn parse(text: &[u8]) -> BTreeSet<String> {
    String::from_utf8_lossy(text)
        .lines()
        .filter_map(|l| l.strip_prefix(KEY))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// The record's first line, for whoever finds the file.
const HEADER: &str = "# kubestrap: handlers notified on this host that have not run yet";

/// Whether `name` survives a write and a read unchanged (each line is one
/// name, so a name with a line break cannot be stored).
pub fn storable(name: &str) -> bool {
    !name.trim().is_empty() && !name.contains(['\n', '\r'])
}

/// The script (and its stdin) that adds `names` to the record: the host
/// merges them with what the file holds, so a run that has not read it yet
/// loses nothing, and replaces it atomically (temp file, fsync, rename).
pub fn add_script(names: &BTreeSet<String>) -> (String, Option<Vec<u8>>) {
    add_script_at(PATH, names)
}

/// The script (and its stdin) that takes `names` out of the record, and
/// removes the file when no name is left.
pub fn remove_script(names: &BTreeSet<String>) -> (String, Option<Vec<u8>>) {
    remove_script_at(PATH, names)
}

fn lines(names: &BTreeSet<String>) -> Vec<u8> {
    names
        .iter()
        .filter(|n| storable(n))
        .map(|n| format!("{KEY}{}\n", n.trim()))
        .collect::<String>()
        .into_bytes()
}

fn add_script_at(path: &str, names: &BTreeSet<String>) -> (String, Option<Vec<u8>>) {
    let f = shell_quote(path);
    let d = shell_quote(path.rsplit_once('/').map_or("/", |(d, _)| d));
    let header = shell_quote(HEADER);
    let script = format!(
        "set -e\nmkdir -p -m 0700 {d}\nt=$(mktemp {d}/.pending-handlers.XXXXXX)\n\
         trap 'rm -f \"$t\"' EXIT\n\
         {{ printf '%s\\n' {header}; {{ grep '^{KEY}' {f} 2>/dev/null || true; cat; }} | sort -u; }} > \"$t\"\n\
         chmod 0644 \"$t\"\nsync \"$t\" 2>/dev/null || true\nmv -f -- \"$t\" {f}\ntrap - EXIT\n"
    );
    (script, Some(lines(names)))
}

fn remove_script_at(path: &str, names: &BTreeSet<String>) -> (String, Option<Vec<u8>>) {
    let f = shell_quote(path);
    let d = shell_quote(path.rsplit_once('/').map_or("/", |(d, _)| d));
    let script = format!(
        "set -e\n[ -f {f} ] || exit 0\nt=$(mktemp {d}/.pending-handlers.XXXXXX)\n\
         trap 'rm -f \"$t\"' EXIT\ngrep -vxF -f - {f} > \"$t\" || true\n\
         if grep -q '^{KEY}' \"$t\"; then\n  chmod 0644 \"$t\"\n  sync \"$t\" 2>/dev/null || true\n  mv -f -- \"$t\" {f}\n\
         else\n  rm -f -- {f}\nfi\n"
    );
    (script, Some(lines(names)))
}

/// The gather script's section that carries the record.
const SECTION: &str = "pending-handlers";

/// The record as a fact kind: the gather prints it as its own section.
pub(super) struct Pending;

impl Kind for Pending {
    fn script(&self, _: &[FactRequest], s: &mut String) {
        s.push_str(&format!("m {SECTION}; r {}\n", shell_quote(PATH)));
    }

    fn read(&self, s: &[Section], _: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        f.pending_handlers = parse(body(s, SECTION));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    /// (record text, the names it holds)
    #[test]
    fn records_parse_from_fixtures() {
        let table: &[(&[u8], &[&str])] = &[
            (b"", &[]),
            (
                b"# kubestrap: handlers notified on this host that have not run yet\nhandler=restart containerd\n",
                &["restart containerd"],
            ),
            (
                b"handler=restart kubelet\nhandler=restart containerd\nhandler=restart kubelet\n",
                &["restart containerd", "restart kubelet"],
            ),
            // No final newline, CRLF, blank names, unknown keys and junk.
            (
                b"handler= reload nginx \r\nhandler=\nversion=2\ngarbage\nhandler=x",
                &["reload nginx", "x"],
            ),
            (b"\xff\xfehandler=bad utf8 \xff\n", &[]),
        ];
        for (text, want) in table {
            assert_eq!(
                parse(text),
                set(want),
                "{:?}",
                String::from_utf8_lossy(text)
            );
        }
    }

    /// Run a record script with /bin/sh on this machine, as the host would.
    fn sh(script: (String, Option<Vec<u8>>)) {
        use std::io::Write;
        let mut child = std::process::Command::new("/bin/sh")
            .args(["-c", &script.0])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // A script with nothing to do (no record to remove from) exits
        // without reading its stdin; the pipe then breaks under the write.
        if let Err(e) = stdin.write_all(&script.1.unwrap_or_default()) {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{}", script.0);
        }
        drop(stdin);
        assert!(child.wait().unwrap().success(), "{}", script.0);
    }

    #[test]
    fn names_are_added_merged_and_removed_on_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/pending-handlers");
        let p = path.to_str().unwrap();
        let read = || parse(&std::fs::read(&path).unwrap_or_default());
        // The first name makes the directory and the file.
        sh(add_script_at(p, &set(&["restart containerd"])));
        assert_eq!(read(), set(&["restart containerd"]));
        // A run that never read the record adds without losing what is there.
        sh(add_script_at(
            p,
            &set(&["reload: sshd (it's fine)", "restart containerd"]),
        ));
        assert_eq!(
            read(),
            set(&["reload: sshd (it's fine)", "restart containerd"])
        );
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# kubestrap:"), "{text}");
        // Removing one keeps the other; removing the last removes the file.
        sh(remove_script_at(p, &set(&["restart containerd"])));
        assert_eq!(read(), set(&["reload: sshd (it's fine)"]));
        sh(remove_script_at(p, &set(&["reload: sshd (it's fine)"])));
        assert!(!path.exists());
        // Removing from no record is no error.
        sh(remove_script_at(p, &set(&["x"])));
        assert!(!dir.path().join("state").read_dir().unwrap().any(|_| true));
    }

    #[test]
    fn names_travel_on_stdin_and_odd_ones_are_left_out() {
        let (script, stdin) = add_script(&set(&["restart containerd", "a\nhandler=b", " "]));
        assert!(script.contains("mv -f -- \"$t\" '/var/lib/kubestrap/pending-handlers'"));
        assert!(!script.contains("containerd"), "{script}");
        assert_eq!(parse(&stdin.unwrap()), set(&["restart containerd"]));
    }
}
