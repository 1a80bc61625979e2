//! The JSON reporter: builds `--report`'s [`RunReport`] from the events of a run.

use std::sync::Mutex;

use super::event::Event;
use super::reporter::Reporter;
use super::{HostReport, PlayReport, RunReport, TaskHostReport, TaskReport};

/// Collects a run's events into its report; [`Json::write`] saves it.
pub struct Json {
    report: Mutex<RunReport>,
}

impl Json {
    pub fn new(playbook: &str, check_mode: bool) -> Self {
        Json {
            report: Mutex::new(RunReport {
                playbook: playbook.to_string(),
                check_mode,
                ..Default::default()
            }),
        }
    }

    /// The report as it stands.
    pub fn report(&self) -> RunReport {
        self.report.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Write the report to `path` (0600, atomically, every secret masked).
    pub fn write(&self, path: &std::path::Path) -> std::io::Result<()> {
        super::write_report(path, &self.report())
    }
}

impl Reporter for Json {
    fn emit(&self, event: &Event) {
        let Ok(mut report) = self.report.lock() else {
            return;
        };
        match event {
            Event::PlayStart { name } => report.plays.push(PlayReport {
                name: name.clone(),
                tasks: Vec::new(),
            }),
            Event::TaskEnd {
                title,
                handler,
                location,
                module,
            } => {
                if let Some(p) = report.plays.last_mut() {
                    p.tasks.push(TaskReport {
                        name: title.clone(),
                        handler: *handler,
                        location: location.clone(),
                        module: module.clone(),
                        hosts: Default::default(),
                    });
                }
            }
            Event::HostResult {
                host,
                result,
                no_log,
            } => {
                let r = result.shown(*no_log);
                let task = report.plays.last_mut().and_then(|p| p.tasks.last_mut());
                if let Some(task) = task {
                    task.hosts.insert(
                        host.clone(),
                        TaskHostReport {
                            outcome: r.outcome,
                            ignored: r.ignored,
                            msg: r.msg,
                            items: r.items,
                            diff: r.diffs,
                        },
                    );
                }
            }
            Event::Phase(phase) => report.timings.push(phase.clone()),
            Event::Recap { hosts } => {
                for h in hosts {
                    report.stats.insert(
                        h.host.clone(),
                        HostReport {
                            stats: h.stats,
                            ssh_execs: h.ssh_execs,
                        },
                    );
                }
            }
            Event::RunEnd { total_s } => report.timings.total_s = *total_s,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::event::{HostTotals, TaskResult};
    use crate::report::timings::{Phase, PhaseKind};
    use crate::report::{HostStats, Outcome};

    #[test]
    fn the_report_is_built_from_the_events_with_secrets_masked() {
        let secret = "jsn001.zq11112222333344";
        crate::report::redact::register(secret);
        let json = Json::new("site.yml", true);
        let result = |outcome, msg: &str| TaskResult {
            outcome,
            ignored: false,
            msg: msg.into(),
            diffs: vec![format!("+token: {secret}\n")],
            items: vec![],
            registered: serde_json::json!({"stdout": secret}),
            shown: Vec::new(),
            retries: Vec::new(),
        };
        let mut stats = HostStats::default();
        stats.record(Outcome::Changed);
        for e in [
            Event::PlayStart { name: "p".into() },
            Event::TaskEnd {
                title: "t".into(),
                handler: false,
                location: "site.yml:3".into(),
                module: "command".into(),
            },
            Event::HostResult {
                host: "n1".into(),
                result: result(Outcome::Changed, &format!("ran {secret}")),
                no_log: false,
            },
            Event::HostResult {
                host: "n2".into(),
                result: result(Outcome::Ok, "quiet"),
                no_log: true,
            },
            Event::Phase(Phase {
                kind: PhaseKind::Task,
                name: "t".into(),
                hosts: 2,
                seconds: 0.5,
            }),
            Event::Recap {
                hosts: vec![HostTotals {
                    host: "n1".into(),
                    stats,
                    ssh_execs: 3,
                }],
            },
            Event::RunEnd { total_s: 2.0 },
        ] {
            json.emit(&e);
        }
        let v = serde_json::to_value(json.report()).unwrap();
        assert_eq!(v["playbook"], "site.yml");
        assert_eq!(v["check_mode"], true);
        let task = &v["plays"][0]["tasks"][0];
        assert_eq!(task["location"], "site.yml:3");
        assert_eq!(task["hosts"]["n1"]["outcome"], "changed");
        assert_eq!(task["hosts"]["n1"]["msg"], "ran ********");
        assert_eq!(task["hosts"]["n1"]["diff"][0], "+token: ********\n");
        assert!(task["hosts"]["n2"]["msg"]
            .as_str()
            .unwrap()
            .contains("no_log: true"));
        assert!(task["hosts"]["n2"].get("diff").is_none());
        assert_eq!(v["stats"]["n1"]["changed"], 1);
        assert_eq!(v["stats"]["n1"]["ssh_execs"], 3);
        assert_eq!(v["timings"]["tasks_s"], 0.5);
        assert_eq!(v["timings"]["total_s"], 2.0);
        assert!(!v.to_string().contains("zq1111"), "{v}");
    }
}
