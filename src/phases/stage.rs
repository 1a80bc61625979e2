//! Phase: one stage of apply (its playbooks in order), within the run's failure budget.
//!
//! Control planes stop the run when one fails; workers share a budget
//! (`--max-worker-failure-percent`). The budget is this phase's to pass to
//! the runner: the engine knows no roles.

use super::cluster_run::ClusterRun;
use super::manager::{Flow, Phase, PhaseFuture};
use crate::engine::RunBudget;
use crate::inventory::{Inventory, Role};
use crate::ExitCode;

pub struct Stage(pub &'static str);

impl<'r> Phase<ClusterRun<'r>> for Stage {
    fn title(&self) -> &'static str {
        self.0
    }

    fn stage(&self) -> Option<&'static str> {
        Some(self.0)
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let budget = run_budget(
                &ctx.runner.inventory,
                &ctx.runner.limit,
                ctx.worker_failure_percent,
            );
            let mut code = ExitCode::Ok;
            for (book, base) in ctx.books_of(self.0) {
                // Checked between playbooks: the run stops once the budget
                // is spent.
                let between = ctx.books_run > 0;
                if between && (ctx.runner.aborted || ctx.runner.stop_for_budget(&budget)) {
                    ctx.budget = budget;
                    return Flow::Stop(code);
                }
                if crate::interrupt::interrupted() {
                    break;
                }
                ctx.runner.switch_playbook(book, base);
                code = code.max(ctx.runner.run_budgeted(&budget).await);
                ctx.books_run += 1;
            }
            ctx.budget = budget;
            if ctx.runner.aborted {
                Flow::Stop(code)
            } else {
                Flow::Next(code)
            }
        })
    }
}

/// Control planes stop the apply when one fails; workers share a budget.
fn run_budget(inv: &Inventory, limit: &[String], percent: u32) -> RunBudget {
    let in_run = |h: &&crate::inventory::Host| limit.contains(&h.name);
    let names = |role: Role, not: Option<Role>| -> Vec<String> {
        inv.hosts
            .iter()
            .filter(in_run)
            .filter(|h| h.roles.contains(&role) && not.is_none_or(|n| !h.roles.contains(&n)))
            .map(|h| h.name.clone())
            .collect()
    };
    RunBudget {
        fatal: names(Role::ControlPlane, None),
        shared: names(Role::Worker, Some(Role::ControlPlane)),
        percent: f64::from(percent),
        fatal_label: "control plane".into(),
        shared_label: "workers".into(),
    }
}
