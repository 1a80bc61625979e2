//! `kubestrap apply`: preflight over every host, then the shipped playbooks, stage by stage.
//!
//! Stages, in order (each a list of playbooks from `playbooks/`):
//! - `prepared`: prepare.yaml (sources, swap, kernel, static IP, hostname,
//!   /etc/hosts), runtime.yaml (containerd), packages.yaml (kubeadm,
//!   kubelet, kubectl).
//!
//! `--until STAGE` stops after that stage. Nothing changes on any host
//! unless preflight passes on all of them.

use std::path::{Path, PathBuf};

use crate::cli::ApplyArgs;
use crate::cluster::preflight::{self, HostFacts};
use crate::facts::FactRequest;
use crate::playbook::command::{RunRequest, Session};
use crate::playbook::{load, load_str, Playbook, PlaybookError};
use crate::{bundle, inventory, Error, ExitCode};

/// The stages `apply` knows, in order, with their playbooks.
pub const STAGES: &[(&str, &[&str])] = &[(
    "prepared",
    &["prepare.yaml", "runtime.yaml", "packages.yaml"],
)];

/// The playbooks up to and including `until` (all stages when None).
fn playbooks_until(until: Option<&str>) -> Result<Vec<&'static str>, Error> {
    let last = match until {
        None => STAGES.len() - 1,
        Some(u) => STAGES.iter().position(|(s, _)| *s == u).ok_or_else(|| {
            let names: Vec<&str> = STAGES.iter().map(|(s, _)| *s).collect();
            Error::BadInput(format!(
                "--until {u:?}: no such stage (stages: {})",
                names.join(", ")
            ))
        })?,
    };
    Ok(STAGES[..=last]
        .iter()
        .flat_map(|(_, books)| books.iter().copied())
        .collect())
}

/// A shipped playbook, or the sysadmin's own copy from `--playbooks DIR`.
fn load_playbook(name: &str, dir: Option<&Path>) -> Result<(Playbook, PathBuf), Error> {
    let located =
        |errs: Vec<PlaybookError>| Error::Playbook(errs.iter().map(|e| e.to_string()).collect());
    if let Some(dir) = dir {
        let path = dir.join(name);
        if path.is_file() {
            return Ok((load(&path).map_err(located)?, dir.to_path_buf()));
        }
    }
    let text = bundle::playbook(name)
        .ok_or_else(|| Error::BadInput(format!("no shipped playbook {name}")))?;
    let shown = PathBuf::from("playbooks").join(name);
    // Templates: the override directory's own `templates/` first, then the
    // shipped ones; with no directory (an empty base), only the shipped ones.
    let base = dir.map(Path::to_path_buf).unwrap_or_default();
    Ok((load_str(&shown, text).map_err(located)?, base))
}

/// Run `kubestrap apply`.
pub fn run(args: ApplyArgs, verbose: bool) -> Result<ExitCode, Error> {
    let inv = inventory::load(&args.inventory).map_err(Error::Inventory)?;
    preflight::validate_skip(&args.skip_preflight).map_err(Error::BadInput)?;
    let names = playbooks_until(args.until.as_deref())?;
    let mut books = Vec::new();
    for name in &names {
        books.push(load_playbook(name, args.playbooks.as_deref())?);
    }
    let mut books = books.into_iter();
    let (first, first_base) = books.next().expect("every stage has a playbook");
    let req = RunRequest {
        inventory: args.inventory.clone(),
        limit: args.limit.clone(),
        forks: args.forks as usize,
        check: args.check,
        diff: args.diff,
        extra_vars: args.extra_vars.clone(),
        tags: Vec::new(),
        skip_tags: Vec::new(),
        report: args.report.clone(),
        verbose,
    };
    let session = Session::with_inventory(req, &args.ssh, inv, first, first_base.clone())?;
    let rest: Vec<(Playbook, PathBuf)> = books.collect();
    let skip = args.skip_preflight.clone();
    session.finish(async move |runner| {
        // Preflight looks at every host, not only --limit's: uniqueness and
        // subnet checks are about the whole cluster.
        let all: Vec<usize> = (0..runner.sessions.len()).collect();
        runner.connect(&all).await;
        let requests = vec![FactRequest::File {
            path: "/etc/kubernetes/kubelet.conf".into(),
            content: false,
        }];
        let gathered = runner.gather_for_preflight(&all, requests).await;
        let hosts: Vec<HostFacts> = gathered
            .into_iter()
            .map(|(i, r)| {
                let s = runner.sessions[i].as_ref().expect("home");
                let facts = s.facts.clone();
                let is_node = facts.as_ref().is_some_and(|f| {
                    f.files
                        .get("/etc/kubernetes/kubelet.conf")
                        .is_some_and(|st| st.kind != crate::facts::FileKind::Missing)
                });
                let (skew, err) = match r {
                    Ok(skew) => (Some(skew), None),
                    Err(e) => (None, Some(e)),
                };
                HostFacts {
                    name: s.name.clone(),
                    facts,
                    gather_error: err,
                    clock_skew_secs: skew,
                    is_node,
                }
            })
            .collect();
        let problems = preflight::preflight(&runner.inventory, &hosts, &skip);
        println!("\n{}", crate::report::banner("PREFLIGHT"));
        if !problems.is_empty() {
            for p in &problems {
                println!("{p}");
            }
            println!(
                "preflight failed: {} problem(s); nothing was changed on any host (skip a check with --skip-preflight NAME)",
                problems.len()
            );
            return ExitCode::HostFailed;
        }
        println!("ok: all {} hosts", hosts.len());
        let mut code = runner.run().await;
        for (book, base) in rest {
            if runner.aborted {
                break;
            }
            runner.switch_playbook(book, base);
            code = code.max(runner.run().await);
        }
        code
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_picks_the_stages_up_to_it() {
        assert_eq!(
            playbooks_until(Some("prepared")).unwrap(),
            ["prepare.yaml", "runtime.yaml", "packages.yaml"]
        );
        assert_eq!(
            playbooks_until(None).unwrap().len(),
            STAGES.iter().map(|(_, b)| b.len()).sum::<usize>()
        );
        let err = playbooks_until(Some("prepard")).unwrap_err().to_string();
        assert!(
            err.contains("no such stage") && err.contains("prepared"),
            "{err}"
        );
    }
}
