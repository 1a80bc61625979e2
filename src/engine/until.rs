//! `until` / `retries` / `delay`: one item run again until its result satisfies `until`, as ansible-core does.
//!
//! ansible-core runs a task once plus `retries` times (3 when `until` is set
//! and `retries` is not; with `retries` alone, until the task does not fail),
//! `delay` seconds apart, and says `FAILED - RETRYING: [HOST]: NAME (N
//! retries left).` before each new attempt. The result holds `attempts`;
//! `until` sees it under the task's register name and on its own.

use std::time::Duration;

use serde_json::Value as Json;

use super::session::HostSession;
use super::task_item::{result_scope, run_item};
use super::task_run::{all_true, at, item_fail, ItemResult, RunEnv};
use crate::playbook::Task;
use crate::render::vars::Scope;
use crate::report::Outcome;

/// Run one item of `task`, again while `until` does not hold; the lines
/// to show for each retry go to `retries`.
pub(super) async fn run_until(
    env: &RunEnv,
    task: &Task,
    become_user: Option<&str>,
    session: &mut HostSession,
    scope: Scope,
    retries: &mut Vec<String>,
) -> ItemResult {
    let attempts = task.attempts();
    if attempts == 1 {
        return run_item(env, task, become_user, session, scope).await;
    }
    let mut attempt = 1;
    loop {
        let mut r = run_item(env, task, become_user, session, scope.clone()).await;
        if matches!(r.outcome, Outcome::Skipped | Outcome::Unreachable) {
            return r;
        }
        r.registered.insert("attempts".into(), Json::from(attempt));
        let done = match &task.until {
            None => Ok(r.outcome != Outcome::Failed),
            Some(exprs) => {
                let vars = result_scope(scope.clone(), task, &r.registered).value();
                all_true(env, exprs, &vars)
            }
        };
        match done {
            Err(e) => return item_fail(format!("{}until: {e}", at(task))),
            Ok(true) => return r,
            Ok(false) if attempt < attempts && !crate::interrupt::interrupted() => {}
            Ok(false) => return out_of_attempts(r, attempts),
        }
        retries.push(retry_line(&session.name, &task.title(), attempts - attempt));
        tokio::time::sleep(Duration::from_secs(task.delay)).await;
        attempt += 1;
    }
}

/// The last attempt's result, failed: `until` never held.
fn out_of_attempts(mut r: ItemResult, attempts: u32) -> ItemResult {
    // ansible-core's result says one attempt fewer than it made here.
    r.registered
        .insert("attempts".into(), Json::from(attempts - 1));
    r.registered.insert("failed".into(), Json::from(true));
    if r.outcome != Outcome::Failed {
        r.outcome = Outcome::Failed;
        r.msg = format!("`until` did not hold after {attempts} attempts");
    }
    r
}

/// What Ansible's default callback prints before a new attempt.
fn retry_line(host: &str, task: &str, left: u32) -> String {
    format!("FAILED - RETRYING: [{host}]: {task} ({left} retries left).")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_lines_are_ansibles() {
        assert_eq!(
            retry_line("node1", "wait for it", 3),
            "FAILED - RETRYING: [node1]: wait for it (3 retries left)."
        );
    }
}
