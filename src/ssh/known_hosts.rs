//! known_hosts in OpenSSH format: look up, verify strictly, and append new keys.
//!
//! Lines are `[@marker] hosts keytype base64 [comment]`. The hosts field is either a
//! comma-separated list of `*`/`?` patterns (`!` negates; `[host]:port` for ports other than
//! 22) or one hashed entry `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`. As in OpenSSH the
//! looked-up name is lowercased and port 22 uses the bare host, so `[host]:22` never matches.
//!
//! A file that cannot be parsed line by line is not an error: such lines are skipped, just as
//! ssh skips them, so a stray line cannot lock the user out. A line whose key blob disagrees
//! with its key-type field is treated as malformed rather than as a conflicting key, because
//! ssh would never have written it.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use data_encoding::BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use super::config::{match_pattern_list, ListMatch};

/// The outcome of looking a host key up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A line for this host lists exactly this key.
    Known,
    /// No line names this host (with any key type) — a new host.
    Unknown,
    /// Lines name this host, but with other key types only (not this key type).
    OtherTypesKnown { types: Vec<String> },
    /// A line for this host has this key type with a different key: possible MITM.
    Changed { file: PathBuf, line: usize },
    /// The key is marked @revoked.
    Revoked { file: PathBuf, line: usize },
}

/// Checks `key_type key_base64` presented by `host:port` against `files` (in order).
///
/// `rsa-sha2-256`/`rsa-sha2-512` are accepted as `ssh-rsa`. An invalid key from the caller
/// is `InvalidInput`; unreadable files (other than missing ones) are I/O errors.
pub fn check(
    files: &[PathBuf],
    host: &str,
    port: u16,
    key_type: &str,
    key_base64: &str,
) -> io::Result<Verdict> {
    let (want_type, want_key) = caller_key(key_type, key_base64)?;
    let mut revoked = None;
    let mut known = false;
    let mut changed = None;
    let mut other_types: Vec<String> = Vec::new();
    for_each_entry(files, host, port, |file, line, entry| match entry.marker {
        // Certificates are not supported, so CA lines neither vouch for nor against a key.
        Marker::CertAuthority => {}
        Marker::Revoked => {
            if entry.key_type == want_type && entry.key == want_key && revoked.is_none() {
                revoked = Some((file.to_path_buf(), line));
            }
        }
        Marker::None if entry.key_type == want_type => {
            // Any matching line accepts the key, as in OpenSSH; remember the first conflict.
            if entry.key == want_key {
                known = true;
            } else if changed.is_none() {
                changed = Some((file.to_path_buf(), line));
            }
        }
        Marker::None => {
            if !other_types.contains(&entry.key_type) {
                other_types.push(entry.key_type);
            }
        }
    })?;
    Ok(if let Some((file, line)) = revoked {
        Verdict::Revoked { file, line }
    } else if known {
        Verdict::Known
    } else if let Some((file, line)) = changed {
        Verdict::Changed { file, line }
    } else if !other_types.is_empty() {
        Verdict::OtherTypesKnown { types: other_types }
    } else {
        Verdict::Unknown
    })
}

/// Append `host key_type key_base64` (or `[host]:port ...` when port != 22), creating the file
/// (0600) and its directory (0700) if missing.
///
/// The whole line goes out in one `write_all` on an `O_APPEND` descriptor under a process-wide
/// lock, so concurrent appends from several tasks do not interleave. Inputs are validated
/// first: a host or key containing whitespace or newlines could otherwise inject entries.
pub fn append(
    file: &Path,
    host: &str,
    port: u16,
    key_type: &str,
    key_base64: &str,
) -> io::Result<()> {
    static APPEND_LOCK: Mutex<()> = Mutex::new(());

    let (key_type, _) = caller_key(key_type, key_base64)?;
    let host = host.to_ascii_lowercase();
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || ",*?!|#@[]".contains(c);
    if host.is_empty() || host.contains(bad_char) {
        return Err(invalid(format!("refusing to record host {host:?}")));
    }
    let mut line = format!("{} {key_type} {key_base64}\n", lookup_name(&host, port));

    // A poisoned lock only means another append panicked; the file itself is still fine.
    let _guard = APPEND_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir)?;
        }
    }
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(file)?;
    // A file edited by hand may lack its final newline; ours must not join that last line.
    if !ends_with_newline(&mut f) {
        line.insert(0, '\n');
    }
    f.write_all(line.as_bytes())
}

/// Key types this host is known with, in file order — used to prefer those host-key algorithms
/// during negotiation as OpenSSH does. RSA is reported as `ssh-rsa`; revoked and CA lines are
/// not counted.
pub fn known_types(files: &[PathBuf], host: &str, port: u16) -> io::Result<Vec<String>> {
    let mut types: Vec<String> = Vec::new();
    for_each_entry(files, host, port, |_, _, entry| {
        if entry.marker == Marker::None && !types.contains(&entry.key_type) {
            types.push(entry.key_type);
        }
    })?;
    Ok(types)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    None,
    Revoked,
    CertAuthority,
}

#[derive(Debug, PartialEq, Eq)]
struct Entry<'a> {
    marker: Marker,
    hosts: &'a str,
    key_type: String,
    key: Vec<u8>,
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Normalised type and decoded blob of the caller's key, which must agree with each other.
fn caller_key(key_type: &str, key_base64: &str) -> io::Result<(String, Vec<u8>)> {
    let key_type = normalise_type(key_type);
    let key = BASE64
        .decode(key_base64.as_bytes())
        .map_err(|e| invalid(format!("host key is not valid base64: {e}")))?;
    match blob_type(&key) {
        Some(t) if t == key_type => Ok((key_type, key)),
        Some(t) => Err(invalid(format!("host key blob is {t:?}, not {key_type:?}"))),
        None => Err(invalid("host key blob is truncated".to_string())),
    }
}

/// RSA keys are one type whatever signature algorithm was negotiated.
fn normalise_type(t: &str) -> String {
    match t {
        "rsa-sha2-256" | "rsa-sha2-512" => "ssh-rsa".to_string(),
        _ => t.to_string(),
    }
}

/// The SSH wire-format key blob starts with its type as a length-prefixed string.
fn blob_type(blob: &[u8]) -> Option<&str> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    std::str::from_utf8(blob.get(4..4usize.checked_add(len)?)?).ok()
}

/// The name OpenSSH looks up (and hashes): bare host for port 22, else `[host]:port`.
fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 || port == 0 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

fn ends_with_newline(f: &mut fs::File) -> bool {
    let mut last = [0u8; 1];
    let ok = f.seek(SeekFrom::End(-1)).is_ok() && f.read_exact(&mut last).is_ok();
    // Empty (or unreadable, e.g. a device) files need no separator.
    !ok || last[0] == b'\n'
}

/// Calls `f(file, line_number, entry)` for every well-formed line whose hosts field matches.
fn for_each_entry(
    files: &[PathBuf],
    host: &str,
    port: u16,
    mut f: impl FnMut(&Path, usize, Entry<'_>),
) -> io::Result<()> {
    let name = lookup_name(&host.to_ascii_lowercase(), port);
    for file in files {
        let bytes = match fs::read(file) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", file.display()))),
        };
        let text = String::from_utf8_lossy(&bytes);
        for (index, line) in text.lines().enumerate() {
            if let Some(entry) = parse_line(line) {
                if hosts_match(entry.hosts, &name) {
                    f(file, index + 1, entry);
                }
            }
        }
    }
    Ok(())
}

/// `None` for comments, blank and malformed lines.
fn parse_line(line: &str) -> Option<Entry<'_>> {
    let mut fields = line.split([' ', '\t', '\r']).filter(|s| !s.is_empty());
    let mut first = fields.next()?;
    if first.starts_with('#') {
        return None;
    }
    let marker = match first {
        "@revoked" => Marker::Revoked,
        "@cert-authority" => Marker::CertAuthority,
        _ if first.starts_with('@') => return None,
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next()?;
    }
    let key_type = normalise_type(fields.next()?);
    let key = BASE64.decode(fields.next()?.as_bytes()).ok()?;
    // Also rejects SSH1 `bits e n` lines, whose "type" is a number.
    if blob_type(&key)? != key_type {
        return None;
    }
    Some(Entry {
        marker,
        hosts: first,
        key_type,
        key,
    })
}

fn hosts_match(field: &str, name: &str) -> bool {
    match field.strip_prefix("|1|") {
        Some(hashed) => hashed_match(hashed, name),
        None => match_pattern_list(name, field) == ListMatch::Positive,
    }
}

/// `salt|hash` (both base64) against HMAC-SHA1 keyed by the salt over the name.
fn hashed_match(hashed: &str, name: &str) -> bool {
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (
        BASE64.decode(salt.as_bytes()),
        BASE64.decode(hash.as_bytes()),
    ) else {
        return false;
    };
    if salt.is_empty() {
        return false;
    }
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wire-format blob of type `t`; `seed` makes distinct keys of one type.
    fn key(t: &str, seed: u8) -> String {
        let mut blob = (t.len() as u32).to_be_bytes().to_vec();
        blob.extend_from_slice(t.as_bytes());
        blob.extend_from_slice(&32u32.to_be_bytes());
        blob.extend_from_slice(&[seed; 32]);
        BASE64.encode(&blob)
    }

    fn hashed(name: &str, salt: &[u8]) -> String {
        let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(salt).unwrap();
        mac.update(name.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("|1|{}|{}", BASE64.encode(salt), BASE64.encode(&digest))
    }

    /// Produced by `ssh-keygen -H` (OpenSSH 9.2) from plain lines for `10.0.0.1` and
    /// `[10.0.0.1]:2222` carrying this same ed25519 key.
    const REAL_KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIIOE9sNB5qpn0/f8NM3xKX1xNzrmoOGXoEj4Di3BBq4b";
    const REAL_HASHED_22: &str = "|1|9viinj1uwzcGLsVM2+gw49JOFDQ=|uuBt5ZXbBqs1z2yqrIQsbTbPQiY=";
    const REAL_HASHED_2222: &str = "|1|J+9J11AbPHb/HZerZHOG2rXKL9k=|0CI4u44YwlQqqkH8wjn+TMF5BrU=";

    fn write(dir: &Path, name: &str, lines: &[String]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    }

    #[test]
    fn verdicts() {
        let ed = |s| key("ssh-ed25519", s);
        let rsa = |s| key("ssh-rsa", s);
        let ecdsa = |s| key("ecdsa-sha2-nistp256", s);
        struct Case {
            name: &'static str,
            lines: Vec<String>,
            host: &'static str,
            port: u16,
            key_type: &'static str,
            key: String,
            want: Verdict,
        }
        let f = |line: usize| (PathBuf::from("known_hosts"), line);
        let changed = |line| {
            let (file, line) = f(line);
            Verdict::Changed { file, line }
        };
        let revoked = |line| {
            let (file, line) = f(line);
            Verdict::Revoked { file, line }
        };
        let cases = vec![
            Case {
                name: "no file content",
                lines: vec![],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Unknown,
            },
            Case {
                name: "plain exact match",
                lines: vec![format!("a ssh-ed25519 {} comment here", ed(1))],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Known,
            },
            Case {
                name: "lookup is case-insensitive",
                lines: vec![format!("Node-1.LAN ssh-ed25519 {}", ed(1))],
                host: "node-1.lan",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Known,
            },
            Case {
                name: "same type, different key",
                lines: vec!["# c".into(), format!("a ssh-ed25519 {}", ed(2))],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: changed(2),
            },
            Case {
                name: "a matching line beats a mismatching one",
                lines: vec![
                    format!("a ssh-ed25519 {}", ed(2)),
                    format!("a ssh-ed25519 {}", ed(1)),
                ],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Known,
            },
            Case {
                name: "other key types only",
                lines: vec![
                    format!("a ecdsa-sha2-nistp256 {}", ecdsa(1)),
                    format!("a ssh-rsa {}", rsa(1)),
                    format!("a ecdsa-sha2-nistp256 {}", ecdsa(2)),
                ],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::OtherTypesKnown {
                    types: vec!["ecdsa-sha2-nistp256".into(), "ssh-rsa".into()],
                },
            },
            Case {
                name: "rsa-sha2-512 is ssh-rsa",
                lines: vec![format!("a ssh-rsa {}", rsa(1))],
                host: "a",
                port: 22,
                key_type: "rsa-sha2-512",
                key: rsa(1),
                want: Verdict::Known,
            },
            Case {
                name: "rsa-sha2-256 mismatch is a change",
                lines: vec![format!("a ssh-rsa {}", rsa(1))],
                host: "a",
                port: 22,
                key_type: "rsa-sha2-256",
                key: rsa(2),
                want: changed(1),
            },
            Case {
                name: "revoked wins over a matching line",
                lines: vec![
                    format!("a ssh-ed25519 {}", ed(1)),
                    format!("@revoked * ssh-ed25519 {}", ed(1)),
                ],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: revoked(2),
            },
            Case {
                name: "revocation of another key is irrelevant",
                lines: vec![
                    format!("@revoked * ssh-ed25519 {}", ed(9)),
                    format!("a ssh-ed25519 {}", ed(1)),
                ],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Known,
            },
            Case {
                name: "cert-authority lines ignored",
                lines: vec![format!("@cert-authority * ssh-ed25519 {}", ed(1))],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Unknown,
            },
            Case {
                name: "patterns, wildcards and lists",
                lines: vec![format!("x,10.0.?.*,y ssh-ed25519 {}", ed(1))],
                host: "10.0.3.44",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Known,
            },
            Case {
                name: "negated pattern rejects the line",
                lines: vec![format!("*.lan,!gw.lan ssh-ed25519 {}", ed(2))],
                host: "gw.lan",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Unknown,
            },
            Case {
                name: "non-22 port needs [host]:port",
                lines: vec![
                    format!("a ssh-ed25519 {}", ed(2)),
                    format!("[a]:2222 ssh-ed25519 {}", ed(1)),
                ],
                host: "a",
                port: 2222,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Known,
            },
            Case {
                name: "bare host does not cover other ports",
                lines: vec![format!("a ssh-ed25519 {}", ed(1))],
                host: "a",
                port: 2222,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Unknown,
            },
            Case {
                name: "[host]:22 is not how port 22 is written",
                lines: vec![format!("[a]:22 ssh-ed25519 {}", ed(1))],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Unknown,
            },
            Case {
                name: "port wildcard pattern",
                lines: vec![format!("[a]:* ssh-ed25519 {}", ed(1))],
                host: "a",
                port: 2022,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Known,
            },
            Case {
                name: "IPv6 with port",
                lines: vec![format!("[fd00::1]:2200 ssh-ed25519 {}", ed(1))],
                host: "fd00::1",
                port: 2200,
                key_type: "ssh-ed25519",
                key: ed(3),
                want: changed(1),
            },
            Case {
                name: "hashed line generated here, port 22",
                lines: vec![format!(
                    "{} ssh-ed25519 {}",
                    hashed("node1", &[7; 20]),
                    ed(1)
                )],
                host: "NODE1",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(2),
                want: changed(1),
            },
            Case {
                name: "hashed line generated here, other port",
                lines: vec![format!(
                    "{} ssh-ed25519 {}",
                    hashed("[node1]:2222", &[9; 20]),
                    ed(1)
                )],
                host: "node1",
                port: 2222,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Known,
            },
            Case {
                name: "hashed line for another host",
                lines: vec![format!(
                    "{} ssh-ed25519 {}",
                    hashed("node2", &[7; 20]),
                    ed(2)
                )],
                host: "node1",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Unknown,
            },
            Case {
                name: "ssh-keygen -H output, port 22",
                lines: vec![format!("{REAL_HASHED_22} ssh-ed25519 {REAL_KEY}")],
                host: "10.0.0.1",
                port: 22,
                key_type: "ssh-ed25519",
                key: REAL_KEY.into(),
                want: Verdict::Known,
            },
            Case {
                name: "ssh-keygen -H output, port 2222",
                lines: vec![format!("{REAL_HASHED_2222} ssh-ed25519 {REAL_KEY}")],
                host: "10.0.0.1",
                port: 2222,
                key_type: "ssh-ed25519",
                key: REAL_KEY.into(),
                want: Verdict::Known,
            },
            Case {
                name: "ssh-keygen -H output does not match other hosts or ports",
                lines: vec![
                    format!("{REAL_HASHED_22} ssh-ed25519 {REAL_KEY}"),
                    format!("{REAL_HASHED_2222} ssh-ed25519 {REAL_KEY}"),
                ],
                host: "10.0.0.2",
                port: 22,
                key_type: "ssh-ed25519",
                key: REAL_KEY.into(),
                want: Verdict::Unknown,
            },
            Case {
                name: "malformed lines skipped",
                lines: vec![
                    "".into(),
                    "   # indented comment".into(),
                    "a".into(),
                    "a ssh-ed25519".into(),
                    "a ssh-ed25519 !!!notbase64".into(),
                    format!("a ssh-rsa {}", ed(2)),
                    "a 2048 65537 1234567".into(),
                    format!("@bogus a ssh-ed25519 {}", ed(2)),
                    format!("|1|bad|salt ssh-ed25519 {}", ed(2)),
                    format!("|1|{}| ssh-ed25519 {}", BASE64.encode(&[1; 20]), ed(2)),
                    "\u{0}\u{ffff} \u{1}".into(),
                    format!("\ta\tssh-ed25519\t{}\r", ed(1)),
                ],
                host: "a",
                port: 22,
                key_type: "ssh-ed25519",
                key: ed(1),
                want: Verdict::Known,
            },
        ];
        let dir = tempfile::tempdir().unwrap();
        for case in cases {
            let path = write(dir.path(), "known_hosts", &case.lines);
            let got = check(&[path], case.host, case.port, case.key_type, &case.key).unwrap();
            // Verdicts carry the file path; compare against the file's name only.
            let got = match got {
                Verdict::Changed { file, line } => Verdict::Changed {
                    file: file.file_name().unwrap().into(),
                    line,
                },
                Verdict::Revoked { file, line } => Verdict::Revoked {
                    file: file.file_name().unwrap().into(),
                    line,
                },
                other => other,
            };
            assert_eq!(got, case.want, "{}", case.name);
        }
    }

    #[test]
    fn several_files_missing_files_and_revocation_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let user = write(
            dir.path(),
            "user",
            &[format!("a ssh-ed25519 {}", key("ssh-ed25519", 1))],
        );
        let global = write(
            dir.path(),
            "global",
            &[
                format!("a ssh-ed25519 {}", key("ssh-ed25519", 2)),
                format!("@revoked a ssh-ed25519 {}", key("ssh-ed25519", 3)),
            ],
        );
        let missing = dir.path().join("missing");
        let files = [missing, user.clone(), global.clone()];
        let check = |k| check(&files, "a", 22, "ssh-ed25519", &key("ssh-ed25519", k)).unwrap();
        assert_eq!(check(1), Verdict::Known);
        // The first conflicting line in file order is reported.
        assert_eq!(
            check(4),
            Verdict::Changed {
                file: user,
                line: 1
            }
        );
        assert_eq!(
            check(3),
            Verdict::Revoked {
                file: global,
                line: 2
            }
        );
    }

    #[test]
    fn invalid_caller_keys_are_errors_not_panics() {
        let files = [PathBuf::from("/nonexistent/kh")];
        for (t, k) in [
            ("ssh-ed25519", "not base64!"),
            ("ssh-ed25519", ""),
            ("ssh-ed25519", "AAAA"),
            ("ssh-rsa", key("ssh-ed25519", 1).as_str()),
            ("ssh-ed25519", "/////w=="),
        ] {
            let err = check(&files, "a", 22, t, k).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{t} {k}");
        }
    }

    #[test]
    fn unreadable_path_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = check(
            &[dir.path().to_path_buf()],
            "a",
            22,
            "ssh-ed25519",
            &key("ssh-ed25519", 1),
        );
        assert!(err.is_err());
    }

    /// Deterministic junk lines: parsing and matching must never panic.
    #[test]
    fn arbitrary_lines_never_panic() {
        const PIECES: &[&str] = &[
            "|1|",
            "|",
            "@revoked ",
            "@cert-authority ",
            "@",
            "*",
            "?",
            "!",
            ",",
            "[a]:22",
            " ",
            "\t",
            "ssh-ed25519 ",
            "AAAA",
            "AAAAC3NzaC1lZDI1NTE5",
            "=",
            "é",
            "#",
            "a",
            "/////w==",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..3000 {
            let mut line = String::new();
            for _ in 0..(seed % 12) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                line.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            if let Some(entry) = parse_line(&line) {
                let _ = hosts_match(entry.hosts, "a");
            }
            let _ = hosts_match(&line, "[a]:2");
        }
    }

    #[test]
    fn known_types_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "kh",
            &[
                format!("b ssh-ed25519 {}", key("ssh-ed25519", 1)),
                format!("@revoked a ssh-dss {}", key("ssh-dss", 1)),
                format!("@cert-authority a ssh-ed25519 {}", key("ssh-ed25519", 1)),
                format!("a,b ecdsa-sha2-nistp256 {}", key("ecdsa-sha2-nistp256", 1)),
                format!("{} ssh-rsa {}", hashed("a", &[3; 20]), key("ssh-rsa", 1)),
                format!("a ecdsa-sha2-nistp256 {}", key("ecdsa-sha2-nistp256", 2)),
                format!("[a]:2 ssh-ed25519 {}", key("ssh-ed25519", 1)),
            ],
        );
        let files = [path];
        assert_eq!(
            known_types(&files, "a", 22).unwrap(),
            vec!["ecdsa-sha2-nistp256".to_string(), "ssh-rsa".to_string()]
        );
        assert_eq!(
            known_types(&files, "a", 2).unwrap(),
            vec!["ssh-ed25519".to_string()]
        );
        assert_eq!(
            known_types(&files, "zzz", 22).unwrap(),
            Vec::<String>::new()
        );
    }

    #[cfg(unix)]
    #[test]
    fn append_creates_private_file_and_round_trips() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("new/.ssh/known_hosts");
        let k1 = key("ssh-ed25519", 1);
        let k2 = key("ssh-rsa", 2);
        append(&file, "Node1", 22, "ssh-ed25519", &k1).unwrap();
        append(&file, "node1", 2222, "rsa-sha2-512", &k2).unwrap();
        let text = fs::read_to_string(&file).unwrap();
        assert_eq!(
            text,
            format!("node1 ssh-ed25519 {k1}\n[node1]:2222 ssh-rsa {k2}\n")
        );
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
        let files = [file.clone()];
        assert_eq!(
            check(&files, "node1", 22, "ssh-ed25519", &k1).unwrap(),
            Verdict::Known
        );
        assert_eq!(
            check(&files, "node1", 2222, "rsa-sha2-256", &k2).unwrap(),
            Verdict::Known
        );
    }

    #[test]
    fn append_repairs_missing_final_newline_and_rejects_injection() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kh");
        let k = key("ssh-ed25519", 1);
        fs::write(&file, "# no newline").unwrap();
        append(&file, "a", 22, "ssh-ed25519", &k).unwrap();
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            format!("# no newline\na ssh-ed25519 {k}\n")
        );
        for (host, t, kk) in [
            ("a\nevil", "ssh-ed25519", k.clone()),
            ("a b", "ssh-ed25519", k.clone()),
            ("*", "ssh-ed25519", k.clone()),
            ("", "ssh-ed25519", k.clone()),
            ("a", "ssh-ed25519", format!("{k}\nevil ssh-ed25519 {k}")),
            ("a", "ssh-ed25519 x", k.clone()),
        ] {
            let err = append(&file, host, 22, t, &kk).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{host:?} {t:?}");
        }
        assert_eq!(fs::read_to_string(&file).unwrap().lines().count(), 2);
    }

    #[test]
    fn concurrent_appends_do_not_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("kh");
        let threads: Vec<_> = (0..16u8)
            .map(|i| {
                let file = file.clone();
                std::thread::spawn(move || {
                    for j in 0..8u16 {
                        append(
                            &file,
                            &format!("h{i}"),
                            1000 + j,
                            "ssh-ed25519",
                            &key("ssh-ed25519", i),
                        )
                        .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let files = [file];
        for i in 0..16u8 {
            for j in 0..8u16 {
                let v = check(
                    &files,
                    &format!("h{i}"),
                    1000 + j,
                    "ssh-ed25519",
                    &key("ssh-ed25519", i),
                );
                assert_eq!(v.unwrap(), Verdict::Known);
            }
        }
        assert_eq!(fs::read_to_string(&files[0]).unwrap().lines().count(), 128);
    }
}
