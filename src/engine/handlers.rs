//! Handlers: which ones a task notifies, and keeping the host's record of those not yet run.
//!
//! The record itself (its file, format and scripts) is [`crate::facts::pending`].
//! Here the runner adds a handler's name right after a real change notified
//! it, notifies the handlers an earlier run left pending, and removes a
//! name once its handler has run. Under `--check` nothing is written.

use std::collections::BTreeSet;

use super::error::RecordError;
use super::session::{sh_c, HostSession};
use super::task_run::RunEnv;
use crate::facts::pending;
use crate::playbook::{Play, Task};

/// Indices of the play's handlers that `task` notifies (by name or `listen`).
pub fn notified_by(play: &Play, task: &Task) -> Vec<usize> {
    play.handlers
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            task.notify
                .iter()
                .any(|n| h.name.as_deref() == Some(n.as_str()) || h.listen.iter().any(|l| l == n))
        })
        .map(|(i, _)| i)
        .collect()
}

/// The name a handler is remembered by on the host: its `name`, else its
/// first `listen` topic (handler names are global, as in Ansible).
pub fn key(handler: &Task) -> Option<&str> {
    handler
        .name
        .as_deref()
        .or(handler.listen.first().map(String::as_str))
        .filter(|k| pending::storable(k))
}

/// The play's handlers whose names an earlier run left in the host's record.
pub fn left_pending(play: &Play, recorded: &BTreeSet<String>) -> Vec<usize> {
    play.handlers
        .iter()
        .enumerate()
        .filter(|(_, h)| key(h).is_some_and(|k| recorded.contains(k)))
        .map(|(i, _)| i)
        .collect()
}

/// Whether a play's handlers run at its end: not after SIGINT (the hosts'
/// records keep them for the next run), and after a failure budget stopped
/// the run only with `force` (`--force-handlers`).
pub fn run_at_end(force: bool, stopped: bool, interrupted: bool) -> bool {
    !interrupted && (force || !stopped)
}

/// Whether a host runs the handlers notified on it: a host that failed a
/// task does only with `force`, an unreachable one never.
pub fn host_runs(force: bool, failed: bool, unreachable: bool) -> bool {
    !unreachable && (force || !failed)
}

/// Whether `task` really runs (it does not under `--check`, unless it says
/// `check_mode: false`).
pub fn runs_for_real(env: &RunEnv, task: &Task) -> bool {
    !env.check_mode || task.check_mode == Some(false)
}

/// After `task` changed the host for real: add the handlers it notified to
/// the host's record. A warning when the record cannot be written.
pub async fn remember(
    env: &RunEnv,
    session: &mut HostSession,
    play: &Play,
    task: &Task,
    who: Option<&str>,
) -> Option<String> {
    if !runs_for_real(env, task) {
        return None;
    }
    let new: BTreeSet<String> = notified_by(play, task)
        .into_iter()
        .filter_map(|h| key(&play.handlers[h]))
        .filter(|k| !session.recorded_handlers.contains(*k))
        .map(str::to_string)
        .collect();
    if new.is_empty() {
        return None;
    }
    let (script, stdin) = pending::add_script(&new);
    match run(env, session, &script, stdin, who).await {
        Ok(()) => {
            session.recorded_handlers.extend(new);
            None
        }
        Err(e) => Some(format!(
            "could not record the pending handler(s) {} in {}: {e}",
            names(&new),
            pending::PATH
        )),
    }
}

/// After `handler` ran for real and did not fail: take it out of the
/// host's record. A warning when the record cannot be rewritten.
pub async fn forget(
    env: &RunEnv,
    session: &mut HostSession,
    handler: &Task,
    who: Option<&str>,
) -> Option<String> {
    let k = key(handler)?;
    if !runs_for_real(env, handler) || !session.recorded_handlers.contains(k) {
        return None;
    }
    let done = BTreeSet::from([k.to_string()]);
    let (script, stdin) = pending::remove_script(&done);
    match run(env, session, &script, stdin, who).await {
        Ok(()) => {
            session.recorded_handlers.remove(k);
            None
        }
        Err(e) => Some(format!(
            "could not clear the handler {k:?} from {}: {e}",
            pending::PATH
        )),
    }
}

fn names(set: &BTreeSet<String>) -> String {
    set.iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn run(
    env: &RunEnv,
    session: &HostSession,
    script: &str,
    stdin: Option<Vec<u8>>,
    who: Option<&str>,
) -> Result<(), RecordError> {
    let conn = session.conn.as_ref().ok_or(RecordError::NotConnected)?;
    let out = conn.run_with(&sh_c(script), stdin, who, &env.opts).await?;
    if out.success() {
        Ok(())
    } else {
        Err(RecordError::Failed {
            rc: out.rc(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// --force-handlers as in Ansible: (force, failed, unreachable) → runs.
    #[test]
    fn force_handlers_reaches_failed_hosts_only() {
        let table = [
            (false, false, false, true),
            (false, true, false, false),
            (true, true, false, true),
            (false, false, true, false),
            (true, false, true, false),
            (true, true, true, false),
        ];
        for (force, failed, unreachable, want) in table {
            assert_eq!(
                host_runs(force, failed, unreachable),
                want,
                "force={force} failed={failed} unreachable={unreachable}"
            );
        }
    }

    /// (force, stopped by a failure budget, interrupted) → handlers run.
    #[test]
    fn force_handlers_outlasts_a_stopped_play_but_not_sigint() {
        let table = [
            (false, false, false, true),
            (false, true, false, false),
            (true, true, false, true),
            (true, false, true, false),
            (false, false, true, false),
        ];
        for (force, stopped, interrupted, want) in table {
            assert_eq!(
                run_at_end(force, stopped, interrupted),
                want,
                "force={force} stopped={stopped} interrupted={interrupted}"
            );
        }
    }
}
