//! Variables from `group_vars/` and `host_vars/` beside the inventory and beside the playbook.
//!
//! Ansible's `host_group_vars` plugin reads, for a group or host NAME in a
//! directory DIR, the first of `DIR/NAME`, `DIR/NAME.yml`, `DIR/NAME.yaml`,
//! `DIR/NAME.json` that exists; when it is a directory, every file below it
//! (sorted, recursively) with no extension or one of those, skipping hidden
//! files and `~` backups, merged in that order. Where these layers sit in
//! the precedence is decided by [`super::ansible_groups`].

use super::ansible_groups::Var;
use super::collect::Problems;
use super::values::{key_text, yaml_to_json};
use crate::yaml_pos::YamlPos;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Extensions a vars file may have; the empty one is tried first, as Ansible does.
const EXTENSIONS: [&str; 4] = ["", "yml", "yaml", "json"];

/// Variables one entity (group or host) gets from one directory's files.
pub type Vars = BTreeMap<String, Var>;

/// The directories holding `group_vars/` and `host_vars/`, lowest precedence
/// first (the inventory's, then the playbook's), each read at most once.
#[derive(Default)]
pub struct VarDirs {
    dirs: Vec<PathBuf>,
    cache: HashMap<(usize, &'static str, String), Vars>,
}

impl VarDirs {
    /// `dirs` lowest first; a directory named twice is read once (Ansible's
    /// second reading would give the same values again).
    pub fn new(dirs: impl IntoIterator<Item = PathBuf>) -> VarDirs {
        let mut out = VarDirs::default();
        for d in dirs {
            let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
                (Ok(a), Ok(b)) => a == b,
                _ => a == b,
            };
            if !out.dirs.iter().any(|seen| same(seen, &d)) {
                out.dirs.push(d);
            }
        }
        out
    }

    /// How many directories there are (each is one precedence layer).
    pub fn len(&self) -> usize {
        self.dirs.len()
    }

    /// A group's variables from layer `dir`.
    pub fn group(&mut self, dir: usize, group: &str, problems: &mut Problems) -> &Vars {
        self.entity(dir, "group_vars", group, problems)
    }

    /// A host's variables from layer `dir`.
    pub fn host(&mut self, dir: usize, host: &str, problems: &mut Problems) -> &Vars {
        self.entity(dir, "host_vars", host, problems)
    }

    fn entity(
        &mut self,
        dir: usize,
        sub: &'static str,
        name: &str,
        problems: &mut Problems,
    ) -> &Vars {
        let key = (dir, sub, name.to_string());
        if !self.cache.contains_key(&key) {
            let base = self.dirs[dir].join(sub);
            let mut vars = Vars::new();
            // Ansible skips names starting with a path separator (chroot hosts).
            if base.is_dir() && !name.starts_with('/') {
                for file in files_for(&base, name) {
                    read_file(&file, &mut vars, problems);
                }
            }
            self.cache.insert(key.clone(), vars);
        }
        &self.cache[&key]
    }
}

/// The files that hold `name`'s variables under `base`, in merge order.
fn files_for(base: &Path, name: &str) -> Vec<PathBuf> {
    for ext in EXTENSIONS {
        let path = if ext.is_empty() {
            base.join(name)
        } else {
            base.join(format!("{name}.{ext}"))
        };
        if path.is_dir() {
            let mut found = Vec::new();
            files_below(&path, &mut found, 0);
            return found;
        }
        if path.exists() {
            return vec![path];
        }
    }
    Vec::new()
}

/// Deep enough for any real layout; a symlink loop stops here.
const MAX_DEPTH: usize = 32;

fn files_below(dir: &Path, found: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for n in names {
        if n.starts_with('.') || n.ends_with('~') {
            continue;
        }
        let path = dir.join(&n);
        let ext = Path::new(&n).extension().and_then(|e| e.to_str());
        if path.is_dir() && ext.is_none() {
            if depth < MAX_DEPTH {
                files_below(&path, found, depth + 1);
            }
        } else if path.is_file() && ext.is_none_or(|e| EXTENSIONS[1..].contains(&e)) {
            found.push(path);
        }
    }
}

/// Merge one vars file into `vars` (top-level keys replace, as Ansible's
/// default `hash_behaviour` does); problems name the file and line.
fn read_file(file: &Path, vars: &mut Vars, problems: &mut Problems) {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return problems.push_in(file, 0, None, format!("cannot read vars file: {e}")),
    };
    if text.trim_start().starts_with("$ANSIBLE_VAULT;") {
        let msg = "encrypted with Ansible Vault: kubestrap cannot decrypt vault files";
        return problems.push_in(file, 1, None, msg);
    }
    let doc = match serde_yaml::from_str::<serde_yaml::Value>(&text) {
        Ok(doc) => doc,
        Err(e) => {
            let (line, message) = super::detect::yaml_error(&e);
            return problems.push_in(file, line, None, message);
        }
    };
    let map = match doc {
        serde_yaml::Value::Null => return, // an empty file sets nothing
        serde_yaml::Value::Mapping(m) => m,
        _ => return problems.push_in(file, 1, None, "a vars file must be a mapping"),
    };
    let lines = YamlPos::new(&text);
    let shared: Arc<Path> = Arc::from(file);
    for (k, v) in &map {
        let name = key_text(k);
        if has_vault(v) {
            let line = lines.line_of_keys(&[&name]);
            let msg = format!(
                "`{name}` is encrypted with Ansible Vault (!vault): kubestrap cannot decrypt it"
            );
            problems.push_in(file, line, None, msg);
            continue;
        }
        let var = Var {
            value: yaml_to_json(v),
            line: lines.line_of_keys(&[&name]),
            from_group: true,
            file: Some(shared.clone()),
        };
        vars.insert(name, var);
    }
}

/// A `!vault` value anywhere inside `v`: its text is ciphertext, never the value.
fn has_vault(v: &serde_yaml::Value) -> bool {
    match v {
        serde_yaml::Value::Tagged(t) => t.tag == "vault" || has_vault(&t.value),
        serde_yaml::Value::Sequence(items) => items.iter().any(has_vault),
        serde_yaml::Value::Mapping(m) => m.values().any(has_vault),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    /// Files as (path, text), or variables as (name, value).
    type Pairs = &'static [(&'static str, &'static str)];

    /// (files, entity, what it gets) — Ansible's `find_vars_files` rules.
    #[test]
    fn which_files_a_name_reads() {
        let cases: &[(Pairs, &str, Pairs)] = &[
            (&[("group_vars/web.yml", "a: yml")], "web", &[("a", "yml")]),
            (
                &[("group_vars/web.yaml", "a: yaml")],
                "web",
                &[("a", "yaml")],
            ),
            (&[("group_vars/web", "a: bare")], "web", &[("a", "bare")]),
            (
                &[("group_vars/web.json", r#"{"a": "json"}"#)],
                "web",
                &[("a", "json")],
            ),
            // The name without extension is found first; the others are not read.
            (
                &[
                    ("group_vars/web", "a: bare"),
                    ("group_vars/web.yml", "a: yml\nb: 1"),
                ],
                "web",
                &[("a", "bare")],
            ),
            // A directory: its files sorted, recursively, later ones winning;
            // other extensions, hidden files and backups left out.
            (
                &[
                    ("group_vars/web/2.yml", "a: two"),
                    ("group_vars/web/1.yaml", "a: one\nb: one"),
                    ("group_vars/web/sub/3.yml", "b: three"),
                    ("group_vars/web/notes.txt", "a: txt"),
                    ("group_vars/web/.hidden.yml", "a: hidden"),
                    ("group_vars/web/x.yml~", "a: backup"),
                ],
                "web",
                &[("a", "two"), ("b", "three")],
            ),
            (&[("group_vars/db.yml", "a: 1")], "web", &[]),
            (&[("group_vars/web.yml", "")], "web", &[]),
        ];
        for (files, name, want) in cases {
            let dir = tree(files);
            let mut dirs = VarDirs::new([dir.path().to_path_buf()]);
            let mut problems = Problems::new(Path::new("inv"));
            let got: Vec<(String, serde_json::Value)> = dirs
                .group(0, name, &mut problems)
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect();
            let want: Vec<(String, serde_json::Value)> = want
                .iter()
                .map(|(k, v)| (k.to_string(), serde_json::Value::from(*v)))
                .collect();
            assert_eq!(got, want, "{files:?}");
            assert!(problems.is_empty(), "{files:?}");
        }
    }

    #[test]
    fn a_bad_file_is_named_with_its_line() {
        let dir = tree(&[
            ("host_vars/h1.yml", "a: 1\nb: [\n"),
            ("host_vars/h2.yml", "- a\n"),
            ("host_vars/h3.yml", "$ANSIBLE_VAULT;1.1;AES256\n6162\n"),
            (
                "host_vars/h4.yml",
                "a: 1\npw: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n",
            ),
        ]);
        let mut dirs = VarDirs::new([dir.path().to_path_buf()]);
        let mut problems = Problems::new(Path::new("inv"));
        for h in ["h1", "h2", "h3", "h4"] {
            dirs.host(0, h, &mut problems);
        }
        assert!(!dirs.host(0, "h4", &mut problems).contains_key("pw"));
        let shown: Vec<String> = problems
            .into_sorted()
            .iter()
            .map(|p| {
                p.to_string()
                    .replace(&dir.path().display().to_string(), "D")
            })
            .collect();
        assert_eq!(shown.len(), 4, "{shown:?}");
        assert!(
            shown[0].starts_with("D/host_vars/h1.yml:3: invalid YAML"),
            "{shown:?}"
        );
        assert_eq!(
            shown[1..],
            [
                "D/host_vars/h2.yml:1: a vars file must be a mapping",
                "D/host_vars/h3.yml:1: encrypted with Ansible Vault: kubestrap cannot decrypt vault files",
                "D/host_vars/h4.yml:2: `pw` is encrypted with Ansible Vault (!vault): kubestrap cannot decrypt it",
            ]
        );
    }

    #[test]
    fn a_variable_knows_its_file_and_line() {
        let dir = tree(&[("group_vars/all.yml", "# note\na: 1\nb: 2\n")]);
        let mut dirs = VarDirs::new([dir.path().to_path_buf(), dir.path().to_path_buf()]);
        assert_eq!(dirs.len(), 1, "the same directory twice is read once");
        let mut problems = Problems::new(Path::new("inv"));
        let b = &dirs.group(0, "all", &mut problems)["b"];
        assert_eq!(b.line, 3);
        assert_eq!(
            b.file.as_deref(),
            Some(dir.path().join("group_vars/all.yml").as_path())
        );
    }
}
