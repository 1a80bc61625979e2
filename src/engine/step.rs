//! `run --start-at-task` and `--step`: which tasks run, as ansible-playbook decides it.
//!
//! `--start-at-task NAME` skips every task before the first whose name is
//! NAME (or matches it as a shell glob), in whichever play it is; the
//! plays before still connect and gather facts, and from that task on
//! everything runs. `--step` asks before each task on the terminal:
//! `(N)o` skips it, `(y)es` runs it, `(c)ontinue` runs it and all the
//! rest without asking.

use std::io::BufRead;

use crate::playbook::{Playbook, Task};

/// Where a run is in `--start-at-task` and `--step`.
#[derive(Debug, Default, Clone)]
pub struct Stepping {
    /// The task to start at, until it is reached.
    pub start_at: Option<String>,
    /// Ask before each task.
    pub step: bool,
}

/// Whether `task` is the one `--start-at-task` names.
pub fn is_start(want: &str, task: &Task) -> bool {
    let name = task.title();
    name == want || crate::pattern::glob(want, &name)
}

/// `--start-at-task` must name a task of the playbook: else nothing would run.
pub fn check_start(book: &Playbook, want: &str) -> Result<(), String> {
    let found = book
        .plays
        .iter()
        .any(|p| p.tasks.iter().any(|t| is_start(want, t)));
    if found {
        Ok(())
    } else {
        Err(format!(
            "--start-at-task: no task of {} is named `{want}`",
            book.path.display()
        ))
    }
}

impl Stepping {
    /// Whether the task titled `title` (`task`) runs; asks on `input` under `--step`.
    pub fn runs(&mut self, task: &Task, title: &str, input: &mut dyn BufRead) -> bool {
        if let Some(want) = &self.start_at {
            if !is_start(want, task) {
                return false;
            }
            self.start_at = None;
        }
        if !self.step {
            return true;
        }
        loop {
            crate::report::say(crate::report::Event::Prompt(format!(
                "Perform task: TASK: {title} (N)o/(y)es/(c)ontinue: "
            )));
            let mut answer = String::new();
            // End of input or a broken terminal: the rest runs unasked, as `c`.
            if input.read_line(&mut answer).unwrap_or(0) == 0 {
                self.step = false;
                return true;
            }
            match answer.trim().to_lowercase().as_str() {
                "y" | "yes" => return true,
                "" | "n" | "no" => return false,
                "c" | "continue" => {
                    self.step = false;
                    return true;
                }
                _ => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn book() -> Playbook {
        crate::playbook::load_str(
            Path::new("t.yaml"),
            "- hosts: all\n  tasks:\n  - name: one\n    ping:\n  - name: two words\n    ping:\n  - ping:\n",
        )
        .unwrap_or_else(|e| panic!("{}", e[0]))
    }

    fn runs(s: &mut Stepping, answers: &str) -> Vec<bool> {
        let b = book();
        let mut input = answers.as_bytes();
        b.plays[0]
            .tasks
            .iter()
            .map(|t| s.runs(t, &t.title(), &mut input))
            .collect()
    }

    #[test]
    fn start_at_task_skips_until_the_named_task() {
        let cases = [
            ("two words", vec![false, true, true]),
            ("two*", vec![false, true, true]),
            ("ping", vec![false, false, true]),
        ];
        for (want, expected) in cases {
            let mut s = Stepping {
                start_at: Some(want.into()),
                step: false,
            };
            assert_eq!(runs(&mut s, ""), expected, "{want}");
        }
        assert!(check_start(&book(), "one").is_ok());
        assert_eq!(
            check_start(&book(), "three").unwrap_err(),
            "--start-at-task: no task of t.yaml is named `three`"
        );
    }

    #[test]
    fn step_asks_before_each_task() {
        let cases = [
            ("y\nn\ny\n", vec![true, false, true]),
            ("\nmaybe\ny\nc\n", vec![false, true, true]),
            ("c\n", vec![true, true, true]),
            ("n\n", vec![false, true, true]),
        ];
        for (answers, expected) in cases {
            let mut s = Stepping {
                start_at: None,
                step: true,
            };
            assert_eq!(runs(&mut s, answers), expected, "{answers:?}");
        }
    }
}
