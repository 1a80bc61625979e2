//! `kubestrap exec`: one ad-hoc command on many hosts, reported as Ansible's ad-hoc mode does.

use std::sync::Arc;

use super::connect::SshRequest;
use crate::engine::fan_out::fan_out;
use crate::interrupt;
use crate::inventory;
use crate::report::{recap, HostStats, Outcome};
use crate::ssh::{Connection, Options, Output, SshError, Target, MAX_CAPTURE};
use crate::ui::Progress;
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
    let names = pattern::select(&inv, &args.limit).map_err(Error::BadInput)?;
    let (opts, targets) = args.ssh.reach(&inv, &names)?;
    let command = args.command.join(" ");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::BadInput(format!("cannot start the async runtime: {e}")))?;
    Ok(runtime.block_on(exec_all(targets, command, opts, args.forks)))
}

async fn exec_all(targets: Vec<Target>, command: String, opts: Options, forks: usize) -> ExitCode {
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let progress = Arc::new(Progress::new(&names));
    let shared = Arc::new((command, opts));
    let results = fan_out(targets, forks, |target| {
        let (progress, shared) = (progress.clone(), shared.clone());
        async move {
            let (command, opts) = &*shared;
            // Stopped (stdout closed): hosts not started yet are left alone.
            if interrupt::interrupted() {
                progress.finish(&target.name);
                return (target.name, None);
            }
            progress.set(&target.name, "connecting");
            let result = match Connection::open(&target, opts).await {
                Ok(conn) => {
                    progress.set(&target.name, "running");
                    let r = tokio::select! {
                        r = conn.run(command, opts) => Some(r),
                        _ = interrupt::grace_over() => None,
                    };
                    conn.close().await;
                    r
                }
                Err(e) => Some(Err(e)),
            };
            progress.finish(&target.name);
            if let Some(result) = &result {
                progress.println(&crate::report::redact::text(&format_result(
                    &target.name,
                    result,
                )));
            }
            (target.name, result)
        }
    })
    .await;
    progress.clear();

    let mut code = ExitCode::Ok;
    let mut stats = Vec::new();
    for (name, result) in &results {
        let Some(result) = result else {
            code = code.max(ExitCode::Interrupted);
            continue;
        };
        let (outcome, host_code) = classify(result);
        let mut s = HostStats::default();
        s.record(outcome);
        stats.push((name.clone(), s));
        code = code.max(host_code);
    }
    crate::outln!("\n{}", recap(&stats));
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

/// A host's block of output, in Ansible's ad-hoc style:
/// `name | CHANGED | rc=0 >>` followed by what the command printed.
pub fn format_result(name: &str, result: &Result<Output, SshError>) -> String {
    match result {
        Ok(out) => {
            let status = if out.success() { "CHANGED" } else { "FAILED" };
            let mut text = format!("{name} | {status} | rc={} >>", out.rc());
            if let Some(signal) = &out.exit_signal {
                text.push_str(&format!(" (killed by signal {signal})"));
            }
            for stream in [&out.stdout, &out.stderr] {
                // Not UTF-8 is shown with replacement characters, never a crash.
                let s = String::from_utf8_lossy(stream);
                let s = s.trim_end_matches('\n');
                if !s.is_empty() {
                    text.push('\n');
                    text.push_str(s);
                }
            }
            if out.truncated {
                text.push_str(&format!(
                    "\n[kubestrap: output truncated after {} MiB per stream]",
                    MAX_CAPTURE / (1024 * 1024)
                ));
            }
            text
        }
        Err(e) if e.is_unreachable() => format!("{name} | UNREACHABLE! => {e}"),
        Err(e) => format!("{name} | FAILED! => {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
