//! Blocks and retries as loaded: tasks flattened in order, keywords inherited as in Ansible.

use std::path::Path;

use serde_json::json;

use super::model::{Block, Section as S};
use super::parse::load_str_with;
use super::parse_tests::fakes;
use super::Play;

fn play(text: &str) -> Play {
    let pb = load_str_with(Path::new("t.yaml"), text, fakes).unwrap_or_else(|e| {
        let all: Vec<String> = e.iter().map(|p| p.to_string()).collect();
        panic!("{}", all.join("\n"))
    });
    (*pb.plays[0]).clone()
}

const NESTED: &str = r#"- hosts: all
  become: true
  tasks:
    - run: first
    - name: outer
      when: a
      become_user: app
      tags: outer
      vars: {x: outer, y: outer}
      ignore_errors: true
      block:
        - run: b1
          when: b
          vars: {y: task}
        - block:
            - run: inner
              ignore_errors: false
              become_user: root
              tags: [mine]
          rescue:
            - run: inner-rescue
          when: c
          no_log: true
      rescue:
        - run: r1
      always:
        - run: a1
          check_mode: false
    - run: last
      until: out.rc == 0
      register: out
      delay: "2"
"#;

#[test]
fn block_tasks_are_flattened_in_order_with_their_place() {
    let p = play(NESTED);
    let got: Vec<(String, Vec<(usize, S)>)> = p
        .tasks
        .iter()
        .map(|t| {
            (
                t.args["_raw_params"].as_str().unwrap().to_string(),
                t.blocks.clone(),
            )
        })
        .collect();
    let want = vec![
        ("first", vec![]),
        ("b1", vec![(0, S::Block)]),
        ("inner", vec![(0, S::Block), (1, S::Block)]),
        ("inner-rescue", vec![(0, S::Block), (1, S::Rescue)]),
        ("r1", vec![(0, S::Rescue)]),
        ("a1", vec![(0, S::Always)]),
        ("last", vec![]),
    ];
    let want: Vec<(String, Vec<(usize, S)>)> =
        want.into_iter().map(|(n, f)| (n.to_string(), f)).collect();
    assert_eq!(got, want);
    assert_eq!(
        p.blocks,
        vec![
            Block {
                parent: vec![],
                rescue: true,
                always: true
            },
            Block {
                parent: vec![(0, S::Block)],
                rescue: true,
                always: false
            },
        ]
    );
    let lines: Vec<usize> = p.tasks.iter().map(|t| t.line).collect();
    assert_eq!(lines, [4, 12, 16, 21, 25, 27, 29]);
}

/// (task, when, tags, become_user, ignore_errors, no_log, check_mode)
type Inheriting = (
    usize,
    Vec<&'static str>,
    Vec<&'static str>,
    Option<&'static str>,
    bool,
    bool,
    Option<bool>,
);

#[test]
fn block_keywords_reach_their_tasks_as_in_ansible() {
    let p = play(NESTED);
    let t = |i: usize| &p.tasks[i];
    // (task, when, tags, become_user, ignore_errors, no_log, check_mode)
    let table: Vec<Inheriting> = vec![
        (0, vec![], vec![], None, false, false, None),
        (
            1,
            vec!["a", "b"],
            vec!["outer"],
            Some("app"),
            true,
            false,
            None,
        ),
        (
            2,
            vec!["a", "c"],
            vec!["outer", "mine"],
            Some("root"),
            false,
            true,
            None,
        ),
        (
            3,
            vec!["a", "c"],
            vec!["outer"],
            Some("app"),
            true,
            true,
            None,
        ),
        (4, vec!["a"], vec!["outer"], Some("app"), true, false, None),
        (
            5,
            vec!["a"],
            vec!["outer"],
            Some("app"),
            true,
            false,
            Some(false),
        ),
    ];
    for (i, when, tags, user, ignore, no_log, check) in table {
        let task = t(i);
        assert_eq!(task.when, when, "task {i} when");
        assert_eq!(task.tags, tags, "task {i} tags");
        assert_eq!(task.become_user.as_deref(), user, "task {i} become_user");
        assert_eq!(
            (task.ignore_errors, task.no_log, task.check_mode),
            (ignore, no_log, check),
            "task {i}"
        );
    }
    // Block vars under the task's own.
    assert_eq!(json!(t(1).vars), json!({"x": "outer", "y": "task"}));
    assert_eq!(json!(t(4).vars), json!({"x": "outer", "y": "outer"}));
    // The play's become stays the play's: the tasks do not copy it.
    assert_eq!(t(1).become_, None);
}

#[test]
fn environment_and_run_once_come_from_play_block_and_task() {
    let p = play(
        r#"- hosts: all
  environment: {A: play, B: play}
  tasks:
    - block:
        - run: x
          environment: {C: task, A: task}
        - run: y
          run_once: false
      environment: {B: block}
      run_once: true
    - run: z
      environment:
        - {D: 1}
        - {E: true}
"#,
    );
    let env: Vec<serde_json::Value> = p.tasks.iter().map(|t| json!(t.environment)).collect();
    assert_eq!(
        env,
        [
            json!({"A": "task", "B": "block", "C": "task"}),
            json!({"A": "play", "B": "block"}),
            json!({"A": "play", "B": "play", "D": "1", "E": "True"}),
        ]
    );
    let once: Vec<bool> = p.tasks.iter().map(|t| t.run_once).collect();
    assert_eq!(once, [true, false, false]);
}

#[test]
fn until_retries_and_delay_follow_ansible_core() {
    let p = play(NESTED);
    let last = &p.tasks[6];
    assert_eq!(last.until, Some(vec!["out.rc == 0".to_string()]));
    assert_eq!((last.retries, last.delay, last.attempts()), (None, 2, 4));
    // (keywords, attempts): once plus `retries`, 3 of them by default with `until`.
    let table = [
        ("", 1),
        ("    until: true\n", 4),
        ("    until: true\n    retries: 1\n", 2),
        ("    retries: 2\n", 3),
        ("    until: true\n    retries: 0\n", 1),
    ];
    for (keywords, attempts) in table {
        let text = format!("- hosts: all\n  tasks:\n  - run: x\n{keywords}");
        let p = play(&text);
        assert_eq!(p.tasks[0].attempts(), attempts, "{keywords}");
        assert_eq!(p.tasks[0].delay, 5, "{keywords}");
    }
}
