//! `--check` past changes it did not make: a task that fails only for want of them says what it would do.
//!
//! Under `--check` nothing changes, so the facts later tasks see are the
//! facts of the unchanged host plus the [`crate::modules::Plan::updates`] of
//! the changes predicted so far. That is exact for files kubestrap writes,
//! but a package install, a command or a started service does more than its
//! plan can say (a package's directories, units and commands). A later task
//! that depends on those fails on a fresh host although the real run would
//! not: `template` into /etc/kubernetes, which the kubelet package makes.
//!
//! So once such a change was predicted on a host, a failing check is tried
//! again on the facts as that change may leave them: the outermost missing
//! path the task asked about that holds another of its paths becomes a
//! directory, then also every missing path that holds none an empty file. When the
//! task then has a plan, it reports what it would do instead of failing.
//! Errors in the task itself (its arguments, a template) fail either way.

use crate::facts::{FactRequest, Facts, FileKind, FileState};
use crate::modules::{sha256_hex, Plan};

/// How far the facts are stretched: first only directories, then files too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stretch {
    /// The outermost missing path that holds another requested path becomes a directory.
    Directories,
    /// As well, missing paths that hold no other become empty regular files.
    Files,
}

/// `facts` as a change the run did not make may have left them, for the
/// paths in `needs`.
pub fn stretched(facts: &Facts, needs: &[FactRequest], how: Stretch) -> Facts {
    let paths: Vec<&str> = needs
        .iter()
        .filter_map(|r| match r {
            FactRequest::File { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    let missing = |p: &str| {
        facts
            .files
            .get(p)
            .is_none_or(|f| f.kind == FileKind::Missing)
    };
    let under = |p: &str, dir: &str| p.starts_with(&format!("{}/", dir.trim_end_matches('/')));
    // Only the outermost missing directory: copy asks about `dest/NAME` in
    // case `dest` is a directory, which must not make it one.
    let made_dir = |p: &str| {
        paths.iter().any(|o| under(o, p)) && !paths.iter().any(|o| missing(o) && under(p, o))
    };
    let mut out = facts.clone();
    for p in &paths {
        if !missing(p) {
            continue;
        }
        let holds_another = paths.iter().any(|o| under(o, p));
        let state = if made_dir(p) {
            FileState {
                kind: FileKind::Directory,
                mode: Some(0o755),
                owner: Some("root".into()),
                group: Some("root".into()),
                ..FileState::default()
            }
        } else if how == Stretch::Files && !holds_another {
            FileState {
                kind: FileKind::File,
                sha256: Some(sha256_hex(b"")),
                size: Some(0),
                mode: Some(0o644),
                owner: Some("root".into()),
                group: Some("root".into()),
                content: Some(Vec::new()),
            }
        } else {
            continue;
        };
        out.files.insert(p.to_string(), state);
    }
    out
}

/// What a task that failed with `error` would do once the change `cause`
/// (a task's title) is made, by checking it again on stretched facts; None
/// when it fails on those too (then `error` stands). The plan's diff is
/// kept only when no file was made up for it.
pub fn would(
    facts: &Facts,
    needs: &[FactRequest],
    error: &str,
    cause: &str,
    check: impl Fn(&Facts) -> Result<Plan, String>,
) -> Option<Plan> {
    for how in [Stretch::Directories, Stretch::Files] {
        if let Ok(plan) = check(&stretched(facts, needs, how)) {
            let note = format!(
                "would run once {cause:?} has changed the host (--check did not make that change, and now: {error})"
            );
            let diff = match (how, plan.diff) {
                (Stretch::Directories, Some(d)) => format!("{note}\n{d}"),
                _ => format!("{note}\n"),
            };
            return Some(Plan {
                changed: true,
                actions: Vec::new(),
                diff: Some(diff),
                updates: plan.updates,
                msg: note,
                read_only: false,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> FactRequest {
        FactRequest::File {
            path: path.into(),
            content: true,
        }
    }

    fn missing_all(paths: &[&str]) -> Facts {
        let mut f = Facts::default();
        for p in paths {
            f.files.insert(p.to_string(), FileState::default());
        }
        f
    }

    /// (paths asked for, all missing; how; the kinds afterwards)
    #[test]
    fn missing_paths_are_stretched_to_what_a_change_could_make() {
        use FileKind::*;
        let join = ["/etc/kubernetes/kubestrap-join.yaml", "/etc/kubernetes"];
        let table: Vec<(&[&str], Stretch, Vec<FileKind>)> = vec![
            (&join, Stretch::Directories, vec![Missing, Directory]),
            (&join, Stretch::Files, vec![File, Directory]),
            (
                &["/etc/containerd/config.toml"],
                Stretch::Directories,
                vec![Missing],
            ),
            (&["/etc/containerd/config.toml"], Stretch::Files, vec![File]),
            // A shared prefix is not a parent.
            (
                &["/srv/a", "/srv/ab"],
                Stretch::Directories,
                vec![Missing, Missing],
            ),
            // copy asks about dest/NAME too: dest stays a file to be made.
            (
                &["/etc/k", "/etc/k/join.yaml", "/etc/k/join.yaml/join.j2"],
                Stretch::Files,
                vec![Directory, Missing, File],
            ),
        ];
        for (paths, how, want) in table {
            let needs: Vec<FactRequest> = paths.iter().map(|p| file(p)).collect();
            let f = stretched(&missing_all(paths), &needs, how);
            let got: Vec<FileKind> = paths.iter().map(|p| f.files[*p].kind).collect();
            assert_eq!(got, want, "{paths:?} {how:?}");
        }
        // What exists is left as it is.
        let mut f = missing_all(&["/etc/kubernetes/x"]);
        f.files.insert(
            "/etc/kubernetes".into(),
            FileState {
                kind: FileKind::Link,
                ..FileState::default()
            },
        );
        let needs = [file("/etc/kubernetes/x"), file("/etc/kubernetes")];
        let s = stretched(&f, &needs, Stretch::Files);
        assert_eq!(s.files["/etc/kubernetes"].kind, FileKind::Link);
    }

    #[test]
    fn a_task_that_fails_either_way_keeps_its_error() {
        let f = missing_all(&["/x"]);
        let needs = [file("/x")];
        assert!(would(&f, &needs, "bad", "install", |_| Err("bad".into())).is_none());
        let plan = would(&f, &needs, "/x does not exist", "containerd", |f| {
            match f.files["/x"].kind {
                FileKind::File => Ok(Plan::noop("fine")),
                _ => Err("/x does not exist".into()),
            }
        })
        .unwrap();
        assert!(plan.changed && plan.actions.is_empty());
        assert_eq!(
            plan.msg,
            "would run once \"containerd\" has changed the host (--check did not make that change, and now: /x does not exist)"
        );
    }
}
