//! The requested items: files, packages, units and sysctls, each matched back to its request.

use super::model::{FactRequest, FileKind, FileState, PackageState, UnitState, MAX_CONTENT};
use super::script::unit_ok;
use super::sections::{body, lines, Section};
use std::collections::{BTreeMap, HashMap};

/// Every requested path gets an entry; one stat did not report is missing.
pub(crate) fn files(
    sections: &[Section<'_>],
    requests: &[FactRequest],
) -> Result<BTreeMap<String, FileState>, String> {
    let mut stat: HashMap<String, FileState> = HashMap::new();
    for line in lines(body(sections, "stat")) {
        let (path, state) = stat_line(&line)?;
        stat.insert(path, state);
    }
    let mut sums: HashMap<String, String> = HashMap::new();
    for line in lines(body(sections, "sha256")) {
        if let Some((path, sum)) = sha256_line(&line) {
            sums.insert(path, sum);
        }
    }
    let mut out = BTreeMap::new();
    for (i, r) in requests.iter().enumerate() {
        let FactRequest::File { path, .. } = r else {
            continue;
        };
        let mut state = stat.get(path).cloned().unwrap_or_default();
        if state.kind == FileKind::File {
            state.sha256 = sums.get(path).cloned();
            state.content = content(sections, i, state.size);
        }
        out.insert(path.clone(), state);
    }
    Ok(out)
}

/// `%f\t%s\t%U\t%G\t%n`: raw mode in hex, size, owner, group, path.
fn stat_line(line: &str) -> Result<(String, FileState), String> {
    let err = || format!("fact section `stat`: unexpected line {line:?}");
    let mut f = line.splitn(5, '\t');
    let (Some(raw), Some(size), Some(owner), Some(group), Some(path)) =
        (f.next(), f.next(), f.next(), f.next(), f.next())
    else {
        return Err(err());
    };
    let raw = u32::from_str_radix(raw, 16).map_err(|_| err())?;
    let kind = match raw & 0o170000 {
        0o100000 => FileKind::File,
        0o040000 => FileKind::Directory,
        0o120000 => FileKind::Link,
        _ => FileKind::Other,
    };
    let size = size.parse::<u64>().map_err(|_| err())?;
    let state = FileState {
        kind,
        size: (kind == FileKind::File).then_some(size),
        mode: Some(raw & 0o7777),
        owner: Some(owner.to_string()),
        group: Some(group.to_string()),
        ..FileState::default()
    };
    Ok((path.to_string(), state))
}

/// `HASH  PATH`; a leading backslash means sha256sum escaped the path.
fn sha256_line(line: &str) -> Option<(String, String)> {
    let (escaped, line) = match line.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (sum, path) = line.split_once("  ").or_else(|| line.split_once(" *"))?;
    if sum.len() != 64 || !sum.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let path = if escaped { unescape(path) } else { path.into() };
    Some((path, sum.to_ascii_lowercase()))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

/// The content of request `i`, only if it decodes and has the size stat
/// saw (anything else means the file changed under us: better no content
/// than the wrong one).
fn content(sections: &[Section<'_>], i: usize, size: Option<u64>) -> Option<Vec<u8>> {
    let name = format!("content {i}");
    let section = sections.iter().find(|s| s.name == name)?;
    let text = section.body.trim_ascii();
    let bytes = data_encoding::BASE64.decode(text).ok()?;
    (bytes.len() <= MAX_CONTENT && Some(bytes.len() as u64) == size).then_some(bytes)
}

/// `binary:Package\tPackage\tStatus\tVersion` lines; unlisted means not installed.
pub(crate) fn packages(
    sections: &[Section<'_>],
    requests: &[FactRequest],
) -> BTreeMap<String, PackageState> {
    let rows: Vec<Vec<String>> = lines(body(sections, "packages"))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .filter(|r: &Vec<String>| r.len() == 4)
        .collect();
    let mut out = BTreeMap::new();
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
        out.insert(name.clone(), state);
    }
    out
}

/// `systemctl show` prints one block per unit, in the order asked; when the
/// count does not match (an old systemd, a unit it refused) blocks are
/// matched by `Id` instead. Units with no answer keep empty states: unknown.
pub(crate) fn units(
    sections: &[Section<'_>],
    requests: &[FactRequest],
) -> BTreeMap<String, UnitState> {
    let text = String::from_utf8_lossy(body(sections, "units"));
    let blocks: Vec<HashMap<&str, &str>> = text
        .split("\n\n")
        .map(|b| b.lines().filter_map(|l| l.split_once('=')).collect())
        .filter(|b: &HashMap<&str, &str>| !b.is_empty())
        .collect();
    let asked: Vec<&String> = requests
        .iter()
        .filter_map(|r| match r {
            FactRequest::Unit(n) if unit_ok(n) => Some(n),
            _ => None,
        })
        .collect();
    let by_order = blocks.len() == asked.len();
    let mut out = BTreeMap::new();
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
        out.insert(name.clone(), state);
    }
    out
}

/// Live values; a key with no section does not exist on this kernel.
pub(crate) fn sysctls(
    sections: &[Section<'_>],
    requests: &[FactRequest],
) -> BTreeMap<String, Option<String>> {
    let mut out = BTreeMap::new();
    for (i, r) in requests.iter().enumerate() {
        let FactRequest::Sysctl(key) = r else {
            continue;
        };
        let name = format!("sysctl {i}");
        let value = sections.iter().find(|s| s.name == name).map(|s| {
            let v = String::from_utf8_lossy(s.body);
            v.strip_suffix('\n').unwrap_or(&v).to_string()
        });
        out.insert(key.clone(), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_kind_and_mode() {
        let (p, s) = stat_line("81a4\t139\troot\troot\t/etc/a\tb").unwrap();
        assert_eq!(p, "/etc/a\tb");
        assert_eq!(
            (s.kind, s.mode, s.size),
            (FileKind::File, Some(0o644), Some(139))
        );
        let (_, s) = stat_line("41ed\t4096\troot\troot\t/etc").unwrap();
        assert_eq!(
            (s.kind, s.mode, s.size),
            (FileKind::Directory, Some(0o755), None)
        );
        assert!(stat_line("zz\t1\ta\tb\tc").unwrap_err().contains("`stat`"));
        assert!(stat_line("81a4").is_err());
    }

    #[test]
    fn escaped_sha256_paths_are_unescaped() {
        let sum = "a".repeat(64);
        let (p, s) = sha256_line(&format!("\\{sum}  /tmp/a\\\\b")).unwrap();
        assert_eq!((p.as_str(), s), ("/tmp/a\\b", sum));
        assert_eq!(sha256_line("short  /x"), None);
        assert_eq!(sha256_line("\\"), None);
    }
}
