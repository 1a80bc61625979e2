//! Where each host is in the play's `include_tasks`: which item of which include it runs, and when the file's tasks run again.
//!
//! The parser puts an include's file after the include's own task, in a
//! block of its own (`Task::opens`). The include's task decides per host,
//! with every task's rules (`when`, `loop`, one result per item): a host
//! it skipped or failed does not run the file; a host it included runs the
//! file's tasks once, or once per item with the item as `loop_var`. When
//! the last of those tasks is done and a host still has items, the play
//! goes back to the first of them for the next item, as Ansible runs an
//! included file once per item. Pure bookkeeping: a play without
//! `include_tasks` costs nothing.

use std::collections::HashMap;

use serde_json::{Map, Value as Json};

use super::play_run::Runner;
use crate::playbook::{Play, Task};
use crate::report::{Outcome, TaskResult};

/// One host inside one include: its items (None: the file once) and which
/// it is at.
#[derive(Debug, Clone)]
struct Inside {
    items: Option<Vec<Json>>,
    pos: usize,
    loop_var: String,
}

impl Inside {
    fn done(&self) -> bool {
        self.items.as_ref().is_some_and(|i| self.pos >= i.len())
    }
}

/// The play's includes, by (host, include block).
#[derive(Debug, Default)]
pub(super) struct Includes {
    /// Which of the play's blocks hold an included file.
    included: Vec<bool>,
    inside: HashMap<(usize, usize), Inside>,
}

impl Includes {
    pub(super) fn new(play: &Play) -> Includes {
        let mut included = vec![false; play.blocks.len()];
        for b in play.tasks.iter().filter_map(|t| t.opens) {
            if let Some(slot) = included.get_mut(b) {
                *slot = true;
            }
        }
        Includes {
            included,
            inside: HashMap::new(),
        }
    }

    /// Whether the play has any `include_tasks`.
    pub(super) fn any(&self) -> bool {
        self.included.iter().any(|b| *b)
    }

    /// The include blocks `task` is in, outermost first.
    fn of<'a>(&'a self, task: &'a Task) -> impl Iterator<Item = usize> + 'a {
        task.blocks
            .iter()
            .map(|&(b, _)| b)
            .filter(|b| self.included.get(*b).copied().unwrap_or(false))
    }

    /// After `task` ran: the hosts an include took in, with their items.
    pub(super) fn after(&mut self, task: &Task, results: &[(usize, TaskResult)]) {
        let Some(block) = task.opens else { return };
        for (host, r) in results {
            self.inside.remove(&(*host, block));
            if !matches!(r.outcome, Outcome::Ok | Outcome::Changed) || r.ignored {
                continue;
            }
            let items = task.loop_.as_ref().map(|_| {
                let results = r.registered["results"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                results
                    .iter()
                    .filter(|i| i.get("skipped") != Some(&Json::Bool(true)))
                    .filter_map(|i| i.get("item").cloned())
                    .collect()
            });
            let inside = Inside {
                items,
                pos: 0,
                loop_var: task.loop_var.clone(),
            };
            self.inside.insert((*host, block), inside);
        }
    }

    /// Whether `host` runs `task` (a host outside one of its includes
    /// does not), and the include items it sees then.
    pub(super) fn runs(&self, task: &Task, host: usize) -> Option<Map<String, Json>> {
        let mut vars = Map::new();
        for block in self.of(task) {
            let inside = self.inside.get(&(host, block)).filter(|i| !i.done())?;
            if let Some(items) = &inside.items {
                vars.insert(inside.loop_var.clone(), items[inside.pos].clone());
            }
        }
        Some(vars)
    }

    /// Where the play goes after `order[k]`: back to the first task of an
    /// include the next task leaves while one of `active` hosts has items
    /// left (they move to their next), else on.
    pub(super) fn next(
        &mut self,
        play: &Play,
        order: &[usize],
        k: usize,
        active: &[usize],
    ) -> usize {
        let here = &play.tasks[order[k]];
        let next = order.get(k + 1).map(|&t| &play.tasks[t]);
        let leaving: Vec<usize> = self
            .of(here)
            .filter(|b| next.is_none_or(|n| !n.blocks.iter().any(|&(x, _)| x == *b)))
            .collect();
        // Innermost first: an inner include's items come before the outer's.
        for block in leaving.into_iter().rev() {
            let again = active.iter().any(|h| {
                self.inside.get(&(*h, block)).is_some_and(|i| {
                    i.items
                        .as_ref()
                        .is_some_and(|items| i.pos + 1 < items.len())
                })
            });
            if again {
                for ((_, b), inside) in self.inside.iter_mut() {
                    if *b == block {
                        inside.pos += 1;
                        if inside.items.is_none() {
                            inside.items = Some(Vec::new());
                        }
                    }
                }
                let first = order
                    .iter()
                    .position(|&t| play.tasks[t].blocks.iter().any(|&(x, _)| x == block));
                return first.unwrap_or(k + 1);
            }
            self.inside.retain(|(_, b), _| *b != block);
        }
        k + 1
    }
}

impl Runner {
    /// The position in `order` of the task after `order[k]`, for the
    /// play's `hosts` (see [`Includes::next`]).
    pub(super) fn after_task(
        &self,
        includes: &mut Includes,
        play: &Play,
        order: &[usize],
        k: usize,
        hosts: &[usize],
    ) -> usize {
        if !includes.any() {
            return k + 1;
        }
        let active: Vec<usize> = hosts
            .iter()
            .copied()
            .filter(|&i| self.session(i).active())
            .collect();
        includes.next(play, order, k, &active)
    }

    /// Those of `hosts` that run task `t`, each given the items of the
    /// includes it is in.
    pub(super) fn in_includes(
        &mut self,
        includes: &Includes,
        task: &Task,
        hosts: Vec<usize>,
    ) -> Vec<usize> {
        if !includes.any() {
            return hosts;
        }
        let mut runs = Vec::with_capacity(hosts.len());
        for i in hosts {
            let Some(s) = self.sessions[i].as_mut() else {
                continue;
            };
            if let Some(vars) = includes.runs(task, i) {
                s.include_vars = vars;
                runs.push(i);
            }
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(outcome: Outcome, registered: Json) -> TaskResult {
        TaskResult {
            outcome,
            ignored: false,
            msg: String::new(),
            diffs: Vec::new(),
            items: Vec::new(),
            registered,
            shown: Vec::new(),
            retries: Vec::new(),
        }
    }

    /// The fixture: `per user` (include, loop over a, b; task 0), `user
    /// task` (its file; task 1), `command` (task 2).
    fn play() -> std::sync::Arc<Play> {
        let path = std::path::Path::new("src/playbook/fixtures/good/structure/include.yml");
        let book = crate::playbook::load(path).unwrap_or_else(|e| panic!("{e:?}"));
        book.plays[0].clone()
    }

    /// The task positions host 0 (two items) and host 1 (the include
    /// skipped) go through, with the item host 0 sees at each.
    #[test]
    fn the_file_runs_once_per_item_and_not_for_a_host_the_include_skipped() {
        let play = play();
        let order = [0, 1, 2];
        let mut inc = Includes::new(&play);
        assert!(inc.any());
        let items = json!({"results": [
            {"include": "tasks/user.yml", "item": "a"},
            {"skipped": true},
            {"include": "tasks/user.yml", "item": "c"},
        ]});
        inc.after(
            &play.tasks[0],
            &[
                (0, result(Outcome::Ok, items)),
                (1, result(Outcome::Skipped, json!({}))),
            ],
        );
        let mut walked = Vec::new();
        let mut k = 1;
        while k < order.len() {
            let task = &play.tasks[order[k]];
            let seen = inc.runs(task, 0).map(|v| v.get("user").cloned());
            walked.push((k, seen, inc.runs(task, 1).is_some()));
            k = inc.next(&play, &order, k, &[0, 1]);
        }
        let a = Some(Some(json!("a")));
        let c = Some(Some(json!("c")));
        assert_eq!(
            walked,
            vec![(1, a, false), (1, c, false), (2, Some(None), true)]
        );
    }

    #[test]
    fn a_failed_host_takes_no_further_item() {
        let play = play();
        let mut inc = Includes::new(&play);
        let items = json!({"results": [{"item": "a"}, {"item": "b"}]});
        inc.after(&play.tasks[0], &[(0, result(Outcome::Ok, items))]);
        // Host 0 is no longer active after its first item: the play goes on.
        assert_eq!(inc.next(&play, &[0, 1, 2], 1, &[]), 2);
    }
}
