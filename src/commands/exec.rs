//! `kubestrap exec`: one ad-hoc command on many hosts, reported as Ansible's ad-hoc mode does.

use std::sync::Arc;

use super::connect::SshRequest;
use crate::engine::fan_out::fan_out;
use crate::interrupt;
use crate::inventory;
use crate::report::progress::Progress;
use crate::report::text::Text;
use crate::report::{Event, ExecResult, Fanout, HostStats, HostTotals, Outcome, Reporter, Sink};
use crate::ssh::{Connection, Options, Output, SshError, Target, MAX_CAPTURE};
use crate::{pattern, Error, ExitCode};

/// What `kubestrap exec` was asked to run, and where.
#[derive(Debug)]
pub struct ExecRequest {
    pub inventory: std::path::PathBuf,
    pub limit: String,
    pub forks: usize,
    pub ssh: SshRequest,
    /// The command's words, joined by spaces as `ssh host WORDS…` joins them.
    pub command: Vec<String>,
}

/// Run the command on every selected host; the exit code says how it went.
pub fn run(args: ExecRequest) -> Result<ExitCode, Error> {
    let inv = inventory::load(&args.inventory).map_err(Error::Inventory)?;
    let names = pattern::select(&inv, &args.limit).map_err(Error::Pattern)?;
    let (opts, targets) = args.ssh.reach(&inv, &names)?;
    let command = args.command.join(" ");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    Ok(runtime.block_on(exec_all(targets, command, opts, args.forks)))
}

async fn exec_all(targets: Vec<Target>, command: String, opts: Options, forks: usize) -> ExitCode {
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    // Progress first: it takes its lines down before the recap is printed.
    let progress = Arc::new(Progress::new(&names));
    let text = Text::new(progress.clone() as Arc<dyn Sink>);
    let reporter = Arc::new(Fanout::new(vec![progress, Arc::new(text)]));
    let shared = Arc::new((command, opts));
    let status = |reporter: &Fanout, host: &str, status: &str| {
        reporter.emit(&Event::HostStatus {
            host: host.into(),
            status: status.into(),
        })
    };
    let results = fan_out(targets, forks, |target| {
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

    let mut code = ExitCode::Ok;
    let mut hosts = Vec::new();
    for (name, result) in &results {
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
    reporter.emit(&Event::Recap { hosts });
    code
}

/// How a host's result counts: command run → changed (as Ansible's command
/// module reports), non-zero exit → failed, no connection → unreachable.
fn classify(result: &Result<Output, SshError>) -> (Outcome, ExitCode) {
    match result {
        Ok(out) if out.success() => (Outcome::Changed, ExitCode::Ok),
        Ok(_) => (Outcome::Failed, ExitCode::HostFailed),
        Err(e) if e.is_unreachable() => (Outcome::Unreachable, e.exit_code()),
        Err(e) => (Outcome::Failed, e.exit_code()),
    }
}

/// A host's result as the reporters take it.
fn exec_result(result: &Result<Output, SshError>) -> ExecResult {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::reporter::Recording;
    use std::time::Duration;

    /// A host's block of output as the text reporter prints it.
    fn format_result(name: &str, result: &Result<Output, SshError>) -> String {
        let recording = Arc::new(Recording::default());
        Text::new(recording.clone()).emit(&Event::Exec {
            host: name.into(),
            result: exec_result(result),
        });
        recording.text().trim_end_matches('\n').to_string()
    }

    fn out(rc: u32, stdout: &[u8], stderr: &[u8]) -> Result<Output, SshError> {
        Ok(Output {
            exit_status: Some(rc),
            stdout: stdout.to_vec(),
            stderr: stderr.to_vec(),
            ..Default::default()
        })
    }

    #[test]
    fn results_read_like_ansible_ad_hoc() {
        let unreachable = Err(SshError::ConnectTimeout {
            host: "n3".into(),
            addr: "10.0.0.3:22".into(),
            after: Duration::from_secs(10),
        });
        let table: Vec<(Result<Output, SshError>, &str, Outcome, ExitCode)> = vec![
            (
                out(0, b"n1\n", b""),
                "n | CHANGED | rc=0 >>\nn1",
                Outcome::Changed,
                ExitCode::Ok,
            ),
            (
                out(2, b"", b"no such file\n"),
                "n | FAILED | rc=2 >>\nno such file",
                Outcome::Failed,
                ExitCode::HostFailed,
            ),
            (
                out(0, b"\xff\xfeok", b""),
                "n | CHANGED | rc=0 >>\n\u{fffd}\u{fffd}ok",
                Outcome::Changed,
                ExitCode::Ok,
            ),
            (
                unreachable,
                "n | UNREACHABLE! => n3: connection to 10.0.0.3:22 timed out after 10s",
                Outcome::Unreachable,
                ExitCode::Unreachable,
            ),
        ];
        for (result, text, outcome, code) in table {
            assert_eq!(format_result("n", &result), text);
            assert_eq!(classify(&result), (outcome, code));
        }
    }

    #[test]
    fn host_key_problems_outrank_other_failures() {
        let e = SshError::HostKeyUnknown {
            host: "n".into(),
            key_type: "ssh-ed25519".into(),
            fingerprint: "SHA256:abc".into(),
            known_hosts: "kh".into(),
        };
        assert_eq!(classify(&Err(e)), (Outcome::Unreachable, ExitCode::HostKey));
        assert!(
            ExitCode::HostKey > ExitCode::Unreachable
                && ExitCode::Unreachable > ExitCode::HostFailed
        );
    }
}
