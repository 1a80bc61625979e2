//! Shared helpers for the system modules: fact lookups, file states after a write, diffs, word splitting.

use sha2::{Digest, Sha256};

use super::Context;
use crate::facts::{FileKind, FileState, MAX_CONTENT};

/// The gathered state of `path`; an error when the runner did not gather it
/// (a bug in `needs`, so it must not pass silently as "missing").
pub fn file_fact<'a>(ctx: &'a Context, path: &str) -> Result<&'a FileState, String> {
    ctx.facts
        .files
        .get(path)
        .ok_or_else(|| format!("facts for {path} were not gathered"))
}

/// Whether something exists at `path` (any kind).
pub fn exists(ctx: &Context, path: &str) -> Result<bool, String> {
    Ok(file_fact(ctx, path)?.kind != FileKind::Missing)
}

/// The text of a regular file, `None` when there is no file; an error when
/// it is too large to have been brought back, or is not a regular file.
pub fn file_text(ctx: &Context, path: &str) -> Result<Option<String>, String> {
    let f = file_fact(ctx, path)?;
    match f.kind {
        FileKind::Missing => Ok(None),
        FileKind::File => match &f.content {
            Some(bytes) => Ok(Some(String::from_utf8_lossy(bytes).into_owned())),
            None if f.size.is_some_and(|n| n > MAX_CONTENT as u64) => Err(format!(
                "{path} is larger than {MAX_CONTENT} bytes; kubestrap edits only smaller files"
            )),
            None => Err(format!("the content of {path} was not gathered")),
        },
        other => Err(format!("{path} is not a regular file ({other:?})")),
    }
}

/// The state a file will have once `content` has been written by
/// [`super::write_file`]: mode and owner are kept from the old file when not given.
pub fn written_state(old: Option<&FileState>, content: &[u8], mode: Option<u32>) -> FileState {
    let old = old.filter(|o| o.kind == FileKind::File);
    FileState {
        kind: FileKind::File,
        sha256: Some(sha256_hex(content)),
        size: Some(content.len() as u64),
        mode: mode.or_else(|| old.and_then(|o| o.mode)).or(Some(0o644)),
        owner: old
            .and_then(|o| o.owner.clone())
            .or_else(|| Some("root".into())),
        group: old
            .and_then(|o| o.group.clone())
            .or_else(|| Some("root".into())),
        content: (content.len() <= MAX_CONTENT).then(|| content.to_vec()),
    }
}

/// The state of a path after it has been removed.
pub fn missing_state() -> FileState {
    FileState::default()
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A unified diff of a file's old and new text, for `--diff` (the same
/// rendering as the file modules').
pub fn text_diff(path: &str, old: &str, new: &str) -> String {
    super::diff::unified(path, old.as_bytes(), new.as_bytes()).unwrap_or_default()
}

/// A short "-key: old\n+key: new" description of one changed property.
pub fn prop_diff(key: &str, old: &str, new: &str) -> String {
    format!("-{key}: {old}\n+{key}: {new}\n")
}

/// The words of a command line, as Ansible's command module takes them
/// (Python's `shlex.split`).
pub fn shlex_split(s: &str) -> Result<Vec<String>, String> {
    crate::shlex::split(s, crate::shlex::Comments::Kept).map_err(|e| format!("{e} in command line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_state_keeps_owner_and_mode() {
        let old = FileState {
            kind: FileKind::File,
            mode: Some(0o600),
            owner: Some("app".into()),
            group: Some("app".into()),
            ..FileState::default()
        };
        let s = written_state(Some(&old), b"x\n", None);
        assert_eq!(s.mode, Some(0o600));
        assert_eq!(s.owner.as_deref(), Some("app"));
        assert_eq!(s.size, Some(2));
        assert_eq!(s.sha256.as_deref(), Some(sha256_hex(b"x\n").as_str()));
        assert_eq!(written_state(None, b"", Some(0o640)).mode, Some(0o640));
    }
}
