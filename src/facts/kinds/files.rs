//! Files asked about: their state from one `stat`, their hash from one `sha256sum`, small ones' content.

use super::{quoted_names, Kind};
use crate::facts::model::{FactRequest, Facts, FileIds, FileKind, FileState, MAX_CONTENT};
use crate::facts::sections::{body, lines, Section};
use crate::ssh::shell_quote;
use std::collections::HashMap;

const STAT: &str = "stat";
const SHA256: &str = "sha256";
/// Numeric ids, times and inode: a section of its own, so output recorded
/// before it existed still reads.
const IDS: &str = "ids";
/// `content <i>`: the base64 content of request `i`.
const CONTENT: &str = "content";

/// A path the script can ask about: a newline would let stat's output
/// forge a marker line, and NUL cannot pass through a shell at all.
pub(crate) fn path_ok(p: &str) -> bool {
    !p.is_empty() && !p.contains(['\n', '\0'])
}

pub(crate) struct Files;

impl Kind for Files {
    fn script(&self, requests: &[FactRequest], s: &mut String) {
        let Some(all) = quoted_names(requests, |r| match r {
            FactRequest::File { path, .. } if path_ok(path) => Some(path),
            _ => None,
        }) else {
            return;
        };
        // Raw mode in hex (%f) carries type and permissions without locale words.
        s.push_str(&format!(
            "m {STAT}; stat --printf '%f\\t%s\\t%U\\t%G\\t%n\\n' -- {all} 2>/dev/null\n"
        ));
        s.push_str(&format!(
            "m {IDS}; stat --printf '%u\\t%g\\t%Y\\t%X\\t%Z\\t%i\\t%d\\t%h\\t%n\\n' -- {all} 2>/dev/null\n"
        ));
        s.push_str(&format!(
            "m {SHA256}; set --; for p in {all}; do [ -f \"$p\" ] && [ ! -L \"$p\" ] && set -- \"$@\" \"$p\"; done; \
             [ $# -gt 0 ] && sha256sum -- \"$@\" 2>/dev/null\n"
        ));
        content_script(s, requests);
    }

    /// Every requested path gets an entry; one stat did not report is missing.
    fn read(&self, s: &[Section], requests: &[FactRequest], f: &mut Facts) -> Result<(), String> {
        let mut stat: HashMap<String, FileState> = HashMap::new();
        for line in lines(body(s, STAT)) {
            let (path, state) = stat_line(&line)?;
            stat.insert(path, state);
        }
        let mut sums: HashMap<String, String> = HashMap::new();
        for line in lines(body(s, SHA256)) {
            if let Some((path, sum)) = sha256_line(&line) {
                sums.insert(path, sum);
            }
        }
        let mut ids: HashMap<String, FileIds> = HashMap::new();
        for line in lines(body(s, IDS)) {
            let (path, i) = ids_line(&line)?;
            ids.insert(path, i);
        }
        for (i, r) in requests.iter().enumerate() {
            let FactRequest::File { path, .. } = r else {
                continue;
            };
            if let Some(i) = ids.remove(path) {
                f.file_ids.insert(path.clone(), i);
            }
            let mut state = stat.get(path).cloned().unwrap_or_default();
            if state.kind == FileKind::File {
                state.sha256 = sums.get(path).cloned();
                state.content = content(s, i, state.size);
            }
            f.files.insert(path.clone(), state);
        }
        Ok(())
    }
}

/// Base64 of each small regular file whose content was asked for. One
/// `stat` gives all sizes; files over the limit are not sent at all. The
/// parser checks each decoded length against the stat section, so a file
/// that vanished between the two steps cannot shift the pairing unnoticed.
fn content_script(s: &mut String, requests: &[FactRequest]) {
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
         if [ \"$z\" -le {MAX_CONTENT} ]; then m {CONTENT} \"$i\"; base64 -w0 -- \"$1\" 2>/dev/null; echo; fi; \
         shift; done; fi\n"
    ));
}

/// `%f\t%s\t%U\t%G\t%n`: raw mode in hex, size, owner, group, path.
fn stat_line(line: &str) -> Result<(String, FileState), String> {
    let err = || format!("fact section `{STAT}`: unexpected line {line:?}");
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

/// `%u\t%g\t%Y\t%X\t%Z\t%i\t%d\t%h\t%n`: uid, gid, mtime, atime, ctime, inode, device, links, path.
fn ids_line(line: &str) -> Result<(String, FileIds), String> {
    let err = || format!("fact section `{IDS}`: unexpected line {line:?}");
    let f: Vec<&str> = line.splitn(9, '\t').collect();
    let [uid, gid, mtime, atime, ctime, inode, dev, nlink, path] = f[..] else {
        return Err(err());
    };
    let n = |v: &str| v.parse::<u64>().map_err(|_| err());
    let t = |v: &str| v.parse::<i64>().map_err(|_| err());
    let id = |v: &str| v.parse::<u32>().map_err(|_| err());
    let ids = FileIds {
        uid: id(uid)?,
        gid: id(gid)?,
        mtime: t(mtime)?,
        atime: t(atime)?,
        ctime: t(ctime)?,
        inode: n(inode)?,
        dev: n(dev)?,
        nlink: n(nlink)?,
    };
    Ok((path.to_string(), ids))
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
    let name = format!("{CONTENT} {i}");
    let section = sections.iter().find(|s| s.name == name)?;
    let text = section.body.trim_ascii();
    let bytes = data_encoding::BASE64.decode(text).ok()?;
    (bytes.len() <= MAX_CONTENT && Some(bytes.len() as u64) == size).then_some(bytes)
}

#[cfg(test)]
#[path = "files_tests.rs"]
mod tests;
