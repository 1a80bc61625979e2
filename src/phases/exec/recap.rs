//! After `exec`'s phases: each host's outcome counted, the recap shown, and the exit code.
//!
//! Not a phase: it runs after an interrupt too, when the manager starts no
//! further phase, since the hosts that did answer are still reported.

use super::ExecRun;
use crate::report::{Event, HostStats, HostTotals, Outcome, Reporter};
use crate::ssh::{Output, SshError};
use crate::ExitCode;

/// Emit the recap of `ctx.results`; the exit code covers every host.
pub fn recap(ctx: &ExecRun) -> ExitCode {
    let mut code = ExitCode::Ok;
    let mut hosts = Vec::new();
    for (name, result) in &ctx.results {
        let Some(result) = result else {
            code = code.max(ExitCode::Interrupted);
            continue;
        };
        let (outcome, host_code) = classify(result);
        let mut stats = HostStats::default();
        stats.record(outcome);
        hosts.push(HostTotals {
            host: name.clone(),
            stats,
            ssh_execs: 1,
        });
        code = code.max(host_code);
    }
    ctx.reporter.emit(&Event::Recap { hosts });
    code
}

/// How a host's result counts: command run → changed (as Ansible's command
/// module reports), non-zero exit → failed, no connection → unreachable.
pub fn classify(result: &Result<Output, SshError>) -> (Outcome, ExitCode) {
    match result {
        Ok(out) if out.success() => (Outcome::Changed, ExitCode::Ok),
        Ok(_) => (Outcome::Failed, ExitCode::HostFailed),
        Err(e) if e.is_unreachable() => (Outcome::Unreachable, e.exit_code()),
        Err(e) => (Outcome::Failed, e.exit_code()),
    }
}
