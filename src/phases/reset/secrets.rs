//! Phase: once every host is reset, the state directory's secrets move to a dated backup beside them, so the next `apply` makes a new CA.
//!
//! Never deleted; and never moved while a host still holds the old cluster
//! (unreachable, failed, interrupted): its CA, token and kubeconfig are
//! what that cluster still runs on. The STATE block says which it was.

use crate::cluster::state::StateDir;
use crate::phases::cluster_run::ClusterRun;
use crate::phases::manager::{Flow, Phase, PhaseFuture};
use crate::report::Event;
use crate::ExitCode;

pub struct MoveSecrets;

impl<'r> Phase<ClusterRun<'r>> for MoveSecrets {
    fn title(&self) -> &'static str {
        "state directory"
    }

    fn run<'a>(&'a mut self, ctx: &'a mut ClusterRun<'r>) -> PhaseFuture<'a, Flow> {
        Box::pin(async move {
            let not_reset: Vec<String> = ctx
                .runner
                .sessions
                .iter()
                .flatten()
                .filter(|s| ctx.runner.limit.contains(&s.name) && !s.active())
                .map(|s| {
                    let why = if s.unreachable.is_some() {
                        "unreachable"
                    } else {
                        "failed"
                    };
                    format!("{} ({why})", s.name)
                })
                .collect();
            let state = ctx.state_path.display().to_string();
            let (lines, code) = if crate::interrupt::interrupted() {
                (
                    vec![format!("interrupted: the secrets stay in {state}")],
                    ExitCode::Ok,
                )
            } else if !not_reset.is_empty() {
                (kept_lines(&not_reset, &state), ExitCode::Ok)
            } else {
                match move_aside(ctx) {
                    Ok(lines) => (lines, ExitCode::Ok),
                    Err(e) => (vec![format!("error: {e}")], e.exit_code()),
                }
            };
            ctx.runner.emit(Event::Section {
                title: "STATE".into(),
                lines,
            });
            if code == ExitCode::Ok {
                Flow::Next(code)
            } else {
                Flow::Stop(code)
            }
        })
    }
}

/// Why the secrets stay, and what to do.
fn kept_lines(not_reset: &[String], state: &str) -> Vec<String> {
    vec![
        format!("not reset: {}", not_reset.join(", ")),
        format!(
            "the secrets stay in {state}: the cluster still exists on those hosts. Run \
             `kubestrap reset` again once they answer (a host gone for good: take it out \
             of the inventory first)"
        ),
    ]
}

/// Move the secrets (under `--check`: say what would move).
fn move_aside(ctx: &ClusterRun<'_>) -> Result<Vec<String>, crate::Error> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let state = if ctx.check {
        Some(StateDir::open_dry(&ctx.state_path)?)
    } else {
        StateDir::open_existing(&ctx.state_path)?
    };
    let Some(state) = state else {
        return Ok(vec![format!(
            "no state directory at {}: nothing to move",
            ctx.state_path.display()
        )]);
    };
    let (backup, moved) = state.move_aside(now)?;
    Ok(vec![match (moved.is_empty(), ctx.check) {
        (true, _) => format!("{}: nothing to move", ctx.state_path.display()),
        (false, true) => format!(
            "would move {} to {} (--check)",
            moved.join(", "),
            backup.display()
        ),
        (false, false) => format!(
            "moved {} to {}: the next `kubestrap apply` makes a new cluster CA",
            moved.join(", "),
            backup.display()
        ),
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_secrets_name_the_hosts_and_what_to_do() {
        let lines = kept_lines(&["node84 (unreachable)".into()], "/s");
        assert_eq!(lines[0], "not reset: node84 (unreachable)");
        assert!(lines[1].starts_with("the secrets stay in /s:"), "{lines:?}");
        assert!(lines[1].contains("`kubestrap reset` again"), "{lines:?}");
    }
}
