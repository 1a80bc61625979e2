//! Phase: kubeadm's disaster recovery from an etcd snapshot, on every control plane at once — prepare, stop, swap, start, wait.
//!
//! kubernetes.io, "Operating etcd clusters for Kubernetes", restoring:
//! stop every API server, restore every etcd member from the one snapshot
//! (`etcdutl snapshot restore` into a new data directory, with the whole
//! `--initial-cluster`), start them again. On kubeadm's control planes the
//! Pods are static: they stop while their manifests are out of
//! /etc/kubernetes/manifests. Order, so that a failure leaves the cluster
//! as it was for as long as possible:
//!
//! 1. every control plane answers, has kubeadm's etcd manifest and etcdutl;
//! 2. on each, the snapshot is copied into a private directory, its SHA-256
//!    checked there, and restored into a new directory beside the running
//!    etcd's (nothing it uses is touched);
//! 3. every control plane's static Pods stop (bounded wait until crictl
//!    lists none of them);
//! 4. on each, the old `member` directory is renamed aside and the restored
//!    one renamed in; 5. the manifests go back; 6. each API server answers.
//!
//! The clean-up puts back manifests that are out and removes restore
//! directories not yet swapped in, whatever stopped the run.

use std::time::Duration;

use crate::cluster::backup::Checked;
use crate::engine::Runner;
use crate::phases::backup::scripts::{self, Member, RESTORE_TMP};
use crate::phases::certs::renew::{put_back, say_status, wait_for_api, Wait};
use crate::phases::certs::restart::{move_back_script, move_out_script};
use crate::phases::certs::step::{self, StepError};
use crate::phases::cluster_run::ClusterRun;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::{Event, Outcome};
use crate::ExitCode;

/// The wait for the kubelets to stop the static Pods: tries, the pause
/// between them, and no longer than this in all (the kubelet notices
/// within its fileCheckFrequency, 20 s by default, then stops the Pods
/// within their grace period).
const STOP_TRIES: u32 = 90;
const STOP_PAUSE: Duration = Duration::from_secs(2);
const STOP_DEADLINE: Duration = Duration::from_secs(180);

pub struct Restore {
    snapshot: Checked,
    /// The snapshot's bytes, sent to each control plane on stdin.
    bytes: Vec<u8>,
    /// `member.before-restore-<time>`.
    time: String,
    members: Vec<Member>,
    /// Restore directories made and not yet swapped in: (host, dir).
    prepared: Vec<(String, String)>,
    /// Control planes whose manifests are out right now.
    out: Vec<String>,
}

impl Restore {
    pub fn new(snapshot: Checked, bytes: Vec<u8>, time: String) -> Self {
        Restore {
            snapshot,
            bytes,
            time,
            members: Vec::new(),
            prepared: Vec::new(),
            out: Vec::new(),
        }
    }
}

impl<'r> Phase<ClusterRun<'r>> for Restore {
    fn title(&self) -> &'static str {
        "restore"
    }

    fn runs_in_check(&self) -> bool {
        false
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let hosts: Vec<String> = ctx.runner.limit.clone();
            let unreachable: Vec<String> = hosts
                .iter()
                .filter(|h| ctx.runner.session_named(h).is_none_or(|s| s.conn.is_none()))
                .cloned()
                .collect();
            if !unreachable.is_empty() {
                ctx.runner.emit(Event::Error(format!(
                    "not restoring: every control plane must answer, and {} did not; nothing was changed",
                    unreachable.join(", ")
                )));
                return Flow::Stop(ExitCode::Unreachable);
            }
            let mut lines = Vec::new();
            let result = self.restore(ctx, &hosts, &mut lines).await;
            let code = match result {
                Ok(()) => {
                    for h in &hosts {
                        ctx.runner.record(h, Outcome::Changed);
                    }
                    ExitCode::Ok
                }
                Err(e) => {
                    if let Some(h) = failed_host(&e) {
                        ctx.runner.record(h, Outcome::Failed);
                    }
                    ctx.runner.emit(Event::Error(e.to_string()));
                    e.exit_code()
                }
            };
            ctx.runner.emit(Event::Section {
                title: "RESTORE".into(),
                lines,
            });
            if code == ExitCode::Ok {
                Flow::Next(code)
            } else {
                Flow::Stop(code)
            }
        })
    }

    fn clean_up<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, ()> {
        Box::pin(async move {
            for host in std::mem::take(&mut self.out) {
                put_back(ctx.runner, &host).await;
            }
            for (host, dir) in std::mem::take(&mut self.prepared) {
                let script = scripts::remove_tmp(&dir);
                if let Err(e) =
                    step::run(ctx.runner, &host, "remove the restore directory", &script).await
                {
                    ctx.runner
                        .emit(Event::Error(format!("{e}; remove {dir} on {host} by hand")));
                }
            }
        })
    }
}

impl Restore {
    async fn restore(
        &mut self,
        ctx: &mut ClusterRun<'_>,
        hosts: &[String],
        lines: &mut Vec<String>,
    ) -> Result<(), StepError> {
        let runner = &*ctx.runner;
        for host in hosts {
            say_status(runner, host, "reading the etcd manifest");
            let out = step::run(
                runner,
                host,
                "read the etcd manifest",
                &scripts::member_script(),
            )
            .await?;
            let m = scripts::member(host, &out).map_err(|problem| StepError::Output {
                host: host.clone(),
                step: "read the etcd manifest",
                problem,
            })?;
            if !m.etcdutl {
                return Err(StepError::Output {
                    host: host.clone(),
                    step: "find etcdutl",
                    problem: "etcdutl is not installed: put the etcdutl binary of the etcd release (the version of the etcd image) into /usr/local/bin; nothing was changed".into(),
                });
            }
            self.members.push(m);
        }
        let cluster = scripts::initial_cluster(&self.members);
        for m in self.members.clone() {
            say_status(
                runner,
                &m.host,
                "copying the snapshot, etcdutl snapshot restore",
            );
            let script = scripts::prepare_script(&m, &cluster, &self.snapshot.sha256);
            let out = runner
                .run_with_stdin(&m.host, &script, self.bytes.clone())
                .await
                .map_err(|source| StepError::Ssh {
                    host: m.host.clone(),
                    step: "prepare the restore",
                    source,
                })?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            if !out.success() {
                return Err(StepError::Failed {
                    host: m.host.clone(),
                    step: "prepare the restore",
                    command: "the restore script (snapshot on stdin, etcdutl snapshot restore)"
                        .into(),
                    rc: out.rc(),
                    said: String::from_utf8_lossy(&out.stderr).trim().to_string(),
                });
            }
            let dir = scripts::tmp_dir(&stdout, RESTORE_TMP).ok_or_else(|| StepError::Output {
                host: m.host.clone(),
                step: "prepare the restore",
                problem: format!("unexpected output: {stdout:?}"),
            })?;
            self.prepared.push((m.host.clone(), dir));
            lines.push(format!(
                "{}: snapshot copied (SHA-256 checked) and restored for member {} of --initial-cluster {cluster}",
                m.host, m.name
            ));
        }
        for host in hosts {
            say_status(runner, host, "stopping the static Pods");
            // Noted first: a move that fails halfway may still have moved some.
            self.out.push(host.clone());
            step::run(
                runner,
                host,
                "move the static Pod manifests out",
                &move_out_script(),
            )
            .await?;
        }
        for host in hosts {
            wait_stopped(runner, host).await?;
        }
        for m in self.members.clone() {
            let dir = self
                .prepared
                .iter()
                .find(|(h, _)| *h == m.host)
                .map(|(_, d)| d.clone())
                .unwrap_or_default();
            say_status(runner, &m.host, "putting the restored data in place");
            let out = step::run(
                runner,
                &m.host,
                "swap the data directory",
                &scripts::swap_script(&m, &dir, &self.time),
            )
            .await?;
            self.prepared.retain(|(h, _)| *h != m.host);
            let aside = out
                .lines()
                .find_map(|l| l.strip_prefix("aside "))
                .map(|p| format!("; the old data is in {p}"))
                .unwrap_or_default();
            lines.push(format!("{}: {}/member restored{aside}", m.host, m.data_dir));
        }
        for host in hosts {
            say_status(runner, host, "starting the static Pods");
            step::run(
                runner,
                host,
                "move the static Pod manifests back",
                &move_back_script(),
            )
            .await?;
            self.out.retain(|h| h != host);
        }
        for host in hosts {
            let waited =
                wait_for_api(runner, host, "waiting for the API server after the restore").await?;
            lines.push(format!(
                "{host}: the API server answered after {}s",
                waited.as_secs()
            ));
        }
        Ok(())
    }
}

/// Until crictl lists none of `host`'s control-plane containers.
async fn wait_stopped(runner: &Runner, host: &str) -> Result<Duration, StepError> {
    let wait = Wait {
        step: "wait for the static Pods to stop",
        status: "waiting for the kubelet to stop the static Pods",
        why: "waiting for the static Pods to stop",
        tries: STOP_TRIES,
        pause: STOP_PAUSE,
        deadline: STOP_DEADLINE,
    };
    let still = scripts::still_running_script();
    wait.until(runner, host, &still, |out| out.trim().is_empty())
        .await
}

fn failed_host(e: &StepError) -> Option<&str> {
    match e {
        StepError::Failed { host, .. }
        | StepError::Ssh { host, .. }
        | StepError::Output { host, .. }
        | StepError::Local { host, .. } => Some(host),
    }
}
