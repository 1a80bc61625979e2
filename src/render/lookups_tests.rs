//! Lookups as Ansible's documentation gives them: file, template, env, pipe, vars; lookup, query, wantlist, errors.

use serde_json::{json, Value as Json};

use super::PREDICTING;
use crate::render::{to_jinja, Renderer};

/// A playbook directory with files/, templates/ and a role.
fn layout() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |p: &str, text: &str| {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("files/motd.txt", "hello\nworld\n\n");
    write("beside.txt", "  beside  \n");
    write("files/both.txt", "playbook's\n");
    write("roles/web/files/both.txt", "role's\n");
    write("templates/t.j2", "x={{ x }} y={{ y | default('none') }}\n");
    dir
}

fn render(dir: &std::path::Path, expr: &str, extra: Json) -> Result<Json, String> {
    let mut vars = json!({"playbook_dir": dir.display().to_string(), "x": 1, "list": [1, 2]});
    for (k, v) in extra.as_object().unwrap() {
        vars[k] = v.clone();
    }
    Renderer::new()
        .render_value(&Json::from(format!("{{{{ {expr} }}}}")), &to_jinja(&vars))
        .map_err(|e| e.to_string())
}

#[test]
fn lookups_give_what_ansibles_give() {
    let dir = layout();
    let role = json!({"role_path": dir.path().join("roles/web").display().to_string()});
    let home = std::env::var("HOME").unwrap_or_default();
    let table: Vec<(&str, Json, Json)> = vec![
        // file: files/ first, then the playbook's directory; rstrip by default.
        (
            "lookup('file', 'motd.txt')",
            json!({}),
            json!("hello\nworld"),
        ),
        (
            "lookup('file', 'motd.txt', rstrip=False)",
            json!({}),
            json!("hello\nworld\n\n"),
        ),
        (
            "lookup('file', 'beside.txt', lstrip=True)",
            json!({}),
            json!("beside"),
        ),
        (
            "lookup('ansible.builtin.file', 'both.txt')",
            json!({}),
            json!("playbook's"),
        ),
        ("lookup('file', 'both.txt')", role.clone(), json!("role's")),
        // Several terms: joined by commas; wantlist and query give the list.
        (
            "lookup('file', 'both.txt', 'beside.txt')",
            json!({}),
            json!("playbook's,  beside"),
        ),
        (
            "lookup('file', 'both.txt', wantlist=True)",
            json!({}),
            json!(["playbook's"]),
        ),
        (
            "query('file', 'both.txt')",
            json!({}),
            json!(["playbook's"]),
        ),
        (
            "q('file', 'both.txt', 'both.txt') | length",
            json!({}),
            json!(2),
        ),
        // template: rendered with the task's variables and template_vars.
        (
            "lookup('template', 't.j2')",
            json!({}),
            json!("x=1 y=none\n"),
        ),
        (
            "lookup('template', 't.j2', template_vars={'y': 2})",
            json!({}),
            json!("x=1 y=2\n"),
        ),
        // env: the controller's; unset gives '' or the default.
        ("lookup('env', 'HOME')", json!({}), json!(home)),
        (
            "lookup('env', 'KUBESTRAP_SURELY_UNSET_42')",
            json!({}),
            json!(""),
        ),
        (
            "lookup('env', 'KUBESTRAP_SURELY_UNSET_42', default='d')",
            json!({}),
            json!("d"),
        ),
        // pipe: stdout without its trailing newlines, in the playbook's directory.
        ("lookup('pipe', 'echo hi; echo')", json!({}), json!("hi")),
        (
            "lookup('pipe', 'cat files/motd.txt | wc -l')",
            json!({}),
            json!("3"),
        ),
        // vars: by name, or the default.
        ("lookup('vars', 'x')", json!({}), json!(1)),
        (
            "lookup('vars', 'list', wantlist=True)",
            json!({}),
            json!([[1, 2]]),
        ),
        ("lookup('vars', 'nope', default='d')", json!({}), json!("d")),
        // errors='ignore': None, or [] with wantlist.
        (
            "lookup('file', 'nope.txt', errors='ignore')",
            json!({}),
            json!(null),
        ),
        (
            "lookup('file', 'nope.txt', errors='warn', wantlist=True)",
            json!({}),
            json!([]),
        ),
    ];
    for (expr, extra, want) in table {
        assert_eq!(render(dir.path(), expr, extra), Ok(want), "{expr}");
    }
}

#[test]
fn lookup_failures_name_the_lookup_and_what_failed() {
    let dir = layout();
    let table: Vec<(&str, Json, &str)> = vec![
        ("lookup('file', 'nope.txt')", json!({}), "lookup('file'): unable to find \"nope.txt\""),
        ("lookup('template', 'nope.j2')", json!({}), "lookup('template'): unable to find"),
        (
            "lookup('pipe', 'echo bad >&2; exit 3')",
            json!({}),
            "lookup('pipe', \"echo bad >&2; exit 3\"): the command returned 3 on the controller: bad",
        ),
        ("lookup('vars', 'nope')", json!({}), "lookup('vars'): no variable named \"nope\" was found"),
        ("lookup('dig', 'x')", json!({}), "lookup('dig'): not supported"),
        ("lookup('file', 'motd.txt', bogus=1)", json!({}), "bogus"),
        ("lookup('file', 'motd.txt', errors='loud')", json!({}), "errors must be strict, warn or ignore"),
        // The facts phase's prediction never runs a controller command.
        ("lookup('pipe', 'echo hi')", json!({PREDICTING: true}), "runs when its task runs"),
    ];
    for (expr, extra, want) in table {
        let err = render(dir.path(), expr, extra).unwrap_err();
        assert!(err.contains(want), "{expr}: {err}");
    }
}
