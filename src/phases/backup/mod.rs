//! `kubestrap backup`'s phases: an etcd snapshot on a healthy control plane, copied here with its SHA-256 checked end to end, with the CA and the kubeadm config, then the old backups pruned.
//!
//! ```text
//! backup  connect (control planes) → snapshot (the first control plane
//!         whose etcd answers) → save (copy, check, SHA256SUMS, prune)
//! ```
//! The shell run on the hosts, shared with `restore`, is in [`scripts`].

pub mod copy;
pub mod scripts;

use std::path::PathBuf;

use crate::cluster::backup::{self, Partial};
use crate::engine::Runner;
use crate::phases::certs::step::{self, StepError};
use crate::phases::cluster_plan::plan::{ADMIN_CONF, CA_CERT};
use crate::phases::connect::Reach;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::{Event, Outcome};
use crate::ExitCode;
use scripts::Taken;

/// The cluster CA's key on a control plane (kubeadm's path).
const CA_KEY: &str = "/etc/kubernetes/pki/ca.key";

/// The state of one `kubestrap backup` across its phases.
pub struct BackupRun<'r> {
    pub runner: &'r mut Runner,
    /// The inventory's control planes, in its order: the first whose etcd
    /// answers is snapshotted.
    pub control_planes: Vec<String>,
    pub cluster_name: String,
    /// Where backups go (`-o`).
    pub dir: PathBuf,
    /// How many of this cluster's backups stay there (`--keep`).
    pub keep: usize,
    /// Seconds since the epoch: the backup's name.
    pub now: i64,
    /// The snapshot taken, and the control plane it is on.
    pub taken: Option<(String, Taken)>,
}

impl Reach for BackupRun<'_> {
    fn runner(&mut self) -> &mut Runner {
        self.runner
    }

    fn hosts(&self) -> Vec<usize> {
        let names = &self.control_planes;
        (0..self.runner.sessions.len())
            .filter(|&i| {
                self.runner.sessions[i]
                    .as_ref()
                    .is_some_and(|s| names.contains(&s.name))
            })
            .collect()
    }
}

impl BackupRun<'_> {
    fn status(&self, host: &str, what: &str) {
        self.runner.emit(Event::HostStatus {
            host: host.into(),
            status: what.into(),
        });
    }
}

/// Phase: `etcdctl snapshot save` in the etcd container of the first
/// control plane whose etcd is healthy; the others are tried in turn.
pub struct Snapshot;

impl<'r> Phase<BackupRun<'r>> for Snapshot {
    fn title(&self) -> &'static str {
        "snapshot"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut BackupRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let mut code = ExitCode::Ok;
            let mut why = Vec::new();
            for host in ctx.control_planes.clone() {
                let connected = ctx
                    .runner
                    .session_named(&host)
                    .is_some_and(|s| s.conn.is_some());
                if !connected {
                    why.push(format!("{host}: unreachable"));
                    code = code.max(ExitCode::Unreachable);
                    continue;
                }
                ctx.status(&host, "etcdctl snapshot save");
                let result = step::run(
                    ctx.runner,
                    &host,
                    "etcd snapshot",
                    &scripts::snapshot_script(),
                )
                .await;
                ctx.runner.emit(Event::HostDone { host: host.clone() });
                let taken = match result {
                    Ok(out) => scripts::taken(&out).map_err(|problem| StepError::Output {
                        host: host.clone(),
                        step: "etcd snapshot",
                        problem,
                    }),
                    Err(e) => Err(e),
                };
                match taken {
                    Ok(t) => {
                        ctx.taken = Some((host, t));
                        return Flow::Next(ExitCode::Ok);
                    }
                    Err(e) => {
                        ctx.runner.record(&host, Outcome::Failed);
                        code = code.max(e.exit_code());
                        why.push(e.to_string());
                    }
                }
            }
            ctx.runner.emit(Event::Error(format!(
                "no backup: no control plane gave an etcd snapshot ({})",
                why.join("; ")
            )));
            Flow::Stop(code.max(ExitCode::HostFailed))
        })
    }

    fn clean_up<'a>(&'a mut self, ctx: &'a mut BackupRun<'r>) -> PhaseFuture<'a, ()> {
        Box::pin(remove_remote(ctx))
    }
}

/// The snapshot's temporary directory on its control plane, removed.
async fn remove_remote(ctx: &mut BackupRun<'_>) {
    let Some((host, taken)) = ctx.taken.take() else {
        return;
    };
    let script = scripts::remove_tmp(&taken.dir);
    if let Err(e) = step::run(ctx.runner, &host, "remove the snapshot", &script).await {
        ctx.runner.emit(Event::Error(format!(
            "{e}; remove {} on {host} by hand",
            taken.dir
        )));
    }
}

/// Phase: the snapshot copied here and checked against the SHA-256 taken
/// on its host, the CA and the kubeadm config beside it, SHA256SUMS, the
/// backup named; then this cluster's backups beyond `--keep` removed.
pub struct Save {
    partial: Option<Partial>,
}

impl Save {
    pub fn new() -> Self {
        Save { partial: None }
    }
}

impl Default for Save {
    fn default() -> Self {
        Self::new()
    }
}

impl<'r> Phase<BackupRun<'r>> for Save {
    fn title(&self) -> &'static str {
        "save"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut BackupRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let Some((host, taken)) = ctx.taken.clone() else {
                return Flow::Stop(ExitCode::Internal);
            };
            let partial = match Partial::create(&ctx.dir, &ctx.cluster_name, ctx.now) {
                Ok(p) => self.partial.insert(p),
                Err(e) => {
                    ctx.runner.emit(Event::Error(e.to_string()));
                    return Flow::Stop(ExitCode::Internal);
                }
            };
            let mut lines = match save(ctx, partial, &host, &taken).await {
                Ok(lines) => lines,
                Err(e) => {
                    ctx.runner.record(&host, Outcome::Failed);
                    ctx.runner.emit(Event::Error(e.to_string()));
                    return Flow::Stop(e.exit_code());
                }
            };
            remove_remote(ctx).await;
            let finished = self.partial.take().map(Partial::finish);
            let path = match finished {
                Some(Ok(path)) => path,
                Some(Err(e)) => {
                    ctx.runner.emit(Event::Error(e.to_string()));
                    return Flow::Stop(ExitCode::Internal);
                }
                None => return Flow::Stop(ExitCode::Internal),
            };
            ctx.runner.record(&host, Outcome::Ok);
            lines.insert(0, format!("backup: {}", path.display()));
            match backup::prune(&ctx.dir, &ctx.cluster_name, ctx.keep) {
                Ok(removed) => lines.extend(
                    removed
                        .iter()
                        .map(|p| format!("removed (beyond --keep {}): {}", ctx.keep, p.display())),
                ),
                Err(e) => {
                    ctx.runner.emit(Event::Section {
                        title: "BACKUP".into(),
                        lines,
                    });
                    ctx.runner
                        .emit(Event::Error(format!("pruning old backups: {e}")));
                    return Flow::Stop(ExitCode::Internal);
                }
            }
            ctx.runner.emit(Event::Section {
                title: "BACKUP".into(),
                lines,
            });
            Flow::Next(ExitCode::Ok)
        })
    }

    fn clean_up<'a>(&'a mut self, _ctx: &'a mut BackupRun<'r>) -> PhaseFuture<'a, ()> {
        Box::pin(async move {
            if let Some(p) = self.partial.take() {
                p.discard();
            }
        })
    }
}

/// Copy and check the snapshot, then the CA and the kubeadm config, into
/// `partial`; the BACKUP block's lines.
async fn save(
    ctx: &BackupRun<'_>,
    partial: &mut Partial,
    host: &str,
    taken: &Taken,
) -> Result<Vec<String>, StepError> {
    ctx.status(host, "copying the snapshot");
    let snap = partial.path(backup::SNAPSHOT);
    let remote = format!("{}/snapshot.db", taken.dir);
    let copied = copy::fetch(ctx.runner, host, "copy the snapshot", &remote, &snap).await?;
    if copied.sha256 != taken.sha256 || copied.size != taken.size {
        return Err(StepError::Output {
            host: host.to_string(),
            step: "copy the snapshot",
            problem: format!(
                "the copy has SHA-256 {} ({} bytes), the snapshot on the host {} ({} bytes): nothing was saved",
                copied.sha256, copied.size, taken.sha256, taken.size
            ),
        });
    }
    partial.record(backup::SNAPSHOT, &copied.sha256);
    for (remote, name) in [(CA_CERT, backup::CA_CERT), (CA_KEY, backup::CA_KEY)] {
        ctx.status(host, &format!("copying {remote}"));
        let c = copy::fetch(ctx.runner, host, "copy the CA", remote, &partial.path(name)).await?;
        partial.record(name, &c.sha256);
    }
    ctx.status(host, "reading the kubeadm-config ConfigMap");
    let config = step::run(
        ctx.runner,
        host,
        "read the kubeadm config",
        &format!(
            "kubectl --kubeconfig {ADMIN_CONF} --request-timeout=20s -n kube-system get configmap kubeadm-config -o yaml"
        ),
    )
    .await?;
    partial
        .write(backup::KUBEADM_CONFIG, config.as_bytes())
        .map_err(|e| StepError::Output {
            host: host.to_string(),
            step: "save the kubeadm config",
            problem: e.to_string(),
        })?;
    Ok(vec![format!(
        "etcd snapshot from {host}: {} bytes, SHA-256 {} (the same on {host} and here{})",
        copied.size,
        copied.sha256,
        if taken.etcdutl {
            "; etcdutl snapshot status read it"
        } else {
            ""
        }
    )])
}
