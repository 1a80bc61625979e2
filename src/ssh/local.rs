//! The controller as a host: `delegate_to: localhost` runs its commands as local processes, no SSH.
//!
//! A [`Connection`] without an SSH handle runs each command line with
//! `/bin/sh -c`, as sshd would run it through the login shell, with the
//! same output caps, deadline and become wrapper, so everything built on
//! connections (facts, plans, fetches) works on the controller unchanged.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::connect::Connection;
use super::exec::{append, Output, StdoutSink};
use super::{SshError, Target};

impl Connection {
    /// The controller, as `target` names it (`localhost`).
    pub fn local(target: &Target) -> Connection {
        Connection {
            handle: None,
            target: target.clone(),
            execs: Default::default(),
            _jump: None,
        }
    }

    /// Run `sent` as a local process; `shown` names it in errors.
    pub(super) async fn exec_local(
        &self,
        shown: &str,
        sent: &str,
        stdin: Option<Vec<u8>>,
        deadline: Option<Duration>,
        mut sink: Option<StdoutSink<'_>>,
    ) -> Result<Output, SshError> {
        self.execs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let failed = |reason: String| SshError::Disconnected {
            host: self.target.name.clone(),
            command: shown.to_string(),
            reason,
        };
        let mut child = tokio::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(sent)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A command past its deadline is dropped, and must not outlive it.
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| failed(format!("cannot start /bin/sh: {e}")))?;
        let mut input = child.stdin.take();
        let mut out_pipe = child.stdout.take();
        let mut err_pipe = child.stderr.take();
        let run = async {
            let feed = async {
                if let (Some(pipe), Some(data)) = (input.as_mut(), stdin) {
                    // A command that does not read its stdin closes it: not an error.
                    let _ = pipe.write_all(&data).await;
                }
                // Closing stdin, as the SSH side sends EOF.
                drop(input.take());
            };
            let mut out = Output::default();
            let mut stderr = Vec::new();
            let mut truncated = false;
            let read_out = async {
                let mut buf = vec![0u8; 64 * 1024];
                let mut kept = Vec::new();
                let mut cut = false;
                if let Some(pipe) = out_pipe.as_mut() {
                    while let Ok(n) = pipe.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        match sink.as_mut() {
                            Some(sink) => sink(&buf[..n]),
                            None => append(&mut kept, &buf[..n], &mut cut),
                        }
                    }
                }
                (kept, cut)
            };
            let read_err = async {
                let mut all = Vec::new();
                if let Some(pipe) = err_pipe.as_mut() {
                    let _ = pipe.read_to_end(&mut all).await;
                }
                all
            };
            let ((), (kept, cut), all_err) = tokio::join!(feed, read_out, read_err);
            append(&mut stderr, &all_err, &mut truncated);
            out.stdout = kept;
            out.stderr = stderr;
            out.truncated = cut || truncated;
            let status = child.wait().await;
            (out, status)
        };
        let (mut out, status) = match deadline {
            Some(d) => {
                tokio::time::timeout(d, run)
                    .await
                    .map_err(|_| SshError::CommandTimeout {
                        host: self.target.name.clone(),
                        command: shown.to_string(),
                        after: d,
                    })?
            }
            None => run.await,
        };
        let status = status.map_err(|e| failed(e.to_string()))?;
        out.exit_status = status.code().and_then(|c| u32::try_from(c).ok());
        if out.exit_status.is_none() {
            use std::os::unix::process::ExitStatusExt;
            out.exit_signal = Some(format!("{:?}", status.signal()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn controller() -> Connection {
        Connection::local(&Target {
            name: "localhost".into(),
            hostname: "localhost".into(),
            port: 22,
            user: "nobody-in-particular".into(),
            identity_files: Vec::new(),
            explicit_identities: false,
            jumps: Vec::new(),
            known_hosts: Vec::new(),
            become_: false,
            become_user: "root".into(),
        })
    }

    #[tokio::test]
    async fn runs_a_local_process_with_stdin_and_exit_status() {
        let c = controller();
        let out = c
            .exec("cat; echo err >&2; exit 3", Some(b"in".to_vec()), None)
            .await
            .unwrap();
        assert_eq!(
            (out.stdout.as_slice(), out.stderr.as_slice(), out.rc()),
            (&b"in"[..], &b"err\n"[..], 3)
        );
        assert_eq!(c.exec_count(), 1);
    }

    #[tokio::test]
    async fn a_command_past_its_deadline_is_a_timeout() {
        let c = controller();
        let err = c
            .exec("sleep 5", None, Some(Duration::from_millis(50)))
            .await
            .unwrap_err();
        assert!(matches!(err, SshError::CommandTimeout { .. }), "{err}");
    }
}
