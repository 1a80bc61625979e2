//! authorized_key: SSH public keys in a user's authorized_keys, kept as ansible.posix.authorized_key keeps them.
//!
//! The file is parsed and written back with that module's rules, so both
//! tools leave the same bytes: lines keep their order, a key is known by
//! its base64 blob, options and comments are normalised to single spaces,
//! a key without a comment is written with a trailing space, new keys go
//! after the existing ones, `exclusive` drops every other line (comments
//! too). On a write, `~/.ssh` is made 0700 and the file is 0600, both owned
//! by the user. The home comes from /etc/passwd in the play's one gather.

use serde_json::{json, Map, Value};

use super::accounts::{account_needs, groups, users, PasswdEntry};
use super::diff::unified;
use super::file_facts::{content_of, fact, parent, written, Attrs};
use super::{literal, q, write_file_with, Args, Context, Module, Plan, WriteOpts};
use crate::facts::{FactRequest, FactUpdate, Facts, FileKind, FileState};

pub struct AuthorizedKey;

const KEY_TYPES: &[&str] = &[
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "ssh-ed25519",
    "ssh-ed25519-cert-v01@openssh.com",
    "ssh-dss",
    "ssh-rsa",
    "ssh-xmss@openssh.com",
    "ssh-xmss-cert-v01@openssh.com",
    "rsa-sha2-256",
    "rsa-sha2-512",
    "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "ssh-dss-cert-v01@openssh.com",
];

impl Module for AuthorizedKey {
    fn name(&self) -> &'static str {
        "authorized_key"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "user",
            "key",
            "path",
            "manage_dir",
            "state",
            "key_options",
            "exclusive",
            "comment",
            "validate_certs",
            "follow",
        ]
    }

    fn refuse(&self, args: &Map<String, Value>) -> Vec<(String, String)> {
        match literal(args, "key") {
            Some(k) if k.starts_with("http") || k.starts_with("file") => vec![(
                "key".into(),
                format!("key: {} is not supported by kubestrap: give the key itself (a lookup('file', …) reads it on the controller)", source_word(&k)),
            )],
            _ => Vec::new(),
        }
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let user = args.req_str("user")?;
        let mut out = account_needs(false);
        let guess = match args.str("path")? {
            Some(p) => p,
            None if user == "root" => "/root/.ssh/authorized_keys".into(),
            None => format!("/home/{user}/.ssh/authorized_keys"),
        };
        out.extend(file_needs(&guess));
        Ok(out)
    }

    fn needs_after(&self, args: &Args, facts: &Facts) -> Vec<FactRequest> {
        match keys_path(args, facts) {
            Ok(p) => file_needs(&p),
            Err(_) => Vec::new(),
        }
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let user = account(args, ctx.facts)?;
        let path = keys_path(args, ctx.facts)?;
        let st = fact(ctx, &path).ok_or_else(|| format!("no facts were gathered for {path}"))?;
        let before: &[u8] = match st.kind {
            FileKind::Missing => b"",
            FileKind::Directory => return Err(format!("{path} is a directory")),
            _ => content_of(&path, st)?,
        };
        let before_text = String::from_utf8_lossy(before).into_owned();
        let Some(after) = edit(args, &before_text)? else {
            return Ok(Plan::noop(format!("{path}: keys as wanted")));
        };
        let group = groups(ctx.facts)?
            .into_iter()
            .find(|g| g.gid == user.gid)
            .map_or_else(|| user.gid.to_string(), |g| g.name);
        let mut script = String::new();
        let mut updates = Vec::new();
        let ssh_dir = parent(&path).unwrap_or_else(|| "/".into());
        let owner = format!("{}:{group}", user.name);
        if args.bool("manage_dir", true)? {
            let d = q(&ssh_dir);
            script.push_str(&format!(
                "set -e\n[ -d {d} ] || mkdir -m 700 -- {d}\nchown {} -- {d}\nchmod 700 -- {d}\n",
                q(&owner)
            ));
            updates.push(FactUpdate::File(
                ssh_dir.clone(),
                FileState {
                    kind: FileKind::Directory,
                    mode: Some(0o700),
                    owner: Some(user.name.clone()),
                    group: Some(group.clone()),
                    ..FileState::default()
                },
            ));
        }
        let attrs = Attrs {
            mode: Some(0o600),
            owner: Some(user.name.clone()),
            group: Some(group.clone()),
        };
        let opts = WriteOpts {
            mode: attrs.mode,
            owner: attrs.owner.as_deref(),
            group: attrs.group.as_deref(),
            backup: false,
            follow: args.bool("follow", false)?,
            create_parents: true,
            validate: None,
        };
        let after = after.into_bytes();
        let mut actions = Vec::new();
        if !script.is_empty() {
            actions.push(super::Action::Run {
                script,
                stdin: None,
            });
        }
        actions.push(write_file_with(&path, after.clone(), &opts));
        let old = (st.kind != FileKind::Missing).then_some(st);
        updates.push(FactUpdate::File(path.clone(), written(&after, &attrs, old)));
        Ok(Plan {
            changed: true,
            actions,
            diff: unified(&path, before, &after),
            updates,
            msg: format!("{path}: keys written"),
            read_only: false,
        })
    }

    fn returns(&self, args: &Args, ctx: &Context) -> Result<Map<String, Value>, String> {
        let mut m = Map::new();
        m.insert("user".into(), json!(args.req_str("user")?));
        m.insert("key".into(), json!(args.req_str("key")?));
        m.insert("path".into(), json!(args.str("path")?));
        m.insert("manage_dir".into(), json!(args.bool("manage_dir", true)?));
        m.insert(
            "state".into(),
            json!(args.choice("state", &["present", "absent"], "present")?),
        );
        m.insert("key_options".into(), json!(args.str("key_options")?));
        m.insert("exclusive".into(), json!(args.bool("exclusive", false)?));
        m.insert("comment".into(), json!(args.str("comment")?));
        m.insert(
            "validate_certs".into(),
            json!(args.bool("validate_certs", true)?),
        );
        m.insert("follow".into(), json!(args.bool("follow", false)?));
        m.insert("keyfile".into(), json!(keys_path(args, ctx.facts)?));
        Ok(m)
    }
}

fn source_word(key: &str) -> &'static str {
    if key.starts_with("http") {
        "a key fetched from a URL"
    } else {
        "a key read from a file on the host"
    }
}

/// The key file and its directory, as facts to gather.
fn file_needs(path: &str) -> Vec<FactRequest> {
    let mut out = vec![FactRequest::File {
        path: path.to_string(),
        content: true,
    }];
    if let Some(p) = parent(path) {
        out.push(FactRequest::File {
            path: p,
            content: false,
        });
    }
    out
}

fn account(args: &Args, facts: &Facts) -> Result<PasswdEntry, String> {
    let user = args.req_str("user")?;
    users(facts)?
        .into_iter()
        .find(|u| u.name == user)
        .ok_or_else(|| {
            format!("Failed to lookup user {user}: getpwnam(): name not found: '{user}'")
        })
}

/// `path`, or `~user/.ssh/authorized_keys` from the user's home.
fn keys_path(args: &Args, facts: &Facts) -> Result<String, String> {
    if let Some(p) = args.str("path")? {
        return Ok(p);
    }
    let home = account(args, facts)?.home;
    Ok(format!(
        "{}/.ssh/authorized_keys",
        home.trim_end_matches('/')
    ))
}

/// One line of an authorized_keys file: a key, or a line kept as it is.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    /// The key's base64 blob, or the raw line for one that is not a key.
    id: String,
    /// The key type; None for a line kept as it is.
    kind: Option<String>,
    options: Vec<(String, Option<String>)>,
    comment: String,
    rank: usize,
}

impl Line {
    fn same(&self, other: &Line) -> bool {
        let sorted = |o: &[(String, Option<String>)]| {
            let mut v = o.to_vec();
            v.sort();
            v
        };
        self.id == other.id
            && self.kind == other.kind
            && self.comment == other.comment
            && sorted(&self.options) == sorted(&other.options)
    }

    fn render(&self) -> String {
        let Some(kind) = &self.kind else {
            return self.id.clone();
        };
        let mut opts = self
            .options
            .iter()
            .map(|(k, v)| match v {
                Some(v) => format!("{k}={v}"),
                None => k.clone(),
            })
            .collect::<Vec<_>>()
            .join(",");
        if !opts.is_empty() {
            opts.push(' ');
        }
        format!("{opts}{kind} {} {}\n", self.id, self.comment)
    }
}

/// A key line (options, type, blob, comment); None when no known type is in it.
fn parse_key(raw: &str, rank: usize) -> Option<Line> {
    let raw = raw.replace("\\#", "#");
    let parts: Vec<&str> = raw.split_whitespace().collect();
    if parts.first() == Some(&"#") {
        return Some(kept(&raw, rank));
    }
    let at = parts.iter().position(|p| KEY_TYPES.contains(p))?;
    let blob = parts.get(at + 1)?;
    Some(Line {
        id: blob.to_string(),
        kind: Some(parts[at].to_string()),
        options: parse_options(&parts[..at].join(" ")),
        comment: parts.get(at + 2..).unwrap_or_default().join(" "),
        rank,
    })
}

fn kept(raw: &str, rank: usize) -> Line {
    Line {
        id: raw.to_string(),
        kind: None,
        options: Vec::new(),
        comment: String::new(),
        rank,
    }
}

/// `no-pty,command="a,b"` → its options in order, commas inside quotes kept.
fn parse_options(text: &str) -> Vec<(String, Option<String>)> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (None, ',') => parts.push(std::mem::take(&mut cur)),
            (None, '"' | '\'') => {
                quote = Some(c);
                cur.push(c);
            }
            (Some(q), _) if q == c => {
                quote = None;
                cur.push(c);
            }
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (p, None),
        })
        .collect()
}

/// The file's new content, or None when nothing is to be written.
fn edit(args: &Args, before: &str) -> Result<Option<String>, String> {
    let key = args.req_str("key")?;
    let present = args.choice("state", &["present", "absent"], "present")? == "present";
    let exclusive = args.bool("exclusive", false)?;
    let key_options = args.str("key_options")?;
    let comment = args.str("comment")?;
    // Known by id, in first-seen order; a repeated id takes the later line.
    let mut lines: Vec<Line> = Vec::new();
    for (rank, raw) in before.split_inclusive('\n').enumerate() {
        let line = parse_key(raw, rank).unwrap_or_else(|| kept(raw, rank));
        match lines.iter_mut().find(|l| l.id == line.id) {
            Some(l) => *l = line,
            None => lines.push(line),
        }
    }
    let base = lines.len();
    let mut write = false;
    let mut wanted: Vec<String> = Vec::new();
    let new_keys = key.lines().filter(|l| !l.is_empty() && !l.starts_with('#'));
    for (rank, text) in new_keys.enumerate() {
        let mut new =
            parse_key(text, rank).ok_or_else(|| format!("invalid key specified: {text}"))?;
        if let Some(o) = &key_options {
            new.options = parse_options(o);
        }
        if let Some(c) = &comment {
            new.comment = c.clone();
        }
        let existing = lines.iter().position(|l| l.id == new.id);
        let matched = match existing {
            Some(i) if present && !lines[i].same(&new) => {
                lines.remove(i);
                write = true;
                false
            }
            Some(_) => true,
            None => false,
        };
        if present {
            wanted.push(new.id.clone());
            if !matched {
                new.rank += base;
                lines.push(new);
                write = true;
            }
        } else if matched {
            lines.retain(|l| l.id != new.id);
            write = true;
        }
    }
    if present && exclusive {
        let n = lines.len();
        lines.retain(|l| wanted.contains(&l.id));
        write |= lines.len() != n;
    }
    if !write {
        return Ok(None);
    }
    lines.sort_by_key(|l| l.rank);
    Ok(Some(lines.iter().map(Line::render).collect()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{args, check_files, dir, file, missing, scripts, stdins};
    use super::*;

    const A: &str = "ssh-ed25519 AAAAC3NzaA alice@laptop";
    const B: &str = "ssh-rsa AAAAB3NzaB bob";

    fn edited(a: Value, before: &str) -> Option<String> {
        edit(&args(a), before).unwrap()
    }

    /// (what, args, file before, file after or None for no write) — the
    /// bytes ansible.posix.authorized_key writes.
    #[test]
    fn lines_as_ansible_posix_writes_them() {
        let table: Vec<(&str, Value, &str, Option<&str>)> = vec![
            ("new file", json!({"key": A}), "", Some("ssh-ed25519 AAAAC3NzaA alice@laptop\n")),
            ("present already", json!({"key": A}), "ssh-ed25519 AAAAC3NzaA alice@laptop\n", None),
            (
                "no comment: a trailing space",
                json!({"key": "ssh-rsa AAAAB3NzaB"}),
                "",
                Some("ssh-rsa AAAAB3NzaB \n"),
            ),
            (
                "two keys at once, after a comment line",
                json!({"key": format!("{A}\n\n# note\n{B}\n")}),
                "# keys\n",
                Some("# keys\nssh-ed25519 AAAAC3NzaA alice@laptop\nssh-rsa AAAAB3NzaB bob\n"),
            ),
            (
                "options changed: the line moves to the end",
                json!({"key": A, "key_options": "no-pty,command=\"/bin/x a,b\""}),
                "ssh-ed25519 AAAAC3NzaA alice@laptop\nssh-rsa AAAAB3NzaB bob\n",
                Some("ssh-rsa AAAAB3NzaB bob\nno-pty,command=\"/bin/x a,b\" ssh-ed25519 AAAAC3NzaA alice@laptop\n"),
            ),
            (
                "same options in another order",
                json!({"key": A, "key_options": "no-pty,no-agent-forwarding"}),
                "no-agent-forwarding,no-pty ssh-ed25519 AAAAC3NzaA alice@laptop\n",
                None,
            ),
            (
                "comment given",
                json!({"key": A, "comment": "ops key"}),
                "",
                Some("ssh-ed25519 AAAAC3NzaA ops key\n"),
            ),
            (
                "absent",
                json!({"key": A, "state": "absent"}),
                "ssh-ed25519 AAAAC3NzaA other comment\nssh-rsa AAAAB3NzaB bob\n",
                Some("ssh-rsa AAAAB3NzaB bob\n"),
            ),
            ("absent already", json!({"key": A, "state": "absent"}), "ssh-rsa AAAAB3NzaB bob\n", None),
            (
                "exclusive drops the rest, comments too",
                json!({"key": B, "exclusive": true}),
                "# keys\nssh-ed25519 AAAAC3NzaA alice@laptop\nssh-rsa AAAAB3NzaB bob\n",
                Some("ssh-rsa AAAAB3NzaB bob\n"),
            ),
            (
                "spaces normalised only when rewritten",
                json!({"key": B}),
                "ssh-ed25519   AAAAC3NzaA  alice\nssh-rsa AAAAB3NzaB bob",
                None,
            ),
        ];
        for (what, a, before, want) in table {
            let mut a = a;
            a["user"] = json!("kube");
            assert_eq!(edited(a, before).as_deref(), want, "{what}");
        }
    }

    fn files(keys: FileState, ssh: FileState) -> Vec<(&'static str, FileState)> {
        vec![
            (
                "/etc/passwd",
                file("kube:x:1000:1000::/home/kube:/bin/bash\n"),
            ),
            ("/etc/group", file("kube:x:1000:\n")),
            ("/home/kube/.ssh/authorized_keys", keys),
            ("/home/kube/.ssh", ssh),
        ]
    }

    #[test]
    fn a_write_makes_the_ssh_dir_0700_and_the_file_0600_owned_by_the_user() {
        let plan = check_files(
            &AuthorizedKey,
            json!({"user": "kube", "key": A}),
            &files(missing(), missing()),
        )
        .unwrap();
        let s = scripts(&plan);
        assert_eq!(
            s[0],
            "set -e\n[ -d '/home/kube/.ssh' ] || mkdir -m 700 -- '/home/kube/.ssh'\nchown 'kube:kube' -- '/home/kube/.ssh'\nchmod 700 -- '/home/kube/.ssh'\n"
        );
        assert!(
            s[1].contains("chmod 600 \"$t\"") && s[1].contains("chown 'kube:kube' \"$t\""),
            "{}",
            s[1]
        );
        assert_eq!(stdins(&plan)[1].as_deref(), Some(format!("{A}\n").as_str()));
        let plan = check_files(
            &AuthorizedKey,
            json!({"user": "kube", "key": A, "manage_dir": false}),
            &files(file(&format!("{A}\n")), dir()),
        )
        .unwrap();
        assert!(!plan.changed, "{plan:?}");
    }

    #[test]
    fn refusals_and_errors_name_the_argument() {
        let refused =
            AuthorizedKey.refuse(&args(json!({"user": "k", "key": "https://github.com/k.keys"})).0);
        assert_eq!(
            refused,
            vec![("key".to_string(), "key: a key fetched from a URL is not supported by kubestrap: give the key itself (a lookup('file', …) reads it on the controller)".to_string())]
        );
        let err = check_files(
            &AuthorizedKey,
            json!({"user": "nobody", "key": A}),
            &files(missing(), missing()),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "Failed to lookup user nobody: getpwnam(): name not found: 'nobody'"
        );
        let err = check_files(
            &AuthorizedKey,
            json!({"user": "kube", "key": "not a key"}),
            &files(missing(), missing()),
        )
        .unwrap_err();
        assert_eq!(err, "invalid key specified: not a key");
    }

    #[test]
    fn the_home_comes_from_etc_passwd() {
        let mut f = crate::facts::Facts::default();
        f.files.insert(
            "/etc/passwd".into(),
            file("svc:x:998:998::/var/lib/svc:/bin/false\n"),
        );
        assert_eq!(
            AuthorizedKey.needs_after(&args(json!({"user": "svc", "key": A})), &f),
            vec![
                FactRequest::File {
                    path: "/var/lib/svc/.ssh/authorized_keys".into(),
                    content: true
                },
                FactRequest::File {
                    path: "/var/lib/svc/.ssh".into(),
                    content: false
                },
            ]
        );
    }
}
