//! Executing a module's plan over the host's connection: commands, uploads, fetches, reconnects, and why a step failed.

use std::path::Path;

use serde_json::{Map, Value as Json};

use super::session::{sh_c, HostSession};
use super::task_run::RunEnv;
use crate::modules::{Action, Plan};

/// Why a plan stopped: the host was lost, or a step failed (with what to register).
pub(super) enum ApplyError {
    Unreachable(String),
    Failed(String, Map<String, Json>),
}

/// Lines of a failed command's output its failure message keeps: the
/// reason is at the end (kubeadm's "error execution phase …").
const REASON_LINES: usize = 20;

/// The exit status by which a `Reconnect` confirm asks for another, later
/// login (EX_TEMPFAIL): its login came before the change was complete.
const CONFIRM_RETRY: u32 = 75;

/// How long after its rollback a host may take to answer SSH again.
const AFTER_ROLLBACK: std::time::Duration = std::time::Duration::from_secs(60);

/// Execute a plan's actions in order; the last command's output is the
/// registered rc/stdout/stderr.
pub(super) async fn apply(
    env: &RunEnv,
    plan: &Plan,
    become_user: Option<&str>,
    session: &mut HostSession,
) -> Result<Map<String, Json>, ApplyError> {
    let mut reg = Map::new();
    for action in &plan.actions {
        match action {
            Action::Run { script, stdin } => {
                let out = connection(session)?
                    .run_with(&sh_c(script), stdin.clone(), become_user, &env.opts)
                    .await
                    .map_err(|e| {
                        if e.is_unreachable() {
                            ApplyError::Unreachable(e.to_string())
                        } else {
                            ApplyError::Failed(e.to_string(), Map::new())
                        }
                    })?;
                let stdout = String::from_utf8_lossy(&out.stdout)
                    .trim_end_matches('\n')
                    .to_string();
                let stderr = String::from_utf8_lossy(&out.stderr)
                    .trim_end_matches('\n')
                    .to_string();
                reg.insert("rc".into(), Json::from(out.rc()));
                reg.insert(
                    "stdout_lines".into(),
                    Json::from(stdout.lines().map(str::to_string).collect::<Vec<_>>()),
                );
                reg.insert(
                    "stderr_lines".into(),
                    Json::from(stderr.lines().map(str::to_string).collect::<Vec<_>>()),
                );
                reg.insert("stdout".into(), Json::from(stdout.clone()));
                reg.insert("stderr".into(), Json::from(stderr.clone()));
                if !out.success() {
                    let why = reason(&stderr, &stdout);
                    return Err(ApplyError::Failed(format!("rc={}: {why}", out.rc()), reg));
                }
            }
            Action::Reconnect {
                timeout_secs,
                rollback_secs,
                confirm,
                rolled_back,
            } => {
                let out = reconnect(
                    env,
                    session,
                    *timeout_secs,
                    *rollback_secs,
                    confirm,
                    rolled_back,
                    become_user,
                )
                .await?;
                reg.insert("rc".into(), Json::from(out.rc()));
                if !out.success() {
                    let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
                    return Err(ApplyError::Failed(
                        format!("confirming the change failed (rc={}): {why}", out.rc()),
                        reg,
                    ));
                }
                continue;
            }
            Action::Fetch { remote, local } => {
                let out = connection(session)?
                    .run_with(
                        &format!("cat -- {}", crate::ssh::shell_quote(remote)),
                        None,
                        become_user,
                        &env.opts,
                    )
                    .await
                    .map_err(|e| ApplyError::Unreachable(e.to_string()))?;
                if !out.success() || out.truncated {
                    let why = if out.truncated {
                        "file is larger than kubestrap fetches".to_string()
                    } else {
                        String::from_utf8_lossy(&out.stderr).trim().to_string()
                    };
                    return Err(ApplyError::Failed(format!("fetch {remote}: {why}"), reg));
                }
                write_local(local, &out.stdout).map_err(|e| {
                    ApplyError::Failed(
                        format!("fetch {remote} to {}: {e}", local.display()),
                        Map::new(),
                    )
                })?;
                reg.insert("dest".into(), Json::from(local.display().to_string()));
            }
        }
    }
    Ok(reg)
}

/// Why a command failed, for its message: the tail of its stderr, else of
/// its stdout (some tools report errors there), else the bare fact.
pub(super) fn reason(stderr: &str, stdout: &str) -> String {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    if text.trim().is_empty() {
        return "non-zero return code".into();
    }
    let lines: Vec<&str> = text.lines().collect();
    let tail = &lines[lines.len().saturating_sub(REASON_LINES)..];
    let cut = if lines.len() > REASON_LINES {
        "…\n"
    } else {
        ""
    };
    format!("{cut}{}", tail.join("\n"))
}

pub(super) fn connection(session: &HostSession) -> Result<&crate::ssh::Connection, ApplyError> {
    session
        .conn
        .as_deref()
        .ok_or_else(|| ApplyError::Unreachable("not connected".into()))
}

/// Replace the host's connection with a fresh one, then run `confirm` on it.
/// Until the fresh login succeeds the host's own rollback stays armed; if it
/// never does, wait for that rollback and fail naming what happened. A
/// confirm that exits 75, fails over SSH or hangs is retried on a new login
/// until the deadline.
pub(super) async fn reconnect(
    env: &RunEnv,
    session: &mut HostSession,
    timeout_secs: u64,
    rollback_secs: u64,
    confirm: &str,
    rolled_back: &str,
    become_user: Option<&str>,
) -> Result<crate::ssh::Output, ApplyError> {
    use std::time::{Duration, Instant};
    if let Some(old) = session
        .conn
        .take()
        .and_then(|c| std::sync::Arc::try_unwrap(c).ok())
    {
        old.close().await;
    }
    let mut opts = env.opts.clone();
    opts.retries = 0;
    // Each login gets the operator's connect timeout, cut to the time left
    // (a slow but reachable host needs it: a real VM under emulation takes
    // over 3 s for the SSH handshake, and a 3 s cap rolled back every pin).
    let deadline = Instant::now() + Duration::from_secs(timeout_secs);
    let mut last_error = String::new();
    // Bounded: one attempt at most every second until the deadline.
    while Instant::now() < deadline {
        let started = Instant::now();
        opts.connect_timeout = env
            .opts
            .connect_timeout
            .min(deadline.saturating_duration_since(started))
            .max(Duration::from_secs(1));
        match crate::ssh::Connection::open(&session.target, &opts).await {
            Ok(conn) => {
                // A login can land before the change took effect, on a
                // connection the change then cuts off: the confirm may hang
                // or ask (exit 75, EX_TEMPFAIL) for a login made afterwards.
                let left = deadline.saturating_duration_since(Instant::now());
                let script = sh_c(confirm);
                let run = conn.run_with(&script, None, become_user, &env.opts);
                match tokio::time::timeout(left + Duration::from_secs(5), run).await {
                    Ok(Ok(out)) if out.exit_status != Some(CONFIRM_RETRY) => {
                        session.conn = Some(std::sync::Arc::new(conn));
                        return Ok(out);
                    }
                    Ok(Ok(out)) => {
                        last_error = String::from_utf8_lossy(&out.stderr).trim().to_string()
                    }
                    Ok(Err(e)) => last_error = e.to_string(),
                    Err(_) => last_error = "confirming timed out".into(),
                }
                let _ = tokio::time::timeout(Duration::from_secs(2), conn.close()).await;
            }
            Err(e) if e.exit_code() == crate::ExitCode::HostKey => {
                return Err(ApplyError::Failed(e.to_string(), Map::new()));
            }
            Err(e) => last_error = e.to_string(),
        }
        tokio::time::sleep(Duration::from_secs(1).saturating_sub(started.elapsed())).await;
    }
    // Not confirmed: the host restores its old configuration by itself.
    // Restoring can take a while on a busy host, so log in again within a
    // bounded window rather than once.
    tokio::time::sleep(Duration::from_secs(rollback_secs)).await;
    opts.connect_timeout = env.opts.connect_timeout;
    let window = Instant::now() + AFTER_ROLLBACK;
    loop {
        match crate::ssh::Connection::open(&session.target, &opts).await {
            Ok(conn) => {
                session.conn = Some(std::sync::Arc::new(conn));
                return Err(ApplyError::Failed(
                    format!("{rolled_back} (no SSH login within {timeout_secs}s: {last_error})"),
                    Map::new(),
                ));
            }
            Err(e) if Instant::now() >= window || e.exit_code() == crate::ExitCode::HostKey => {
                return Err(ApplyError::Unreachable(format!(
                    "{rolled_back}, but the host is still unreachable {}s later: {e}",
                    rollback_secs + AFTER_ROLLBACK.as_secs()
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(2)).await,
        }
    }
}

/// Write a fetched file atomically on the operator's machine.
pub(super) fn write_local(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.kubestrap-tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("fetch")
    ));
    // Fetched files may be credentials (admin.conf): 0600 from the start.
    let mut f = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?
    };
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reason_is_the_tail_of_stderr_else_of_stdout() {
        let cases: &[(&str, &str, &str)] = &[
            ("boom", "out", "boom"),
            (
                "",
                "error execution phase preflight",
                "error execution phase preflight",
            ),
            ("  \n", "", "non-zero return code"),
        ];
        for (err, out, want) in cases {
            assert_eq!(reason(err, out), *want, "{err:?} {out:?}");
        }
        let long: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
        let why = reason(&long.join("\n"), "");
        assert!(
            why.starts_with("…\nline 11\n") && why.ends_with("line 30"),
            "{why}"
        );
    }
}
