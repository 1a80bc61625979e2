//! Where one host is in a play's blocks: which tasks it runs after a failure in `block` (its `rescue`, then its `always`), and when it fails for good.
//!
//! Ansible's rules: a task failing in a block's `block` sends the host to
//! the block's `rescue`; when the rescue runs to its end, the host is no
//! longer failed. A failure with no rescue to catch it (in `block` without
//! `rescue`, in `rescue`, in `always`) still runs the block's `always`, and
//! the host fails once it leaves the block, unless an outer block catches
//! that failure in turn. `rescue` runs only after a failure. The state is
//! pure bookkeeping: a play without blocks costs nothing.

use crate::playbook::{Block, Frame, Section};

/// What a host does with the next task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Run,
    /// Not for this host (a rescue after no failure, what a failure jumps over).
    Skip,
    /// The host left a block with its failure uncaught: it stops here.
    Fail,
}

/// Where a task's failure sends the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caught {
    /// To a block's `rescue`: Ansible counts the host `rescued`.
    Rescue,
    /// To a block's `always`; the failure stands once it is done.
    Always,
    /// Nowhere: the host fails now.
    Uncaught,
}

/// One host's place in the play's blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlockFlow {
    /// After a failure: skip the block's tasks before this section.
    seek: Option<(usize, Section)>,
    /// Blocks whose rescue the host is running.
    rescuing: Vec<usize>,
    /// Blocks whose failure stands (their `always` is running), innermost last.
    failing: Vec<usize>,
}

impl BlockFlow {
    /// A task of `frames` failed on the host (not ignored, not unreachable).
    pub fn on_failure(&mut self, frames: &[Frame], blocks: &[Block]) -> Caught {
        for &(id, section) in frames.iter().rev() {
            let Some(block) = blocks.get(id) else {
                continue;
            };
            self.rescuing.retain(|&b| b != id);
            if section == Section::Block && block.rescue {
                self.seek = Some((id, Section::Rescue));
                return Caught::Rescue;
            }
            if section != Section::Always && block.always {
                self.seek = Some((id, Section::Always));
                self.failing.push(id);
                return Caught::Always;
            }
        }
        Caught::Uncaught
    }

    /// May the host run the next task, in `frames` (none: the play's end)?
    pub fn before(&mut self, frames: &[Frame], blocks: &[Block]) -> Step {
        let inside = |id: usize| frames.iter().any(|&(b, _)| b == id);
        // A failure whose `always` is done goes on to the enclosing blocks.
        while let Some(&id) = self.failing.last() {
            if inside(id) {
                break;
            }
            self.failing.pop();
            let parent = blocks.get(id).map(|b| b.parent.clone()).unwrap_or_default();
            if self.on_failure(&parent, blocks) == Caught::Uncaught {
                *self = BlockFlow::default();
                return Step::Fail;
            }
        }
        self.rescuing.retain(|&b| inside(b));
        if let Some((id, wanted)) = self.seek {
            match frames.iter().find(|&&(b, _)| b == id) {
                Some(&(_, section)) if section < wanted => return Step::Skip,
                Some(&(_, Section::Rescue)) => {
                    self.seek = None;
                    self.rescuing.push(id);
                }
                _ => self.seek = None,
            }
        }
        let rescue_not_due = frames
            .iter()
            .any(|&(b, s)| s == Section::Rescue && !self.rescuing.contains(&b));
        if rescue_not_due {
            Step::Skip
        } else {
            Step::Run
        }
    }

    /// Nothing pending: every task runs as without blocks.
    pub fn idle(&self) -> bool {
        *self == BlockFlow::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Section::{Always, Block as B, Rescue};

    fn block(parent: Vec<Frame>, rescue: bool, always: bool) -> Block {
        Block {
            parent,
            rescue,
            always,
        }
    }

    /// Runs a flattened task list on one host: each task's frames and
    /// whether it fails when run; gives the tasks run and how it ended.
    fn walk(blocks: &[Block], tasks: &[(&str, Vec<Frame>, bool)]) -> (Vec<String>, &'static str) {
        let mut flow = BlockFlow::default();
        let mut ran = Vec::new();
        let mut rescued = 0;
        for (name, frames, fails) in tasks {
            match flow.before(frames, blocks) {
                Step::Skip => continue,
                Step::Fail => return (ran, "failed"),
                Step::Run => ran.push(name.to_string()),
            }
            if *fails {
                match flow.on_failure(frames, blocks) {
                    Caught::Uncaught => return (ran, "failed"),
                    Caught::Rescue => rescued += 1,
                    Caught::Always => {}
                }
            }
        }
        match flow.before(&[], blocks) {
            Step::Fail => (ran, "failed"),
            _ if rescued > 0 => (ran, "rescued"),
            _ => (ran, "ok"),
        }
    }

    /// (what, blocks, tasks (name, frames, fails), tasks run, how it ended)
    type Case<'a> = (
        &'a str,
        &'a [Block],
        Vec<(&'a str, Vec<Frame>, bool)>,
        &'a str,
        &'a str,
    );

    #[test]
    fn blocks_follow_ansibles_rescue_and_always_rules() {
        let one = vec![block(vec![], true, true)];
        let no_rescue = vec![block(vec![], false, true)];
        let nested = vec![block(vec![], true, true), block(vec![(0, B)], false, true)];
        let t = |n: &'static str, f: Vec<Frame>, fails: bool| (n, f, fails);
        // (what, blocks, tasks, tasks run, end)
        let table: Vec<Case> = vec![
            (
                "no failure: rescue skipped, always runs",
                &one,
                vec![
                    t("b1", vec![(0, B)], false),
                    t("r1", vec![(0, Rescue)], false),
                    t("a1", vec![(0, Always)], false),
                    t("after", vec![], false),
                ],
                "b1 a1 after",
                "ok",
            ),
            (
                "failure in block: rest of block skipped, rescue then always, host goes on",
                &one,
                vec![
                    t("b1", vec![(0, B)], true),
                    t("b2", vec![(0, B)], false),
                    t("r1", vec![(0, Rescue)], false),
                    t("a1", vec![(0, Always)], false),
                    t("after", vec![], false),
                ],
                "b1 r1 a1 after",
                "rescued",
            ),
            (
                "failure in rescue: always runs, then the host fails",
                &one,
                vec![
                    t("b1", vec![(0, B)], true),
                    t("r1", vec![(0, Rescue)], true),
                    t("r2", vec![(0, Rescue)], false),
                    t("a1", vec![(0, Always)], false),
                    t("after", vec![], false),
                ],
                "b1 r1 a1",
                "failed",
            ),
            (
                "no rescue: always runs, then the host fails",
                &no_rescue,
                vec![
                    t("b1", vec![(0, B)], true),
                    t("a1", vec![(0, Always)], false),
                    t("after", vec![], false),
                ],
                "b1 a1",
                "failed",
            ),
            (
                "failure in always: the host fails at once",
                &one,
                vec![
                    t("b1", vec![(0, B)], false),
                    t("a1", vec![(0, Always)], true),
                    t("a2", vec![(0, Always)], false),
                    t("after", vec![], false),
                ],
                "b1 a1",
                "failed",
            ),
            (
                "inner failure runs the inner always, then the outer rescue catches it",
                &nested,
                vec![
                    t("i1", vec![(0, B), (1, B)], true),
                    t("i2", vec![(0, B), (1, B)], false),
                    t("ia", vec![(0, B), (1, Always)], false),
                    t("o2", vec![(0, B)], false),
                    t("or", vec![(0, Rescue)], false),
                    t("oa", vec![(0, Always)], false),
                    t("after", vec![], false),
                ],
                "i1 ia or oa after",
                "ok",
            ),
            (
                "a failure at the play's last always task fails the host at the end",
                &no_rescue,
                vec![
                    t("b1", vec![(0, B)], true),
                    t("a1", vec![(0, Always)], false),
                ],
                "b1 a1",
                "failed",
            ),
        ];
        for (what, blocks, tasks, want_ran, want_end) in table {
            let (ran, end) = walk(blocks, &tasks);
            assert_eq!(
                (ran.join(" ").as_str(), end),
                (want_ran, want_end),
                "{what}"
            );
        }
    }

    #[test]
    fn failures_outside_blocks_are_not_caught() {
        let blocks = vec![block(vec![], true, true)];
        let mut flow = BlockFlow::default();
        assert_eq!(flow.on_failure(&[], &blocks), Caught::Uncaught);
        assert!(flow.idle());
    }
}
