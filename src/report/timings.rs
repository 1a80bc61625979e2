//! Where a run's wall-clock time went, phase by phase, for `--report`.
//!
//! Coarse on purpose: one entry per fan-out (connect, gather, each task,
//! each handler) and one for the recap, so the bench can say which phase
//! the next optimisation should aim at without a profiler.

use std::time::Instant;

use serde::Serialize;

/// What a phase of the run was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseKind {
    /// TCP, key exchange, host key check and authentication.
    Connect,
    /// The facts round trip.
    Gather,
    /// One task over all its hosts (until the last host is done).
    Task,
    /// One handler over the hosts that notified it.
    Handler,
    /// Releasing locks, counting, closing connections, printing PLAY RECAP.
    Recap,
}

/// One fan-out of the run, in the order they happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    pub kind: PhaseKind,
    /// The task's or handler's title; the play's name for connect and gather.
    pub name: String,
    /// Hosts it ran on.
    pub hosts: usize,
    pub seconds: f64,
}

impl Phase {
    /// A phase that began at `started` and ends now.
    pub fn since(kind: PhaseKind, name: &str, hosts: usize, started: Instant) -> Phase {
        Phase {
            kind,
            name: name.to_string(),
            hosts,
            seconds: started.elapsed().as_secs_f64(),
        }
    }
}

/// The `timings` section of the report: totals per kind and every phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Timings {
    /// From the start of the run to the end of the recap.
    pub total_s: f64,
    pub connect_s: f64,
    pub gather_s: f64,
    pub tasks_s: f64,
    pub handlers_s: f64,
    pub recap_s: f64,
    pub phases: Vec<Phase>,
}

impl Timings {
    /// Record a phase that began at `started` and ends now.
    pub fn add(&mut self, kind: PhaseKind, name: &str, hosts: usize, started: Instant) {
        self.push(Phase::since(kind, name, hosts, started));
    }

    /// Record a phase measured elsewhere.
    pub fn push(&mut self, phase: Phase) {
        let total = match phase.kind {
            PhaseKind::Connect => &mut self.connect_s,
            PhaseKind::Gather => &mut self.gather_s,
            PhaseKind::Task => &mut self.tasks_s,
            PhaseKind::Handler => &mut self.handlers_s,
            PhaseKind::Recap => &mut self.recap_s,
        };
        *total += phase.seconds;
        self.phases.push(phase);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_add_up_per_kind_and_keep_their_order() {
        let mut t = Timings::default();
        let start = Instant::now();
        t.add(PhaseKind::Connect, "play", 3, start);
        t.add(PhaseKind::Task, "a", 3, start);
        t.add(PhaseKind::Task, "b", 2, start);
        t.add(PhaseKind::Handler, "h", 1, start);
        let kinds: Vec<PhaseKind> = t.phases.iter().map(|p| p.kind).collect();
        assert_eq!(
            kinds,
            [
                PhaseKind::Connect,
                PhaseKind::Task,
                PhaseKind::Task,
                PhaseKind::Handler
            ]
        );
        let tasks: f64 = t.phases[1..3].iter().map(|p| p.seconds).sum();
        assert_eq!(t.tasks_s, tasks);
        assert_eq!(t.connect_s, t.phases[0].seconds);
        assert_eq!((t.gather_s, t.recap_s), (0.0, 0.0));
        assert_eq!(t.phases[2].hosts, 2);
    }

    #[test]
    fn the_json_shape_is_what_the_bench_reads() {
        let mut t = Timings::default();
        t.add(PhaseKind::Gather, "Prepare", 10, Instant::now());
        t.total_s = 1.5;
        let v = serde_json::to_value(&t).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "connect_s",
                "gather_s",
                "handlers_s",
                "phases",
                "recap_s",
                "tasks_s",
                "total_s"
            ]
        );
        assert_eq!(v["total_s"], 1.5);
        let phase = &v["phases"][0];
        assert_eq!(phase["kind"], "gather");
        assert_eq!(phase["name"], "Prepare");
        assert_eq!(phase["hosts"], 10);
        assert!(phase["seconds"].as_f64().unwrap() >= 0.0);
    }
}
