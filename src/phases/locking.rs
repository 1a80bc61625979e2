//! Phases: hold the host locks for the run (renewed while it lasts), and give them back at its end.
//!
//! Most locks were taken already, riding with the facts gather; [`Lock`]
//! takes the rest (hosts whose gather could not run as root), reports what
//! could not be taken, and starts the heartbeat. Its clean-up, and
//! [`Unlock`] at the end of a run that went through, release them; also
//! after a failure or SIGINT, since a lock left behind would make the next
//! run wait for its lease.

use std::sync::Arc;

use super::cluster_run::ClusterRun;
use super::manager::{Flow, Phase, PhaseFuture};
use super::preflight::refuse;
use crate::ssh::Connection;
use crate::ExitCode;

pub struct Lock;

impl<'r> Phase<ClusterRun<'r>> for Lock {
    fn title(&self) -> &'static str {
        "lock"
    }

    /// --check changes nothing, so it takes no lock (preflight refused
    /// already when another run holds one: its plan would be moving under it).
    fn runs_in_check(&self) -> bool {
        false
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let rest: Vec<(String, Arc<Connection>)> = ctx
                .runner
                .sessions
                .iter()
                .flatten()
                .filter(|s| ctx.runner.limit.contains(&s.name) && s.active())
                .filter(|s| !ctx.locks.holds(&s.name))
                .filter_map(|s| Some((s.name.clone(), s.conn.clone()?)))
                .collect();
            let mut refused = std::mem::take(&mut ctx.refused);
            if !rest.is_empty() {
                refused.extend(ctx.locks.take(rest, ctx.force_unlock).await);
            }
            if !refused.is_empty() {
                return refuse(
                    ctx.runner,
                    refused.iter().map(ToString::to_string).collect(),
                );
            }
            ctx.locks.start_heartbeat();
            ctx.runner.between_tasks = Some(ctx.locks.follower());
            Flow::Next(ExitCode::Ok)
        })
    }

    fn clean_up<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, ()> {
        Box::pin(ctx.release_locks())
    }
}

pub struct Unlock;

impl<'r> Phase<ClusterRun<'r>> for Unlock {
    fn title(&self) -> &'static str {
        "unlock"
    }

    fn runs_in_check(&self) -> bool {
        false
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            ctx.release_locks().await;
            Flow::Next(ExitCode::Ok)
        })
    }
}
