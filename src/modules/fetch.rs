//! fetch: copy a remote file to the operator's machine.

use std::path::{Path, PathBuf};

use super::file_facts::{basename, fact, sha256_hex};
use super::{Action, Args, Context, Module, Plan};
use crate::facts::{FactRequest, FileKind};

pub struct Fetch;

impl Module for Fetch {
    fn name(&self) -> &'static str {
        "fetch"
    }

    fn params(&self) -> &'static [&'static str] {
        &["src", "dest", "flat", "fail_on_missing"]
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(vec![FactRequest::File {
            path: args.req_str("src")?,
            content: false,
        }])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let src = args.req_str("src")?;
        let dest = args.req_str("dest")?;
        let flat = args.bool("flat", false)?;
        let fail_on_missing = args.bool("fail_on_missing", true)?;
        let local = local_path(ctx, &src, &dest, flat)?;

        let st = fact(ctx, &src).ok_or_else(|| format!("no facts were gathered for {src}"))?;
        let problem = match st.kind {
            FileKind::Missing => Some("the remote file does not exist"),
            FileKind::Directory => {
                Some("remote file is a directory, fetch cannot work on directories")
            }
            _ => None,
        };
        if let Some(p) = problem {
            return if fail_on_missing {
                Err(p.to_string())
            } else {
                Ok(Plan::noop(format!("{p}, not transferring, ignored")))
            };
        }
        // Local reads are allowed in check: an identical copy costs no transfer.
        if let (Some(remote), Ok(bytes)) = (&st.sha256, std::fs::read(&local)) {
            if &sha256_hex(&bytes) == remote {
                return Ok(Plan::noop(format!("{} is up to date", local.display())));
            }
        }
        Ok(Plan {
            changed: true,
            msg: format!("{src} fetched to {}", local.display()),
            actions: vec![Action::Fetch { remote: src, local }],
            ..Plan::default()
        })
    }
}

/// Where Ansible puts the copy: `dest/<inventory host>/<src path>`, or with
/// `flat` `dest` itself (`dest/<src name>` when dest ends in `/`). A relative
/// dest starts at the playbook's directory.
fn local_path(ctx: &Context, src: &str, dest: &str, flat: bool) -> Result<PathBuf, String> {
    let base: PathBuf = match dest.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| Path::new(&h).join(rest))
            .ok_or_else(|| "dest starts with ~ but HOME is not set".to_string())?,
        None => ctx.base_dir.join(dest),
    };
    if flat {
        return Ok(if dest.ends_with('/') {
            base.join(basename(src))
        } else {
            base
        });
    }
    // Components only: `..` in src must not climb out of dest.
    let mut out = base.join(ctx.host);
    for part in src.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return Err(format!("src {src} must not contain `..`"));
        }
        out.push(part);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{check_in, dir, file, missing};
    use super::*;

    #[test]
    fn fetches_into_dest_host_path_unless_identical() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path();
        let src = "/etc/kubernetes/admin.conf";
        let facts = [(src, file("kubeconfig\n"))];
        let plan = check_in(&Fetch, json!({"src": src, "dest": "out"}), &facts, base).unwrap();
        let local = base.join("out/node1/etc/kubernetes/admin.conf");
        assert_eq!(
            plan.actions,
            vec![Action::Fetch {
                remote: src.into(),
                local: local.clone()
            }]
        );
        assert!(plan.changed);

        std::fs::create_dir_all(local.parent().unwrap()).unwrap();
        std::fs::write(&local, "kubeconfig\n").unwrap();
        let plan = check_in(&Fetch, json!({"src": src, "dest": "out"}), &facts, base).unwrap();
        assert!(!plan.changed && plan.actions.is_empty(), "{plan:?}");

        std::fs::write(&local, "stale\n").unwrap();
        assert!(
            check_in(&Fetch, json!({"src": src, "dest": "out"}), &facts, base)
                .unwrap()
                .changed
        );
    }

    #[test]
    fn flat_puts_the_file_at_dest() {
        let base = Path::new("/play");
        let src = "/etc/kubernetes/admin.conf";
        let facts = [(src, file("k"))];
        let cases = [
            (
                json!({"src": src, "dest": "/tmp/kc", "flat": true}),
                "/tmp/kc",
            ),
            (
                json!({"src": src, "dest": "kc/", "flat": "yes"}),
                "/play/kc/admin.conf",
            ),
        ];
        for (args, want) in cases {
            let plan = check_in(&Fetch, args, &facts, base).unwrap();
            assert_eq!(
                plan.actions,
                vec![Action::Fetch {
                    remote: src.into(),
                    local: want.into()
                }]
            );
        }
    }

    #[test]
    fn missing_remote_file_fails_unless_told_not_to() {
        let base = Path::new("/play");
        let facts = [("/x", missing()), ("/d", dir())];
        let err = check_in(&Fetch, json!({"src": "/x", "dest": "o"}), &facts, base).unwrap_err();
        assert_eq!(err, "the remote file does not exist");
        let plan = check_in(
            &Fetch,
            json!({"src": "/x", "dest": "o", "fail_on_missing": false}),
            &facts,
            base,
        )
        .unwrap();
        assert_eq!(
            plan.msg,
            "the remote file does not exist, not transferring, ignored"
        );
        let err = check_in(&Fetch, json!({"src": "/d", "dest": "o"}), &facts, base).unwrap_err();
        assert_eq!(
            err,
            "remote file is a directory, fetch cannot work on directories"
        );
        let err =
            check_in(&Fetch, json!({"src": "/a/../x", "dest": "o"}), &facts, base).unwrap_err();
        assert_eq!(err, "src /a/../x must not contain `..`");
    }
}
