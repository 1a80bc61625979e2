//! copy: put content or a local file on the host, atomically, with a backup.
//!
//! template shares everything after the content is known ([`plan_put`]).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::diff::unified;
use super::file_facts::{attrs_plan, basename, fact, join, parent, sha256_hex, written, Attrs};
use super::{write_file_with, Action, Args, Context, Module, Plan, WriteOpts};
use crate::facts::{FactRequest, FactUpdate, FileKind, FileState};

pub struct Copy;

impl Module for Copy {
    fn name(&self) -> &'static str {
        "copy"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "src",
            "content",
            "dest",
            "mode",
            "owner",
            "group",
            "backup",
            "force",
            "validate",
            "remote_src",
        ]
    }

    fn refuse(&self, args: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
        super::validate::refuse_validate(args)
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let src = args.str("src")?;
        let mut needs = put_needs(&args.req_str("dest")?, src.as_deref().map(basename));
        if let Some(s) = src.filter(|_| args.bool("remote_src", false).unwrap_or(false)) {
            needs.push(FactRequest::File {
                path: s,
                content: true,
            });
        }
        Ok(needs)
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let dest = args.req_str("dest")?;
        let (content, src) = match (args.0.get("content"), args.str("src")?) {
            (Some(c), None) if !c.is_null() => (content_arg(c), None),
            (None | Some(Value::Null), Some(src)) if args.bool("remote_src", false)? => {
                (remote_src(ctx, &src)?.to_vec(), Some(src))
            }
            (None | Some(Value::Null), Some(src)) => (read_src(ctx, &src)?, Some(src)),
            (Some(c), Some(_)) if !c.is_null() => {
                return Err("parameters are mutually exclusive: content|src".into())
            }
            _ => return Err("one of the following is required: content, src".into()),
        };
        let mut attrs = Attrs::from_args(args)?;
        // A new file copied on the host takes its source's mode (copystat).
        if let (true, Some(s), None) = (args.bool("remote_src", false)?, &src, attrs.mode) {
            if fact(ctx, &dest).is_some_and(|f| f.kind == FileKind::Missing) {
                attrs.mode = fact(ctx, s).and_then(|f| f.mode);
            }
        }
        let put = Put {
            dest,
            src_name: src.as_deref().map(basename),
            content,
            attrs,
            backup: args.bool("backup", false)?,
            force: args.bool("force", true)?,
            validate: super::validate::validate_arg(args)?,
        };
        plan_put(ctx, &put)
    }
}

/// `content:` as Ansible takes it: a string as is, anything else (a YAML
/// mapping or list) as JSON.
fn content_arg(v: &Value) -> Vec<u8> {
    match v {
        Value::String(s) => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    }
}

/// `src` on the host itself (`remote_src`), read with the facts.
fn remote_src<'a>(ctx: &'a Context, src: &str) -> Result<&'a [u8], String> {
    let st = fact(ctx, src).ok_or_else(|| format!("no facts were gathered for {src}"))?;
    match st.kind {
        FileKind::Missing => Err(format!("Source {src} not found")),
        FileKind::Directory => Err(format!(
            "src {src} is a directory; kubestrap copies single files"
        )),
        _ => super::file_facts::content_of(src, st),
    }
}

/// A local `src`, found where Ansible looks: absolute as is, else the
/// role's `files/` and the role, then `files/` next to the playbook, then
/// next to the playbook.
fn read_src(ctx: &Context, src: &str) -> Result<Vec<u8>, String> {
    if src.ends_with('/') {
        return Err(format!(
            "src {src} is a directory; kubestrap copies single files"
        ));
    }
    let candidates: Vec<PathBuf> = if src.starts_with('/') {
        vec![PathBuf::from(src)]
    } else {
        let mut bases: Vec<&Path> = ctx.role_dir.into_iter().collect();
        bases.push(ctx.base_dir);
        bases
            .iter()
            .flat_map(|b| [b.join("files").join(src), b.join(src)])
            .collect()
    };
    for c in &candidates {
        if c.is_dir() {
            return Err(format!(
                "src {} is a directory; kubestrap copies single files",
                c.display()
            ));
        }
        if c.is_file() {
            return std::fs::read(c)
                .map_err(|e| format!("could not read src {}: {e}", c.display()));
        }
    }
    let searched: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
    Err(format!(
        "Could not find or access '{src}' (searched {})",
        searched.join(", ")
    ))
}

/// What copy and template put on a host once the content is known.
pub(super) struct Put<'a> {
    /// `dest` as given: a file, a directory, or a path ending in `/`.
    pub dest: String,
    /// Basename of the source, used when `dest` is a directory.
    pub src_name: Option<&'a str>,
    pub content: Vec<u8>,
    pub attrs: Attrs,
    pub backup: bool,
    pub force: bool,
    /// The validating command (see [`super::validate`]).
    pub validate: Option<String>,
}

/// The facts [`plan_put`] looks at: `dest`, its parent, and `dest/<src name>`
/// in case `dest` turns out to be a directory.
pub(super) fn put_needs(dest: &str, src_name: Option<&str>) -> Vec<FactRequest> {
    let mut out = Vec::new();
    let dir_dest = dest.ends_with('/') && dest != "/";
    let key = if dir_dest {
        dest.trim_end_matches('/')
    } else {
        dest
    };
    out.push(FactRequest::File {
        path: key.to_string(),
        content: !dir_dest,
    });
    if let Some(p) = parent(key) {
        out.push(FactRequest::File {
            path: p,
            content: false,
        });
    }
    if let Some(name) = src_name {
        out.push(FactRequest::File {
            path: join(key, name),
            content: true,
        });
    }
    out
}

/// Where the content goes, and whether its directory must be made first.
fn resolve_target(ctx: &Context, put: &Put) -> Result<(String, Option<String>), String> {
    let dest = put.dest.as_str();
    if dest.ends_with('/') {
        let name = put
            .src_name
            .ok_or_else(|| "can not use content with a dir as dest".to_string())?;
        let dir = if dest == "/" {
            "/"
        } else {
            dest.trim_end_matches('/')
        };
        // Ansible makes a missing directory named with a trailing slash.
        let mkdir = match fact(ctx, dir).map(|f| f.kind) {
            Some(FileKind::Missing) => Some(dir.to_string()),
            Some(FileKind::File | FileKind::Other) => {
                return Err(format!("destination {dir} is not a directory"))
            }
            _ => None,
        };
        return Ok((join(dir, name), mkdir));
    }
    if fact(ctx, dest).is_some_and(|f| f.kind == FileKind::Directory) {
        let name = put
            .src_name
            .ok_or_else(|| "can not use content with a dir as dest".to_string())?;
        return Ok((join(dest, name), None));
    }
    if let Some(dir) = parent(dest) {
        if fact(ctx, &dir).is_some_and(|f| f.kind == FileKind::Missing) {
            return Err(format!("Destination directory {dir} does not exist"));
        }
    }
    Ok((dest.to_string(), None))
}

/// Decide how to make the file at `put.dest` hold `put.content` with the
/// wanted attributes: nothing, a chmod/chown, or an atomic write.
pub(super) fn plan_put(ctx: &Context, put: &Put) -> Result<Plan, String> {
    let (target, mkdir) = resolve_target(ctx, put)?;
    let old = fact(ctx, &target);
    match old.map(|f| f.kind) {
        Some(FileKind::Directory) => return Err(format!("{target} is a directory")),
        Some(FileKind::Other) => return Err(format!("{target} exists and is not a regular file")),
        _ => {}
    }
    let exists = old.is_some_and(|f| f.kind != FileKind::Missing);
    let want = sha256_hex(&put.content);
    let same = old.is_some_and(|f| f.sha256.as_deref() == Some(want.as_str()));
    if let Some(st) = old.filter(|_| exists && (same || !put.force)) {
        // Only the attributes can differ; an unchanged file costs nothing.
        let why = if same {
            "has the wanted content"
        } else {
            "exists and force=no"
        };
        return Ok(attrs_plan(
            &target,
            st,
            &put.attrs,
            false,
            format!("{target} {why}"),
        ));
    }
    let mut actions = Vec::new();
    let mut updates = Vec::new();
    if let Some(dir) = &mkdir {
        actions.push(Action::Run {
            script: format!("mkdir -p -- {}\n", super::q(dir)),
            stdin: None,
        });
        updates.push(FactUpdate::File(
            dir.clone(),
            FileState {
                kind: FileKind::Directory,
                mode: Some(0o755),
                ..FileState::default()
            },
        ));
    }
    let opts = WriteOpts {
        mode: put.attrs.mode,
        owner: put.attrs.owner.as_deref(),
        group: put.attrs.group.as_deref(),
        // The script backs up only a file that is there; unknown counts as there.
        backup: put.backup && old.is_none_or(|f| f.kind != FileKind::Missing),
        validate: put.validate.as_deref(),
        ..WriteOpts::default()
    };
    actions.push(write_file_with(&target, put.content.clone(), &opts));
    updates.push(FactUpdate::File(
        target.clone(),
        written(&put.content, &put.attrs, old),
    ));
    let diff = match old.map(|f| (f.kind, f.content.as_deref())) {
        Some((FileKind::File | FileKind::Link, Some(before))) => {
            unified(&target, before, &put.content)
        }
        None | Some((FileKind::Missing, _)) => unified(&target, b"", &put.content),
        Some(_) => Some(format!(
            "content of {target} changes (sha256 {} → {want})\n",
            old.and_then(|f| f.sha256.as_deref()).unwrap_or("unknown")
        )),
    };
    let msg = if exists {
        format!("{target} replaced ({} bytes)", put.content.len())
    } else {
        format!("{target} created ({} bytes)", put.content.len())
    };
    Ok(Plan {
        changed: true,
        actions,
        diff,
        updates,
        msg,
        read_only: false,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::template::Template;
    use super::super::test_kit::{
        after, check_files, check_in, dir, facts_of_files, file, missing, only_run, updated,
    };
    use super::*;

    const DEST: &str = "/etc/app.conf";

    #[test]
    fn unchanged_file_is_a_noop() {
        let plan = check_files(
            &Copy,
            json!({"content": "a=1\n", "dest": DEST}),
            &[(DEST, file("a=1\n")), ("/etc", dir())],
        )
        .unwrap();
        assert!(!plan.changed && plan.actions.is_empty(), "{plan:?}");
        assert_eq!(plan.msg, "/etc/app.conf has the wanted content");
    }

    #[test]
    fn changed_content_is_written_atomically_with_a_backup() {
        let plan = check_files(
            &Copy,
            json!({"content": "a=2\n", "dest": DEST, "backup": true}),
            &[(DEST, file("a=1\n"))],
        )
        .unwrap();
        assert!(plan.changed);
        let (script, stdin) = only_run(&plan);
        assert_eq!(stdin, Some(&b"a=2\n"[..]));
        assert!(script.contains("p='/etc/app.conf'\n"), "{script}");
        assert!(
            script.contains("cp -p -- \"$p\" \"$p.$$.$(date +%Y-%m-%d@%H:%M:%S)~\""),
            "{script}"
        );
        assert!(script.contains("mv -f -- \"$t\" \"$p\""));
        assert!(!script.contains("a=2"), "content must travel on stdin");
        assert_eq!(
            plan.diff.as_deref(),
            Some("--- before: /etc/app.conf\n+++ after: /etc/app.conf\n@@ -1 +1 @@\n-a=1\n+a=2\n")
        );
        let after = updated(&plan, DEST);
        assert_eq!(after.sha256.as_deref(), Some(sha256_hex(b"a=2\n").as_str()));
        assert_eq!(
            (after.mode, after.owner.as_deref()),
            (Some(0o644), Some("root"))
        );
        assert_eq!(after.content.as_deref(), Some(&b"a=2\n"[..]));
    }

    #[test]
    fn no_backup_unless_asked_as_in_ansible() {
        for args in [
            json!({"content": "x\n", "dest": DEST, "backup": false}),
            json!({"content": "x\n", "dest": DEST}),
        ] {
            let plan = check_files(&Copy, args.clone(), &[(DEST, file("y\n"))]).unwrap();
            assert!(!only_run(&plan).0.contains("cp -p"), "{args}");
        }
    }

    #[test]
    fn mode_only_drift_is_a_chmod_without_rewriting() {
        let plan = check_files(
            &Copy,
            json!({"content": "a=1\n", "dest": DEST, "mode": "0600", "owner": "root"}),
            &[(DEST, file("a=1\n"))],
        )
        .unwrap();
        assert!(plan.changed);
        let (script, stdin) = only_run(&plan);
        assert_eq!(script, "chmod 0600 -- '/etc/app.conf'\n");
        assert_eq!(stdin, None);
        assert_eq!(plan.diff.as_deref(), Some("mode 0644 → 0600\n"));
        assert_eq!(updated(&plan, DEST).mode, Some(0o600));
        assert_eq!(plan.msg, "/etc/app.conf: mode 0644 → 0600");
    }

    #[test]
    fn owner_and_group_drift_is_a_chown() {
        let plan = check_files(
            &Copy,
            json!({"content": "a\n", "dest": DEST, "owner": "kube", "group": "adm"}),
            &[(DEST, file("a\n"))],
        )
        .unwrap();
        assert_eq!(only_run(&plan).0, "chown 'kube:adm' -- '/etc/app.conf'\n");
    }

    #[test]
    fn new_file_has_no_backup_and_a_full_diff() {
        // `mode: 0640` unquoted in YAML arrives as the number 640.
        let plan = check_files(
            &Copy,
            json!({"content": "new\n", "dest": DEST, "mode": 640}),
            &[(DEST, missing()), ("/etc", dir())],
        )
        .unwrap();
        let (script, _) = only_run(&plan);
        assert!(!script.contains("cp -p"), "{script}");
        assert!(script.contains("chmod 640 \"$t\""), "{script}");
        assert!(plan
            .diff
            .as_deref()
            .unwrap()
            .ends_with("@@ -0,0 +1 @@\n+new\n"));
        assert_eq!(updated(&plan, DEST).mode, Some(0o640));
    }

    #[test]
    fn missing_parent_directory_fails_like_ansible() {
        let err = check_files(
            &Copy,
            json!({"content": "x", "dest": "/opt/k/app.conf"}),
            &[("/opt/k/app.conf", missing()), ("/opt/k", missing())],
        )
        .unwrap_err();
        assert_eq!(err, "Destination directory /opt/k does not exist");
    }

    /// The reproduction: `file: path=/srv/demo/pki state=directory`,
    /// then a copy into /srv/demo, with /srv/demo absent when facts were
    /// gathered. The directory task's change makes its parents too.
    #[test]
    fn a_directory_made_earlier_makes_its_parents_for_later_copies() {
        let gathered = [
            ("/srv/demo/pki", missing()),
            ("/srv/demo", missing()),
            ("/srv/demo/b", missing()),
        ];
        let mkdir = check_files(
            &super::super::file::File,
            json!({"path": "/srv/demo/pki", "state": "directory"}),
            &gathered,
        )
        .unwrap();
        let facts = after(&facts_of_files(&gathered), &mkdir);
        let now: Vec<(&str, FileState)> = gathered
            .iter()
            .map(|(p, _)| (*p, facts.files[*p].clone()))
            .collect();
        let plan = check_files(
            &Copy,
            json!({"content": "b\n", "dest": "/srv/demo/b"}),
            &now,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(updated(&plan, "/srv/demo/b").kind, FileKind::File);
    }

    /// The validator runs on the temporary file, after its mode and owner
    /// are set and before anything touches the old file.
    #[test]
    fn validate_runs_on_the_temp_file_before_the_rename() {
        let plan = check_files(
            &Copy,
            json!({"content": "x\n", "dest": DEST, "validate": "visudo -cf %s", "backup": true}),
            &[(DEST, file("y\n"))],
        )
        .unwrap();
        let (script, _) = only_run(&plan);
        let at = |s: &str| script.find(s).unwrap_or_else(|| panic!("{s} in {script}"));
        assert!(at("chmod --reference") < at("'visudo' '-cf' \"$t\" >&2 || {"));
        assert!(at("'visudo' '-cf'") < at("cp -p --") && at("cp -p --") < at("mv -f --"));
    }

    #[test]
    fn remote_src_is_read_with_the_facts_and_gives_a_new_file_its_mode() {
        let mut src = file("k=1\n");
        src.mode = Some(0o600);
        let a = json!({"src": "/opt/k.conf", "remote_src": true, "dest": DEST, "backup": false});
        let needs = Copy
            .needs(&super::super::test_kit::args(a.clone()))
            .unwrap();
        assert!(needs.contains(&FactRequest::File {
            path: "/opt/k.conf".into(),
            content: true
        }));
        let plan = check_files(
            &Copy,
            a.clone(),
            &[(DEST, file("k=1\n")), ("/opt/k.conf", src.clone())],
        )
        .unwrap();
        assert!(!plan.changed, "{plan:?}");
        let plan = check_files(
            &Copy,
            a.clone(),
            &[(DEST, missing()), ("/etc", dir()), ("/opt/k.conf", src)],
        )
        .unwrap();
        assert_eq!(updated(&plan, DEST).mode, Some(0o600));
        let err =
            check_files(&Copy, a, &[(DEST, missing()), ("/opt/k.conf", missing())]).unwrap_err();
        assert_eq!(err, "Source /opt/k.conf not found");
    }

    #[test]
    fn force_no_leaves_an_existing_file() {
        let plan = check_files(
            &Copy,
            json!({"content": "x\n", "dest": DEST, "force": "no"}),
            &[(DEST, file("y\n"))],
        )
        .unwrap();
        assert!(!plan.changed);
        assert_eq!(plan.msg, "/etc/app.conf exists and force=no");
    }

    #[test]
    fn src_is_found_under_files_and_a_directory_dest_gets_its_name() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir(tmp.path().join("files")).unwrap();
        std::fs::write(tmp.path().join("files/k.conf"), "k=1\n").unwrap();
        let plan = check_in(
            &Copy,
            json!({"src": "k.conf", "dest": "/etc/k"}),
            &[("/etc/k", dir()), ("/etc/k/k.conf", file("k=1\n"))],
            tmp.path(),
        )
        .unwrap();
        assert!(!plan.changed, "{plan:?}");
        let plan = check_in(
            &Copy,
            json!({"src": "k.conf", "dest": "/etc/k"}),
            &[("/etc/k", dir()), ("/etc/k/k.conf", missing())],
            tmp.path(),
        )
        .unwrap();
        assert_eq!(updated(&plan, "/etc/k/k.conf").kind, FileKind::File);
    }

    #[test]
    fn dest_with_trailing_slash_is_made_when_missing() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("k.conf"), "k=1\n").unwrap();
        let args = json!({"src": "k.conf", "dest": "/etc/new/"});
        let needs = Copy
            .needs(&Args(args.as_object().unwrap().clone()))
            .unwrap();
        assert!(
            needs.contains(&FactRequest::File {
                path: "/etc/new/k.conf".into(),
                content: true
            }),
            "{needs:?}"
        );
        let plan = check_in(
            &Copy,
            args,
            &[("/etc/new", missing()), ("/etc/new/k.conf", missing())],
            tmp.path(),
        )
        .unwrap();
        match plan.actions.as_slice() {
            [Action::Run {
                script,
                stdin: None,
            }, Action::Run { stdin: Some(c), .. }] => {
                assert_eq!(script, "mkdir -p -- '/etc/new'\n");
                assert_eq!(c, b"k=1\n");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(updated(&plan, "/etc/new").kind, FileKind::Directory);
    }

    #[test]
    fn content_into_a_directory_is_refused() {
        let err = check_files(
            &Copy,
            json!({"content": "x", "dest": "/etc"}),
            &[("/etc", dir())],
        )
        .unwrap_err();
        assert_eq!(err, "can not use content with a dir as dest");
    }

    #[test]
    fn bad_arguments_are_one_line_errors() {
        let cases = [
            (
                json!({"dest": DEST}),
                "one of the following is required: content, src",
            ),
            (
                json!({"content": "x", "src": "y", "dest": DEST}),
                "parameters are mutually exclusive: content|src",
            ),
            (json!({"content": "x"}), "missing required argument `dest`"),
            (
                json!({"content": "x", "dest": DEST, "mode": "u+rw"}),
                "argument `mode` must be an octal mode like \"0644\", got \"u+rw\"",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(
                check_files(&Copy, args, &[(DEST, file("x"))]).unwrap_err(),
                want
            );
        }
        let err = check_files(&Copy, json!({"src": "nope.conf", "dest": DEST}), &[]).unwrap_err();
        assert!(
            err.starts_with("Could not find or access 'nope.conf'"),
            "{err}"
        );
    }

    #[test]
    fn unknown_remote_content_still_gets_a_short_diff() {
        let mut big = file("");
        big.sha256 = Some("ab".into());
        big.content = None;
        big.size = Some(1 << 20);
        let plan =
            check_files(&Copy, json!({"content": "x", "dest": DEST}), &[(DEST, big)]).unwrap();
        assert!(plan
            .diff
            .unwrap()
            .starts_with("content of /etc/app.conf changes (sha256 ab → "));
    }

    #[test]
    fn template_renders_then_behaves_as_copy() {
        let files = [("/etc/motd", file("hello node1\n"))];
        let plan = check_files(
            &Template,
            json!({"src": "motd.j2", "dest": "/etc/motd"}),
            &files,
        )
        .unwrap();
        assert!(!plan.changed, "{plan:?}");
        let plan = check_files(
            &Template,
            json!({"src": "motd.j2", "dest": "/etc/motd", "mode": "0600"}),
            &files,
        )
        .unwrap();
        assert_eq!(only_run(&plan).0, "chmod 0600 -- '/etc/motd'\n");
        let plan = check_files(
            &Template,
            json!({"src": "motd.j2", "dest": "/etc/"}),
            &[("/etc", dir()), ("/etc/motd.j2", missing())],
        )
        .unwrap();
        assert_eq!(updated(&plan, "/etc/motd.j2").size, Some(12));
        let err =
            check_files(&Template, json!({"src": "x.j2", "dest": "/etc/x"}), &files).unwrap_err();
        assert_eq!(err, "template x.j2 not found");
    }
}
