//! Load a playbook file into [`Playbook`], reporting every problem found, each with its line.
//!
//! The language is a documented subset of Ansible's, with Ansible's meaning,
//! so a plain Ansible playbook within the subset runs unchanged. Everything
//! is checked before anything runs: keywords, modules and their arguments,
//! the syntax of every template and condition, and that each `notify` has a
//! handler.
//!
//! Play keywords: `name`, `hosts` (text or list), `vars`, `vars_files`
//! (relative to the playbook, winning over `vars`), `become`, `become_user`,
//! `gather_facts`, `any_errors_fatal`, `max_fail_percentage`, `tags`,
//! `pre_tasks`, `roles`, `tasks`, `post_tasks` (run in that order) and `handlers`.
//!
//! Task keywords: `name`, one module (any `ansible.builtin.`-style prefix),
//! `args`, `when`, `changed_when`, `failed_when` (a condition, a boolean or a
//! list that must all hold), `loop` and `with_items` (a list or a template
//! giving one; `with_items` flattens one level), `loop_control.loop_var`
//! (`label` is accepted), `register`, `notify`, `listen` (handlers only),
//! `ignore_errors`, `tags`, `become`, `become_user`, `vars`, `check_mode`,
//! `no_log`, `until`, `retries` and `delay`. `block` / `rescue` / `always`
//! group tasks (see [`super::block`]). Module arguments may be a mapping, Ansible's `key=value`
//! text, or free-form text for `command`/`shell`, whose `chdir=`, `creates=`
//! and `removes=` words are taken out as arguments.
//!
//! `import_tasks` and `include_tasks` read other task files (see [`super::include`]);
//! `roles:`, `import_role` and `include_role` read roles (see
//! [`super::role`]). Other Ansible keywords (`local_action`, `with_file`,
//! …) are reported as not supported rather than unknown.
//! `import_playbook` entries bring another playbook's plays (see
//! [`super::import_playbook`]).

use std::path::{Path, PathBuf};

use serde_yaml::Value as Yaml;

use super::checks::steps;
use super::error::PlaybookError;
use super::import_playbook;
use super::model::Playbook;
use super::play;
use crate::modules::Module;
use crate::yaml_pos::YamlPos;

/// How module names are resolved; tests substitute modules whose
/// parameters they know.
pub type Lookup = fn(&str) -> Option<&'static dyn Module>;

/// Read and check the playbook at `path`.
pub fn load(path: &Path) -> Result<Playbook, Vec<PlaybookError>> {
    load_with(path, crate::modules::lookup)
}

/// Check playbook `text` as if read from `path` (the shipped playbooks are
/// compiled in); `vars_files` are still read relative to `path`.
pub fn load_str(path: &Path, text: &str) -> Result<Playbook, Vec<PlaybookError>> {
    load_str_with(path, text, crate::modules::lookup)
}

pub fn load_with(path: &Path, lookup: Lookup) -> Result<Playbook, Vec<PlaybookError>> {
    match std::fs::read_to_string(path) {
        Ok(text) => load_str_with(path, &text, lookup),
        Err(e) => Err(vec![PlaybookError::new(
            path,
            0,
            format!("cannot read playbook: {e}"),
        )]),
    }
}

pub fn load_str_with(
    path: &Path,
    text: &str,
    lookup: Lookup,
) -> Result<Playbook, Vec<PlaybookError>> {
    let doc: Yaml = serde_yaml::from_str(text).map_err(|e| vec![yaml_error(path, &e)])?;
    let mut ctx = Ctx {
        file: path.to_path_buf(),
        lines: YamlPos::new(text),
        errors: Vec::new(),
        lookup,
        root: path.parent().unwrap_or(Path::new("")).to_path_buf(),
        role: None,
        depth: 0,
    };
    let mut plays = Vec::new();
    match &doc {
        Yaml::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                let at = vec![format!("#{i}")];
                if let (Yaml::Mapping(m), Some(key)) = (item, import_playbook::key(item)) {
                    import_playbook::expand(&mut ctx, m, key, &at, &mut plays);
                } else if let Some(p) = play::parse(&mut ctx, item, at) {
                    plays.push(std::sync::Arc::new(p));
                }
            }
        }
        _ => ctx.err(&[], "a playbook must be a list of plays"),
    }
    if ctx.errors.is_empty() {
        Ok(Playbook {
            path: path.to_path_buf(),
            plays,
        })
    } else {
        let main = ctx.file.clone();
        // A file read twice (a role run twice) says its problems once.
        let mut seen = std::collections::HashSet::new();
        ctx.errors.retain(|e| seen.insert(e.clone()));
        ctx.errors.sort_by(|a, b| {
            (a.file != main, &a.file, a.line).cmp(&(b.file != main, &b.file, b.line))
        });
        Err(ctx.errors)
    }
}

/// A YAML syntax error at serde_yaml's line, its positions cut from the text.
pub fn yaml_error(path: &Path, e: &serde_yaml::Error) -> PlaybookError {
    let line = e.location().map_or(1, |l| l.line());
    let positions = regex::Regex::new(r" at line \d+ column \d+").ok();
    let text = e.to_string();
    let message = positions.map_or(text.clone(), |re| re.replace_all(&text, "").into_owned());
    PlaybookError::new(path, line, format!("invalid YAML: {message}"))
}

/// What parsing carries along: where problems are reported, and how.
pub struct Ctx {
    pub file: PathBuf,
    pub lines: YamlPos,
    pub errors: Vec<PlaybookError>,
    pub lookup: Lookup,
    /// The playbook's directory: roles and files are looked up from it.
    pub root: PathBuf,
    /// The role whose files are being read, if any (its directory).
    pub role: Option<PathBuf>,
    /// How many files deep the imports go (a loop of imports stops).
    pub depth: usize,
}

impl Ctx {
    /// Run `f` with problems reported against `file` (whose text is
    /// `text`), then go back to the current file.
    pub fn in_file<T>(&mut self, file: &Path, text: &str, f: impl FnOnce(&mut Ctx) -> T) -> T {
        let file = std::mem::replace(&mut self.file, file.to_path_buf());
        let lines = std::mem::replace(&mut self.lines, YamlPos::new(text));
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        self.file = file;
        self.lines = lines;
        out
    }

    /// Report `message` at the line of `path` (`#n` segments are list items).
    pub fn err(&mut self, path: &[String], message: impl Into<String>) {
        let line = self.lines.line_of(&steps(path));
        self.errors
            .push(PlaybookError::new(&self.file, line, message));
    }
}

/// `path` with one more segment.
pub fn child(path: &[String], seg: impl Into<String>) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(seg.into());
    p
}
