//! Phase: `kubeadm certs renew all` on each control plane in turn, its static Pods restarted as kubeadm's documentation says, then a bounded wait until its API server answers.
//!
//! One control plane at a time, so the others keep serving; the first
//! failure stops the command (naming host and step) before the next
//! control plane is touched. A manifest moved out of the kubelet's
//! directory is put back by the clean-up, whatever stopped the run.

use std::time::{Duration, Instant};

use super::restart::{self, move_back_script, move_out_script, HOLDING, MANIFESTS};
use super::step::{self, StepError};
use super::CertsRun;
use crate::engine::Runner;
use crate::interrupt;
use crate::phases::cluster_plan::plan::ADMIN_CONF;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::{Event, Outcome};
use crate::ExitCode;

pub const RENEW: &str = "kubeadm certs renew all";
/// Answers once the API server serves again, with the renewed admin.conf.
pub fn api_check() -> String {
    format!("kubectl --kubeconfig {ADMIN_CONF} --request-timeout=5s get nodes")
}
/// The wait for the API server: this many tries, a pause between them,
/// and no longer than this in all.
const API_TRIES: u32 = 60;
const API_PAUSE: Duration = Duration::from_secs(3);
const API_DEADLINE: Duration = Duration::from_secs(240);
/// How often a long wait says it is still waiting.
const NOTICE_EVERY: Duration = Duration::from_secs(15);

pub struct Renew;

impl<'r> Phase<CertsRun<'r>> for Renew {
    fn title(&self) -> &'static str {
        "renew"
    }

    fn runs_in_check(&self) -> bool {
        false
    }

    fn run<'a>(&'a mut self, ctx: &'a mut CertsRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let unreachable = ctx.unreachable();
            if !unreachable.is_empty() {
                ctx.runner.emit(Event::Error(format!(
                    "not renewing: every control plane must answer, and {} did not; nothing was changed",
                    unreachable.join(", ")
                )));
                return Flow::Stop(ExitCode::Unreachable);
            }
            let mut done = Vec::new();
            for host in ctx.control_planes.clone() {
                if interrupt::interrupted() {
                    break;
                }
                let result = renew_one(ctx, &host).await;
                ctx.runner.emit(Event::HostDone { host: host.clone() });
                match result {
                    Ok(line) => {
                        ctx.record(&host, Outcome::Changed);
                        done.push(line);
                    }
                    Err(e) => {
                        ctx.record(&host, Outcome::Failed);
                        ctx.runner.emit(Event::Error(e.to_string()));
                        report(ctx, done);
                        return Flow::Stop(e.exit_code());
                    }
                }
            }
            report(ctx, done);
            Flow::Next(ExitCode::Ok)
        })
    }

    fn clean_up<'a>(&'a mut self, ctx: &'a mut CertsRun<'r>) -> PhaseFuture<'a, ()> {
        Box::pin(async move {
            if let Some(host) = ctx.manifests_out.take() {
                put_back(ctx.runner, &host).await;
            }
        })
    }
}

/// The clean-up's step: `host`'s static Pod manifests back in the
/// kubelet's directory, or an error line saying how to do it by hand.
pub async fn put_back(runner: &Runner, host: &str) {
    if let Err(e) = step::run(runner, host, "put the manifests back", &move_back_script()).await {
        runner.emit(Event::Error(format!(
            "{e}; the static Pod manifests wait in {HOLDING}: move them back to {MANIFESTS} (mv {HOLDING}/*.yaml {MANIFESTS}/)"
        )));
    }
}

/// The RENEW block: one line per control plane renewed (none: no block).
fn report(ctx: &CertsRun<'_>, done: Vec<String>) {
    if !done.is_empty() {
        ctx.runner.emit(Event::Section {
            title: "RENEW".into(),
            lines: done,
        });
    }
}

/// Renew, restart and wait on one control plane; the line it reports.
async fn renew_one(ctx: &mut CertsRun<'_>, host: &str) -> Result<String, StepError> {
    status(ctx, host, "kubeadm certs renew all");
    step::run(ctx.runner, host, "renew", RENEW).await?;

    status(ctx, host, "moving the static Pod manifests out");
    // Set first: a move that fails halfway may still have moved some.
    ctx.manifests_out = Some(host.to_string());
    let out = step::run(
        ctx.runner,
        host,
        "move the static Pod manifests out",
        &move_out_script(),
    )
    .await?;
    let (frequency, names) = restart::moved(&out);
    status(
        ctx,
        host,
        &format!(
            "waiting {}s (fileCheckFrequency) for the kubelet to stop the static Pods",
            frequency.as_secs()
        ),
    );
    if !pause(frequency).await {
        return Err(interrupted(host));
    }
    status(ctx, host, "moving the static Pod manifests back");
    step::run(
        ctx.runner,
        host,
        "move the static Pod manifests back",
        &move_back_script(),
    )
    .await?;
    ctx.manifests_out = None;

    let waited = wait_for_api(
        ctx.runner,
        host,
        "waiting for the API server after the restart",
    )
    .await?;
    Ok(format!(
        "{host}: renewed; restarted {} ({} out for {}s); the API server answered after {}s",
        names
            .iter()
            .map(|n| n.trim_end_matches(".yaml"))
            .collect::<Vec<_>>()
            .join(", "),
        MANIFESTS,
        frequency.as_secs(),
        waited.as_secs()
    ))
}

/// Until `host`'s API server answers with its admin.conf: bounded in
/// tries and time, saying so (`why` it waits) while it waits.
pub async fn wait_for_api(runner: &Runner, host: &str, why: &str) -> Result<Duration, StepError> {
    let wait = Wait {
        step: "wait for the API server",
        status: "waiting for the API server to answer",
        why,
        tries: API_TRIES,
        pause: API_PAUSE,
        deadline: API_DEADLINE,
    };
    wait.until(runner, host, &api_check(), |_| true).await
}

/// A bounded wait on one host: a command tried until its output is
/// `done`, a pause between tries, a progress line and a notice every
/// [`NOTICE_EVERY`] while it lasts. A command that fails counts as not yet
/// (its error is the one named when the wait ends); a lost host ends it.
pub struct Wait<'a> {
    pub step: &'static str,
    pub status: &'a str,
    pub why: &'a str,
    pub tries: u32,
    pub pause: Duration,
    pub deadline: Duration,
}

impl Wait<'_> {
    /// How long it took, or why it ended without `done`.
    pub async fn until(
        &self,
        runner: &Runner,
        host: &str,
        command: &str,
        done: impl Fn(&str) -> bool,
    ) -> Result<Duration, StepError> {
        let started = Instant::now();
        let mut last_notice = started;
        let mut last = String::new();
        for _ in 0..self.tries {
            say_status(runner, host, self.status);
            match step::run(runner, host, self.step, command).await {
                Ok(out) if done(&out) => return Ok(started.elapsed()),
                Ok(out) => last = out.split_whitespace().collect::<Vec<_>>().join(" "),
                Err(e @ StepError::Ssh { .. }) => return Err(e),
                Err(e) => last = e.to_string(),
            }
            if started.elapsed() + self.pause > self.deadline {
                break;
            }
            if last_notice.elapsed() >= NOTICE_EVERY {
                last_notice = Instant::now();
                runner.emit(Event::StillRunning {
                    task: self.why.into(),
                    hosts: vec![host.to_string()],
                    elapsed: started.elapsed(),
                });
            }
            if !pause(self.pause).await {
                return Err(interrupted(host));
            }
        }
        Err(StepError::Output {
            host: host.to_string(),
            step: self.step,
            problem: format!(
                "not done within {}s ({} tries at most); last: {last}",
                started.elapsed().as_secs(),
                self.tries
            ),
        })
    }
}

fn status(ctx: &CertsRun<'_>, host: &str, what: &str) {
    say_status(ctx.runner, host, what);
}

/// `host`'s progress line says `what` it is doing.
pub fn say_status(runner: &Runner, host: &str, what: &str) {
    runner.emit(Event::HostStatus {
        host: host.into(),
        status: what.into(),
    });
}

/// Sleep `d`; false when SIGINT came first.
pub async fn pause(d: Duration) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => !interrupt::interrupted(),
        _ = until_interrupted() => false,
    }
}

async fn until_interrupted() {
    while !interrupt::interrupted() {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn interrupted(host: &str) -> StepError {
    StepError::Output {
        host: host.to_string(),
        step: "restart",
        problem: "interrupted".into(),
    }
}
