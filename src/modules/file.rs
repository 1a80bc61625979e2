//! file: directories, absent paths, modes and owners.

use super::file_facts::{attrs_plan, fact, path_arg, sha256_hex, Attrs};
use super::{q, Args, Context, Module, Plan};
use crate::facts::{FactRequest, FactUpdate, FileKind, FileState};

pub struct File;

const PATH: &[&str] = &["path", "dest", "name"];
const STATES: &[&str] = &["file", "directory", "absent", "touch"];

impl Module for File {
    fn name(&self) -> &'static str {
        "file"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "path", "dest", "name", "state", "mode", "owner", "group", "recurse",
        ]
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(vec![FactRequest::File {
            path: path_arg(args, PATH)?,
            content: false,
        }])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let path = path_arg(args, PATH)?;
        let attrs = Attrs::from_args(args)?;
        let recurse = args.bool("recurse", false)?;
        let st = fact(ctx, &path).ok_or_else(|| format!("no facts were gathered for {path}"))?;
        let state = match args.str("state")? {
            Some(s) if STATES.contains(&s.as_str()) => s,
            Some(s) if s == "link" || s == "hard" => {
                return Err(format!(
                    "state={s} is not supported by kubestrap's file module"
                ))
            }
            Some(s) => {
                return Err(format!(
                    "argument `state` must be one of {}, got {s:?}",
                    STATES.join(", ")
                ))
            }
            // Ansible keeps what is there, and wants a file when nothing is.
            None => match st.kind {
                FileKind::Directory => "directory".into(),
                _ => "file".into(),
            },
        };
        // lstat facts of a link say nothing of its target's mode and owner.
        if st.kind == FileKind::Link && attrs != Attrs::default() && state != "absent" {
            return Err(format!(
                "{path} is a symlink; kubestrap cannot check the mode or owner of its target yet"
            ));
        }
        if recurse && state != "directory" {
            return Err("recurse option requires state to be 'directory'".into());
        }
        match state.as_str() {
            "absent" => Ok(absent(ctx, &path, st)),
            "directory" => directory(&path, st, &attrs, recurse),
            "touch" => Ok(touch(&path, st, &attrs)),
            _ => match st.kind {
                FileKind::File | FileKind::Link => Ok(fix_attrs(&path, st, &attrs, false)),
                FileKind::Missing => Err(format!("file ({path}) is absent, cannot continue")),
                FileKind::Directory => Err(format!("file ({path}) is directory, cannot continue")),
                FileKind::Other => Err(format!(
                    "file ({path}) is not a regular file, cannot continue"
                )),
            },
        }
    }
}

/// Set drifted mode/owner/group; with `recurse` the top directory's facts
/// stand for the whole tree (the facts hold no more), and the fix is `-R`.
fn fix_attrs(path: &str, st: &FileState, attrs: &Attrs, recurse: bool) -> Plan {
    attrs_plan(path, st, attrs, recurse, format!("{path} is as wanted"))
}

fn absent(ctx: &Context, path: &str, st: &FileState) -> Plan {
    if st.kind == FileKind::Missing {
        return Plan::noop(format!("{path} is absent"));
    }
    let mut plan = Plan::run(
        format!("{path} removed"),
        format!("rm -rf -- {}\n", q(path)),
    );
    plan.diff = Some(format!("{path}: {} → absent\n", kind_word(st.kind)));
    // Whatever later tasks knew under a removed directory is gone too.
    let under = format!("{}/", path.trim_end_matches('/'));
    plan.updates = std::iter::once(path.to_string())
        .chain(
            ctx.facts
                .files
                .keys()
                .filter(|k| k.starts_with(&under))
                .cloned(),
        )
        .map(|p| FactUpdate::File(p, FileState::default()))
        .collect();
    plan
}

fn directory(path: &str, st: &FileState, attrs: &Attrs, recurse: bool) -> Result<Plan, String> {
    match st.kind {
        FileKind::Directory | FileKind::Link => Ok(fix_attrs(path, st, attrs, recurse)),
        FileKind::Missing => {
            let mut script = format!("mkdir -p -- {}\n", q(path));
            script.push_str(&attrs.fix_script(path, &FileState::default(), recurse));
            let mut plan = Plan::run(format!("{path} created"), script);
            plan.diff = Some(format!("{path}: absent → directory\n"));
            let made = FileState {
                kind: FileKind::Directory,
                mode: Some(0o755),
                ..FileState::default()
            };
            plan.updates = vec![FactUpdate::File(path.to_string(), attrs.applied(&made))];
            Ok(plan)
        }
        kind => Err(format!("{path} already exists as a {}", kind_word(kind))),
    }
}

/// Ansible's touch always updates the times, so it always reports changed.
fn touch(path: &str, st: &FileState, attrs: &Attrs) -> Plan {
    let mut script = format!("touch -- {}\n", q(path));
    let (msg, after) = if st.kind == FileKind::Missing {
        script.push_str(&attrs.fix_script(path, st, false));
        let empty = FileState {
            kind: FileKind::File,
            sha256: Some(sha256_hex(b"")),
            size: Some(0),
            mode: Some(0o644),
            content: Some(Vec::new()),
            ..FileState::default()
        };
        (format!("{path} created"), attrs.applied(&empty))
    } else {
        script.push_str(&attrs.fix_script(path, st, false));
        (format!("{path} touched"), attrs.applied(st))
    };
    let mut plan = Plan::run(msg, script);
    plan.updates = vec![FactUpdate::File(path.to_string(), after)];
    plan
}

fn kind_word(k: FileKind) -> &'static str {
    match k {
        FileKind::Missing => "absent",
        FileKind::File => "file",
        FileKind::Directory => "directory",
        FileKind::Link => "link",
        FileKind::Other => "special file",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{check_files, dir, file, missing, only_run, updated};
    use super::*;

    #[test]
    fn plans_from_facts() {
        let d = "/etc/kubernetes/pki";
        // (what, args, fact at the path, script; None = no change)
        let table: Vec<(&str, serde_json::Value, FileState, Option<&str>)> = vec![
            (
                "directory made",
                json!({"path": d, "state": "directory", "mode": "0700"}),
                missing(),
                Some("mkdir -p -- '/etc/kubernetes/pki'\nchmod 0700 -- '/etc/kubernetes/pki'\n"),
            ),
            (
                "directory there",
                json!({"path": d, "state": "directory"}),
                dir(),
                None,
            ),
            (
                "directory mode drift",
                json!({"path": d, "state": "directory", "mode": "0700"}),
                dir(),
                Some("chmod 0700 -- '/etc/kubernetes/pki'\n"),
            ),
            (
                "directory recursive chown",
                json!({"path": d, "state": "directory", "owner": "kube", "recurse": true}),
                dir(),
                Some("chown -R 'kube' -- '/etc/kubernetes/pki'\n"),
            ),
            (
                "recursive and the top is right",
                json!({"path": d, "state": "directory", "owner": "root", "recurse": true}),
                dir(),
                None,
            ),
            (
                "absent removes",
                json!({"path": d, "state": "absent"}),
                dir(),
                Some("rm -rf -- '/etc/kubernetes/pki'\n"),
            ),
            (
                "absent already",
                json!({"path": d, "state": "absent"}),
                missing(),
                None,
            ),
            (
                "file attrs",
                json!({"path": d, "mode": 600, "group": "adm"}),
                file("x"),
                Some(
                    "chown ':adm' -- '/etc/kubernetes/pki'\nchmod 0600 -- '/etc/kubernetes/pki'\n",
                ),
            ),
            (
                "file as wanted",
                json!({"path": d, "state": "file", "mode": "0644"}),
                file("x"),
                None,
            ),
            (
                "touch creates",
                json!({"path": d, "state": "touch", "mode": "0600"}),
                missing(),
                Some("touch -- '/etc/kubernetes/pki'\nchmod 0600 -- '/etc/kubernetes/pki'\n"),
            ),
            (
                "touch an existing file",
                json!({"path": d, "state": "touch"}),
                file("x"),
                Some("touch -- '/etc/kubernetes/pki'\n"),
            ),
        ];
        for (what, args, st, want) in table {
            let plan =
                check_files(&File, args, &[(d, st)]).unwrap_or_else(|e| panic!("{what}: {e}"));
            match want {
                None => assert!(!plan.changed && plan.actions.is_empty(), "{what}: {plan:?}"),
                Some(script) => {
                    assert!(plan.changed, "{what}");
                    assert_eq!(only_run(&plan).0, script, "{what}");
                }
            }
        }
    }

    #[test]
    fn updates_describe_the_result() {
        let d = "/opt/x";
        let plan = check_files(
            &File,
            json!({"path": d, "state": "directory", "mode": "0750", "owner": "kube"}),
            &[(d, missing())],
        )
        .unwrap();
        let st = updated(&plan, d);
        assert_eq!(
            (st.kind, st.mode, st.owner.as_deref()),
            (FileKind::Directory, Some(0o750), Some("kube"))
        );
        let plan = check_files(
            &File,
            json!({"path": d, "state": "absent"}),
            &[(d, dir()), ("/opt/x/a", file("a")), ("/opt/xy", file("b"))],
        )
        .unwrap();
        assert_eq!(updated(&plan, "/opt/x/a").kind, FileKind::Missing);
        assert!(plan.updates.len() == 2, "{:?}", plan.updates);
        let plan = check_files(
            &File,
            json!({"path": d, "state": "touch"}),
            &[(d, missing())],
        )
        .unwrap();
        assert_eq!(updated(&plan, d).size, Some(0));
    }

    #[test]
    fn errors_match_ansible() {
        let p = "/etc/x";
        let cases = [
            (
                json!({"path": p}),
                missing(),
                "file (/etc/x) is absent, cannot continue",
            ),
            (
                json!({"path": p, "state": "file"}),
                dir(),
                "file (/etc/x) is directory, cannot continue",
            ),
            (
                json!({"path": p, "state": "directory"}),
                file(""),
                "/etc/x already exists as a file",
            ),
            (
                json!({"path": p, "state": "file", "recurse": true}),
                file(""),
                "recurse option requires state to be 'directory'",
            ),
            (
                json!({"path": p, "state": "link", "src": "/a"}),
                missing(),
                "state=link is not supported by kubestrap's file module",
            ),
            (
                json!({"path": p, "state": "gone"}),
                missing(),
                "argument `state` must be one of file, directory, absent, touch, got \"gone\"",
            ),
            (
                json!({"path": p, "mode": "0600"}),
                FileState {
                    kind: FileKind::Link,
                    mode: Some(0o777),
                    ..FileState::default()
                },
                "/etc/x is a symlink; kubestrap cannot check the mode or owner of its target yet",
            ),
        ];
        for (args, st, want) in cases {
            assert_eq!(check_files(&File, args, &[(p, st)]).unwrap_err(), want);
        }
    }
}
