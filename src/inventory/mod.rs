//! Inventories: detect the format, parse, and validate, reporting every problem at once.
//!
//! `load` reads kubestrap's own YAML, Ansible INI or Ansible YAML (detected from
//! the text, see `detect`) into one [`Inventory`]. Parsing and validation both
//! collect problems instead of stopping at the first, so one run of
//! `kubestrap inventory check` lists everything to fix.

mod ansible_groups;
mod ansible_ini;
mod ansible_yaml;
mod collect;
mod detect;
mod host_range;
mod ini_value;
mod kubestrap_yaml;
mod model;
pub(crate) mod net;
mod roles;
mod show;
mod validate;
mod values;
mod var_dirs;

#[cfg(test)]
mod tests;

pub use kubestrap_yaml::CLUSTER_KEYS;
pub use model::{ClusterSpec, Format, Host, Inventory, NetworkSettings, Role};
pub use roles::{CONTROL_PLANE_GROUPS, WORKER_GROUPS};
pub use show::{render_show, Effective};

use collect::Problems;
use detect::Detected;
use std::fmt;
use std::path::{Path, PathBuf};
use var_dirs::VarDirs;

/// One problem found in an inventory, located by file and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based; 0 when the problem has no single line (e.g. "no control plane").
    pub line: usize,
    pub host: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    /// `FILE:LINE: host NAME: message` — one line, as compilers print errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(h) = &self.host {
            write!(f, ": host {h}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What the inventory is loaded for: a cluster needs a control plane, a
/// playbook or an ad-hoc command only hosts (a plain Ansible inventory of
/// web servers is fine for `run` and `exec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Cluster,
    Hosts,
}

/// Read, parse and validate the inventory of a cluster at `path`, with the
/// `group_vars/` and `host_vars/` directories beside it.
pub fn load(path: &Path) -> Result<Inventory, Vec<Problem>> {
    load_from(path, None, Purpose::Cluster)
}

/// [`load`] for an ad-hoc command: any hosts, no control plane needed.
pub fn load_hosts(path: &Path) -> Result<Inventory, Vec<Problem>> {
    load_from(path, None, Purpose::Hosts)
}

/// [`load_hosts`] for a run of the playbook in `playbook_dir`: its
/// `group_vars/` and `host_vars/` win over the inventory's, as in Ansible.
pub fn load_for_playbook(path: &Path, playbook_dir: &Path) -> Result<Inventory, Vec<Problem>> {
    load_from(path, Some(playbook_dir), Purpose::Hosts)
}

fn load_from(
    path: &Path,
    playbook_dir: Option<&Path>,
    purpose: Purpose,
) -> Result<Inventory, Vec<Problem>> {
    let mut problems = Problems::new(path);
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            problems.push(0, None, format!("cannot read inventory: {e}"));
            return Err(problems.into_sorted());
        }
    };
    let Ok(text) = String::from_utf8(text) else {
        problems.push(0, None, "inventory is not valid UTF-8 text");
        return Err(problems.into_sorted());
    };
    let inventory_dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut dirs = VarDirs::new(
        [Some(inventory_dir), playbook_dir.map(Path::to_path_buf)]
            .into_iter()
            .flatten(),
    );
    let mut problems = Problems::new(path);
    problems.need_control_plane = purpose == Purpose::Cluster;
    match parse_text(&text, detect::detect(&text), path, &mut dirs, &mut problems) {
        Some(inv) if problems.is_empty() => Ok(with_role_groups(inv)),
        _ => Err(problems.into_sorted()),
    }
}

/// Parse and validate inventory `text` as [`load`] does once the file is
/// read; `path` names the file in problems and anchors relative identity
/// files. The fuzz targets (fuzz/) and tests/it/hostile start here.
pub fn parse_str(text: &str, path: &Path) -> Result<Inventory, Vec<Problem>> {
    let mut problems = Problems::new(path);
    let mut dirs = VarDirs::default();
    match parse_text(text, detect::detect(text), path, &mut dirs, &mut problems) {
        Some(inv) if problems.is_empty() => Ok(with_role_groups(inv)),
        _ => Err(problems.into_sorted()),
    }
}

/// As [`parse_str`], but with `format`'s parser whatever the text looks
/// like, so a fuzzer can drive each parser on its own (the YAML formats
/// still need the text to be a YAML mapping). Not for use outside fuzzing:
/// it reaches states detection never produces.
#[doc(hidden)]
pub fn parse_str_as(format: Format, text: &str, path: &Path) -> Result<Inventory, Vec<Problem>> {
    let detected = match (format, serde_yaml::from_str::<serde_yaml::Value>(text)) {
        (Format::AnsibleIni, _) => Detected::AnsibleIni,
        (Format::Kubestrap, Ok(serde_yaml::Value::Mapping(m))) => Detected::Kubestrap(m),
        (Format::AnsibleYaml, Ok(serde_yaml::Value::Mapping(m))) => Detected::AnsibleYaml(m),
        (_, Ok(_)) => Detected::YamlError(0, "not a YAML mapping".into()),
        (_, Err(e)) => {
            let (line, message) = detect::yaml_error(&e);
            Detected::YamlError(line, message)
        }
    };
    let mut problems = Problems::new(path);
    match parse_text(text, detected, path, &mut VarDirs::default(), &mut problems) {
        Some(inv) if problems.is_empty() => Ok(with_role_groups(inv)),
        _ => Err(problems.into_sorted()),
    }
}

/// The groups every inventory has, whatever its format and group names:
/// `kubestrap_control_plane` and `kubestrap_worker`, from the hosts' roles.
/// The shipped playbooks target these, so kubespray's `kube_control_plane`,
/// an Ansible `masters` group and kubestrap's own roles all work alike.
pub const ROLE_GROUPS: [(&str, Role); 2] = [
    ("kubestrap_control_plane", Role::ControlPlane),
    ("kubestrap_worker", Role::Worker),
];

fn with_role_groups(mut inv: Inventory) -> Inventory {
    for (group, role) in ROLE_GROUPS {
        let members = inv
            .hosts
            .iter()
            .filter(|h| h.roles.contains(&role))
            .map(|h| h.name.clone())
            .collect();
        inv.groups.insert(group.to_string(), members);
    }
    inv
}

/// Parse and validate already-read, already-detected text; `path` names the
/// file in problems and anchors relative identity files. `dirs` are the
/// `group_vars/`/`host_vars/` layers of the Ansible formats.
fn parse_text(
    text: &str,
    detected: Detected,
    path: &Path,
    dirs: &mut VarDirs,
    problems: &mut Problems,
) -> Option<Inventory> {
    let (inv, located) = match detected {
        Detected::YamlError(line, message) => {
            match detect::duplicate_key(text, line, &message) {
                Some(dup) => problems.push(dup.line, dup.host.as_deref(), dup.message),
                None => problems.push(line, None, message),
            }
            return None;
        }
        Detected::Kubestrap(map) => kubestrap_yaml::parse(&map, text, path, problems),
        Detected::AnsibleYaml(map) => ansible_yaml::parse(&map, text, problems).resolve(
            path,
            Format::AnsibleYaml,
            dirs,
            problems,
        ),
        Detected::AnsibleIni => {
            ansible_ini::parse(text, problems).resolve(path, Format::AnsibleIni, dirs, problems)
        }
    };
    validate::validate(&inv, &located, problems);
    Some(inv)
}
