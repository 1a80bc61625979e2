//! Phase: connect to every host and run the command there, up to `--forks` at once, each result shown as it comes.

use super::ExecRun;
use crate::engine::fan_out::fan_out;
use crate::interrupt;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::{Event, ExecResult, Fanout, Reporter};
use crate::ssh::{Connection, Output, SshError, MAX_CAPTURE};
use crate::ExitCode;

pub struct Command;

impl Phase<ExecRun> for Command {
    fn title(&self) -> &'static str {
        "command"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ExecRun) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let shared = std::sync::Arc::new((ctx.command.clone(), ctx.opts.clone()));
            let targets = std::mem::take(&mut ctx.targets);
            let reporter = ctx.reporter.clone();
            ctx.results = fan_out(targets, ctx.forks, |target| {
                let (reporter, shared) = (reporter.clone(), shared.clone());
                async move {
                    let (command, opts) = &*shared;
                    let done = Event::HostDone {
                        host: target.name.clone(),
                    };
                    // Stopped (stdout closed): hosts not started yet are left alone.
                    if interrupt::interrupted() {
                        reporter.emit(&done);
                        return (target.name, None);
                    }
                    status(&reporter, &target.name, "connecting");
                    let result = match Connection::open(&target, opts).await {
                        Ok(conn) => {
                            status(&reporter, &target.name, "running");
                            let r = tokio::select! {
                                r = conn.run(command, opts) => Some(r),
                                _ = interrupt::grace_over() => None,
                            };
                            conn.close().await;
                            r
                        }
                        Err(e) => Some(Err(e)),
                    };
                    reporter.emit(&done);
                    if let Some(result) = &result {
                        reporter.emit(&Event::Exec {
                            host: target.name.clone(),
                            result: exec_result(result),
                        });
                    }
                    (target.name, result)
                }
            })
            .await;
            Flow::Next(ExitCode::Ok)
        })
    }
}

fn status(reporter: &Fanout, host: &str, status: &str) {
    reporter.emit(&Event::HostStatus {
        host: host.into(),
        status: status.into(),
    })
}

/// A host's result as the reporters take it.
pub fn exec_result(result: &Result<Output, SshError>) -> ExecResult {
    match result {
        Ok(out) => ExecResult::Ran {
            rc: out.rc(),
            success: out.success(),
            signal: out.exit_signal.clone(),
            stdout: out.stdout.clone(),
            stderr: out.stderr.clone(),
            truncated_mib: out.truncated.then_some(MAX_CAPTURE / (1024 * 1024)),
        },
        Err(e) if e.is_unreachable() => ExecResult::Unreachable(e.to_string()),
        Err(e) => ExecResult::Failed(e.to_string()),
    }
}
