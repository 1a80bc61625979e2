//! Ctrl-C (SIGINT): no new task starts, running ones get a bounded grace period.
//!
//! The first SIGINT starts a grace period of [`GRACE`]; tasks still running
//! when it ends are stopped (their channels dropped) and reported failed. A
//! second SIGINT ends the grace period at once. The run then releases its
//! host locks, prints its recap and exits 130.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

/// How long running tasks may go on after the first SIGINT.
pub const GRACE: Duration = Duration::from_secs(10);

/// When the grace period ends; None until SIGINT arrives.
fn state() -> &'static watch::Sender<Option<Instant>> {
    static STATE: OnceLock<watch::Sender<Option<Instant>>> = OnceLock::new();
    STATE.get_or_init(|| watch::Sender::new(None))
}

/// Handle SIGINT from now on (inside a tokio runtime), telling the user
/// what happens through `notice`. Idempotent.
pub fn watch(notice: impl Fn(&str) + Send + 'static) {
    static WATCHING: OnceLock<()> = OnceLock::new();
    if WATCHING.set(()).is_err() {
        return;
    }
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            let now = Instant::now();
            let first = state().borrow().is_none();
            state().send_replace(Some(if first { now + GRACE } else { now }));
            if first {
                notice(&format!(
                    "\ninterrupted: no new task starts; running ones get {} s (Ctrl-C again to stop them now)",
                    GRACE.as_secs()
                ));
            } else {
                notice("\ninterrupted again: stopping running tasks now");
            }
        }
    });
}

/// Stop as after a first SIGINT, without a word: stdout was closed, so
/// nobody reads what the run prints. No-op when already interrupted.
pub fn stop_quietly() {
    state().send_if_modified(|deadline| {
        if deadline.is_some() {
            return false;
        }
        *deadline = Some(Instant::now() + GRACE);
        true
    });
}

/// SIGINT has arrived: start nothing new.
pub fn interrupted() -> bool {
    state().borrow().is_some()
}

/// Completes when the grace period after SIGINT is over; never before SIGINT.
pub async fn grace_over() {
    let mut rx = state().subscribe();
    loop {
        let deadline = *rx.borrow_and_update();
        match deadline {
            None => {
                if rx.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
            Some(d) => {
                tokio::select! {
                    _ = tokio::time::sleep_until(d) => return,
                    changed = rx.changed() => {
                        if changed.is_err() {
                            tokio::time::sleep_until(d).await;
                            return;
                        }
                    }
                }
            }
        }
    }
}
