//! "still running: TASK on HOSTS (2m10s)" notices while a long task runs and no spinner shows it.
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

/// Run `work`; every `every`, hand `say` the hosts still in `running`
/// (hosts take themselves out as they finish) and the time since it began.
pub async fn watch<F: Future>(
    work: F,
    running: &Mutex<BTreeSet<String>>,
    every: Option<Duration>,
    say: impl Fn(Vec<String>, Duration),
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
                    say(hosts, started.elapsed());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

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
                &running,
                Some(Duration::from_millis(50)),
                move |hosts, elapsed| said.lock().unwrap().push((hosts.join(", "), elapsed)),
            )
            .await
        };
        assert_eq!(out, 7);
        let said = said.lock().unwrap().clone();
        let ms = Duration::from_millis;
        assert_eq!(
            said,
            [
                ("a, b".to_string(), ms(50)),
                ("a, b".to_string(), ms(100)),
                ("b".to_string(), ms(150)),
                ("b".to_string(), ms(200)),
            ]
        );
        let none = watch(async { 1 }, &running, None, |_, _| {
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
