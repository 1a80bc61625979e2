//! `kubestrap reset`: tear every node of the cluster down, leave the hosts prepared, move the secrets aside.
//!
//! It asks for the cluster's name on the terminal first (unless `--yes`;
//! without a terminal it refuses at once, so a pipeline never hangs on a
//! question), then runs [`crate::phases::reset`]'s phases.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

use super::apply::load_playbook;
use super::connect::SshRequest;
use crate::cluster::state::StateDir;
use crate::engine::{RunRequest, Session};
use crate::phases::cluster_run::{ClusterRun, StageBook};
use crate::phases::manager::{Manager, Phase};
use crate::phases::reset::{block_lines, run::ResetHosts, secrets::MoveSecrets, Order};
use crate::phases::{connect::Connect, gather::Gather, locking};
use crate::report::{say, Event};
use crate::{inventory, Error, ExitCode};

/// What `kubestrap reset` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct ResetRequest {
    pub inventory: PathBuf,
    pub state_dir: Option<PathBuf>,
    /// `--yes`: do not ask for the cluster's name.
    pub yes: bool,
    /// `--check`: say what would be done, change nothing.
    pub check: bool,
    pub forks: usize,
    pub force_unlock: bool,
    pub verbose: bool,
    pub ssh: SshRequest,
}

/// reset, phase by phase.
fn phases<'p, 'r: 'p>(hosts: ResetHosts) -> Vec<Box<dyn Phase<ClusterRun<'r>> + 'p>> {
    vec![
        Box::new(Connect),
        Box::new(Gather),
        Box::new(locking::Lock),
        Box::new(hosts),
        Box::new(MoveSecrets),
        Box::new(locking::Unlock),
    ]
}

/// Run `kubestrap reset`.
pub fn run(args: ResetRequest) -> Result<ExitCode, Error> {
    let inv = inventory::load(&args.inventory).map_err(Error::Inventory)?;
    let ask = !args.yes && !args.check;
    if ask && !std::io::stdin().is_terminal() {
        return Err(Error::ResetNeedsYes);
    }
    let name = inv
        .cluster
        .name
        .clone()
        .unwrap_or_else(|| crate::cluster::defaults::CLUSTER_NAME.into());
    let state_path = args
        .state_dir
        .clone()
        .unwrap_or_else(|| StateDir::default_path(&args.inventory, inv.cluster.name.as_deref()));
    let order = Order::new(&inv, None);
    say(Event::Section {
        title: "RESET".into(),
        lines: block_lines(&name, &order, &state_path, args.check),
    });
    if ask {
        confirm(&name, &mut std::io::stdin().lock())?;
    }
    let (book, base) = load_playbook("reset.yaml", None)?;
    let book = Arc::new(book);
    let req = RunRequest {
        forks: args.forks,
        ..RunRequest::on_hosts(&args.inventory, &order.hosts(), args.check, args.verbose)
    };
    let reach = args.ssh.reach_all(&inv)?;
    let session = Session::with_inventory(req, reach, inv, book.clone(), base.clone())?;
    session.finish(async move |runner| {
        let mut ctx = ClusterRun::new(runner, args.check, args.force_unlock, state_path, name);
        ctx.worker_failure_percent = 100;
        ctx.books = vec![StageBook {
            stage: "reset",
            book: book.clone(),
            base: base.clone(),
        }];
        Manager::new(&[], phases(ResetHosts { book, base }))
            .check(args.check)
            .run(&mut ctx)
            .await
    })
}

/// Ask for the cluster's name; anything else (or nothing) refuses.
fn confirm(name: &str, answer: &mut impl BufRead) -> Result<(), Error> {
    say(Event::Prompt(format!(
        "Type the cluster's name ({name}) to reset every host, anything else stops: "
    )));
    let mut typed = String::new();
    answer.read_line(&mut typed).map_err(Error::ResetAnswer)?;
    if typed.trim() == name {
        Ok(())
    } else {
        Err(Error::ResetNotConfirmed {
            name: name.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cluster_name_goes_on() {
        let table: &[(&str, bool)] = &[
            ("lab\n", true),
            ("  lab \r\n", true),
            ("lab", true),
            ("", false),
            ("\n", false),
            ("yes\n", false),
            ("Lab\n", false),
            ("lab2\n", false),
        ];
        for (typed, goes_on) in table {
            let r = confirm("lab", &mut typed.as_bytes());
            assert_eq!(r.is_ok(), *goes_on, "{typed:?}");
            if let Err(e) = r {
                assert_eq!(e.exit_code(), ExitCode::BadInput);
                assert!(e.to_string().contains("(lab)"), "{e}");
            }
        }
    }
}
