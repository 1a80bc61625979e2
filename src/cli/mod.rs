//! The command line: clap definitions, turned into the commands' requests (no clap type goes further).

pub mod extras;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::apply::ApplyRequest;
use crate::commands::connect::SshRequest;
use crate::commands::exec::ExecRequest;
use crate::engine::RunRequest;
use crate::report::Event;
use crate::{commands, ExitCode};

const ABOUT: &str = "Turn an inventory of plain Linux servers into a kubeadm cluster over SSH.";

const TOP_HELP: &str = "\
Examples:
  kubestrap inventory check -i inventory.yaml
  kubestrap exec -i inventory.yaml -- uptime
  kubestrap apply -i inventory.yaml --check --diff
  kubestrap apply -i inventory.yaml
  kubestrap kubeconfig -i inventory.yaml -o ~/.kube/config
  kubestrap certs -i inventory.yaml
  kubestrap reset -i inventory.yaml --check
  kubestrap remove node3 -i inventory.yaml --check
  kubestrap backup -i inventory.yaml -o ~/backups
  kubestrap restore ~/backups/lab-2026-12-07T17-40-12Z -i inventory.yaml --yes
  kubestrap run site.yaml -i hosts.ini --limit workers
  kubestrap completions bash \\
      > ~/.local/share/bash-completion/completions/kubestrap
  kubestrap man > ~/.local/share/man/man1/kubestrap.1

`kubestrap COMMAND --help` shows each command's flags and examples; README.md
explains inventories, security defaults and troubleshooting.

Exit codes:
  0    every host succeeded
  1    kubestrap itself failed (local I/O, internal error)
  2    bad input: command line, inventory, ssh config
  3    a command or task failed on at least one host, or preflight failed
  4    at least one host was unreachable (connect, auth, timeout)
  5    a host key was unknown, changed or revoked
  130  interrupted
  141  stdout was closed (`| head`): stopped quietly
When several apply, the highest wins.";

#[derive(Debug, Parser)]
#[command(name = "kubestrap", version, about = ABOUT, after_help = TOP_HELP)]
pub struct Cli {
    /// More log output on stderr: -v info, -vv debug, -vvv trace.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an ad-hoc shell command, or one module (as `ansible -m`), on many hosts at once.
    #[command(after_help = "Examples:
  kubestrap exec -i inventory.yaml -- hostname
  kubestrap exec -i hosts.ini --limit 'kube_node:!node3' --forks 20 -- uptime
  kubestrap exec -i inventory.yaml --become -- systemctl is-active containerd
  kubestrap exec all -i hosts.ini -m ping
  kubestrap exec workers -i hosts.ini -m shell -a 'df -h /'
  kubestrap exec all -i hosts.ini -b --check --diff \\
      -m copy -a 'src=motd dest=/etc/motd mode=0644'
  kubestrap exec all -i hosts.ini -b -m apt -a 'name=htop state=present'

With -- COMMAND, the command runs as `ssh host COMMAND` runs it. With -m
(and -a: key=value words, the command line for command/shell, or a JSON
object), the module runs once on every host PATTERN selects, as
`ansible PATTERN -m MODULE -a ARGS` runs it: a one-task play through the
same engine as `kubestrap run` (--check, --diff, -e and -b as there). -a
without -m runs the command module, as in Ansible.
Each host's result is printed as Ansible's ad-hoc mode prints it
(`node1 | CHANGED | rc=0 >>`, `node1 | SUCCESS => {...}`), then a PLAY RECAP
line per host.")]
    Exec(ExecArgs),
    /// Bootstrap the cluster, or bring it to the inventory's version: preflight, then the shipped playbooks.
    #[command(after_help = "Examples:
  kubestrap apply -i inventory.yaml
  kubestrap apply -i inventory.yaml --until prepared
  kubestrap apply -i inventory.yaml --check --diff
  kubestrap apply -i inventory.yaml --max-unavailable 2
  kubestrap apply -i hosts.ini --skip-preflight memory \\
      --playbooks ./my-playbooks
  kubestrap apply -i inventory.yaml --accept-new-host-keys \\
      --known-hosts ./known_hosts

Stages, in order:
  prepared  swap off, kernel modules and sysctls, static IP, hostname,
            /etc/hosts, containerd, kubeadm/kubelet/kubectl pinned and held
  cluster   kubeadm init on the first control plane, joins, Calico, every
            node Ready (the default: apply runs every stage)
Preflight checks every host before anything changes and lists every problem;
a failing preflight changes nothing (exit 3). Running apply again changes
nothing; hosts added to the inventory are prepared and joined.
Upgrades: when kubernetes_version is newer than the running cluster, apply
upgrades it as kubeadm documents, one minor release at a time: the first
control plane (kubeadm upgrade apply), each other control plane, then the
workers --max-unavailable at a time, each drained, upgraded, Ready at the
new version and uncordoned. --check --diff shows the plan; a downgrade or a
missing repository is refused before anything changes.")]
    Apply(ApplyArgs),
    /// Run a playbook (a documented subset of Ansible's) on the inventory's hosts.
    #[command(after_help = "Examples:
  kubestrap run site.yaml -i inventory.yaml
  kubestrap run site.yaml -i hosts.ini --check --diff
  kubestrap run site.yaml -i inventory.yaml --limit workers \\
      -e pod_subnet=10.233.64.0/18 -e @vars.yaml
  kubestrap run site.yaml -i inventory.yaml --tags containerd \\
      --report run.json

Output is Ansible's: a line per host per task (ok, changed, skipping, fatal),
diffs under --diff, then PLAY RECAP. A second run on unchanged hosts reports
changed=0 and costs one SSH command per host.")]
    Run(RunArgs),
    /// Check or show an inventory (kubestrap YAML, Ansible INI or Ansible YAML).
    #[command(
        subcommand,
        after_help = "Examples:
  kubestrap inventory check -i inventory.yaml
  kubestrap inventory check -i inventory/kubespray.ini
  kubestrap inventory show -i hosts.ini --json

The format is detected from the file itself. Every problem is reported at
once, one line each: FILE:LINE: host NAME: message (exit 2)."
    )]
    Inventory(InventoryCommand),
    /// Print the discovery hash (sha256:<hex>) of a CA certificate, as `kubeadm join` pins it.
    #[command(after_help = "Examples:
  kubestrap ca-hash /etc/kubernetes/pki/ca.crt
  kubestrap ca-hash inventory/.kubestrap/lab/ca.crt

Prints the value for --discovery-token-ca-cert-hash: SHA-256 of the certificate's
SubjectPublicKeyInfo, what kubeadm's documented openssl pipeline prints.
FILE is PEM (the first CERTIFICATE block) or DER.")]
    CaHash {
        /// The CA certificate, PEM or DER.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the cluster's admin kubeconfig, kept by `kubestrap apply` in the state directory.
    #[command(after_help = "Examples:
  kubestrap kubeconfig -i inventory.yaml > ~/.kube/lab.conf
  kubestrap kubeconfig -i inventory.yaml -o ~/.kube/lab.conf
  KUBECONFIG=~/.kube/lab.conf kubectl get nodes

The state directory defaults to .kubestrap/<cluster name> beside the inventory.
The kubeconfig holds cluster-admin credentials: -o writes it with mode 0600.")]
    Kubeconfig {
        /// The inventory `kubestrap apply` ran with.
        #[arg(short, long, value_name = "FILE")]
        inventory: PathBuf,
        /// Write it to FILE (mode 0600, replaced atomically) instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The cluster's state directory (default: <inventory dir>/.kubestrap/<cluster name>).
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
    /// List every control plane's kubeadm certificates and CAs with the days they have left; `certs renew` renews them.
    #[command(after_help = "Examples:
  kubestrap certs -i inventory.yaml
  kubestrap certs renew -i inventory.yaml --check
  kubestrap certs renew -i inventory.yaml

`certs` runs `kubeadm certs check-expiration` on every control plane (role
control_plane) and prints one table, the soonest expiry first: host,
certificate (kubeadm's names: apiserver, admin.conf, etcd-server ...), expiry
date, days left and the CA that signed it. kubeadm's certificates last one
year, its CAs ten; `kubestrap apply` warns when one has fewer than 30 days left.
`certs renew --help` tells what a renewal does.")]
    Certs(CertsCommand),
    /// Tear the whole cluster down (workers, then control planes), leave the hosts prepared, move the secrets aside.
    #[command(after_help = "Examples:
  kubestrap reset -i inventory.yaml --check
  kubestrap reset -i inventory.yaml
  kubestrap reset -i inventory.yaml --yes
  kubestrap apply -i inventory.yaml

First it shows the RESET block and asks for the cluster's name (cluster.name
of the inventory, `kubernetes` when it names none); anything else stops
before a host is touched. --yes does not ask. Without a terminal on stdin
and without --yes it refuses at once (exit 2): a pipeline never waits on a
question.
Then, on every host of the inventory: the workers together, then the control
planes one at a time, the first control plane last: `kubeadm reset -f`, the
CNI configuration (/etc/cni/net.d, /var/lib/cni), the iptables chains of
Kubernetes and Calico (KUBE-*, cali-*; the host's own rules stay), IPVS
tables, root's ~/.kube/config, kube-vip's manifest and kubestrap's files
under /etc/kubernetes. Packages stay installed and held, swap stays off,
containerd stays: `kubestrap apply` builds a new cluster at once.
Last, the state directory's files (CA, token, certificate key, kubeconfig)
move to <state dir>/reset-<UTC time>/ (0700; never deleted), so that apply
makes a new CA. When a host could not be reset (unreachable: exit 4), they
stay, and the STATE block says which host to bring back; run reset again.
There is no --limit: to take single nodes out, a cluster must go on
without them, which reset does not do.")]
    Reset(ResetArgs),
    /// Take nodes out of the cluster: drain, kubeadm reset and clean the host, delete the Node; a dead server's node is deleted (and its etcd member removed).
    #[command(after_help = "Examples:
  kubestrap remove node3 -i inventory.yaml --check
  kubestrap remove node3 -i inventory.yaml
  kubestrap remove node2 node3 -i inventory.yaml --force

A node whose host answers is drained (through a healthy control plane), then
on the host `kubeadm reset -f` runs (on a control plane it removes its etcd
member), and what reset leaves behind is cleaned as its output asks:
/etc/cni/net.d, the iptables rules of the filter, nat and mangle tables,
IPVS tables (when ipvsadm is there), /root/.kube/config, /var/lib/kubelet.
kubeadm, kubelet and kubectl stay installed and held unless --purge. Last,
`kubectl delete node`. A node whose host does not answer (a dead server) is
deleted from the cluster; for a control plane its etcd member is removed
first through a healthy control plane's etcd Pod, so a replacement with the
same name and address joins with `kubestrap apply`.
The node may already be gone from the inventory: the state directory
remembers every member `apply` built. Refused before anything changes
(exit 2): the last control plane, control planes whose removal breaks
etcd's quorum (a dead control plane still counts: remove it first), a name
that is no member. Removing a node that is gone already changes nothing.")]
    Remove(RemoveArgs),
    /// Save an etcd snapshot of the cluster, with its CA and kubeadm config, on this machine; keep the last 7.
    #[command(after_help = "Examples:
  kubestrap backup -i inventory.yaml
  kubestrap backup -i inventory.yaml -o ~/backups --keep 30
  cd ~/backups/lab-2026-12-07T17-40-12Z && sha256sum -c SHA256SUMS

On the first control plane whose etcd answers (the others are tried in
turn), `etcdctl snapshot save` runs in the etcd static Pod's container,
with the certificates of kubeadm's etcd manifest; the snapshot lands in a
private temporary directory in etcd's data directory and is removed once
copied. It comes to this machine over SSH and its SHA-256 is compared with
the one taken on the host. Beside it go the cluster CA (ca.crt, ca.key:
the key is a secret, keep the directory safe) and the kubeadm-config
ConfigMap. One backup is one directory, DIR/<cluster>-<UTC time>/ (0700,
files 0600), with a SHA256SUMS that `sha256sum -c` checks; the default DIR
is <state dir>/backups. Of this cluster's backups in DIR, the newest --keep
stay; nothing else in DIR is touched.
`kubestrap restore --help` tells how to bring one back.")]
    Backup(BackupArgs),
    /// Bring the cluster back to a backup's etcd snapshot (kubeadm's disaster recovery, every control plane at once); needs --yes.
    #[command(after_help = "Examples:
  kubestrap restore ~/backups/lab-2026-12-07T17-40-12Z -i inventory.yaml --yes
  kubestrap restore ~/backups/lab-2026-12-07T17-40-12Z/etcd-snapshot.db \\
      -i inventory.yaml --yes

Every object created since the snapshot is lost, on every node: it refuses
without --yes. FILE is a backup directory or its etcd-snapshot.db. Before
any host changes: the file's SHA-256 must be the one its SHA256SUMS records
and it must end with etcd's own hash (a cut or damaged file is refused,
exit 2); every control plane must answer, have kubeadm's etcd manifest and
etcdutl (from the etcd release, e.g. /usr/local/bin/etcdutl); the snapshot
is copied to each one, checked there, and `etcdutl snapshot restore` makes
a new data directory for its member with the whole --initial-cluster. Then,
as kubeadm's documentation says: the static Pods of every control plane
stop (manifests out of /etc/kubernetes/manifests), the restored member
directory replaces the old one (kept as member.before-restore-<UTC time>
in the data directory), the Pods start again, and kubestrap waits (at most
4 minutes each) until each API server answers. Whatever stops the restore,
the manifests are put back.")]
    Restore(RestoreArgs),
    /// Print a shell completion script for bash, zsh or fish.
    #[command(after_help = "Examples:
  kubestrap completions bash \\
      > ~/.local/share/bash-completion/completions/kubestrap
  kubestrap completions zsh > ~/.zfunc/_kubestrap  # fpath+=(~/.zfunc)
  kubestrap completions fish > ~/.config/fish/completions/kubestrap.fish")]
    Completions {
        /// The shell to complete in.
        #[arg(value_enum, value_name = "SHELL")]
        shell: extras::Shell,
    },
    /// Print kubestrap's man page (roff, section 1) with every command.
    #[command(after_help = "Examples:
  kubestrap man > ~/.local/share/man/man1/kubestrap.1
  kubestrap man | man -l -")]
    Man,
}

/// `kubestrap certs [renew]`: listing is the command itself, renewing its subcommand.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct CertsCommand {
    #[command(subcommand)]
    pub action: Option<CertsAction>,
    #[command(flatten)]
    pub args: CertsArgs,
}

#[derive(Debug, Subcommand)]
pub enum CertsAction {
    /// Renew every control plane's certificates, restart its static Pods and refresh the stored kubeconfig.
    #[command(after_help = "Examples:
  kubestrap certs renew -i inventory.yaml --check
  kubestrap certs renew -i inventory.yaml
  kubestrap kubeconfig -i inventory.yaml -o ~/.kube/lab.conf

On each control plane in turn, one at a time so the others keep serving:
`kubeadm certs renew all` (every leaf certificate, one more year, from the
cluster's own CAs); then, as kubeadm's documentation says, the static Pod
manifests leave /etc/kubernetes/manifests for the kubelet's fileCheckFrequency
(20s by default) so the control-plane Pods stop, and come back so they start
with the new certificates; then kubestrap waits (at most 4 minutes) until the
API server answers with the renewed admin.conf. Last, the certificate table
is printed again and the admin kubeconfig in the state directory is replaced
by the renewed one: fetch it again with `kubestrap kubeconfig`.
The first failure stops the renewal, naming the host and the step; a manifest
moved out is always put back. The CAs themselves are not renewed.")]
    Renew {
        #[command(flatten)]
        args: CertsArgs,
        /// Say what would be done on each control plane, change nothing.
        #[arg(short = 'C', long)]
        check: bool,
    },
}

/// What `certs` and `certs renew` both take.
#[derive(Debug, Args)]
pub struct CertsArgs {
    /// The inventory `kubestrap apply` built the cluster from.
    #[arg(short, long, value_name = "FILE", required = true)]
    pub inventory: Option<PathBuf>,
    /// The cluster's state directory, where renew stores the new admin
    /// kubeconfig (default: <inventory dir>/.kubestrap/<cluster name>).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub ssh: SshArgs,
}

impl CertsCommand {
    fn request(self, verbose: bool) -> commands::certs::CertsRequest {
        let (args, renew, check) = match self.action {
            Some(CertsAction::Renew { args, check }) => (args, true, check),
            None => (self.args, false, false),
        };
        commands::certs::CertsRequest {
            // clap requires it unless a subcommand, which has its own, is given.
            inventory: args.inventory.unwrap_or_default(),
            state_dir: args.state_dir,
            renew,
            check,
            verbose,
            ssh: args.ssh.request(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Validate an inventory, listing every problem as FILE:LINE: host NAME: message.
    #[command(
        after_help = "Examples:\n  kubestrap inventory check -i inventory.yaml\n  kubestrap inventory check -i inventory/kubespray.ini\n\nPrints FILE: ok (N hosts, ...) and exits 0, or every problem and exits 2."
    )]
    Check {
        /// The inventory: kubestrap YAML, Ansible INI or Ansible YAML.
        #[arg(short, long, value_name = "FILE")]
        inventory: PathBuf,
    },
    /// Show the resolved hosts, their connection settings and roles.
    #[command(
        after_help = "Examples:\n  kubestrap inventory show -i inventory.yaml\n  kubestrap inventory show -i hosts.ini --json | jq '.hosts[].name'"
    )]
    Show {
        /// The inventory: kubestrap YAML, Ansible INI or Ansible YAML.
        #[arg(short, long, value_name = "FILE")]
        inventory: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The inventory: kubestrap YAML, Ansible INI or Ansible YAML.
    #[arg(short, long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// Only these hosts: names, groups, globs; `a,b` or `a:b`, `!x` excludes, `&x` intersects.
    #[arg(short, long, value_name = "PATTERN", default_value = "all")]
    pub limit: String,
    /// How many hosts to work on at once.
    #[arg(short, long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub forks: u32,
    #[command(flatten)]
    pub ssh: SshArgs,
    /// Hosts to run on, as `ansible PATTERN` (the same patterns as --limit,
    /// which still narrows them); default: all.
    #[arg(value_name = "PATTERN")]
    pub pattern: Option<String>,
    /// Run this module (any module a playbook may use) instead of a command.
    #[arg(short = 'm', long = "module-name", value_name = "MODULE")]
    pub module: Option<String>,
    /// The module's arguments: key=value words, a command line, or a JSON object.
    #[arg(short = 'a', long = "args", value_name = "ARGS")]
    pub args: Option<String>,
    /// With -m/-a: report what would change, change nothing.
    #[arg(short = 'C', long)]
    pub check: bool,
    /// With -m/-a: show unified diffs of what changes (or would change).
    #[arg(short = 'D', long)]
    pub diff: bool,
    /// With -m/-a: extra variables for the arguments' templates: key=value, YAML, or @file.yaml.
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    /// The command, run by the remote user's shell as `ssh host COMMAND` runs it.
    #[arg(
        last = true,
        value_name = "COMMAND",
        required_unless_present_any = ["module", "args"],
        conflicts_with_all = ["module", "args", "check", "diff", "extra_vars"]
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The inventory: kubestrap YAML, Ansible INI or Ansible YAML.
    #[arg(short, long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// Stop after this stage: prepared or cluster (the default: every stage).
    #[arg(long, value_name = "STAGE")]
    pub until: Option<String>,
    /// The cluster's local state (CA, token, kubeconfig); default: .kubestrap/<cluster name> beside the inventory.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Take playbooks (and their templates/) from this directory when it has them.
    #[arg(long, value_name = "DIR")]
    pub playbooks: Option<PathBuf>,
    /// Skip one preflight check by name (repeatable; `all` skips every check).
    #[arg(long, value_name = "NAME", value_parser = preflight_check_names())]
    pub skip_preflight: Vec<String>,
    /// Only change these hosts (preflight still looks at all of them).
    #[arg(short, long, value_name = "PATTERN", default_value = "all")]
    pub limit: String,
    /// How many hosts to work on at once.
    #[arg(short, long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub forks: u32,
    /// Report what would change, change nothing (on the hosts or in the state
    /// directory). Steps that need what only a real run makes say what they would do.
    #[arg(short = 'C', long)]
    pub check: bool,
    /// Show unified diffs of what changes.
    #[arg(short = 'D', long)]
    pub diff: bool,
    /// Run notified handlers even on hosts where a later task failed (and
    /// after a failure budget stopped the run), as Ansible's --force-handlers.
    /// Without it they are not lost either: each host remembers notified
    /// handlers in /var/lib/kubestrap/pending-handlers and the next run runs them.
    #[arg(long)]
    pub force_handlers: bool,
    /// Extra variables for the playbooks (key=value, YAML, @file.yaml).
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    /// Write every task's result to this JSON file (0600).
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Take the hosts' locks even when another run holds them (only after
    /// making sure that run is dead: its lease ends by itself within 2 minutes).
    #[arg(long)]
    pub force_unlock: bool,
    /// Workers that may fail, in percent of the workers this run changes, before
    /// the apply stops; any control-plane failure stops it.
    #[arg(long, value_name = "PERCENT", default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub max_worker_failure_percent: u32,
    /// Upgrades: how many workers are drained and upgraded at once (control
    /// planes always go one at a time, the first one first).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_unavailable: u32,
    #[command(flatten)]
    pub ssh: SshArgs,
}

#[derive(Debug, Args)]
pub struct ResetArgs {
    /// The inventory `kubestrap apply` built the cluster from.
    #[arg(short, long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// Do not ask for the cluster's name (for pipelines).
    #[arg(short, long)]
    pub yes: bool,
    /// Say what would be done on each host and in the state directory,
    /// change nothing (asks nothing).
    #[arg(short = 'C', long)]
    pub check: bool,
    /// The cluster's state directory (default: <inventory dir>/.kubestrap/<cluster name>).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// How many workers to reset at once.
    #[arg(short, long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub forks: u32,
    /// Take the hosts' locks even when another run holds them (only after
    /// making sure that run is dead: its lease ends by itself within 2 minutes).
    #[arg(long)]
    pub force_unlock: bool,
    #[command(flatten)]
    pub ssh: SshArgs,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The nodes to remove, by name (as in the inventory and the cluster).
    #[arg(value_name = "NODE", required = true)]
    pub nodes: Vec<String>,
    /// The inventory `kubestrap apply` built the cluster from.
    #[arg(short, long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// The cluster's local state (it remembers the members); default: .kubestrap/<cluster name> beside the inventory.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Show what would happen to each node, change nothing.
    #[arg(short = 'C', long)]
    pub check: bool,
    /// Go on when a drain cannot finish in time (a PodDisruptionBudget
    /// blocks an eviction) and delete Pods no controller manages.
    #[arg(long)]
    pub force: bool,
    /// Purge kubeadm, kubelet and kubectl instead of keeping them held at their version.
    #[arg(long)]
    pub purge: bool,
    /// How long a drain may wait for its evictions.
    #[arg(long, value_name = "DURATION", default_value = "300s")]
    pub drain_timeout: String,
    /// Take the hosts' locks even when another run holds them (only after
    /// making sure that run is dead: its lease ends by itself within 2 minutes).
    #[arg(long)]
    pub force_unlock: bool,
    /// Write every task's result to this JSON file (0600).
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    #[command(flatten)]
    pub ssh: SshArgs,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The inventory `kubestrap apply` built the cluster from.
    #[arg(short, long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// Where the backups go (default: <state dir>/backups).
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// How many of this cluster's backups stay in DIR, this one included.
    #[arg(long, value_name = "N", default_value_t = commands::backup::DEFAULT_KEEP as u32, value_parser = clap::value_parser!(u32).range(1..))]
    pub keep: u32,
    /// The cluster's state directory (default: <inventory dir>/.kubestrap/<cluster name>).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub ssh: SshArgs,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup: its directory, or its etcd-snapshot.db.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The inventory `kubestrap apply` built the cluster from.
    #[arg(short, long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// Restore: every change since the snapshot is lost.
    #[arg(short, long)]
    pub yes: bool,
    /// Take the hosts' locks even when another run holds them (only after
    /// making sure that run is dead: its lease ends by itself within 2 minutes).
    #[arg(long)]
    pub force_unlock: bool,
    /// The cluster's state directory (default: <inventory dir>/.kubestrap/<cluster name>).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[command(flatten)]
    pub ssh: SshArgs,
}

impl ResetArgs {
    fn request(self, verbose: bool) -> commands::reset::ResetRequest {
        commands::reset::ResetRequest {
            inventory: self.inventory,
            state_dir: self.state_dir,
            yes: self.yes,
            check: self.check,
            forks: self.forks as usize,
            force_unlock: self.force_unlock,
            verbose,
            ssh: self.ssh.request(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The playbook file (YAML).
    #[arg(value_name = "PLAYBOOK")]
    pub playbook: PathBuf,
    /// The inventory: kubestrap YAML, Ansible INI or Ansible YAML.
    #[arg(short, long, value_name = "FILE")]
    pub inventory: PathBuf,
    /// Only these hosts (same patterns as exec).
    #[arg(short, long, value_name = "PATTERN", default_value = "all")]
    pub limit: String,
    /// How many hosts to work on at once.
    #[arg(short, long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
    pub forks: u32,
    /// Report what would change, change nothing.
    #[arg(short = 'C', long)]
    pub check: bool,
    /// Show unified diffs of what changes (or would change).
    #[arg(short = 'D', long)]
    pub diff: bool,
    /// Run notified handlers even on hosts where a later task failed (and
    /// after a failure budget stopped the run), as Ansible's --force-handlers.
    /// Without it they are not lost either: each host remembers notified
    /// handlers in /var/lib/kubestrap/pending-handlers and the next run runs them.
    #[arg(long)]
    pub force_handlers: bool,
    /// Extra variables, highest precedence: key=value, a YAML mapping, or @file.yaml (repeatable).
    #[arg(short = 'e', long = "extra-vars", value_name = "VARS")]
    pub extra_vars: Vec<String>,
    /// Only tasks with these tags (comma-separated, repeatable).
    #[arg(short, long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Skip tasks with these tags.
    #[arg(long, value_delimiter = ',')]
    pub skip_tags: Vec<String>,
    /// Write every task's result on every host to this JSON file (0600).
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// List the hosts each play would run on, and stop (nothing is connected to).
    #[arg(long)]
    pub list_hosts: bool,
    /// List the tasks each play would run (as --tags selects them), and stop.
    #[arg(long)]
    pub list_tasks: bool,
    /// Check the playbook (and inventory) only, and stop.
    #[arg(long)]
    pub syntax_check: bool,
    /// Skip the tasks before the first one with this name (a shell glob).
    #[arg(long, value_name = "NAME")]
    pub start_at_task: Option<String>,
    /// Ask on the terminal before each task: (N)o, (y)es, (c)ontinue.
    #[arg(long)]
    pub step: bool,
    #[command(flatten)]
    pub ssh: SshArgs,
}

/// The names `--skip-preflight` takes, listed by `apply --help` and completed by the shells.
fn preflight_check_names() -> clap::builder::PossibleValuesParser {
    let names = crate::cluster::preflight::check_names().iter().copied();
    clap::builder::PossibleValuesParser::new(names.chain(["all"]))
}

/// SSH and become flags shared by every command that reaches hosts.
#[derive(Debug, Args)]
pub struct SshArgs {
    /// Trust host keys not yet in known_hosts and add them (shows their SHA256 fingerprints).
    /// A key that CHANGED is always refused.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// known_hosts file to use instead of ~/.ssh/known_hosts (repeatable).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Vec<PathBuf>,
    /// ssh_config file to read instead of ~/.ssh/config.
    #[arg(short = 'F', long, value_name = "FILE")]
    pub ssh_config: Option<PathBuf>,
    /// Seconds to wait for TCP connect, and for handshake + login.
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub connect_timeout: u64,
    /// Seconds a single command may run (0 = no limit).
    #[arg(long, value_name = "SECS", default_value_t = 0)]
    pub command_timeout: u64,
    /// Seconds between SSH keepalives; three unanswered ones drop the host.
    #[arg(long, value_name = "SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub keepalive: u64,
    /// Extra connection attempts after a network error (never after a host-key or login error).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub retries: u32,
    /// Run commands through sudo (as root unless --become-user).
    #[arg(short, long = "become")]
    pub become_: bool,
    /// User to become.
    #[arg(long, value_name = "USER")]
    pub become_user: Option<String>,
    /// Ask once for the sudo password (sent on stdin, never on a command line).
    #[arg(short = 'K', long)]
    pub ask_become_pass: bool,
    /// Read the sudo password from this file (for pipelines; keep it 0600).
    #[arg(long, value_name = "FILE", conflicts_with = "ask_become_pass")]
    pub become_password_file: Option<PathBuf>,
}

impl SshArgs {
    /// The settings as the commands take them.
    fn request(self) -> SshRequest {
        SshRequest {
            accept_new_host_keys: self.accept_new_host_keys,
            known_hosts: self.known_hosts,
            ssh_config: self.ssh_config,
            connect_timeout: self.connect_timeout,
            command_timeout: self.command_timeout,
            keepalive: self.keepalive,
            retries: self.retries,
            become_: self.become_,
            become_user: self.become_user,
            ask_become_pass: self.ask_become_pass,
            become_password_file: self.become_password_file,
        }
    }
}

impl ApplyArgs {
    fn request(self, verbose: bool) -> ApplyRequest {
        ApplyRequest {
            inventory: self.inventory,
            until: self.until,
            state_dir: self.state_dir,
            playbooks: self.playbooks,
            skip_preflight: self.skip_preflight,
            limit: self.limit,
            forks: self.forks as usize,
            check: self.check,
            diff: self.diff,
            force_handlers: self.force_handlers,
            extra_vars: self.extra_vars,
            report: self.report,
            force_unlock: self.force_unlock,
            max_worker_failure_percent: self.max_worker_failure_percent,
            max_unavailable: self.max_unavailable as usize,
            verbose,
            ssh: self.ssh.request(),
        }
    }
}

/// Parse arguments, run, and map every error to its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::BadInput
            } else {
                ExitCode::Ok
            };
        }
    };
    crate::ui::init_logging(cli.verbose);
    let code = match dispatch(cli) {
        Ok(code) => code,
        // Located problems already read `FILE:LINE: …`, one per line, as
        // compilers print them; anything else gets an `error:` prefix.
        Err(e @ (crate::Error::Inventory(_) | crate::Error::Playbook(_))) => {
            crate::report::say(Event::Notice(e.to_string()));
            e.exit_code()
        }
        Err(e) => {
            crate::report::say(Event::Error(e.to_string()));
            e.exit_code()
        }
    };
    crate::report::stdout::exit_code(code)
}

/// `exec`: a command on every host (`-- COMMAND`), or one module (`-m`/`-a`).
fn exec(args: ExecArgs, verbose: bool) -> Result<ExitCode, crate::Error> {
    let pattern = args.pattern.unwrap_or_else(|| "all".into());
    if args.command.is_empty() {
        let req = commands::adhoc::AdHocRequest {
            run: RunRequest {
                inventory: args.inventory,
                limit: args.limit,
                forks: args.forks as usize,
                check: args.check,
                diff: args.diff,
                extra_vars: args.extra_vars,
                verbose,
                ..RunRequest::default()
            },
            pattern,
            // `-a` alone runs the command module, as `ansible -a` does.
            module: args.module.unwrap_or_else(|| "command".into()),
            args: args.args,
        };
        return commands::adhoc::run(req, &args.ssh.request());
    }
    commands::exec::run(ExecRequest {
        inventory: args.inventory,
        pattern,
        limit: args.limit,
        forks: args.forks as usize,
        ssh: args.ssh.request(),
        command: args.command,
    })
}

fn dispatch(cli: Cli) -> Result<ExitCode, crate::Error> {
    let verbose = cli.verbose > 0;
    match cli.command {
        Command::Inventory(InventoryCommand::Check { inventory }) => {
            commands::inventory::check(&inventory)
        }
        Command::Inventory(InventoryCommand::Show { inventory, json }) => {
            commands::inventory::show(&inventory, json)
        }
        Command::Exec(args) => exec(args, verbose),
        Command::CaHash { file } => commands::ca_hash::ca_hash(&file),
        Command::Kubeconfig {
            inventory,
            output,
            state_dir,
        } => commands::kubeconfig::kubeconfig(commands::kubeconfig::KubeconfigRequest {
            inventory,
            output,
            state_dir,
        }),
        Command::Apply(args) => commands::apply::run(args.request(verbose)),
        Command::Certs(certs) => commands::certs::run(certs.request(verbose)),
        Command::Reset(args) => commands::reset::run(args.request(verbose)),
        Command::Remove(args) => commands::remove::run(commands::remove::RemoveRequest {
            inventory: args.inventory,
            nodes: args.nodes,
            state_dir: args.state_dir,
            check: args.check,
            force: args.force,
            purge: args.purge,
            drain_timeout: args.drain_timeout,
            force_unlock: args.force_unlock,
            report: args.report,
            verbose,
            ssh: args.ssh.request(),
        }),
        Command::Backup(args) => commands::backup::run(commands::backup::BackupRequest {
            inventory: args.inventory,
            output: args.output,
            state_dir: args.state_dir,
            keep: args.keep as usize,
            verbose,
            ssh: args.ssh.request(),
        }),
        Command::Restore(args) => commands::restore::run(commands::restore::RestoreRequest {
            file: args.file,
            inventory: args.inventory,
            yes: args.yes,
            force_unlock: args.force_unlock,
            state_dir: args.state_dir,
            verbose,
            ssh: args.ssh.request(),
        }),
        Command::Completions { shell } => extras::print(&extras::completions(shell)),
        Command::Man => extras::print(&extras::man_page().map_err(|e| crate::Error::Io {
            path: "<man page>".into(),
            source: e,
        })?),
        Command::Run(args) => commands::run::run(
            RunRequest {
                inventory: args.inventory,
                limit: args.limit,
                forks: args.forks as usize,
                check: args.check,
                force_handlers: args.force_handlers,
                diff: args.diff,
                extra_vars: args.extra_vars,
                tags: args.tags,
                skip_tags: args.skip_tags,
                report: args.report,
                verbose,
                adhoc: false,
                start_at_task: args.start_at_task,
                step: args.step,
            },
            &args.playbook,
            &args.ssh.request(),
            commands::run::Only {
                list_hosts: args.list_hosts,
                list_tasks: args.list_tasks,
                syntax_check: args.syntax_check,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every command's help, rendered as an 80-column terminal shows it.
    fn helps(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
        out.push((path.to_string(), cmd.clone()));
        for sub in cmd.get_subcommands() {
            helps(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn help_examples_are_never_wrapped_mid_command() {
        let mut all = Vec::new();
        helps(&Cli::command(), "kubestrap", &mut all);
        for (path, cmd) in all {
            let Some(after) = cmd.get_after_help().map(|a| a.to_string()) else {
                continue;
            };
            let shown = cmd.clone().term_width(80).render_long_help().to_string();
            // Examples (indented) must stay whole; prose may wrap.
            for line in after.lines().filter(|l| l.starts_with("  ")) {
                assert!(line.chars().count() <= 78, "{path}: too wide: {line:?}");
                assert!(shown.contains(line), "{path}: {line:?} wrapped:\n{shown}");
            }
        }
    }

    #[test]
    fn apply_help_lists_every_preflight_check_name() {
        let help = Cli::command()
            .find_subcommand_mut("apply")
            .expect("apply")
            .render_long_help()
            .to_string();
        for name in crate::cluster::preflight::check_names()
            .iter()
            .chain(&["all"])
        {
            assert!(help.contains(name), "{name} missing:\n{help}");
        }
        let err =
            Cli::try_parse_from(["kubestrap", "apply", "-i", "x", "--skip-preflight", "swap"])
                .unwrap_err()
                .to_string();
        assert!(err.contains("unique-hostname"), "{err}");
    }
}
