//! What kubestrap knows about a host: gathered once, then kept current as tasks change it.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Everything gathered from one host in one round trip.
///
/// Base facts are always gathered; `files`, `packages`, `units` and
/// `sysctls` hold only what the play's tasks asked for (see [`FactRequest`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facts {
    pub os: OsInfo,
    /// `hostname` as the kernel reports it (short name).
    pub hostname: String,
    pub machine_id: String,
    /// /sys/class/dmi/id/product_uuid; absent in containers and some VMs.
    pub product_uuid: Option<String>,
    pub cpus: u32,
    pub memory_mb: u64,
    /// SwapTotal from /proc/meminfo, in MiB (Ansible's `swaptotal_mb`).
    pub swap_total_mb: u64,
    pub interfaces: Vec<Interface>,
    pub default_route: Option<Route>,
    /// Routes of the main table, IPv4 then IPv6, default routes included.
    pub routes: Vec<RouteEntry>,
    /// Nameservers from /etc/resolv.conf.
    pub dns: Vec<String>,
    /// Active swap devices or files (/proc/swaps).
    pub swaps: Vec<String>,
    /// systemd swap units (`*.swap`), any state.
    pub swap_units: Vec<String>,
    /// Loaded kernel modules (/proc/modules).
    pub kernel_modules: BTreeSet<String>,
    /// The kernel can load modules (/proc/modules exists). When false,
    /// everything it has is built in and `modprobe` can only fail. Unknown
    /// (output of an older script, hand-built facts) counts as true, so
    /// modprobe is tried and its own fallback decides.
    pub loadable_modules: bool,
    /// TCP ports with a socket in LISTEN state, IPv4 and IPv6, any address.
    pub listening: BTreeSet<u16>,
    /// Which of these commands exist: netplan, ifup, networkctl, nmcli, apt-get, systemctl, sudo.
    pub commands: BTreeSet<String>,
    /// Seconds since the epoch on the host's clock when facts were gathered.
    pub time: i64,
    pub files: BTreeMap<String, FileState>,
    /// Numeric ids, times and inode of the paths in `files`, as gathered
    /// (what `stat` reports); dropped for a path a task changes.
    pub file_ids: BTreeMap<String, FileIds>,
    pub packages: BTreeMap<String, PackageState>,
    pub units: BTreeMap<String, UnitState>,
    /// Live sysctl values; None when the key does not exist.
    pub sysctls: BTreeMap<String, Option<String>>,
    /// A file in a systemd unit directory was written since facts were
    /// gathered (or since the last daemon-reload), so a reload is due.
    pub unit_files_changed: bool,
    /// Handlers an earlier run notified here and never ran (see
    /// [`super::pending`]); kept current as this run writes the record.
    pub pending_handlers: BTreeSet<String>,
    /// When asked for ([`FactRequest::CertExpiry`]): the kubeadm
    /// certificates on the host, by kubeadm's name (`apiserver`,
    /// `admin.conf`, `etcd-ca` …), each with its notAfter in seconds since
    /// the epoch. Empty when the host has none or no openssl to read them.
    pub cert_expiry: Option<BTreeMap<String, i64>>,
    /// The cluster as this host sees it, when asked ([`FactRequest::KubeCluster`]).
    pub kube: Option<KubeState>,
}

impl Default for Facts {
    /// Empty facts; `loadable_modules` is true, as for a host that did not say.
    fn default() -> Facts {
        Facts {
            os: OsInfo::default(),
            hostname: String::new(),
            machine_id: String::new(),
            product_uuid: None,
            cpus: 0,
            memory_mb: 0,
            swap_total_mb: 0,
            interfaces: Vec::new(),
            default_route: None,
            routes: Vec::new(),
            dns: Vec::new(),
            swaps: Vec::new(),
            swap_units: Vec::new(),
            kernel_modules: BTreeSet::new(),
            loadable_modules: true,
            listening: BTreeSet::new(),
            commands: BTreeSet::new(),
            time: 0,
            files: BTreeMap::new(),
            file_ids: BTreeMap::new(),
            packages: BTreeMap::new(),
            units: BTreeMap::new(),
            sysctls: BTreeMap::new(),
            unit_files_changed: false,
            pending_handlers: BTreeSet::new(),
            cert_expiry: None,
            kube: None,
        }
    }
}

/// /etc/os-release.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OsInfo {
    /// `debian`, `ubuntu`, …
    pub id: String,
    /// `12`, `24.04`, …
    pub version_id: String,
    /// `bookworm`, `noble`, …
    pub codename: String,
    pub pretty_name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Interface {
    pub name: String,
    pub mac: Option<String>,
    pub mtu: Option<u32>,
    pub up: bool,
    /// Addresses with prefix length, e.g. `10.0.0.11/24`.
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Route {
    pub gateway: String,
    pub interface: String,
}

/// One route of the main routing table, as `ip -j route` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RouteEntry {
    /// Destination block, always with a prefix length: `10.0.0.0/8`,
    /// `10.0.0.5/32`, and `0.0.0.0/0` or `::/0` for a default route.
    pub dst: String,
    pub gateway: Option<String>,
    pub interface: Option<String>,
    /// `unicast` unless ip said otherwise (`blackhole`, `unreachable`, …).
    pub kind: String,
    /// Who installed it: `kernel`, `static`, `dhcp`, `bird`, …
    pub protocol: Option<String>,
}

/// The kind of thing at a path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    #[default]
    Missing,
    File,
    Directory,
    Link,
    Other,
}

/// A path's state on the host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileState {
    pub kind: FileKind,
    /// Hex SHA-256 of a regular file's content.
    pub sha256: Option<String>,
    /// Size in bytes of a regular file.
    pub size: Option<u64>,
    /// Permission bits, e.g. 0o644.
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// The content itself, when it was asked for and is at most
    /// [`MAX_CONTENT`] bytes (needed by lineinfile, replace and --diff).
    #[serde(skip)]
    pub content: Option<Vec<u8>>,
}

/// What `stat` tells of a path beyond [`FileState`] (lstat, as gathered).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileIds {
    pub uid: u32,
    pub gid: u32,
    /// Seconds since the epoch (whole seconds).
    pub mtime: i64,
    pub atime: i64,
    pub ctime: i64,
    pub inode: u64,
    pub dev: u64,
    pub nlink: u64,
}

/// Largest file whose content is brought back with the facts.
pub const MAX_CONTENT: usize = 256 * 1024;

/// A Debian package's state.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PackageState {
    /// Installed version; None when not installed.
    pub version: Option<String>,
    /// `apt-mark hold` is set.
    pub held: bool,
}

/// A systemd unit's state, in systemctl's own words.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UnitState {
    /// `loaded`, `not-found`, `masked`, …
    pub load_state: String,
    /// `active`, `inactive`, `failed`, `activating`, …
    pub active_state: String,
    /// `enabled`, `disabled`, `static`, `masked`, `` (none), …
    pub unit_file_state: String,
    /// systemd's NeedDaemonReload: the unit file changed on disk since it was loaded.
    pub need_daemon_reload: bool,
}

/// Something a task needs to know beyond the base facts, asked for before
/// the play runs so that gathering stays one round trip.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FactRequest {
    /// State of a path; with `content`, also its bytes (up to MAX_CONTENT).
    File {
        path: String,
        content: bool,
    },
    Package(String),
    Unit(String),
    Sysctl(String),
    /// The expiry of every kubeadm certificate on the host (apply's warning).
    CertExpiry,
    /// The cluster's Nodes and this host's kube-apiserver image (control planes).
    KubeCluster,
}

/// What `kubectl get nodes` and the kube-apiserver manifest say on a control plane.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KubeState {
    /// The manifest's image (`registry.k8s.io/kube-apiserver:v1.31.4`).
    pub apiserver_image: Option<String>,
    /// Every Node, when this host could list them.
    pub nodes: Option<Vec<KubeNode>>,
    /// Why listing them failed (admin.conf and kubectl were there).
    pub nodes_error: Option<String>,
}

/// One Node of the cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KubeNode {
    pub name: String,
    /// `status.nodeInfo.kubeletVersion` (`v1.31.4`).
    pub kubelet_version: String,
    /// `spec.unschedulable`: cordoned.
    pub unschedulable: bool,
    /// Labelled `node-role.kubernetes.io/control-plane` (kubeadm's mark).
    pub control_plane: bool,
}

/// What a change did to the facts, so later tasks see the host as it now is
/// without asking it again.
#[derive(Debug, Clone, PartialEq)]
pub enum FactUpdate {
    File(String, FileState),
    Package(String, PackageState),
    Unit(String, UnitState),
    Sysctl(String, String),
    Hostname(String),
    KernelModule(String),
    SwapsOff,
    SwapUnitMasked(String),
    /// `systemctl daemon-reload` ran: unit files on disk are loaded.
    DaemonReloaded,
}

/// Directories whose files systemd loads as units (or drop-ins).
const UNIT_DIRS: [&str; 4] = [
    "/etc/systemd/",
    "/run/systemd/",
    "/lib/systemd/",
    "/usr/lib/systemd/",
];

impl Facts {
    /// Record the effect of a change.
    pub fn update(&mut self, u: &FactUpdate) {
        match u {
            FactUpdate::File(p, s) => {
                if UNIT_DIRS.iter().any(|d| p.starts_with(d)) {
                    self.unit_files_changed = true;
                }
                if s.kind != FileKind::Missing {
                    self.parents_made(p);
                }
                self.files.insert(p.clone(), s.clone());
                // Its times (and maybe ids) changed: unknown until gathered again.
                self.file_ids.remove(p);
            }
            FactUpdate::Package(n, s) => {
                self.packages.insert(n.clone(), s.clone());
            }
            FactUpdate::Unit(n, s) => {
                self.units.insert(n.clone(), s.clone());
            }
            FactUpdate::Sysctl(k, v) => {
                self.sysctls.insert(k.clone(), Some(v.clone()));
            }
            FactUpdate::Hostname(h) => self.hostname = h.clone(),
            FactUpdate::KernelModule(m) => {
                self.kernel_modules.insert(m.clone());
            }
            FactUpdate::SwapsOff => {
                self.swaps.clear();
                self.swap_total_mb = 0;
            }
            FactUpdate::DaemonReloaded => {
                self.unit_files_changed = false;
                for u in self.units.values_mut() {
                    u.need_daemon_reload = false;
                }
            }
            FactUpdate::SwapUnitMasked(u) => {
                let state = self.units.entry(u.clone()).or_default();
                state.load_state = "masked".into();
                state.unit_file_state = "masked".into();
            }
        }
    }

    /// `path` now exists, so every directory above it does too (`mkdir -p`):
    /// ancestors the facts knew as missing become directories. Ancestors
    /// never asked about stay unknown, so a later task still gathers their
    /// real mode and owner.
    fn parents_made(&mut self, path: &str) {
        let mut dir = path.trim_end_matches('/');
        while let Some(i) = dir.rfind('/') {
            dir = &dir[..i];
            let key = if dir.is_empty() { "/" } else { dir };
            if let Some(st) = self.files.get_mut(key) {
                if st.kind == FileKind::Missing {
                    *st = FileState {
                        kind: FileKind::Directory,
                        mode: Some(0o755),
                        ..FileState::default()
                    };
                }
            }
        }
    }

    /// Forget what a change the facts cannot follow (a package install, a
    /// command) may have touched: every file, package, sysctl and unit
    /// asked about, so a later task asks the host again. Swap units stay:
    /// they come with the base facts, which no request gathers again.
    pub fn forget_items(&mut self) {
        self.files.clear();
        self.file_ids.clear();
        self.packages.clear();
        self.sysctls.clear();
        self.units.retain(|name, _| name.ends_with(".swap"));
    }

    /// Take the asked-for items (files, packages, units, sysctls) a later
    /// gather found, keeping the rest of what is known. Its units hold the
    /// swap units' states too, read again with its base facts: they replace
    /// the known ones as the asked-for units do.
    pub fn merge_items(&mut self, fresh: Facts) {
        for p in fresh.files.keys() {
            self.file_ids.remove(p);
        }
        self.files.extend(fresh.files);
        self.file_ids.extend(fresh.file_ids);
        self.packages.extend(fresh.packages);
        self.units.extend(fresh.units);
        self.sysctls.extend(fresh.sysctls);
        if fresh.cert_expiry.is_some() {
            self.cert_expiry = fresh.cert_expiry;
        }
    }

    /// Whether `req` is already answered by these facts.
    pub fn has(&self, req: &FactRequest) -> bool {
        match req {
            FactRequest::File { path, content } => self.files.get(path).is_some_and(|f| {
                !content
                    || f.kind != FileKind::File
                    || f.content.is_some()
                    || f.size.is_some_and(|n| n > MAX_CONTENT as u64)
            }),
            FactRequest::Package(n) => self.packages.contains_key(n),
            FactRequest::Unit(n) => self.units.contains_key(n),
            FactRequest::Sysctl(k) => self.sysctls.contains_key(k),
            FactRequest::CertExpiry => self.cert_expiry.is_some(),
            FactRequest::KubeCluster => self.kube.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(k: FileKind) -> FileState {
        FileState {
            kind: k,
            ..FileState::default()
        }
    }

    /// A later gather's items replace the known ones of the same names and
    /// add new ones; its base facts are not taken.
    #[test]
    fn later_items_merge_over_known_ones() {
        let mut known = Facts {
            hostname: "first".into(),
            ..Facts::default()
        };
        known.files.insert("/a".into(), kind(FileKind::File));
        known.files.insert("/b".into(), kind(FileKind::Missing));
        known.sysctls.insert("k".into(), None);
        let mut fresh = Facts {
            hostname: "second".into(),
            ..Facts::default()
        };
        fresh.files.insert("/b".into(), kind(FileKind::Directory));
        fresh
            .packages
            .insert("sudo".into(), PackageState::default());
        fresh
            .units
            .insert("dev-sdb2.swap".into(), UnitState::default());
        fresh.sysctls.insert("k".into(), Some("1".into()));
        known.merge_items(fresh);
        assert_eq!(known.hostname, "first");
        assert_eq!(known.files["/a"].kind, FileKind::File);
        assert_eq!(known.files["/b"].kind, FileKind::Directory);
        assert!(known.packages.contains_key("sudo"));
        assert!(known.units.contains_key("dev-sdb2.swap"));
        assert_eq!(known.sysctls["k"].as_deref(), Some("1"));
    }

    /// (what, known before, the update, what the facts say afterwards)
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, FileKind)>,
        (&'a str, FileKind),
        Vec<(&'a str, FileKind)>,
    );

    /// A path that comes to exist brings its parents with it (`mkdir -p`).
    #[test]
    fn a_created_path_makes_its_missing_parents_directories() {
        use FileKind::*;
        let table: Vec<Case> = vec![
            (
                "directory under missing parents",
                vec![
                    ("/srv/demo", Missing),
                    ("/srv", Missing),
                    ("/srv/demo/b", Missing),
                ],
                ("/srv/demo/pki", Directory),
                vec![
                    ("/srv", Directory),
                    ("/srv/demo", Directory),
                    ("/srv/demo/b", Missing),
                ],
            ),
            (
                "a file makes its directory",
                vec![("/etc/kubernetes", Missing)],
                ("/etc/kubernetes/pki/ca.crt", File),
                vec![("/etc/kubernetes", Directory)],
            ),
            (
                "a known directory keeps its facts",
                vec![("/etc", Directory)],
                ("/etc/x", File),
                vec![("/etc", Directory)],
            ),
            (
                "a removal makes nothing",
                vec![("/opt", Missing)],
                ("/opt/x", Missing),
                vec![("/opt", Missing)],
            ),
            (
                "a sibling with a shared prefix is no parent",
                vec![("/srv/dem", Missing)],
                ("/srv/demo/a", Directory),
                vec![("/srv/dem", Missing)],
            ),
        ];
        for (what, known, (path, made), want) in table {
            let mut f = Facts::default();
            for (p, k) in known {
                f.files.insert(p.into(), kind(k));
            }
            f.update(&FactUpdate::File(path.into(), kind(made)));
            for (p, k) in want {
                assert_eq!(f.files[p].kind, k, "{what}: {p}");
            }
            assert!(
                !f.files.contains_key("/"),
                "{what}: unknown parents stay unknown"
            );
        }
    }

    #[test]
    fn a_made_parent_has_mkdir_s_mode_and_no_guessed_owner() {
        let mut f = Facts::default();
        f.files.insert("/srv".into(), FileState::default());
        f.update(&FactUpdate::File("/srv/a".into(), kind(FileKind::File)));
        assert_eq!(
            (f.files["/srv"].mode, f.files["/srv"].owner.as_deref()),
            (Some(0o755), None)
        );
    }
}
