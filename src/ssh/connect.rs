//! Opening a connection: TCP or a jump host's direct-tcpip channel, handshake, auth, retries.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;

use super::auth::authenticate;
use super::known_hosts;
use super::target::Target;
use super::verifier::Verifier;
use super::{Options, SshError};

/// At most this many connections are being set up (TCP connect, key
/// exchange, authentication) at once, whatever `--forks` says. Setup is
/// CPU-bound on both ends (key exchange); hundreds at once do not finish
/// sooner, they only make every handshake slower, and a handshake that
/// passes `--connect-timeout` makes its host unreachable. With this bound,
/// 500 lab hosts on 2 cores connect with none lost (bench/RESULTS.md). A
/// host waits here before its connect timeout starts; a jump host takes its
/// own turn first, so turns are never nested.
const MAX_SETUPS: usize = 64;
static SETUPS: Semaphore = Semaphore::const_new(MAX_SETUPS);

/// One authenticated SSH connection to a host, reused for every command.
///
/// A connection through jump hosts keeps them open for as long as it lives.
pub struct Connection {
    /// None for the controller itself ([`Connection::local`]): commands run as local processes.
    pub(super) handle: Option<Handle<Verifier>>,
    pub target: Target,
    pub(super) execs: std::sync::atomic::AtomicU32,
    pub(super) _jump: Option<Box<Connection>>,
}

impl Connection {
    /// Connect, retrying transport failures with backoff (never host-key or auth failures).
    pub async fn open(target: &Target, opts: &Options) -> Result<Connection, SshError> {
        let mut attempt = 0;
        loop {
            match open_once(target, opts).await {
                Ok(c) => return Ok(c),
                Err(e) if e.is_retryable() && attempt < opts.retries => {
                    attempt += 1;
                    // Up to 250 ms of jitter, so hosts that failed together
                    // (a burst the network dropped) do not retry together.
                    let jitter = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| u64::from(d.subsec_nanos()) % 250)
                        .unwrap_or(0);
                    let backoff = Duration::from_millis(500 * (1 << attempt.min(5)) + jitter);
                    tracing::info!("{e}; retry {attempt}/{} in {:?}", opts.retries, backoff);
                    tokio::time::sleep(backoff).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Close politely; errors are irrelevant at this point.
    pub async fn close(self) {
        let Some(handle) = self.handle else {
            return;
        };
        let _ = handle
            .disconnect(russh::Disconnect::ByApplication, "", "en")
            .await;
    }
}

/// Boxed because a jump chain makes the future recursive.
fn open_once<'a>(
    target: &'a Target,
    opts: &'a Options,
) -> Pin<Box<dyn Future<Output = Result<Connection, SshError>> + Send + 'a>> {
    Box::pin(async move {
        let addr = format!("{}:{}", target.hostname, target.port);
        match target.jumps.split_last() {
            None => {
                // The semaphore is never closed, so acquiring cannot fail.
                let _turn = SETUPS.acquire().await.ok();
                let tcp = tokio::time::timeout(
                    opts.connect_timeout,
                    tokio::net::TcpStream::connect((target.hostname.as_str(), target.port)),
                )
                .await
                .map_err(|_| SshError::ConnectTimeout {
                    host: target.name.clone(),
                    addr: addr.clone(),
                    after: opts.connect_timeout,
                })?
                .map_err(|e| SshError::Connect {
                    host: target.name.clone(),
                    addr: addr.clone(),
                    reason: e.to_string(),
                })?;
                let _ = tcp.set_nodelay(true);
                handshake(target, opts, tcp, None).await
            }
            Some((last, outer)) => {
                // The last jump is the one adjacent to the target; it is reached
                // through the ones before it, exactly as ProxyJump a,b,c works.
                let mut jump_target = last.clone();
                jump_target.jumps = outer.to_vec();
                let jump =
                    Connection::open(&jump_target, opts)
                        .await
                        .map_err(|e| SshError::Jump {
                            host: target.name.clone(),
                            jump: jump_target.display_addr(),
                            source: Box::new(e),
                        })?;
                let Some(jump_handle) = jump.handle.as_ref() else {
                    return Err(SshError::Connect {
                        host: target.name.clone(),
                        addr: addr.clone(),
                        reason: "a jump host must be reached over SSH".into(),
                    });
                };
                let channel = jump_handle
                    .channel_open_direct_tcpip(
                        target.hostname.clone(),
                        target.port as u32,
                        "127.0.0.1",
                        0,
                    )
                    .await
                    .map_err(|e| SshError::Connect {
                        host: target.name.clone(),
                        addr: addr.clone(),
                        reason: format!(
                            "jump host {} could not open a channel: {e}",
                            jump_target.display_addr()
                        ),
                    })?;
                let _turn = SETUPS.acquire().await.ok();
                handshake(target, opts, channel.into_stream(), Some(Box::new(jump))).await
            }
        }
    })
}

/// SSH handshake and authentication over an already-open byte stream.
async fn handshake<S>(
    target: &Target,
    opts: &Options,
    stream: S,
    jump: Option<Box<Connection>>,
) -> Result<Connection, SshError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let addr = format!("{}:{}", target.hostname, target.port);
    let problem = Arc::new(Mutex::new(None));
    let verifier = Verifier {
        host: target.name.clone(),
        known_hosts_name: target.known_hosts_name(),
        port: target.port,
        hostname: target.hostname.clone(),
        files: target.known_hosts.clone(),
        accept_new: opts.accept_new_host_keys,
        problem: problem.clone(),
    };
    let config = Arc::new(client_config(target, opts));
    let connecting = async {
        let mut handle = client::connect_stream(config, stream, verifier)
            .await
            .map_err(|e| {
                problem
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take()
                    .unwrap_or_else(|| SshError::Connect {
                        host: target.name.clone(),
                        addr: addr.clone(),
                        reason: format!("SSH handshake failed: {e}"),
                    })
            })?;
        authenticate(&mut handle, target).await?;
        Ok(handle)
    };
    let handle = tokio::time::timeout(opts.connect_timeout, connecting)
        .await
        .map_err(|_| SshError::ConnectTimeout {
            host: target.name.clone(),
            addr: addr.clone(),
            after: opts.connect_timeout,
        })??;
    Ok(Connection {
        handle: Some(handle),
        target: target.clone(),
        execs: Default::default(),
        _jump: jump,
    })
}

/// russh settings for one host: keepalive, and host-key algorithms ordered so
/// that a type already in known_hosts is negotiated first (as OpenSSH does),
/// which avoids a false "other key type" refusal.
fn client_config(target: &Target, opts: &Options) -> client::Config {
    let mut config = client::Config {
        keepalive_interval: Some(opts.keepalive),
        keepalive_max: 3,
        nodelay: true,
        ..Default::default()
    };
    let known = known_hosts::known_types(&target.known_hosts, &target.hostname, target.port)
        .unwrap_or_default();
    if !known.is_empty() {
        let mut algs: Vec<russh::keys::Algorithm> = config.preferred.key.to_vec();
        algs.sort_by_key(|a| {
            let name = match a {
                russh::keys::Algorithm::Rsa { .. } => "ssh-rsa".to_string(),
                other => other.as_str().to_string(),
            };
            !known.contains(&name)
        });
        config.preferred.key = algs.into();
    }
    config
}
