//! Roles and imports as loaded: tasks in Ansible's order, keywords and variables where Ansible puts them.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::parse::load;
use super::Play;

fn play(path: &str) -> Play {
    let pb = load(Path::new(path)).unwrap_or_else(|e| {
        let all: Vec<String> = e.iter().map(|p| p.to_string()).collect();
        panic!("{}", all.join("\n"))
    });
    (*pb.plays[0]).clone()
}

const SITE: &str = "src/playbook/fixtures/good/structure/site.yml";

#[test]
fn roles_run_after_pre_tasks_dependencies_first_then_imports_in_place() {
    let p = play(SITE);
    let got: Vec<(String, String, usize)> = p
        .tasks
        .iter()
        .map(|t| {
            let file = t.file.strip_prefix("src/playbook/fixtures/good/structure/");
            let file = file.map_or(t.file.clone(), Path::to_path_buf);
            (t.title(), file.display().to_string(), t.line)
        })
        .collect();
    let want = [
        ("command", "site.yml", 6),
        ("base", "roles/base/tasks/main.yml", 1),
        ("web page", "roles/web/tasks/main.yml", 1),
        ("web extra", "roles/web/tasks/extra.yml", 1),
        ("base", "roles/base/tasks/main.yml", 1),
        ("common one", "tasks/common.yml", 2),
        ("nested", "tasks/nested.yml", 1),
        ("command", "site.yml", 20),
    ];
    let want: Vec<(String, String, usize)> = want
        .iter()
        .map(|(n, f, l)| (n.to_string(), f.to_string(), *l))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn role_and_import_keywords_reach_their_tasks() {
    let p = play(SITE);
    let by = |i: usize| &p.tasks[i];
    // The dependency inherits the role entry's when and tags; its own
    // params are its vars, over the parent's.
    assert_eq!(by(1).when, vec!["enabled"]);
    assert_eq!(by(1).tags, vec!["webtag"]);
    assert_eq!(by(1).vars["who"], json!("param"));
    assert_eq!(by(1).vars["from_dep"], json!(true));
    assert_eq!(by(2).when, vec!["enabled"]);
    assert_eq!(by(2).vars["who"], json!("param"));
    assert!(!by(2).vars.contains_key("from_dep"));
    // `base` listed on its own (no params) is another role run, without them.
    assert!(by(4).when.is_empty() && by(4).vars.is_empty());
    // An import's keywords add up with the imported task's own.
    assert_eq!(by(5).when, vec!["imported_ok", "inner"]);
    assert_eq!(by(5).tags, vec!["common"]);
    assert_eq!(by(5).vars["scope"], json!("imported"));
    assert_eq!(by(6).when, vec!["imported_ok"]);
    assert_eq!(by(7).when, Vec::<String>::new());
}

#[test]
fn role_files_vars_defaults_and_handlers() {
    let p = play(SITE);
    let web = PathBuf::from("src/playbook/fixtures/good/structure/roles/web");
    let base = PathBuf::from("src/playbook/fixtures/good/structure/roles/base");
    let dirs: Vec<Option<PathBuf>> = p.tasks.iter().map(|t| t.role_dir.clone()).collect();
    let want = [
        None,
        Some(&base),
        Some(&web),
        Some(&web),
        Some(&base),
        None,
        None,
        None,
    ];
    assert_eq!(dirs, want.map(|d| d.cloned()).to_vec());
    // Role vars win over the play's and are the play's too; the role's
    // own task carries them again, over other roles'.
    assert_eq!(p.vars["where"], json!("role"));
    assert_eq!(p.tasks[2].role_vars["where"], json!("role"));
    assert!(p.tasks[0].role_vars.is_empty());
    // Defaults: the later role's win (`base` listed after `web`); the
    // engine puts them under every other variable.
    assert_eq!(p.role_defaults["port"], json!(1));
    assert_eq!(p.role_defaults["base_only"], json!(1));
    assert_eq!(p.vars["port"], json!(80));
    let handlers: Vec<String> = p.handlers.iter().map(|h| h.title()).collect();
    assert_eq!(handlers, ["restart web", "play handler"]);
    assert_eq!(p.handlers[0].role_dir, Some(web));
}

#[test]
fn an_include_is_a_task_then_its_file_in_a_block_of_its_own() {
    let p = play("src/playbook/fixtures/good/structure/include.yml");
    let titles: Vec<String> = p.tasks.iter().map(|t| t.title()).collect();
    assert_eq!(titles, ["per user", "user task", "command"]);
    let (include, inner, after) = (&p.tasks[0], &p.tasks[1], &p.tasks[2]);
    // The include decides per host and item: when, loop and tags are its own.
    assert_eq!(include.module.name(), "include_tasks");
    assert_eq!(include.opens, Some(0));
    assert_eq!(include.when, vec!["wanted"]);
    assert_eq!(include.tags, vec!["users"]);
    assert_eq!(include.loop_var, "user");
    assert_eq!(include.args["file"], json!("tasks/user.yml"));
    assert_eq!(include.args["_item"], json!("{{ user }}"));
    assert!(include.blocks.is_empty());
    // Its file's tasks: in its block, with its vars and `apply`, not its when or tags.
    assert_eq!(inner.blocks, vec![(0, super::Section::Block)]);
    assert_eq!(inner.when, vec!["inner"]);
    assert_eq!(inner.tags, vec!["applied"]);
    assert_eq!(inner.become_, Some(true));
    assert_eq!(inner.vars["suffix"], json!("txt"));
    assert!(inner.file.ends_with("tasks/user.yml"));
    assert!(after.blocks.is_empty() && after.opens.is_none());
}

#[test]
fn imported_playbooks_and_included_vars() {
    let pb = load(Path::new("src/playbook/fixtures/good/structure/book.yml"))
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(pb.plays.len(), 2);
    let (inner, outer) = (&pb.plays[0], &pb.plays[1]);
    // The imported play: the entry's vars under its own, its tags added,
    // its roles and files found beside it.
    assert_eq!(inner.vars["from_import"], json!(1));
    assert_eq!(inner.vars["own"], json!(2));
    assert_eq!(inner.tags, vec!["imported"]);
    let sub = PathBuf::from("src/playbook/fixtures/good/structure/sub");
    let titles: Vec<String> = inner.tasks.iter().map(|t| t.title()).collect();
    assert_eq!(titles, ["sub role task", "include_vars"]);
    assert_eq!(inner.tasks[0].role_dir, Some(sub.join("roles/subrole")));
    assert_eq!(inner.tasks[1].role_dir, Some(sub.clone()));
    // include_vars: the file's vars set when the task runs (as set_fact).
    let iv = &inner.tasks[1];
    assert_eq!(iv.module.name(), "set_fact");
    assert_eq!(iv.args["local_word"], json!("{{ own }}"));
    let iv = &outer.tasks[0];
    assert_eq!(iv.module_name, "include_vars");
    assert_eq!(iv.when, vec!["wanted"]);
    assert_eq!(iv.args["common"], json!({"shared": 1, "list": ["a", "b"]}));
    assert!(iv.role_dir.is_none());
}
