//! Ansible's lookups on the controller: `lookup('file'|'template'|'env'|'pipe'|'vars', …)`, `query`/`q`, `wantlist`, `errors`.
//!
//! They run where the template is rendered, on this machine, as Ansible's
//! do. Files are searched as Ansible's `find_file_in_search_path` does:
//! the role's `files/` (or `templates/`) and the role, then the playbook's
//! (`role_path` and `playbook_dir` say where those are). The facts phase
//! renders task arguments ahead of the run to predict what they need; a
//! `pipe` lookup refuses to run there ([`PREDICTING`]), so a controller
//! command runs when its task runs, not before.

use std::path::{Path, PathBuf};

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Error, State, Value};

use super::filters::invalid;

/// Set (to true) in the variables of a render that only predicts what a
/// task will need: commands must not run then.
pub const PREDICTING: &str = "__kubestrap_predicting";

pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_function("lookup", lookup);
    env.add_function("query", query);
    env.add_function("q", query);
}

/// `lookup(name, terms…)`: one value, several joined by commas (as
/// Ansible's do when all are strings), or the list with `wantlist=True`.
fn lookup(state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let wantlist = kwargs.get::<Option<bool>>("wantlist")?.unwrap_or(false);
    let values = match run_checked(state, &name, &terms, &kwargs)? {
        Some(v) => v,
        None if wantlist => return Ok(Value::from(Vec::<Value>::new())),
        None => return Ok(Value::from(())),
    };
    if wantlist {
        return Ok(Value::from(values));
    }
    Ok(match values.len() {
        1 => values[0].clone(),
        n if n > 1 && values.iter().all(|v| v.kind() == ValueKind::String) => {
            let parts: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            Value::from(parts.join(","))
        }
        _ => Value::from(values),
    })
}

/// `query(name, terms…)` (`q`): always the list.
fn query(state: &State, name: String, terms: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    // Taken and ignored, as Ansible's query does: the answer is a list anyway.
    let _ = kwargs.get::<Option<bool>>("wantlist")?;
    let values = run_checked(state, &name, &terms, &kwargs)?.unwrap_or_default();
    Ok(Value::from(values))
}

/// Run the lookup; `errors='ignore'`/`'warn'` turn a failure into None.
fn run_checked(
    state: &State,
    name: &str,
    terms: &[Value],
    kwargs: &Kwargs,
) -> Result<Option<Vec<Value>>, Error> {
    let errors = kwargs
        .get::<Option<String>>("errors")?
        .unwrap_or_else(|| "strict".into());
    if !["strict", "warn", "ignore"].contains(&errors.as_str()) {
        return Err(invalid(format!(
            "lookup('{name}'): errors must be strict, warn or ignore, not `{errors}`"
        )));
    }
    let name = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    let result = match name {
        "file" => file(state, terms, kwargs),
        "template" => template(state, terms, kwargs),
        "env" => env(terms, kwargs),
        "pipe" => pipe(state, terms),
        "vars" => vars(state, terms, kwargs),
        other => {
            return Err(invalid(format!(
            "lookup('{other}'): not supported (kubestrap has file, template, env, pipe and vars)"
        )))
        }
    };
    // Options a lookup did not take are an error, as in Ansible.
    kwargs.assert_all_used()?;
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if errors == "strict" => Err(e),
        Err(_) => Ok(None),
    }
}

/// Each term as text.
fn texts(name: &str, terms: &[Value]) -> Result<Vec<String>, Error> {
    terms
        .iter()
        .map(|t| match t.as_str() {
            Some(s) => Ok(s.to_string()),
            None if t.is_undefined() => Err(invalid(format!("lookup('{name}'): undefined term"))),
            None => Ok(t.to_string()),
        })
        .collect()
}

/// A variable as text, when the render has it.
fn var_text(state: &State, name: &str) -> Option<String> {
    state
        .lookup(name)
        .filter(|v| !v.is_undefined() && !v.is_none())
        .map(|v| v.to_string())
}

/// Where Ansible looks for `term` of kind `subdir` (`files`, `templates`):
/// absolute as is; else the role's `subdir/` and the role, then the
/// playbook's `subdir/` and the playbook's directory.
pub fn search_path(role: Option<&Path>, playbook: &Path, subdir: &str, term: &str) -> Vec<PathBuf> {
    if Path::new(term).is_absolute() {
        return vec![PathBuf::from(term)];
    }
    role.into_iter()
        .chain([playbook])
        .flat_map(|b| [b.join(subdir).join(term), b.join(term)])
        .collect()
}

/// The first file of the search path, with its text.
fn find(state: &State, name: &str, subdir: &str, term: &str) -> Result<(PathBuf, String), Error> {
    let role = var_text(state, "role_path").map(PathBuf::from);
    let playbook = var_text(state, "playbook_dir").unwrap_or_else(|| ".".into());
    let candidates = search_path(role.as_deref(), Path::new(&playbook), subdir, term);
    for c in &candidates {
        if c.is_file() {
            return std::fs::read_to_string(c)
                .map(|text| (c.clone(), text))
                .map_err(|e| invalid(format!("lookup('{name}'): {}: {e}", c.display())));
        }
    }
    let searched: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
    Err(invalid(format!(
        "lookup('{name}'): unable to find {term:?} (searched {})",
        searched.join(", ")
    )))
}

/// `file`: the file's text, its trailing whitespace stripped unless `rstrip=False`.
fn file(state: &State, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let rstrip = kwargs.get::<Option<bool>>("rstrip")?.unwrap_or(true);
    let lstrip = kwargs.get::<Option<bool>>("lstrip")?.unwrap_or(false);
    let mut out = Vec::new();
    for term in texts("file", terms)? {
        let (_, mut text) = find(state, "file", "files", &term)?;
        if rstrip {
            text.truncate(text.trim_end().len());
        }
        if lstrip {
            text = text.trim_start().to_string();
        }
        out.push(Value::from(text));
    }
    Ok(out)
}

/// `template`: the file rendered with every variable of the render, plus
/// `template_vars`.
fn template(state: &State, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let extra = kwargs.get::<Option<Value>>("template_vars")?;
    // Options Ansible takes that change nothing here.
    let _ = kwargs.get::<Option<Value>>("convert_data")?;
    let mut vars = std::collections::BTreeMap::new();
    for name in state.known_variables() {
        if let Some(v) = state.lookup(&name) {
            vars.insert(name.to_string(), v);
        }
    }
    if let Some(extra) = extra.filter(|e| e.kind() == ValueKind::Map) {
        for key in extra.try_iter()? {
            let value = extra.get_item(&key)?;
            vars.insert(key.to_string(), value);
        }
    }
    let mut out = Vec::new();
    for term in texts("template", terms)? {
        let (path, text) = find(state, "template", "templates", &term)?;
        let rendered = state.env().render_named_str(
            &path.display().to_string(),
            &text,
            Value::from(vars.clone()),
        )?;
        out.push(Value::from(rendered));
    }
    Ok(out)
}

/// `env`: the controller's environment variable (its first word), else
/// `default` (empty text).
fn env(terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let default = kwargs
        .get::<Option<Value>>("default")?
        .unwrap_or_else(|| Value::from(""));
    Ok(texts("env", terms)?
        .iter()
        .map(|t| {
            let name = t.split_whitespace().next().unwrap_or("");
            std::env::var(name)
                .map(Value::from)
                .unwrap_or_else(|_| default.clone())
        })
        .collect())
}

/// `pipe`: a command run by `/bin/sh -c` on the controller, in the
/// playbook's directory; its stdout, trailing whitespace stripped. A
/// non-zero exit is an error naming the command.
fn pipe(state: &State, terms: &[Value]) -> Result<Vec<Value>, Error> {
    if state.lookup(PREDICTING).is_some_and(|v| v.is_true()) {
        return Err(invalid("lookup('pipe'): runs when its task runs"));
    }
    let dir = var_text(state, "playbook_dir").unwrap_or_else(|| ".".into());
    let mut out = Vec::new();
    for term in texts("pipe", terms)? {
        let done = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&term)
            .current_dir(&dir)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| invalid(format!("lookup('pipe', {term:?}): cannot run /bin/sh: {e}")))?;
        if !done.status.success() {
            let rc = done.status.code().unwrap_or(-1);
            let stderr = String::from_utf8_lossy(&done.stderr);
            let said = stderr.trim().lines().last().unwrap_or("").to_string();
            return Err(invalid(format!(
                "lookup('pipe', {term:?}): the command returned {rc} on the controller: {said}"
            )));
        }
        let text = String::from_utf8_lossy(&done.stdout);
        out.push(Value::from(text.trim_end()));
    }
    Ok(out)
}

/// `vars`: the variable of each name, else `default`, else an error.
fn vars(state: &State, terms: &[Value], kwargs: &Kwargs) -> Result<Vec<Value>, Error> {
    let default = kwargs.get::<Option<Value>>("default")?;
    texts("vars", terms)?
        .iter()
        .map(
            |name| match state.lookup(name).filter(|v| !v.is_undefined()) {
                Some(v) => Ok(v),
                None => default.clone().ok_or_else(|| {
                    invalid(format!(
                        "lookup('vars'): no variable named {name:?} was found"
                    ))
                }),
            },
        )
        .collect()
}

#[cfg(test)]
#[path = "lookups_tests.rs"]
mod tests;
