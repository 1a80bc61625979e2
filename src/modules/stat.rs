//! stat: report a path's state (`register: st` then `st.stat.exists`), never a change.
//!
//! The answer comes from the facts gathered with the play's one round trip
//! (a literal path is known before the play starts), so a `stat` costs no
//! command of its own. Ansible's result keys, with these limits: times are
//! whole seconds; `mimetype`, `charset`, `attributes` and the per-user
//! `readable`/`writeable`/`executable` are not reported; the checksum of a
//! file over 256 KiB is available as sha256 only (the facts' own hash).

use serde_json::{json, Map, Value};
use sha2::Digest;

use super::file_facts::{fact, mode_str, path_arg, sha256_hex};
use super::{literal, Args, Context, Module, Plan};
use crate::facts::{FactRequest, FileKind, FileState, MAX_CONTENT};

pub struct Stat;

const PATH: &[&str] = &["path", "dest", "name"];
const ALGO: &[&str] = &["checksum_algorithm", "checksum", "checksum_algo"];
const ALGORITHMS: &[&str] = &["sha1", "sha224", "sha256", "sha384", "sha512"];

impl Module for Stat {
    fn name(&self) -> &'static str {
        "stat"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "path",
            "dest",
            "name",
            "follow",
            "get_checksum",
            "checksum_algorithm",
            "checksum",
            "checksum_algo",
            "get_mime",
            "mime",
            "mime_type",
            "mime-type",
            "get_attributes",
            "attr",
            "attributes",
        ]
    }

    fn unsupported(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "get_selinux_context",
            "kubestrap targets Debian and Ubuntu hosts, without SELinux",
        )]
    }

    fn refuse(&self, args: &Map<String, Value>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for name in ALGO {
            if let Some(a) = literal(args, name) {
                if !ALGORITHMS.contains(&a.as_str()) {
                    out.push((
                        name.to_string(),
                        format!(
                            "{name}: {a} is not supported by kubestrap (one of {})",
                            ALGORITHMS.join(", ")
                        ),
                    ));
                }
            }
        }
        out
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let path = path_arg(args, PATH)?;
        // Any checksum but sha256 is computed from the content.
        let content = args.bool("get_checksum", true)? && algorithm(args)? != "sha256";
        Ok(vec![FactRequest::File { path, content }])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let path = path_arg(args, PATH)?;
        // The result is computed here too, so a bad argument fails the task
        // and --check reports the same as a run.
        self.returns(args, ctx)?;
        Ok(Plan::noop(format!("{path} looked at")))
    }

    fn returns(&self, args: &Args, ctx: &Context) -> Result<Map<String, Value>, String> {
        let path = path_arg(args, PATH)?;
        let st = fact(ctx, &path).ok_or_else(|| format!("no facts were gathered for {path}"))?;
        if args.bool("follow", false)? && st.kind == FileKind::Link {
            return Err(format!(
                "{path} is a symlink; follow: true is not supported by kubestrap yet"
            ));
        }
        let checksum = if args.bool("get_checksum", true)? {
            Some(algorithm(args)?)
        } else {
            None
        };
        let stat = describe(&path, st, ctx.facts.file_ids.get(&path), checksum)?;
        Ok(Map::from_iter([("stat".to_string(), Value::Object(stat))]))
    }
}

/// The checksum algorithm asked for (sha1 unless told).
fn algorithm(args: &Args) -> Result<String, String> {
    for name in ALGO {
        if let Some(a) = args.str(name)? {
            if !ALGORITHMS.contains(&a.as_str()) {
                return Err(format!(
                    "{name}: {a} is not supported by kubestrap (one of {})",
                    ALGORITHMS.join(", ")
                ));
            }
            return Ok(a);
        }
    }
    Ok("sha1".into())
}

/// Ansible's `stat` dictionary for `path` in state `st`.
fn describe(
    path: &str,
    st: &FileState,
    ids: Option<&crate::facts::FileIds>,
    checksum: Option<String>,
) -> Result<Map<String, Value>, String> {
    let mut m = Map::new();
    if st.kind == FileKind::Missing {
        m.insert("exists".into(), Value::Bool(false));
        return Ok(m);
    }
    let bits = st.mode.unwrap_or(0);
    let is = |k: FileKind| Value::Bool(st.kind == k);
    m.insert("exists".into(), Value::Bool(true));
    m.insert("path".into(), json!(path));
    m.insert("mode".into(), json!(mode_str(bits)));
    m.insert("isdir".into(), is(FileKind::Directory));
    m.insert("isreg".into(), is(FileKind::File));
    m.insert("islnk".into(), is(FileKind::Link));
    // The facts know files, directories and links; the rest is "other".
    let other = st.kind == FileKind::Other;
    for k in ["ischr", "isblk", "isfifo", "issock"] {
        m.insert(k.into(), Value::Bool(false));
    }
    if other {
        m.insert("isother".into(), Value::Bool(true));
    }
    for (name, bit) in [
        ("rusr", 0o400),
        ("wusr", 0o200),
        ("xusr", 0o100),
        ("rgrp", 0o040),
        ("wgrp", 0o020),
        ("xgrp", 0o010),
        ("roth", 0o004),
        ("woth", 0o002),
        ("xoth", 0o001),
        ("isuid", 0o4000),
        ("isgid", 0o2000),
    ] {
        m.insert(name.into(), Value::Bool(bits & bit != 0));
    }
    if let Some(o) = &st.owner {
        m.insert("pw_name".into(), json!(o));
    }
    if let Some(g) = &st.group {
        m.insert("gr_name".into(), json!(g));
    }
    if let Some(size) = st.size {
        m.insert("size".into(), json!(size));
    }
    if let Some(i) = ids {
        m.insert("uid".into(), json!(i.uid));
        m.insert("gid".into(), json!(i.gid));
        m.insert("mtime".into(), json!(i.mtime));
        m.insert("atime".into(), json!(i.atime));
        m.insert("ctime".into(), json!(i.ctime));
        m.insert("inode".into(), json!(i.inode));
        m.insert("dev".into(), json!(i.dev));
        m.insert("nlink".into(), json!(i.nlink));
    }
    if let (Some(algo), FileKind::File) = (checksum, st.kind) {
        m.insert("checksum".into(), json!(checksum_of(path, st, &algo)?));
    }
    Ok(m)
}

/// The file's hash with `algo`: sha256 from the facts, the others from the
/// content brought back with them.
pub(super) fn checksum_of(path: &str, st: &FileState, algo: &str) -> Result<String, String> {
    if algo == "sha256" {
        return st
            .sha256
            .clone()
            .ok_or_else(|| format!("the sha256 of {path} could not be read"));
    }
    let Some(c) = &st.content else {
        return Err(match st.size {
            Some(n) if n > MAX_CONTENT as u64 => format!(
                "{path} is {n} bytes; kubestrap computes {algo} of files up to {} KiB \
                 (use checksum_algorithm: sha256)",
                MAX_CONTENT / 1024
            ),
            _ => format!("the content of {path} could not be read"),
        });
    };
    let hex = |d: &[u8]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
    Ok(match algo {
        "sha1" => hex(<sha1::Sha1 as sha1::Digest>::digest(c).as_slice()),
        "sha224" => hex(&sha2::Sha224::digest(c)),
        "sha384" => hex(&sha2::Sha384::digest(c)),
        "sha512" => hex(&sha2::Sha512::digest(c)),
        _ => sha256_hex(c),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{args, dir, facts_of_files, file, missing, with_ctx};
    use super::*;
    use crate::facts::FileIds;

    fn stat_of(
        a: Value,
        files: &[(&str, FileState)],
        ids: Option<FileIds>,
    ) -> Result<Value, String> {
        let mut facts = facts_of_files(files);
        if let Some(i) = ids {
            facts.file_ids.insert(files[0].0.to_string(), i);
        }
        with_ctx(&facts, |ctx| {
            let plan = Stat.check(&args(a.clone()), ctx)?;
            assert!(!plan.changed && plan.actions.is_empty(), "{plan:?}");
            Stat.returns(&args(a), ctx).map(|m| m["stat"].clone())
        })
    }

    /// (what, args, state at /etc/a, keys of `stat` and their values)
    #[test]
    fn reports_what_ansible_reports() {
        let ids = FileIds {
            uid: 0,
            gid: 4,
            mtime: 1_700_000_000,
            nlink: 1,
            ..FileIds::default()
        };
        let hi = file("hi\n");
        let table: Vec<(&str, Value, FileState, Option<FileIds>, Value)> = vec![
            (
                "missing path",
                json!({"path": "/etc/a"}),
                missing(),
                None,
                json!({"exists": false}),
            ),
            (
                "regular file, sha1 by default",
                json!({"path": "/etc/a"}),
                hi.clone(),
                Some(ids.clone()),
                json!({"exists": true, "isreg": true, "isdir": false, "islnk": false,
                       "mode": "0644", "pw_name": "root", "gr_name": "root", "size": 3,
                       "uid": 0, "gid": 4, "mtime": 1_700_000_000, "nlink": 1,
                       "rusr": true, "wusr": true, "xusr": false, "roth": true, "woth": false,
                       "checksum": "55ca6286e3e4f4fba5d0448333fa99fc5a404a73"}),
            ),
            (
                "sha256 from the facts",
                json!({"path": "/etc/a", "checksum_algorithm": "sha256"}),
                hi.clone(),
                None,
                json!({"checksum": sha256_hex(b"hi\n")}),
            ),
            (
                "directory: no checksum, no size",
                json!({"path": "/etc/a"}),
                dir(),
                None,
                json!({"isdir": true, "isreg": false, "mode": "0755", "xoth": true}),
            ),
        ];
        for (what, a, st, ids, want) in table {
            let got = stat_of(a, &[("/etc/a", st)], ids).unwrap_or_else(|e| panic!("{what}: {e}"));
            for (k, v) in want.as_object().unwrap() {
                assert_eq!(got.get(k), Some(v), "{what}: {k} in {got}");
            }
        }
        let got = stat_of(json!({"path": "/etc/a"}), &[("/etc/a", dir())], None).unwrap();
        assert!(
            got.get("checksum").is_none() && got.get("size").is_none(),
            "{got}"
        );
        let got = stat_of(
            json!({"path": "/etc/a", "get_checksum": false}),
            &[("/etc/a", hi)],
            None,
        )
        .unwrap();
        assert!(got.get("checksum").is_none(), "{got}");
    }

    #[test]
    fn asks_for_content_only_for_a_computed_checksum() {
        let want = |content| {
            vec![FactRequest::File {
                path: "/etc/a".into(),
                content,
            }]
        };
        let needs = |a| Stat.needs(&args(a)).unwrap();
        assert_eq!(needs(json!({"path": "/etc/a"})), want(true));
        assert_eq!(
            needs(json!({"path": "/etc/a", "checksum_algorithm": "sha256"})),
            want(false)
        );
        assert_eq!(
            needs(json!({"path": "/etc/a", "get_checksum": false})),
            want(false)
        );
    }

    #[test]
    fn refusals_name_the_argument() {
        let refused = Stat.refuse(&args(json!({"path": "/a", "checksum_algorithm": "md5"})).0);
        assert_eq!(
            refused,
            vec![(
                "checksum_algorithm".to_string(),
                "checksum_algorithm: md5 is not supported by kubestrap (one of sha1, sha224, sha256, sha384, sha512)".to_string()
            )]
        );
        assert!(Stat
            .refuse(&args(json!({"path": "/a", "checksum": "sha512"})).0)
            .is_empty());
        let mut big = file("");
        big.content = None;
        big.size = Some(300_000);
        let err = stat_of(json!({"path": "/etc/a"}), &[("/etc/a", big)], None).unwrap_err();
        assert_eq!(
            err,
            "/etc/a is 300000 bytes; kubestrap computes sha1 of files up to 256 KiB (use checksum_algorithm: sha256)"
        );
        let link = FileState {
            kind: FileKind::Link,
            ..FileState::default()
        };
        let err = stat_of(
            json!({"path": "/etc/a", "follow": true}),
            &[("/etc/a", link)],
            None,
        )
        .unwrap_err();
        assert!(err.contains("follow: true"), "{err}");
        assert_eq!(
            stat_of(json!({}), &[("/etc/a", missing())], None).unwrap_err(),
            "missing required argument `path`"
        );
    }
}
