//! What the file modules share: a path's facts, wanted attributes, and the commands that set them.

use sha2::{Digest, Sha256};

use super::diff::unified;
use super::{q, write_file_with, Args, Context, Plan, WriteOpts};
use crate::facts::{FactUpdate, FileKind, FileState, MAX_CONTENT};

/// Hex SHA-256, as the facts layer reports a file's.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first of `names` that is set (Ansible's aliases: `path`, `dest`, `name`).
pub fn path_arg(args: &Args, names: &[&str]) -> Result<String, String> {
    for n in names {
        if let Some(v) = args.str(n)? {
            if v.is_empty() {
                return Err(format!("argument `{n}` is empty"));
            }
            return Ok(v);
        }
    }
    Err(format!("missing required argument `{}`", names[0]))
}

/// The directory holding `path` (None for `/` and bare names).
pub fn parent(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    let i = trimmed.rfind('/')?;
    Some(if i == 0 {
        "/".to_string()
    } else {
        trimmed[..i].to_string()
    })
}

/// The last component of a path.
pub fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// `dir` joined with `name`, without doubling the slash.
pub fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

/// The fact gathered for `path`, if it was asked for.
pub fn fact<'a>(ctx: &'a Context, path: &str) -> Option<&'a FileState> {
    ctx.facts.files.get(path)
}

/// A file's content as a line-editing module needs it: the file's bytes,
/// or one line saying why they are not known.
pub fn content_of<'a>(path: &str, st: &'a FileState) -> Result<&'a [u8], String> {
    match (&st.content, st.size) {
        // The facts describe the link itself (lstat), not the file it names.
        (None, _) if st.kind == FileKind::Link => Err(format!(
            "{path} is a symlink; kubestrap does not follow links when gathering file facts yet"
        )),
        (Some(c), _) => Ok(c),
        (None, Some(n)) if n > MAX_CONTENT as u64 => Err(format!(
            "{path} is {n} bytes; kubestrap edits files up to {} KiB in place",
            MAX_CONTENT / 1024
        )),
        (None, _) => Err(format!("the content of {path} could not be read")),
    }
}

/// Mode, owner and group as a task asks for them; None leaves that one alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attrs {
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

impl Attrs {
    pub fn from_args(args: &Args) -> Result<Attrs, String> {
        Ok(Attrs {
            mode: args.mode("mode")?,
            owner: args.str("owner")?.filter(|s| !s.is_empty()),
            group: args.str("group")?.filter(|s| !s.is_empty()),
        })
    }

    /// What differs between these and `st`, as `mode 0600 → 0644` pieces.
    /// An unknown current value counts as different, so it gets set.
    pub fn drift(&self, st: &FileState) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(m) = self.mode {
            if st.mode != Some(m) {
                out.push(format!("mode {} → {}", show_mode(st.mode), mode_str(m)));
            }
        }
        if let Some(o) = &self.owner {
            if !same_id(st.owner.as_deref(), o) {
                out.push(format!(
                    "owner {} → {o}",
                    st.owner.as_deref().unwrap_or("?")
                ));
            }
        }
        if let Some(g) = &self.group {
            if !same_id(st.group.as_deref(), g) {
                out.push(format!(
                    "group {} → {g}",
                    st.group.as_deref().unwrap_or("?")
                ));
            }
        }
        out
    }

    /// chmod/chown commands that set what drifted on `path`; `-R` with `recurse`.
    pub fn fix_script(&self, path: &str, st: &FileState, recurse: bool) -> String {
        let r = if recurse { "-R " } else { "" };
        let mut s = String::new();
        let owner = self
            .owner
            .as_deref()
            .filter(|o| recurse || !same_id(st.owner.as_deref(), o));
        let group = self
            .group
            .as_deref()
            .filter(|g| recurse || !same_id(st.group.as_deref(), g));
        let spec = match (owner, group) {
            (Some(u), Some(g)) => Some(format!("{u}:{g}")),
            (Some(u), None) => Some(u.to_string()),
            (None, Some(g)) => Some(format!(":{g}")),
            (None, None) => None,
        };
        if let Some(spec) = spec {
            s.push_str(&format!("chown {r}{} -- {}\n", q(&spec), q(path)));
        }
        // chmod after chown: chown clears setuid/setgid bits.
        if let Some(m) = self.mode.filter(|m| recurse || st.mode != Some(*m)) {
            s.push_str(&format!("chmod {r}{} -- {}\n", mode_str(m), q(path)));
        }
        s
    }

    /// `st` with these attributes applied.
    pub fn applied(&self, st: &FileState) -> FileState {
        let mut out = st.clone();
        if self.mode.is_some() {
            out.mode = self.mode;
        }
        if self.owner.is_some() {
            out.owner = self.owner.clone();
        }
        if self.group.is_some() {
            out.group = self.group.clone();
        }
        out
    }
}

/// The plan when the content is right: a chmod/chown of what drifted, or
/// nothing because `why`.
pub fn attrs_plan(path: &str, st: &FileState, attrs: &Attrs, recurse: bool, why: String) -> Plan {
    let drift = attrs.drift(st);
    if drift.is_empty() {
        return Plan::noop(why);
    }
    let msg = format!("{path}: {}", drift.join(", "));
    let mut plan = Plan::run(msg, attrs.fix_script(path, st, recurse));
    plan.diff = Some(format!("{}\n", drift.join("\n")));
    plan.updates = vec![FactUpdate::File(path.to_string(), attrs.applied(st))];
    plan
}

/// How [`edit_plan`] writes: a backup first, a validating command.
#[derive(Debug, Clone, Default)]
pub struct Rewrite {
    pub backup: bool,
    pub validate: Option<String>,
}

impl Rewrite {
    /// `backup` (with the module's default) and `validate` from the task.
    pub fn from_args(args: &Args, backup_default: bool) -> Result<Rewrite, String> {
        Ok(Rewrite {
            backup: args.bool("backup", backup_default)?,
            validate: super::validate::validate_arg(args)?,
        })
    }
}

/// The plan that rewrites the file at `path` (now `st`, holding `before`)
/// with `after` as a line-editing module does: through a symlink, atomic,
/// its directory made when it is created there, a backup on request.
pub fn edit_plan(
    ctx: &Context,
    path: &str,
    st: &FileState,
    (before, after): (&[u8], Vec<u8>),
    attrs: &Attrs,
    how: Rewrite,
    msg: String,
) -> Plan {
    let missing = st.kind == FileKind::Missing;
    let parent_missing = missing
        && parent(path).is_some_and(|p| fact(ctx, &p).is_none_or(|f| f.kind == FileKind::Missing));
    let opts = WriteOpts {
        mode: attrs.mode,
        owner: attrs.owner.as_deref(),
        group: attrs.group.as_deref(),
        backup: how.backup,
        follow: true,
        create_parents: parent_missing,
        validate: how.validate.as_deref(),
    };
    let old: Option<&FileState> = (!missing).then_some(st);
    Plan {
        changed: true,
        actions: vec![write_file_with(path, after.clone(), &opts)],
        diff: unified(path, before, &after),
        updates: vec![FactUpdate::File(
            path.to_string(),
            written(&after, attrs, old),
        )],
        msg,
        read_only: false,
    }
}

/// Whether a user or group named `want` is `have`; a number only matches a
/// number, since facts report names.
fn same_id(have: Option<&str>, want: &str) -> bool {
    have == Some(want)
}

/// `0644`, as Ansible prints modes.
pub fn mode_str(m: u32) -> String {
    format!("{m:04o}")
}

fn show_mode(m: Option<u32>) -> String {
    m.map(mode_str).unwrap_or_else(|| "?".into())
}

/// A regular file's state after `content` was written with `attrs` over `old`
/// (whose kind stays a link when the write went through one).
pub fn written(content: &[u8], attrs: &Attrs, old: Option<&FileState>) -> FileState {
    let kept = old.filter(|o| matches!(o.kind, FileKind::File | FileKind::Link));
    let kind = kept.map_or(FileKind::File, |o| o.kind);
    FileState {
        kind,
        sha256: Some(sha256_hex(content)),
        size: Some(content.len() as u64),
        mode: attrs.mode.or(kept.and_then(|o| o.mode)).or(Some(0o644)),
        owner: attrs.owner.clone().or(kept.and_then(|o| o.owner.clone())),
        group: attrs.group.clone().or(kept.and_then(|o| o.group.clone())),
        content: (content.len() <= MAX_CONTENT).then(|| content.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_split_like_dirname_and_basename() {
        assert_eq!(parent("/etc/x.conf").as_deref(), Some("/etc"));
        assert_eq!(parent("/x").as_deref(), Some("/"));
        assert_eq!(parent("/etc/d/").as_deref(), Some("/etc"));
        assert_eq!(parent("x"), None);
        assert_eq!(basename("files/a.conf"), "a.conf");
        assert_eq!(basename("/etc/d/"), "d");
        assert_eq!(join("/etc/", "a"), "/etc/a");
    }

    #[test]
    fn sha256_of_empty_is_the_known_value() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn drift_and_fix_only_what_differs() {
        let st = FileState {
            kind: FileKind::File,
            mode: Some(0o600),
            owner: Some("root".into()),
            group: Some("root".into()),
            ..FileState::default()
        };
        let a = Attrs::from_args(&Args::from_pairs(&[
            ("mode", json!("0644")),
            ("owner", json!("root")),
            ("group", json!("adm")),
        ]))
        .unwrap();
        assert_eq!(a.drift(&st), vec!["mode 0600 → 0644", "group root → adm"]);
        assert_eq!(
            a.fix_script("/etc/a b", &st, false),
            "chown ':adm' -- '/etc/a b'\nchmod 0644 -- '/etc/a b'\n"
        );
        assert_eq!(a.applied(&st).group.as_deref(), Some("adm"));
        assert!(Attrs::default().drift(&st).is_empty());
    }
}
