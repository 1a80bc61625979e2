//! "still running: TASK on HOSTS (2m10s)" lines while a long task runs and no spinner shows it.
//!
//! Without a terminal (CI logs, `| tee`) the spinners are hidden, and a
//! task that takes minutes would print nothing until it ends. A line every
//! [`INTERVAL`] says what is still running where. Tests shorten the
//! interval with the hidden `KUBESTRAP_STILL_RUNNING_SECS` variable.

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

/// How often the line is printed.
pub const INTERVAL: Duration = Duration::from_secs(30);

/// Environment variable that overrides [`INTERVAL`] (whole seconds), for tests.
pub const INTERVAL_ENV: &str = "KUBESTRAP_STILL_RUNNING_SECS";

/// The interval to use: None on a terminal (the spinners say it already).
pub fn interval(stdout_is_terminal: bool) -> Option<Duration> {
    if stdout_is_terminal {
        return None;
    }
    let set = std::env::var(INTERVAL_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0);
    Some(set.map_or(INTERVAL, Duration::from_secs))
}

/// Run `work`; every `every`, hand `say` a line naming `task` and the hosts
/// still in `running` (hosts take themselves out as they finish).
pub async fn watch<F: Future>(
    work: F,
    task: &str,
    running: &Mutex<BTreeSet<String>>,
    every: Option<Duration>,
    say: impl Fn(String),
) -> F::Output {
    let Some(every) = every else {
        return work.await;
    };
    let started = tokio::time::Instant::now();
    let mut tick = tokio::time::interval_at(started + every, every);
    tokio::pin!(work);
    loop {
        tokio::select! {
            out = &mut work => return out,
            _ = tick.tick() => {
                let hosts: Vec<String> = running
                    .lock()
                    .map(|r| r.iter().cloned().collect())
                    .unwrap_or_default();
                if !hosts.is_empty() {
                    say(line(task, &hosts, started.elapsed()));
                }
            }
        }
    }
}

/// `still running: TASK on a, b (2m10s)`.
fn line(task: &str, hosts: &[String], elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    let took = if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{secs}s")
    };
    format!("still running: {task} on {} ({took})", hosts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_line_names_task_hosts_and_time() {
        let hosts = ["node1".to_string(), "node2".to_string()];
        let table = [
            (5, "still running: kubeadm init on node1, node2 (5s)"),
            (130, "still running: kubeadm init on node1, node2 (2m10s)"),
            (3600, "still running: kubeadm init on node1, node2 (60m00s)"),
        ];
        for (secs, want) in table {
            assert_eq!(
                line("kubeadm init", &hosts, Duration::from_secs(secs)),
                want
            );
        }
    }

    /// The clock is paused: it moves only when every task waits, so the
    /// ticks fall exactly at 50, 100, 150 and 200 ms.
    #[tokio::test(start_paused = true)]
    async fn lines_come_while_hosts_run_and_stop_when_they_finish() {
        let running = Mutex::new(BTreeSet::from(["a".to_string(), "b".to_string()]));
        let said = Arc::new(Mutex::new(Vec::new()));
        let out = {
            let said = said.clone();
            let work = async {
                tokio::time::sleep(Duration::from_millis(130)).await;
                running.lock().unwrap().remove("a");
                tokio::time::sleep(Duration::from_millis(100)).await;
                7
            };
            watch(
                work,
                "t",
                &running,
                Some(Duration::from_millis(50)),
                move |l| said.lock().unwrap().push(l),
            )
            .await
        };
        assert_eq!(out, 7);
        let said = said.lock().unwrap().clone();
        assert_eq!(
            said,
            [
                "still running: t on a, b (0s)",
                "still running: t on a, b (0s)",
                "still running: t on b (0s)",
                "still running: t on b (0s)",
            ]
        );
        let none = watch(async { 1 }, "t", &running, None, |_| {
            panic!("no terminal line")
        })
        .await;
        assert_eq!(none, 1);
    }

    #[test]
    fn no_lines_on_a_terminal() {
        assert_eq!(interval(true), None);
        assert!(interval(false).is_some());
    }
}
