//! Ansible's group tree: children, implicit `all`/`ungrouped`, role mapping and variable precedence.
//!
//! Both Ansible parsers fill an [`AnsibleTree`]; [`AnsibleTree::resolve`] then
//! applies Ansible's rules (as `ansible-inventory --list` shows them) to
//! produce kubestrap's model: vars of `all` < parent groups < child groups
//! (by depth, `ansible_group_priority`, then name) < host vars, with the
//! `group_vars/` and `host_vars/` directories' layers between them.

use super::collect::{Located, Problems};
use super::model::{ClusterSpec, Format, Host, Inventory};
use super::roles::roles_of;
use super::values::{self, ValueError};
use super::var_dirs::VarDirs;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// `all` vars that fill the cluster spec. Later entries win, so kubestrap's own
/// name beats kubespray's when both are set.
const CLUSTER_VARS: &[(&str, &str)] = &[
    ("kube_version", "kubernetes_version"),
    ("kubernetes_version", "kubernetes_version"),
    ("kube_pods_subnet", "pod_subnet"),
    ("pod_subnet", "pod_subnet"),
    ("kube_service_addresses", "service_subnet"),
    ("service_subnet", "service_subnet"),
    ("control_plane_endpoint", "control_plane_endpoint"),
    ("kubestrap_cluster_name", "name"),
];

/// Host vars that become model fields rather than free-form vars.
const CONNECTION_VARS: &[&str] = &[
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_ssh_private_key_file",
    "ansible_become",
    "ansible_become_user",
    "ip",
];

/// A variable and the line that set it.
#[derive(Clone)]
pub struct Var {
    pub value: Value,
    pub line: usize,
    /// Set on a group: a mistake in it is reported once, not once per host.
    pub from_group: bool,
    /// The vars file it was written in, when not the inventory itself.
    pub file: Option<Arc<Path>>,
}

#[derive(Default)]
struct Group {
    vars: BTreeMap<String, Var>,
    children: Vec<String>,
    parents: Vec<String>,
    /// Members in the order the source names them.
    hosts: Vec<String>,
    /// The same names, for membership tests: inventories with ranges like
    /// `node[1:9999]` must not make parsing quadratic.
    members: HashSet<String>,
}

impl Group {
    fn add(&mut self, host: &str) {
        if self.members.insert(host.to_string()) {
            self.hosts.push(host.to_string());
        }
    }

    fn remove(&mut self, host: &str) {
        if self.members.remove(host) {
            self.hosts.retain(|h| h != host);
        }
    }
}

struct HostDef {
    name: String,
    line: usize,
    vars: BTreeMap<String, Var>,
}

/// A group made a child of itself or of one of its descendants.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("adding group {child:?} as a child of {parent:?} creates a loop")]
pub struct GroupLoop {
    pub parent: String,
    pub child: String,
}

/// Groups and hosts as an Ansible inventory source declares them.
pub struct AnsibleTree {
    groups: BTreeMap<String, Group>,
    hosts: Vec<HostDef>,
    index: HashMap<String, usize>,
}

impl Default for AnsibleTree {
    fn default() -> Self {
        let mut t = AnsibleTree {
            groups: BTreeMap::new(),
            hosts: Vec::new(),
            index: HashMap::new(),
        };
        t.add_group("all");
        t.add_group("ungrouped");
        t.groups
            .entry("all".into())
            .or_default()
            .children
            .push("ungrouped".into());
        t.groups
            .entry("ungrouped".into())
            .or_default()
            .parents
            .push("all".into());
        t
    }
}

impl AnsibleTree {
    pub fn has_group(&self, name: &str) -> bool {
        self.groups.contains_key(name)
    }

    pub fn add_group(&mut self, name: &str) {
        self.groups.entry(name.to_string()).or_default();
    }

    /// Make `child` a subgroup of `parent`; refuses loops, as Ansible does.
    pub fn add_child(&mut self, parent: &str, child: &str) -> Result<(), GroupLoop> {
        self.add_group(parent);
        self.add_group(child);
        if parent == child || self.is_ancestor(child, parent) {
            return Err(GroupLoop {
                parent: parent.to_string(),
                child: child.to_string(),
            });
        }
        if let Some(p) = self.groups.get_mut(parent) {
            if !p.children.iter().any(|c| c == child) {
                p.children.push(child.to_string());
            }
        }
        if let Some(c) = self.groups.get_mut(child) {
            if !c.parents.iter().any(|p| p == parent) {
                c.parents.push(parent.to_string());
            }
        }
        Ok(())
    }

    /// Is `group` `of` itself or one of its ancestors?
    fn is_ancestor(&self, group: &str, of: &str) -> bool {
        let mut stack = vec![of.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(g) = stack.pop() {
            if g == group {
                return true;
            }
            if seen.insert(g.clone()) {
                if let Some(grp) = self.groups.get(&g) {
                    stack.extend(grp.parents.iter().cloned());
                }
            }
        }
        false
    }

    /// Add a host to a group; its line is that of its first mention, and a
    /// `host:port` port only counts there, as in Ansible.
    pub fn add_host(&mut self, name: &str, group: &str, line: usize, port: Option<Var>) {
        if !self.index.contains_key(name) {
            let mut vars = BTreeMap::new();
            if let Some(port) = port {
                vars.insert("ansible_port".to_string(), port);
            }
            self.index.insert(name.to_string(), self.hosts.len());
            self.hosts.push(HostDef {
                name: name.to_string(),
                line,
                vars,
            });
        }
        self.groups.entry(group.to_string()).or_default().add(name);
    }

    pub fn set_host_var(&mut self, host: &str, key: &str, var: Var) {
        if let Some(&i) = self.index.get(host) {
            self.hosts[i].vars.insert(key.to_string(), var);
        }
    }

    pub fn set_group_var(&mut self, group: &str, key: &str, var: Var) {
        let var = Var {
            from_group: true,
            ..var
        };
        self.groups
            .entry(group.to_string())
            .or_default()
            .vars
            .insert(key.to_string(), var);
    }

    /// Apply Ansible's rules and build the model.
    /// `dirs` holds the `group_vars/` and `host_vars/` layers (see [`VarDirs`]).
    pub fn resolve(
        mut self,
        path: &Path,
        format: Format,
        dirs: &mut VarDirs,
        problems: &mut Problems,
    ) -> (Inventory, Located) {
        self.reconcile();
        let depth = self.depths();
        let mut located = Located::default();

        let mut hosts = Vec::new();
        for def in &self.hosts {
            let member_of = self.groups_of(&def.name);
            let mut order: Vec<&String> = member_of.iter().collect();
            order.sort_by_key(|g| (depth.get(*g).copied().unwrap_or(0), self.priority(g), *g));
            let merged = self.host_vars(def, &order, dirs, problems);

            let mut host = Host {
                name: def.name.clone(),
                roles: roles_of(&member_of),
                groups: member_of.clone(),
                line: def.line,
                ..Default::default()
            };
            for v in merged.values().filter(|v| v.from_group && v.file.is_none()) {
                located.mark_shared(v.line);
            }
            let fail = |var: &Var, msg: ValueError, problems: &mut Problems| match &var.file {
                Some(file) => problems.push_once_in(file, var.line, msg),
                None if var.from_group => problems.push_once(var.line, msg),
                None => problems.push(var.line, Some(&def.name), msg),
            };
            // Lines in the inventory itself; a vars file's problems name their own.
            let mut set_line = |key: &str, v: &Var| {
                if v.file.is_none() {
                    located.set_host(&def.name, key, v.line);
                }
            };
            // Ansible's aliases: the ansible_ssh_* spelling loses to the modern one.
            let pick = |a: &str, b: &str| merged.get(a).or_else(|| merged.get(b));
            if let Some(v) = pick("ansible_host", "ansible_ssh_host") {
                set_line("address", v);
                match values::string("ansible_host", &v.value) {
                    Ok(s) => host.address = Some(s),
                    Err(e) => fail(v, e, problems),
                }
            }
            if let Some(v) = pick("ansible_port", "ansible_ssh_port") {
                set_line("port", v);
                match values::port(&v.value) {
                    Ok(p) => host.port = Some(p),
                    Err(e) => fail(v, e, problems),
                }
            }
            if let Some(v) = pick("ansible_user", "ansible_ssh_user") {
                match values::string("ansible_user", &v.value) {
                    Ok(s) => host.user = Some(s),
                    Err(e) => fail(v, e, problems),
                }
            }
            if let Some(v) = merged.get("ansible_ssh_private_key_file") {
                set_line("identity_file", v);
                match values::string("ansible_ssh_private_key_file", &v.value) {
                    Ok(s) => {
                        located.set_identity_written(&def.name, &s);
                        host.identity_file = Some(values::resolve_path(&s, path));
                    }
                    Err(e) => fail(v, e, problems),
                }
            }
            if let Some(v) = merged.get("ansible_become") {
                match values::boolean("ansible_become", &v.value) {
                    Ok(b) => host.become_ = b,
                    Err(e) => fail(v, e, problems),
                }
            }
            if let Some(v) = merged.get("ansible_become_user") {
                match values::string("ansible_become_user", &v.value) {
                    Ok(s) => host.become_user = Some(s),
                    Err(e) => fail(v, e, problems),
                }
            }
            if let Some(v) = merged.get("ip") {
                match values::ip("ip", &v.value) {
                    Ok(ip) => host.ip = Some(ip),
                    Err(e) => fail(v, e, problems),
                }
            }
            let (connection, other): (Vec<_>, Vec<_>) = merged
                .into_iter()
                .map(|(k, v)| (k, v.value))
                .partition(|(k, _)| CONNECTION_VARS.contains(&k.as_str()));
            host.connection_vars = connection.into_iter().collect();
            host.vars = other.into_iter().collect();
            hosts.push(host);
        }

        let cluster = self.cluster_spec(dirs, &mut located, problems);
        let mut groups = BTreeMap::new();
        for name in self.groups.keys() {
            let members = hosts
                .iter()
                .filter(|h| h.groups.contains(name))
                .map(|h| h.name.clone())
                .collect();
            groups.insert(name.clone(), members);
        }
        let inv = Inventory {
            source: path.to_path_buf(),
            format,
            cluster,
            hosts,
            groups,
        };
        (inv, located)
    }

    /// A host's variables, lowest precedence first, as Ansible's
    /// VariableManager merges them: the inventory file's `all` and groups
    /// (parents before children), `group_vars/all` of each directory, the
    /// other groups' `group_vars/` of each directory, the host's own vars in
    /// the file, then its `host_vars/` of each directory. `order` is the
    /// host's groups sorted as Ansible sorts them, `all` first.
    fn host_vars(
        &self,
        def: &HostDef,
        order: &[&String],
        dirs: &mut VarDirs,
        problems: &mut Problems,
    ) -> BTreeMap<String, Var> {
        let mut merged: BTreeMap<String, Var> = BTreeMap::new();
        for g in order {
            if let Some(grp) = self.groups.get(*g) {
                // Ansible takes it as the group's priority, not as a variable.
                let vars = grp
                    .vars
                    .iter()
                    .filter(|(k, _)| *k != "ansible_group_priority");
                merged.extend(vars.map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        for d in 0..dirs.len() {
            merged.extend(dirs.group(d, "all", problems).clone());
        }
        for d in 0..dirs.len() {
            for g in order.iter().filter(|g| g.as_str() != "all") {
                merged.extend(dirs.group(d, g, problems).clone());
            }
        }
        merged.extend(def.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        for d in 0..dirs.len() {
            merged.extend(dirs.host(d, &def.name, problems).clone());
        }
        merged
    }

    /// Ansible's reconcile step: top-level groups hang off `all`, and
    /// `ungrouped` holds exactly the hosts in no other group.
    fn reconcile(&mut self) {
        let orphans: Vec<String> = self
            .groups
            .iter()
            .filter(|(name, g)| name.as_str() != "all" && g.parents.is_empty())
            .map(|(name, _)| name.clone())
            .collect();
        for g in orphans {
            // Cannot loop: `all` has no parents.
            let _ = self.add_child("all", &g);
        }
        let names: Vec<String> = self.hosts.iter().map(|h| h.name.clone()).collect();
        for name in names {
            let direct: Vec<String> = self
                .groups
                .iter()
                .filter(|(_, g)| g.members.contains(&name))
                .map(|(n, _)| n.clone())
                .collect();
            let elsewhere = direct.iter().any(|g| g != "all" && g != "ungrouped");
            if let Some(all) = self.groups.get_mut("all") {
                // Ansible keeps a host listed under `all` only until it joins a real group.
                all.remove(&name);
            }
            if let Some(ungrouped) = self.groups.get_mut("ungrouped") {
                ungrouped.remove(&name);
                if !elsewhere {
                    ungrouped.add(&name);
                }
            }
        }
    }

    /// Depth of each group below `all`: the longest path, as Ansible counts it.
    fn depths(&self) -> HashMap<String, usize> {
        let mut depth: HashMap<String, usize> = HashMap::new();
        let mut stack = vec![("all".to_string(), 0usize)];
        while let Some((g, d)) = stack.pop() {
            if depth.get(&g).is_some_and(|&old| old >= d) || d > self.groups.len() {
                continue;
            }
            depth.insert(g.clone(), d);
            if let Some(grp) = self.groups.get(&g) {
                stack.extend(grp.children.iter().map(|c| (c.clone(), d + 1)));
            }
        }
        depth
    }

    fn priority(&self, group: &str) -> i64 {
        self.groups
            .get(group)
            .and_then(|g| g.vars.get("ansible_group_priority"))
            .and_then(|v| match &v.value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .unwrap_or(1)
    }

    /// Every group the host is in, directly or through `:children`, with `all`.
    fn groups_of(&self, host: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut stack: Vec<String> = self
            .groups
            .iter()
            .filter(|(_, g)| g.members.contains(host))
            .map(|(n, _)| n.clone())
            .collect();
        while let Some(g) = stack.pop() {
            if out.insert(g.clone()) {
                if let Some(grp) = self.groups.get(&g) {
                    stack.extend(grp.parents.iter().cloned());
                }
            }
        }
        out.insert("all".into());
        out
    }

    /// From the vars of `all`: the inventory's, then every `group_vars/all`.
    fn cluster_spec(
        &self,
        dirs: &mut VarDirs,
        located: &mut Located,
        problems: &mut Problems,
    ) -> ClusterSpec {
        let mut spec = ClusterSpec::default();
        let mut all: BTreeMap<String, Var> = self
            .groups
            .get("all")
            .map(|g| g.vars.clone())
            .unwrap_or_default();
        for d in 0..dirs.len() {
            all.extend(dirs.group(d, "all", problems).clone());
        }
        for (var, field) in CLUSTER_VARS {
            let Some(v) = all.get(*var) else {
                continue;
            };
            if v.file.is_none() {
                located.set_cluster(field, v.line);
            }
            // INI turns `kube_version=1.31` into a float; a version is text.
            let text = match &v.value {
                Value::Number(n) => n.to_string(),
                other => match values::string(var, other) {
                    Ok(s) => s,
                    Err(e) => {
                        match &v.file {
                            Some(file) => problems.push_in(file, v.line, None, e),
                            None => problems.push(v.line, None, e),
                        }
                        continue;
                    }
                },
            };
            let slot = match *field {
                "kubernetes_version" => &mut spec.kubernetes_version,
                "pod_subnet" => &mut spec.pod_subnet,
                "service_subnet" => &mut spec.service_subnet,
                "control_plane_endpoint" => &mut spec.control_plane_endpoint,
                _ => &mut spec.name,
            };
            *slot = Some(text);
        }
        spec
    }
}
