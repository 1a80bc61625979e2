//! Play keywords written as templates (`hosts`, `gather_facts: "{{ x | bool }}"`, …), rendered when the play starts.
//!
//! Ansible templates a play's keywords before the play runs, with the vars
//! known without a host: play vars (and vars_files), extra vars, and the
//! magic variables that need no host (`groups`, `playbook_dir`,
//! `ansible_check_mode`, `ansible_diff_mode`). No host's inventory vars,
//! facts or `hostvars` are there, so a keyword cannot depend on one host.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value as Json;

use super::error::PlayError;
use super::hosts::render_lazily;
use super::play_run::Runner;
use super::task_run::RunEnv;
use crate::playbook::Play;
use crate::render::vars::Scope;
use crate::render::{has_template, RenderError};

/// The scope a play's keywords are rendered in (see the module's doc).
pub(super) fn play_scope(env: &RunEnv, play: &Play) -> Scope {
    let mut base = Scope::default();
    base.set("groups", env.groups.clone());
    base.set("ansible_check_mode", minijinja::Value::from(env.check_mode));
    base.set("ansible_diff_mode", minijinja::Value::from(env.diff));
    base.set_json(
        "playbook_dir",
        &Json::from(env.base_dir.display().to_string()),
    );
    // A play var that needs a host's vars stays undefined here, as in
    // Ansible; a keyword that uses it fails naming what is undefined.
    let (vars, _) = render_lazily(&play.vars, |done, v| {
        let mut s = base.clone();
        s.layer(done);
        s.layer(&env.extra_vars);
        env.renderer.render_value(v, &s.value())
    });
    base.layer(&vars);
    base.layer(&env.extra_vars);
    base
}

/// Render `template` in `scope`; a lone `{{ … }}` keeps its type.
fn render(env: &RunEnv, template: &str, scope: &Scope) -> Result<Json, RenderError> {
    env.renderer
        .render_value(&Json::from(template), &scope.value())
}

impl Runner {
    /// The play as it runs: `play` itself when none of its keywords is a
    /// template (no cost for plain plays), else a copy with them rendered,
    /// put in the runner's playbook for the tasks to see. The rendered
    /// `hosts` pattern comes too (None: `play.hosts` as written).
    pub(super) fn play_as_run(
        &mut self,
        index: usize,
        play: &Arc<Play>,
    ) -> Result<(Arc<Play>, Option<String>), PlayError> {
        let (resolved, pattern) = resolve(&self.env, play, &self.playbook.path)?;
        let Some(resolved) = resolved else {
            return Ok((play.clone(), pattern));
        };
        let resolved = Arc::new(resolved);
        Arc::make_mut(&mut self.playbook).plays[index] = resolved.clone();
        Ok((resolved, pattern))
    }
}

/// `play` with its templated keywords rendered (None: it has none) and its
/// rendered `hosts` pattern (None: not a template). `playbook` names the
/// file in errors.
fn resolve(
    env: &RunEnv,
    play: &Play,
    playbook: &Path,
) -> Result<(Option<Play>, Option<String>), PlayError> {
    let hosts_templated = has_template(&play.hosts);
    if play.templated.is_empty() && !hosts_templated {
        return Ok((None, None));
    }
    let scope = play_scope(env, play);
    let pattern = if hosts_templated {
        let p = render(env, &play.hosts, &scope).map_err(|source| PlayError::Hosts {
            playbook: playbook.to_path_buf(),
            line: play.line,
            play: play.name.clone(),
            source: Box::new(source),
        })?;
        Some(match p {
            Json::String(p) => p,
            other => other.to_string(),
        })
    } else {
        None
    };
    // An unnamed play is called by its hosts, as rendered (Ansible's PLAY line).
    let unnamed = hosts_templated && play.name == play.hosts;
    if play.templated.is_empty() && !unnamed {
        return Ok((None, pattern));
    }
    let mut resolved = play.clone();
    if let (true, Some(p)) = (unnamed, &pattern) {
        resolved.name = p.clone();
    }
    for (key, template) in &play.templated {
        let fail = |message: String| PlayError::Keyword {
            playbook: playbook.to_path_buf(),
            line: play.line,
            play: play.name.clone(),
            key: key.clone(),
            message,
        };
        let value = render(env, template, &scope).map_err(|e| fail(e.to_string()))?;
        let value = serde_yaml::to_value(&value).map_err(|e| fail(e.to_string()))?;
        resolved.set_keyword(key, &value).map_err(fail)?;
    }
    Ok((Some(resolved), pattern))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(extra: Json) -> RunEnv {
        RunEnv {
            renderer: crate::render::Renderer::new(),
            opts: crate::ssh::Options::default(),
            check_mode: true,
            force_handlers: false,
            diff: false,
            verbosity: 0,
            base_dir: "/books".into(),
            extra_vars: extra.as_object().cloned().unwrap_or_default(),
            groups: crate::render::to_jinja(&json!({"all": ["a", "b"], "web": ["a"]})),
            hostvars: Default::default(),
            failed_hosts: Default::default(),
            play_hosts: Default::default(),
            delegate_facts_under_check: Default::default(),
        }
    }

    /// What a play runs with: its name, hosts pattern, become, gather_facts,
    /// any_errors_fatal, force_handlers, max_fail_percentage.
    type Seen = (String, String, Option<bool>, bool, bool, bool, Option<f64>);

    fn seen(play: &Play, pattern: Option<String>) -> Seen {
        (
            play.name.clone(),
            pattern.unwrap_or_else(|| play.hosts.clone()),
            play.become_,
            play.gather_facts,
            play.any_errors_fatal,
            play.force_handlers,
            play.max_fail_percentage,
        )
    }

    fn run(book: &str, extra: Json) -> Result<Seen, String> {
        let pb = crate::playbook::load_str(Path::new("/books/site.yaml"), book)
            .map_err(|e| format!("{e:?}"))?;
        let play = &pb.plays[0];
        let (resolved, pattern) =
            resolve(&env(extra), play, &pb.path).map_err(|e| e.to_string())?;
        Ok(seen(resolved.as_ref().unwrap_or(play), pattern))
    }

    fn want(
        name: &str,
        hosts: &str,
        b: Option<bool>,
        g: bool,
        f: bool,
        h: bool,
        m: Option<f64>,
    ) -> Seen {
        (name.into(), hosts.into(), b, g, f, h, m)
    }

    /// (playbook, extra vars, what the play runs with) — as checked with
    /// ansible-playbook 2.19 (play vars, lazily resolved, and extra vars
    /// are there; no host's vars).
    #[test]
    fn templated_keywords_are_rendered_with_play_and_extra_vars() {
        let cases: Vec<(&str, Json, Seen)> = vec![
            (
                "- hosts: all\n  gather_facts: \"{{ g | bool }}\"\n  vars: {g: 'no'}\n  tasks: []\n",
                json!({}),
                want("all", "all", None, false, false, false, None),
            ),
            (
                "- hosts: \"{{ target }}\"\n  name: \"for {{ target }} of {{ groups.all | length }}\"\n  vars:\n    target: \"{{ base }}\"\n    base: web\n  tasks: []\n",
                json!({}),
                want("for web of 2", "web", None, true, false, false, None),
            ),
            (
                "- hosts: \"{{ target }}\"\n  vars: {target: web}\n  tasks: []\n",
                json!({"target": "all"}),
                want("all", "all", None, true, false, false, None),
            ),
            (
                "- hosts: all\n  become: \"{{ b }}\"\n  any_errors_fatal: \"{{ ansible_check_mode }}\"\n  force_handlers: \"{{ 'yes' }}\"\n  max_fail_percentage: \"{{ p }}\"\n  tasks: []\n",
                json!({"b": "true", "p": 30}),
                want("all", "all", Some(true), true, true, true, Some(30.0)),
            ),
            // Written plainly: nothing to render, the play is used as it is.
            (
                "- hosts: all\n  gather_facts: no\n  tasks: []\n",
                json!({}),
                want("all", "all", None, false, false, false, None),
            ),
        ];
        for (book, extra, expected) in cases {
            assert_eq!(run(book, extra), Ok(expected), "{book}");
        }
    }

    /// A keyword that cannot be rendered, or renders to what it does not
    /// take, stops the run naming the playbook, the play and the keyword.
    #[test]
    fn a_bad_keyword_is_named_with_its_play() {
        let cases = [
            (
                "- hosts: all\n  gather_facts: \"{{ inventory_var }}\"\n  tasks: []\n",
                "/books/site.yaml:1: play \"all\": gather_facts: ",
                "undefined",
            ),
            (
                "- hosts: all\n  gather_facts: \"{{ 'maybe' }}\"\n  tasks: []\n",
                "/books/site.yaml:1: play \"all\": gather_facts: ",
                "`gather_facts` must be a boolean, got `maybe`",
            ),
            (
                "- name: x\n  hosts: all\n  max_fail_percentage: \"{{ 200 }}\"\n  tasks: []\n",
                "/books/site.yaml:1: play \"x\": max_fail_percentage: ",
                "must be a number from 0 to 100",
            ),
        ];
        for (book, starts, contains) in cases {
            let e = run(book, json!({})).unwrap_err();
            assert!(e.starts_with(starts) && e.contains(contains), "{book}: {e}");
        }
    }
}
