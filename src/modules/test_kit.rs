//! The modules' one test kit: file states, arguments, a context as the runner builds it, plan readers.
//!
//! Every module's tests build their facts and arguments with these helpers,
//! so a change to `Context` or `Plan` is made here once.

use std::path::Path;

use serde_json::{Map, Value};

use super::sys_common::sha256_hex;
use super::{Action, Args, Context, Local, LocalContext, Module, Plan};
use crate::facts::{FactUpdate, Facts, FileKind, FileState};

/// Where the tests' playbook is: nothing is there, so a module that reads a
/// local file not given by the test fails visibly.
const PLAYBOOK_DIR: &str = "/nonexistent-playbook-dir";

/// Templates the tests' playbook has, before the shipped ones.
const PLAYBOOK_TEMPLATES: &[(&str, &str)] = &[("motd.j2", "hello node1\n")];

/// Module arguments from a JSON object.
pub fn args(v: Value) -> Args {
    match v {
        Value::Object(m) => Args(m),
        other => panic!("module args must be an object, got {other}"),
    }
}

/// A controller-side module's decision with `vars` for its expressions
/// (evaluated by the real renderer, as the runner does) and `-v` given
/// `verbosity` times.
pub fn local_with(
    module: &dyn Module,
    a: Value,
    vars: &Value,
    verbosity: u8,
) -> Result<Local, String> {
    let renderer = crate::render::Renderer::new();
    let scope = crate::render::to_jinja(vars);
    let eval = |expr: &str| {
        renderer
            .render_value(&Value::from(format!("{{{{ {expr} }}}}")), &scope)
            .map_err(|e| e.to_string())
    };
    let holds = |expr: &str| renderer.eval_bool(expr, &scope).map_err(|e| e.to_string());
    let ctx = LocalContext {
        eval: &eval,
        holds: &holds,
        verbosity,
    };
    module
        .local(&args(a), &ctx)
        .expect("a controller-side module")
}

/// [`local_with`] with no variables and no `-v`.
pub fn local(module: &dyn Module, a: Value) -> Result<Local, String> {
    local_with(module, a, &Value::Object(Map::new()), 0)
}

/// Render a template as the runner does: the playbook's own first, then the
/// shipped `templates/` with the real renderer.
pub fn render(name: &str, extra: &Map<String, Value>) -> Result<String, String> {
    if let Some((_, text)) = PLAYBOOK_TEMPLATES.iter().find(|(n, _)| *n == name) {
        return Ok(text.to_string());
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("templates")
        .join(name);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Err(format!("template {name} not found"));
    };
    let vars = crate::render::map_to_jinja(extra);
    crate::render::Renderer::new()
        .render_text(name, &text, &vars)
        .map_err(|e| e.to_string())
}

/// Call `f` with the context of host `node1` holding `facts`, its playbook in `base`.
pub fn with_ctx_in<T>(facts: &Facts, base: &Path, f: impl FnOnce(&Context) -> T) -> T {
    let ctx = Context {
        host: "node1",
        facts,
        base_dir: base,
        role_dir: None,
        render_template: &render,
    };
    f(&ctx)
}

/// [`with_ctx_in`] with the tests' (empty) playbook directory.
pub fn with_ctx<T>(facts: &Facts, f: impl FnOnce(&Context) -> T) -> T {
    with_ctx_in(facts, Path::new(PLAYBOOK_DIR), f)
}

/// Run `check` of `module` against `facts` with `args` (a JSON object).
pub fn check(module: &dyn Module, facts: &Facts, a: Value) -> Result<Plan, String> {
    with_ctx(facts, |ctx| module.check(&args(a), ctx))
}

/// Facts that hold these files and nothing else.
pub fn facts_of_files(files: &[(&str, FileState)]) -> Facts {
    let mut facts = Facts::default();
    for (p, s) in files {
        facts.files.insert(p.to_string(), s.clone());
    }
    facts
}

/// Run `check` of `module` on `args` against facts holding `files` only,
/// with the playbook in `base`.
pub fn check_in(
    module: &dyn Module,
    a: Value,
    files: &[(&str, FileState)],
    base: &Path,
) -> Result<Plan, String> {
    with_ctx_in(&facts_of_files(files), base, |ctx| {
        module.check(&args(a), ctx)
    })
}

/// [`check_in`] with the tests' (empty) playbook directory.
pub fn check_files(
    module: &dyn Module,
    a: Value,
    files: &[(&str, FileState)],
) -> Result<Plan, String> {
    check_in(module, a, files, Path::new(PLAYBOOK_DIR))
}

/// A regular file with this content, mode 0644, root:root.
pub fn file(content: &str) -> FileState {
    FileState {
        kind: FileKind::File,
        sha256: Some(sha256_hex(content.as_bytes())),
        size: Some(content.len() as u64),
        mode: Some(0o644),
        owner: Some("root".into()),
        group: Some("root".into()),
        content: Some(content.as_bytes().to_vec()),
    }
}

/// Nothing at the path.
pub fn missing() -> FileState {
    FileState::default()
}

/// A directory, mode 0755, root:root.
pub fn dir() -> FileState {
    FileState {
        kind: FileKind::Directory,
        mode: Some(0o755),
        owner: Some("root".into()),
        group: Some("root".into()),
        ..FileState::default()
    }
}

/// The scripts of a plan's actions, for assertions.
pub fn scripts(plan: &Plan) -> Vec<String> {
    plan.actions
        .iter()
        .map(|a| match a {
            Action::Run { script, .. } => script.clone(),
            Action::Fetch { remote, .. } => format!("fetch {remote}"),
            Action::Reconnect { confirm, .. } => format!("reconnect; {confirm}"),
        })
        .collect()
}

/// The stdin of the plan's actions, as text.
pub fn stdins(plan: &Plan) -> Vec<Option<String>> {
    plan.actions
        .iter()
        .map(|a| match a {
            Action::Run { stdin, .. } => stdin
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned()),
            Action::Fetch { .. } | Action::Reconnect { .. } => None,
        })
        .collect()
}

/// The one script and stdin of a single-action plan.
pub fn only_run(plan: &Plan) -> (&str, Option<&[u8]>) {
    match plan.actions.as_slice() {
        [Action::Run { script, stdin }] => (script, stdin.as_deref()),
        other => panic!("expected one Run action, got {other:?}"),
    }
}

/// The file state a plan leaves at `path`.
pub fn updated<'a>(plan: &'a Plan, path: &str) -> &'a FileState {
    plan.updates
        .iter()
        .find_map(|u| match u {
            FactUpdate::File(p, s) if p == path => Some(s),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no update for {path} in {:?}", plan.updates))
}

/// `facts` after the plan's updates, as the runner keeps them.
pub fn after(facts: &Facts, plan: &Plan) -> Facts {
    let mut f = facts.clone();
    for u in &plan.updates {
        f.update(u);
    }
    f
}
