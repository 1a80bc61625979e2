//! `kubestrap exec`: one ad-hoc command on many hosts, reported as Ansible's ad-hoc mode does.

use std::sync::Arc;

use super::connect::SshRequest;
use crate::inventory;
use crate::phases::exec::command::Command;
use crate::phases::exec::recap::recap;
use crate::phases::exec::ExecRun;
use crate::phases::manager::{Manager, Phase};
use crate::report::progress::Progress;
use crate::report::text::Text;
use crate::report::{Fanout, Sink};
use crate::ssh::{Options, Target};
use crate::{pattern, Error, ExitCode};

/// What `kubestrap exec` was asked to run, and where.
#[derive(Debug)]
pub struct ExecRequest {
    pub inventory: std::path::PathBuf,
    /// The hosts, as `ansible PATTERN` selects them; `limit` narrows them.
    pub pattern: String,
    pub limit: String,
    pub forks: usize,
    pub ssh: SshRequest,
    /// The command's words, joined by spaces as `ssh host WORDS…` joins them.
    pub command: Vec<String>,
}

/// Run the command on every selected host; the exit code says how it went.
pub fn run(args: ExecRequest) -> Result<ExitCode, Error> {
    let inv = inventory::load_hosts(&args.inventory).map_err(Error::Inventory)?;
    let names = pattern::select_within(&inv, &args.pattern, &args.limit)?;
    let (opts, targets) = args.ssh.reach(&inv, &names)?;
    let command = args.command.join(" ");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    Ok(runtime.block_on(exec_all(targets, command, opts, args.forks)))
}

/// exec, phase by phase.
fn phases<'p>() -> Vec<Box<dyn Phase<ExecRun> + 'p>> {
    vec![Box::new(Command)]
}

async fn exec_all(targets: Vec<Target>, command: String, opts: Options, forks: usize) -> ExitCode {
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    // Progress first: it takes its lines down before the recap is printed.
    let progress = Arc::new(Progress::new(&names));
    let text = Text::new(progress.clone() as Arc<dyn Sink>);
    let mut ctx = ExecRun {
        targets,
        command,
        opts,
        forks,
        reporter: Arc::new(Fanout::new(vec![progress, Arc::new(text)])),
        results: Vec::new(),
    };
    let code = Manager::new(&[], phases()).run(&mut ctx).await;
    code.max(recap(&ctx))
}
