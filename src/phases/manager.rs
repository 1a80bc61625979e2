//! Running a command's phases in order, with `--until`, `--check` and clean-up on failure or interrupt.
//!
//! A command (`apply`, later `upgrade`, `reset` …) is an ordered list of
//! small [`Phase`] values over one context `C` (the run's hosts, facts and
//! plan). The manager decides what runs, so no phase repeats it:
//! - a phase of a stage after `--until STAGE` does not run;
//! - under `--check` a phase that only changes things does not run;
//! - a phase whose [`Phase::should_run`] says there is nothing to do (read
//!   from facts and the plan, no round trip) does not run;
//! - after a phase says [`Flow::Stop`], or once SIGINT arrived, no further
//!   phase runs, and every phase that ran gets its [`Phase::clean_up`], the
//!   last one first (the lock phase releases its locks there).

use std::future::Future;
use std::pin::Pin;

use crate::ExitCode;

/// A phase's future, borrowing the phase and the context.
pub type PhaseFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// What a phase's run tells the manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next phase; the code is folded into the command's.
    Next(ExitCode),
    /// The command cannot go on: no further phase runs, and the phases that
    /// ran are cleaned up.
    Stop(ExitCode),
}

/// One step of a command.
pub trait Phase<C> {
    /// What the phase does, in a few words (logs, `-v`).
    fn title(&self) -> &'static str;

    /// The command's stage this phase belongs to: `--until` leaves out the
    /// phases of later stages. None: the phase belongs to every run.
    fn stage(&self) -> Option<&'static str> {
        None
    }

    /// Whether the phase runs under `--check`. A phase that predicts (the
    /// playbook stages) does; one that only changes things (taking the lock,
    /// writing the kubeconfig) does not.
    fn runs_in_check(&self) -> bool {
        true
    }

    /// Whether there is anything to do, decided from what the context
    /// already knows (facts, the plan): it costs no round trip.
    fn should_run(&self, _ctx: &C) -> bool {
        true
    }

    fn run<'a>(&'a mut self, ctx: &'a mut C) -> PhaseFuture<'a, Flow>;

    /// Undo or give back what [`Phase::run`] took, after a later phase (or
    /// this one) stopped the command or SIGINT arrived. Runs at most once.
    fn clean_up<'a>(&'a mut self, _ctx: &'a mut C) -> PhaseFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// The index of the last stage that runs with `--until until` (the last
/// stage when None); None when `until` names no stage.
pub fn stage_position(stages: &[&str], until: Option<&str>) -> Option<usize> {
    match until {
        None => Some(stages.len().saturating_sub(1)),
        Some(u) => stages.iter().position(|s| *s == u),
    }
}

/// A phase that did not run, and why (for logs and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    AfterUntil,
    Check,
    NothingToDo,
}

/// The phases of one command and how this run treats them.
pub struct Manager<'p, C> {
    phases: Vec<Box<dyn Phase<C> + 'p>>,
    stages: &'static [&'static str],
    /// Index into `stages` of the last stage that runs.
    until: usize,
    check: bool,
    interrupted: fn() -> bool,
}

impl<'p, C> Manager<'p, C> {
    /// A manager over the command's `stages` (in order; every phase's
    /// stage is one of them) running `phases` in order.
    pub fn new(stages: &'static [&'static str], phases: Vec<Box<dyn Phase<C> + 'p>>) -> Self {
        debug_assert!(phases
            .iter()
            .all(|p| p.stage().is_none_or(|s| stages.contains(&s))));
        Manager {
            phases,
            stages,
            until: stages.len().saturating_sub(1),
            check: false,
            interrupted: crate::interrupt::interrupted,
        }
    }

    /// Stop after stage `until` (every stage when None).
    /// None when `until` names no stage.
    pub fn until(mut self, until: Option<&str>) -> Option<Self> {
        self.until = stage_position(self.stages, until)?;
        Some(self)
    }

    /// Under `--check`: leave out the phases that only change things.
    pub fn check(mut self, check: bool) -> Self {
        self.check = check;
        self
    }

    /// Where the manager learns that SIGINT arrived (tests give their own).
    pub fn interrupted_by(mut self, interrupted: fn() -> bool) -> Self {
        self.interrupted = interrupted;
        self
    }

    /// Why phase `p` does not run in this run, judged before it would.
    fn skipped(&self, p: &dyn Phase<C>, ctx: &C) -> Option<Skipped> {
        let stage = p
            .stage()
            .and_then(|s| self.stages.iter().position(|x| *x == s));
        if stage.is_some_and(|s| s > self.until) {
            Some(Skipped::AfterUntil)
        } else if self.check && !p.runs_in_check() {
            Some(Skipped::Check)
        } else if !p.should_run(ctx) {
            Some(Skipped::NothingToDo)
        } else {
            None
        }
    }

    /// Run the phases; the exit code is the worst any of them gave
    /// (at least [`ExitCode::Interrupted`] after SIGINT).
    pub async fn run(mut self, ctx: &mut C) -> ExitCode {
        let mut code = ExitCode::Ok;
        let mut ran: Vec<usize> = Vec::new();
        let mut stopped = false;
        for i in 0..self.phases.len() {
            if (self.interrupted)() {
                break;
            }
            if let Some(why) = self.skipped(self.phases[i].as_ref(), ctx) {
                tracing::debug!("phase {:?} skipped: {why:?}", self.phases[i].title());
                continue;
            }
            tracing::debug!("phase {:?}", self.phases[i].title());
            ran.push(i);
            match self.phases[i].run(ctx).await {
                Flow::Next(c) => code = code.max(c),
                Flow::Stop(c) => {
                    code = code.max(c);
                    stopped = true;
                    break;
                }
            }
        }
        let interrupted = (self.interrupted)();
        if interrupted {
            code = code.max(ExitCode::Interrupted);
        }
        if stopped || interrupted {
            for &i in ran.iter().rev() {
                tracing::debug!("phase {:?}: clean-up", self.phases[i].title());
                self.phases[i].clean_up(ctx).await;
            }
        }
        code
    }
}

#[cfg(test)]
mod tests;
