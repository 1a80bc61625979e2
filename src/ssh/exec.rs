//! Running one command on an open connection: output capture, caps, deadline.

use std::time::Duration;

use russh::ChannelMsg;

use super::connect::Connection;
use super::{become_, Options, SshError};

/// Output kept per stream; beyond this the rest is read and dropped, so a
/// command that prints gigabytes cannot exhaust the operator's memory.
pub const MAX_CAPTURE: usize = 8 * 1024 * 1024;

/// What a finished command left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Output {
    /// None when the server reported no exit status (killed by a signal).
    pub exit_status: Option<u32>,
    pub exit_signal: Option<String>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Some output was dropped past [`MAX_CAPTURE`].
    pub truncated: bool,
}

impl Output {
    pub fn success(&self) -> bool {
        self.exit_status == Some(0)
    }

    /// Exit status as a shell reports it (128+n for a signal is not known, so -1).
    pub fn rc(&self) -> i64 {
        self.exit_status.map(i64::from).unwrap_or(-1)
    }
}

/// Where a streamed command's stdout goes, piece by piece.
pub type StdoutSink<'a> = &'a mut (dyn FnMut(&[u8]) + Send);

impl Connection {
    /// Run `command` as the target's login user (or through sudo when the
    /// host asks for become), with the command deadline from `opts`.
    pub async fn run(&self, command: &str, opts: &Options) -> Result<Output, SshError> {
        let who = super::run_as::run_as(&self.target, &[]);
        self.run_with(command, None, who.as_deref(), opts).await
    }

    /// Run `command` with `stdin`, through sudo as `become_user` when given
    /// (and different from the login user). The become password, if any,
    /// goes first on stdin; sudo reads exactly one line of it.
    pub async fn run_with(
        &self,
        command: &str,
        stdin: Option<Vec<u8>>,
        become_user: Option<&str>,
        opts: &Options,
    ) -> Result<Output, SshError> {
        let user = match become_user {
            Some(u) if u != self.target.user => u,
            _ => return self.exec(command, stdin, opts.command_timeout).await,
        };
        let password = opts.become_password.as_ref();
        let wrapped = become_::wrap(command, user, password.is_some());
        let mut input = password
            .map(|p| format!("{}\n", p.expose()).into_bytes())
            .unwrap_or_default();
        input.extend(stdin.unwrap_or_default());
        let input = (!input.is_empty()).then_some(input);
        let out = self
            .exec_as(command, &wrapped, input, opts.command_timeout, None)
            .await?;
        become_::check(out, &self.target)
    }

    /// Run `command` as [`Connection::run_with`] does, its stdout handed to
    /// `sink` piece by piece as it arrives instead of kept: a file of any
    /// size copied to the operator's machine costs no memory. The
    /// returned output's stdout is empty.
    pub async fn run_streaming(
        &self,
        command: &str,
        become_user: Option<&str>,
        opts: &Options,
        sink: StdoutSink<'_>,
    ) -> Result<Output, SshError> {
        let user = match become_user {
            Some(u) if u != self.target.user => u,
            _ => {
                return self
                    .exec_as(command, command, None, opts.command_timeout, Some(sink))
                    .await
            }
        };
        let password = opts.become_password.as_ref();
        let wrapped = become_::wrap(command, user, password.is_some());
        let input = password.map(|p| format!("{}\n", p.expose()).into_bytes());
        let out = self
            .exec_as(command, &wrapped, input, opts.command_timeout, Some(sink))
            .await?;
        become_::check(out, &self.target)
    }

    /// How many commands this connection has run: the cost a no-op re-run
    /// is measured by.
    pub fn exec_count(&self) -> u32 {
        self.execs.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Run a raw command line with optional stdin and deadline.
    pub async fn exec(
        &self,
        command: &str,
        stdin: Option<Vec<u8>>,
        deadline: Option<Duration>,
    ) -> Result<Output, SshError> {
        self.exec_as(command, command, stdin, deadline, None).await
    }

    /// `shown` is what messages name; `sent` is what the server runs (the
    /// sudo wrapper is noise to an operator reading an error). With a
    /// `sink`, stdout goes there instead of into the output.
    async fn exec_as(
        &self,
        shown: &str,
        sent: &str,
        stdin: Option<Vec<u8>>,
        deadline: Option<Duration>,
        mut sink: Option<StdoutSink<'_>>,
    ) -> Result<Output, SshError> {
        let shown = &brief(shown);
        let Some(handle) = self.handle.as_ref() else {
            return self.exec_local(shown, sent, stdin, deadline, sink).await;
        };
        let lost = |e: russh::Error| SshError::Disconnected {
            host: self.target.name.clone(),
            command: shown.to_string(),
            reason: e.to_string(),
        };
        self.execs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut channel = handle.channel_open_session().await.map_err(lost)?;
        channel.exec(true, sent).await.map_err(lost)?;
        if let Some(input) = stdin {
            channel.data_bytes(input).await.map_err(lost)?;
        }
        // Always close stdin: commands waiting on it would otherwise hang.
        channel.eof().await.map_err(lost)?;

        let collect = async {
            let mut out = Output::default();
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } => match sink.as_mut() {
                        Some(sink) => sink(&data),
                        None => append(&mut out.stdout, &data, &mut out.truncated),
                    },
                    ChannelMsg::ExtendedData { data, .. } => {
                        append(&mut out.stderr, &data, &mut out.truncated)
                    }
                    ChannelMsg::ExitStatus { exit_status } => out.exit_status = Some(exit_status),
                    ChannelMsg::ExitSignal { signal_name, .. } => {
                        out.exit_signal = Some(format!("{signal_name:?}"))
                    }
                    _ => {}
                }
            }
            out
        };
        let out =
            match deadline {
                Some(d) => tokio::time::timeout(d, collect).await.map_err(|_| {
                    SshError::CommandTimeout {
                        host: self.target.name.clone(),
                        command: shown.to_string(),
                        after: d,
                    }
                })?,
                None => collect.await,
            };
        if out.exit_status.is_none() && out.exit_signal.is_none() {
            return Err(SshError::Disconnected {
                host: self.target.name.clone(),
                command: shown.to_string(),
                reason: "the channel closed without an exit status".into(),
            });
        }
        Ok(out)
    }
}

/// Longest command an error message shows whole.
const SHOWN_MAX: usize = 100;

/// How an error names a command: the command itself when it is one short
/// line, else the start of its first line and its size. Modules and fact
/// gathering run kilobytes of shell through `sh -c`; quoted whole, a script
/// buries the reason and the host (the task banner names the task).
pub fn brief(command: &str) -> String {
    let lines = command.lines().count();
    if lines <= 1 && command.chars().count() <= SHOWN_MAX {
        return format!("`{command}`");
    }
    let first: String = command
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(40)
        .collect();
    if lines > 1 {
        format!("a {lines}-line script (`{}…`)", first.trim_end())
    } else {
        format!(
            "a {}-character command (`{}…`)",
            command.chars().count(),
            first.trim_end()
        )
    }
}

pub(super) fn append(buf: &mut Vec<u8>, data: &[u8], truncated: &mut bool) {
    let room = MAX_CAPTURE.saturating_sub(buf.len());
    if data.len() > room {
        *truncated = true;
    }
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_a_command_briefly_never_a_whole_script() {
        let script = format!("sh -c 'set -eu\n{}'", "echo some fact probe\n".repeat(170));
        assert!(script.len() > 3500);
        let table = [
            ("uptime", "`uptime`".to_string()),
            (
                script.as_str(),
                "a 172-line script (`sh -c 'set -eu…`)".to_string(),
            ),
            (
                &"x".repeat(300),
                format!("a 300-character command (`{}…`)", "x".repeat(40)),
            ),
        ];
        for (command, want) in table {
            assert_eq!(brief(command), want);
        }
        let e = SshError::Disconnected {
            host: "node7".into(),
            command: brief(&script),
            reason: "keepalive timeout".into(),
        };
        let shown = e.to_string();
        assert_eq!(
            shown,
            "node7: connection lost while running a 172-line script (`sh -c 'set -eu…`): keepalive timeout"
        );
    }

    #[test]
    fn capture_stops_at_the_cap_and_says_so() {
        let mut buf = Vec::new();
        let mut truncated = false;
        append(&mut buf, &vec![b'x'; MAX_CAPTURE - 1], &mut truncated);
        assert!(!truncated);
        append(&mut buf, b"yz", &mut truncated);
        assert!(truncated);
        assert_eq!(buf.len(), MAX_CAPTURE);
        assert_eq!(buf.last(), Some(&b'y'));
    }
}
