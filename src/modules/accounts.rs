//! The host's local accounts as the user, group and authorized_key modules see them: /etc/passwd, /etc/group, /etc/shadow.
//!
//! The three files come back with the play's one fact gathering (they are
//! small); a change predicts their new lines, so later tasks of the run see
//! the account without asking the host again.

use super::file_facts::sha256_hex;
use crate::facts::{FactRequest, FactUpdate, Facts, FileKind, FileState, MAX_CONTENT};

pub const PASSWD: &str = "/etc/passwd";
pub const GROUP: &str = "/etc/group";
pub const SHADOW: &str = "/etc/shadow";

/// The facts every account module asks for.
pub fn account_needs(shadow: bool) -> Vec<FactRequest> {
    let mut out: Vec<FactRequest> = [PASSWD, GROUP]
        .iter()
        .map(|p| FactRequest::File {
            path: p.to_string(),
            content: true,
        })
        .collect();
    if shadow {
        out.push(FactRequest::File {
            path: SHADOW.into(),
            content: true,
        });
    }
    out
}

/// One line of /etc/passwd.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub comment: String,
    pub home: String,
    pub shell: String,
}

impl PasswdEntry {
    fn line(&self) -> String {
        format!(
            "{}:x:{}:{}:{}:{}:{}\n",
            self.name, self.uid, self.gid, self.comment, self.home, self.shell
        )
    }
}

/// One line of /etc/group.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

impl GroupEntry {
    fn line(&self) -> String {
        format!("{}:x:{}:{}\n", self.name, self.gid, self.members.join(","))
    }
}

/// The content of one of the account files, or why it is not known.
fn text<'a>(facts: &'a Facts, path: &str) -> Result<&'a str, String> {
    let st = facts
        .files
        .get(path)
        .ok_or_else(|| format!("no facts were gathered for {path}"))?;
    let bytes = match (&st.kind, &st.content) {
        (FileKind::Missing, _) => return Ok(""),
        (_, Some(c)) => c,
        (_, None) => {
            return Err(format!(
                "{path} could not be read (it needs root: become: true)"
            ))
        }
    };
    std::str::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text"))
}

/// Every account in /etc/passwd.
pub fn users(facts: &Facts) -> Result<Vec<PasswdEntry>, String> {
    Ok(text(facts, PASSWD)?
        .lines()
        .filter_map(parse_passwd)
        .collect())
}

/// Every group in /etc/group.
pub fn groups(facts: &Facts) -> Result<Vec<GroupEntry>, String> {
    Ok(text(facts, GROUP)?
        .lines()
        .filter_map(parse_group)
        .collect())
}

/// The password field of `name` in /etc/shadow (None: no such line).
pub fn shadow_hash(facts: &Facts, name: &str) -> Result<Option<String>, String> {
    Ok(text(facts, SHADOW)?.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next() == Some(name)).then(|| f.next().unwrap_or_default().to_string())
    }))
}

fn parse_passwd(line: &str) -> Option<PasswdEntry> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 7 {
        return None;
    }
    Some(PasswdEntry {
        name: f[0].into(),
        uid: f[2].parse().ok()?,
        gid: f[3].parse().ok()?,
        comment: f[4].into(),
        home: f[5].into(),
        shell: f[6].into(),
    })
}

fn parse_group(line: &str) -> Option<GroupEntry> {
    let f: Vec<&str> = line.split(':').collect();
    if f.len() < 4 {
        return None;
    }
    Some(GroupEntry {
        name: f[0].into(),
        gid: f[2].parse().ok()?,
        members: f[3]
            .split(',')
            .filter(|m| !m.is_empty())
            .map(String::from)
            .collect(),
    })
}

/// A group by name, or by number as useradd's `-g` also takes it.
pub fn find_group<'a>(groups: &'a [GroupEntry], name: &str) -> Option<&'a GroupEntry> {
    groups
        .iter()
        .find(|g| g.name == name)
        .or_else(|| groups.iter().find(|g| g.gid.to_string() == name))
}

/// The id useradd/groupadd would pick: the next above the highest regular
/// one (from 1000), or for a system account the highest free one below 1000.
pub fn next_id(used: impl Iterator<Item = u32>, system: bool) -> u32 {
    let used: std::collections::BTreeSet<u32> = used.collect();
    if system {
        return (100..1000).rev().find(|i| !used.contains(i)).unwrap_or(999);
    }
    used.range(1000..60000)
        .next_back()
        .map_or(1000, |max| max + 1)
}

/// Whether `name` is an account name useradd and groupadd accept, so it can
/// stand in a command and a path unquoted in meaning.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-$".contains(c))
        && name.len() <= 32
        && !name.chars().all(|c| c.is_ascii_digit())
}

/// `content` of a file of `name:`-keyed lines with `name`'s line replaced by
/// `line` (removed when None; appended when new).
fn with_line(content: &str, name: &str, line: Option<String>) -> String {
    let prefix = format!("{name}:");
    let mut out = String::new();
    let mut line = line;
    for l in content.split_inclusive('\n') {
        if l.starts_with(&prefix) {
            if let Some(new) = line.take() {
                out.push_str(&new);
            }
        } else {
            out.push_str(l);
        }
    }
    if let Some(new) = line {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&new);
    }
    out
}

/// The fact update of an account file now holding `content`.
fn file_update(facts: &Facts, path: &str, content: String) -> FactUpdate {
    let old = facts.files.get(path).cloned().unwrap_or_default();
    let bytes = content.into_bytes();
    FactUpdate::File(
        path.to_string(),
        FileState {
            kind: FileKind::File,
            sha256: Some(sha256_hex(&bytes)),
            size: Some(bytes.len() as u64),
            mode: old.mode.or(Some(0o644)),
            owner: old.owner.or(Some("root".into())),
            group: old.group.or(Some("root".into())),
            content: (bytes.len() <= MAX_CONTENT).then_some(bytes),
        },
    )
}

/// /etc/passwd with `name`'s line now `entry` (None: removed).
pub fn passwd_update(
    facts: &Facts,
    name: &str,
    entry: Option<&PasswdEntry>,
) -> Result<FactUpdate, String> {
    let now = with_line(text(facts, PASSWD)?, name, entry.map(PasswdEntry::line));
    Ok(file_update(facts, PASSWD, now))
}

/// /etc/group with each of `changed` written over its old line, and the
/// groups named in `removed` gone.
pub fn group_update(
    facts: &Facts,
    changed: &[GroupEntry],
    removed: &[&str],
) -> Result<FactUpdate, String> {
    let mut now = text(facts, GROUP)?.to_string();
    for g in changed {
        now = with_line(&now, &g.name, Some(g.line()));
    }
    for name in removed {
        now = with_line(&now, name, None);
    }
    Ok(file_update(facts, GROUP, now))
}

/// /etc/shadow with `name`'s password field now `hash` (when the file was
/// read), so a second task with the same password sees it set.
pub fn shadow_update(facts: &Facts, name: &str, hash: &str) -> Option<FactUpdate> {
    let content = text(facts, SHADOW).ok()?;
    let prefix = format!("{name}:");
    let mut found = false;
    let mut now = String::new();
    for l in content.split_inclusive('\n') {
        match l.strip_prefix(&prefix) {
            Some(rest) => {
                found = true;
                let rest = rest.split_once(':').map_or("", |(_, r)| r);
                now.push_str(&format!("{prefix}{hash}:{rest}"));
            }
            None => now.push_str(l),
        }
    }
    if !found {
        now.push_str(&format!("{prefix}{hash}:::::::\n"));
    }
    Some(file_update(facts, SHADOW, now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_and_render_as_the_files_hold_them() {
        let p = parse_passwd("kube:x:1001:1001:Kube Admin,,,:/home/kube:/bin/bash").unwrap();
        assert_eq!((p.uid, p.gid, p.home.as_str()), (1001, 1001, "/home/kube"));
        assert_eq!(
            p.line(),
            "kube:x:1001:1001:Kube Admin,,,:/home/kube:/bin/bash\n"
        );
        let g = parse_group("docker:x:999:kube,ops").unwrap();
        assert_eq!(g.members, vec!["kube", "ops"]);
        assert_eq!(parse_group("ops:x:1002:").unwrap().members.len(), 0);
        assert!(parse_passwd("# comment").is_none());
    }

    #[test]
    fn a_line_is_replaced_removed_or_appended() {
        let c = "root:x:0:\nops:x:5:\n";
        assert_eq!(
            with_line(c, "ops", Some("ops:x:6:\n".into())),
            "root:x:0:\nops:x:6:\n"
        );
        assert_eq!(with_line(c, "ops", None), "root:x:0:\n");
        assert_eq!(
            with_line("root:x:0:", "new", Some("new:x:7:\n".into())),
            "root:x:0:\nnew:x:7:\n"
        );
        // `op` is not a prefix of `ops`'s line.
        assert_eq!(with_line(c, "op", None), c);
    }

    #[test]
    fn ids_are_picked_as_useradd_picks_them() {
        assert_eq!(next_id([0, 100, 65534].into_iter(), false), 1000);
        assert_eq!(next_id([0, 1000, 1003, 65534].into_iter(), false), 1004);
        assert_eq!(next_id([999, 998].into_iter(), true), 997);
    }

    #[test]
    fn names_are_what_useradd_accepts() {
        for ok in ["kube", "_svc", "a.b-c", "deploy1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-x", "a b", "a:b", "1234", "a/b", "x\n"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
