//! The progress reporter: one spinner line per host saying what it does, drawn only on a terminal.

use std::collections::{BTreeSet, HashMap};
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::event::Event;
use super::redact;
use super::reporter::{Reporter, Sink};

/// What the line of a host that runs nothing says.
const IDLE: &str = "idle";

/// One spinner line per host while work is under way; drawn only when
/// stdout is a terminal, so pipelines and CI logs get plain text. Also the
/// text reporter's sink: lines printed above the spinners don't tear them.
pub struct Progress {
    multi: MultiProgress,
    bars: HashMap<String, ProgressBar>,
}

impl Progress {
    pub fn new(hosts: &[String]) -> Self {
        let target = if std::io::stdout().is_terminal() {
            ProgressDrawTarget::stdout()
        } else {
            ProgressDrawTarget::hidden()
        };
        let multi = MultiProgress::with_draw_target(target);
        let style = ProgressStyle::with_template("{spinner} {prefix:<20} {wide_msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bars = hosts
            .iter()
            .map(|h| {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_prefix(h.clone());
                bar.set_message("waiting");
                bar.enable_steady_tick(Duration::from_millis(120));
                (h.clone(), bar)
            })
            .collect();
        Progress { multi, bars }
    }

    /// Say what a host is doing now (a task title may hold a rendered secret).
    fn set(&self, host: &str, message: &str) {
        if let Some(bar) = self.bars.get(host) {
            bar.set_message(redact::text(message));
        }
    }

    /// A task starts on `busy`: their lines name it, every other host's
    /// says it is idle (not the task it ran last).
    fn working(&self, busy: &BTreeSet<&str>, task: &str) {
        let task = redact::text(task);
        for (host, bar) in &self.bars {
            let message = if busy.contains(host.as_str()) {
                task.as_str()
            } else {
                IDLE
            };
            bar.set_message(message.to_string());
        }
    }

    /// What a host's line says now.
    pub fn message(&self, host: &str) -> Option<String> {
        self.bars.get(host).map(|b| b.message())
    }

    /// Whether the lines are drawn (stdout is a terminal).
    pub fn on_terminal(&self) -> bool {
        !self.multi.is_hidden()
    }

    /// The host is done: its line goes away.
    fn finish(&self, host: &str) {
        if let Some(bar) = self.bars.get(host) {
            bar.finish_and_clear();
        }
    }

    /// Take every line down (before the recap).
    pub fn clear(&self) {
        for bar in self.bars.values() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

impl Reporter for Progress {
    fn emit(&self, event: &Event) {
        match event {
            Event::HostStatus { host, status } => self.set(host, status),
            Event::HostDone { host } => self.finish(host),
            Event::TaskStart { title, hosts } => {
                self.working(&hosts.iter().map(String::as_str).collect(), title)
            }
            Event::Recap { .. } => self.clear(),
            _ => {}
        }
    }

    fn live(&self) -> bool {
        self.on_terminal()
    }
}

impl Sink for Progress {
    /// Print text above the progress lines without tearing them.
    fn out(&self, text: &str) {
        if self.multi.is_hidden() {
            super::stdout::print(text);
        } else {
            let _ = self.multi.println(text.strip_suffix('\n').unwrap_or(text));
        }
    }

    fn err(&self, text: &str) {
        if self.multi.is_hidden() {
            super::stdout::error_text(text);
        } else {
            self.multi.suspend(|| super::stdout::error_text(text));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_outside_a_task_say_idle_not_their_last_task() {
        let hosts = ["a".to_string(), "b".to_string(), "c".to_string()];
        let p = Progress::new(&hosts);
        let start = |names: &[&str], title: &str| Event::TaskStart {
            title: title.into(),
            hosts: names.iter().map(|n| n.to_string()).collect(),
        };
        p.emit(&start(&["a", "b", "c"], "install containerd"));
        p.emit(&start(&["a"], "kubeadm init"));
        let shown: Vec<Option<String>> = hosts.iter().map(|h| p.message(h)).collect();
        assert_eq!(
            shown,
            [
                Some("kubeadm init".into()),
                Some("idle".into()),
                Some("idle".into())
            ]
        );
        p.clear();
    }

    #[test]
    fn a_status_line_never_shows_a_secret() {
        let secret = "prg001.zq98765432109876";
        redact::register(secret);
        let p = Progress::new(&["a".to_string()]);
        p.emit(&Event::HostStatus {
            host: "a".into(),
            status: format!("join with {secret}"),
        });
        p.emit(&Event::TaskStart {
            title: format!("echo {secret}"),
            hosts: vec!["a".into()],
        });
        assert_eq!(p.message("a").as_deref(), Some("echo ********"));
        p.clear();
    }
}
