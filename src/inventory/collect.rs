//! What parsing gathers besides the model: the problems found, and where each setting was written.
//!
//! Validation runs on the parsed model, which has no positions; parsers record
//! the line of every setting here so a validation problem still points at the
//! line to fix, whatever the format.

use super::Problem;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Problems found so far in one inventory file.
pub struct Problems {
    file: PathBuf,
    list: Vec<Problem>,
    /// Set when a host or its roles could not be read, so "no control plane"
    /// would only repeat that problem in other words.
    pub roles_uncertain: bool,
    /// Whether a host must have the control-plane role (a cluster's
    /// inventory; not one `run` or `exec` reads). True unless a loader says.
    pub need_control_plane: bool,
}

impl Problems {
    pub fn new(file: &Path) -> Self {
        Problems {
            file: file.to_path_buf(),
            list: Vec::new(),
            roles_uncertain: false,
            need_control_plane: true,
        }
    }

    pub fn push(&mut self, line: usize, host: Option<&str>, message: impl ToString) {
        let file = self.file.clone();
        self.push_in(&file, line, host, message);
    }

    /// A problem in another file than the inventory (a `group_vars/` file).
    pub fn push_in(
        &mut self,
        file: &Path,
        line: usize,
        host: Option<&str>,
        message: impl ToString,
    ) {
        self.list.push(Problem {
            file: file.to_path_buf(),
            line,
            host: host.map(str::to_string),
            message: message.to_string(),
        });
    }

    /// For a setting shared by many hosts (defaults, group vars): report it
    /// once, on its own line, rather than once per host.
    pub fn push_once(&mut self, line: usize, message: impl ToString) {
        let file = self.file.clone();
        self.push_once_in(&file, line, message);
    }

    /// [`Problems::push_once`] for a setting in another file.
    pub fn push_once_in(&mut self, file: &Path, line: usize, message: impl ToString) {
        let message = message.to_string();
        let seen = self
            .list
            .iter()
            .any(|p| p.file == file && p.line == line && p.host.is_none() && p.message == message);
        if !seen {
            self.push_in(file, line, None, message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The inventory's problems first, then other files' by name; each in
    /// line order, problems without a line last; ties keep discovery order.
    pub fn into_sorted(mut self) -> Vec<Problem> {
        let main = self.file.clone();
        self.list.sort_by(|a, b| {
            let key = |p: &Problem| (p.file != main, p.file.clone(), p.line == 0, p.line);
            key(a).cmp(&key(b))
        });
        self.list
    }
}

/// Lines where settings were written, keyed by the model's field names
/// (`port`, `network.gateway`, `pod_subnet`, …).
#[derive(Default)]
pub struct Located {
    host_keys: HashMap<(String, String), usize>,
    cluster_keys: HashMap<String, usize>,
    /// identity_file as written, so messages show what the user typed.
    identity_written: HashMap<String, String>,
    /// Lines of settings shared by many hosts (defaults, group vars).
    shared: HashSet<usize>,
}

impl Located {
    pub fn set_host(&mut self, host: &str, key: &str, line: usize) {
        self.host_keys
            .insert((host.to_string(), key.to_string()), line);
    }

    pub fn set_cluster(&mut self, key: &str, line: usize) {
        self.cluster_keys.insert(key.to_string(), line);
    }

    pub fn set_identity_written(&mut self, host: &str, written: &str) {
        self.identity_written
            .insert(host.to_string(), written.to_string());
    }

    /// Line of a host's setting, else `fallback` (the host's own line).
    pub fn host(&self, host: &str, key: &str, fallback: usize) -> usize {
        self.host_keys
            .get(&(host.to_string(), key.to_string()))
            .copied()
            .unwrap_or(fallback)
    }

    /// Line of a cluster setting, 0 when unknown.
    pub fn cluster(&self, key: &str) -> usize {
        self.cluster_keys.get(key).copied().unwrap_or(0)
    }

    pub fn mark_shared(&mut self, line: usize) {
        self.shared.insert(line);
    }

    pub fn is_shared(&self, line: usize) -> bool {
        self.shared.contains(&line)
    }

    pub fn identity_written(&self, host: &str) -> Option<&str> {
        self.identity_written.get(host).map(String::as_str)
    }
}
