//! Modules: one file each; `check` is pure (facts + args → plan), the runner applies plans.
//!
//! The contract, as sysadmins know it from Ansible:
//! - [`Module::check`] runs no command. It compares the desired state in the
//!   task's arguments with the host's [`Facts`] and returns a [`Plan`]: no
//!   change (with the reason), or the remote actions that make the change,
//!   the diff to show under `--diff`, and how the facts look afterwards.
//! - Applying a plan is generic: the runner executes its actions in order
//!   over the host's one SSH connection (through become when the task asks),
//!   and skips them under `--check`.
//! - Every action that replaces a file writes a temp file, fsyncs it, keeps a
//!   backup of the old one and renames (see [`write_file`]).

mod accounts;
mod apt;
mod args;
mod assert;
mod authorized_key;
mod blockinfile;
mod command;
mod copy;
mod deb822_repository;
mod debug;
mod debversion;
mod diff;
mod dpkg_selections;
mod fail;
mod fetch;
mod file;
mod file_facts;
mod get_url;
mod group;
mod hostname;
pub mod include_tasks;
mod ini_file;
mod lineinfile;
mod modprobe;
mod package;
mod pause;
mod ping;
mod replace;
mod set_fact;
mod shell;
mod slurp;
mod stat;
mod static_ip;
mod swap;
mod sys_common;
#[cfg(test)]
mod sys_lab_tests;
mod sysctl;
mod systemd;
mod template;
#[cfg(test)]
mod test_kit;
mod user;
mod validate;
mod wait_for;

pub use args::{literal, Args};
pub use file_facts::sha256_hex;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::facts::{FactRequest, FactUpdate, Facts};

/// One remote (or local) step of a change.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Run `script` with `sh -c` on the host, `stdin` fed to it (file
    /// content travels this way, never on a command line). Non-zero exit
    /// fails the task.
    Run {
        script: String,
        stdin: Option<Vec<u8>>,
    },
    /// Copy a remote file to the operator's machine.
    Fetch { remote: String, local: PathBuf },
    /// Log in to the host again on a fresh SSH connection within
    /// `timeout_secs`, then run `confirm` there. Used after a network change
    /// that the host rolls back by itself unless confirmed (the idea of
    /// `netplan try`): reconnecting proves the host is still reachable.
    /// If no connection can be made, the runner waits `rollback_secs` for the
    /// host's own rollback, reconnects, and fails the task with `rolled_back`.
    Reconnect {
        timeout_secs: u64,
        rollback_secs: u64,
        confirm: String,
        rolled_back: String,
    },
}

/// What `check` decided.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    /// Whether the task reports `changed` (a wait_for runs an action yet
    /// reports ok, as in Ansible).
    pub changed: bool,
    pub actions: Vec<Action>,
    /// Unified diff (or a short description) for `--diff`.
    pub diff: Option<String>,
    /// The facts after the actions succeed.
    pub updates: Vec<FactUpdate>,
    /// Why nothing changes, or what changes: shown with -v and in the report.
    pub msg: String,
    /// Run the actions even under `--check` (they only read: wait_for).
    pub read_only: bool,
}

impl Plan {
    /// Nothing to do, and why.
    pub fn noop(reason: impl Into<String>) -> Plan {
        Plan {
            msg: reason.into(),
            ..Plan::default()
        }
    }

    /// A change made by running `script`.
    pub fn run(msg: impl Into<String>, script: impl Into<String>) -> Plan {
        Plan {
            changed: true,
            actions: vec![Action::Run {
                script: script.into(),
                stdin: None,
            }],
            msg: msg.into(),
            ..Plan::default()
        }
    }
}

/// Renders a template file by name with the task's variables plus extra ones.
pub type RenderTemplate<'a> =
    dyn Fn(&str, &serde_json::Map<String, serde_json::Value>) -> Result<String, String> + 'a;

/// What a module's `check` may look at besides the facts: the operator's
/// local files (copy `src`, template sources), all read before anything runs.
pub struct Context<'a> {
    /// Inventory name of the host.
    pub host: &'a str,
    pub facts: &'a Facts,
    /// Directory of the playbook; relative local paths start here.
    pub base_dir: &'a Path,
    /// The directory of the task's role, searched first (its `files/`).
    pub role_dir: Option<&'a Path>,
    /// Render a template file (found as Ansible does: `templates/` next to
    /// the playbook, then the shipped templates) with the task's variables,
    /// plus `extra` variables a module computed (over the task's).
    pub render_template: &'a RenderTemplate<'a>,
}

/// What a module that runs on the controller decided (set_fact, debug,
/// assert, fail): no host is touched, no SSH command is run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Local {
    /// The task fails, with `msg`.
    pub failed: bool,
    /// Skipped, with `msg` as the reason (debug above the run's verbosity).
    pub skipped: bool,
    pub msg: String,
    /// Variables the host has from now on (set_fact).
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// The task's result as Ansible registers it (without `changed` and
    /// `failed`, which the engine adds).
    pub result: serde_json::Map<String, serde_json::Value>,
    /// What Ansible prints after `ok: [host] => ` (debug's message, an
    /// assert's verdict); None: only the status line.
    pub shown: Option<serde_json::Value>,
}

/// What a controller-side module may ask of the engine.
pub struct LocalContext<'a> {
    /// Evaluate a Jinja expression (no braces) with the task's variables;
    /// the error is the template engine's message.
    pub eval: &'a dyn Fn(&str) -> Result<serde_json::Value, String>,
    /// Whether an expression holds, as `when:` decides it.
    pub holds: &'a dyn Fn(&str) -> Result<bool, String>,
    /// `-v` given (debug's `verbosity: 1`).
    pub verbosity: u8,
}

/// A module: a pure check from facts and arguments to a plan.
pub trait Module: Sync {
    /// For a module that runs on the controller (set_fact, debug, assert,
    /// fail): its decision, made without facts or a host; then `check` is
    /// never called. The error is one line naming the argument at fault.
    fn local(&self, _args: &Args, _ctx: &LocalContext) -> Option<Result<Local, String>> {
        None
    }
    /// Name as written in playbooks, without `ansible.builtin.`.
    fn name(&self) -> &'static str;
    /// Argument names accepted; any other is an error before anything runs.
    fn params(&self) -> &'static [&'static str];
    /// Whether `module: some text` (free form) is accepted; the text becomes
    /// the `_raw_params` argument (command, shell).
    fn free_form(&self) -> bool {
        false
    }
    /// Whether the module can predict its change under `--check`. Those
    /// that cannot (command, shell) are skipped in check mode, as in Ansible.
    fn supports_check_mode(&self) -> bool {
        true
    }
    /// Ansible's partial check mode: a module that cannot predict its
    /// change, given these arguments, still reports `changed` under
    /// `--check` (command and shell with `creates` or `removes`: "Command
    /// would have run if not in check mode") instead of being skipped.
    fn changes_under_check(&self, _args: &Args) -> bool {
        false
    }
    /// Whether a change's plan says all it does to the host ([`Plan::updates`]).
    /// Not so for a package install (its files, units and commands) or a
    /// started service (its sockets and runtime files): under `--check`,
    /// later tasks may then depend on what only a real run would create.
    fn effects_in_facts(&self) -> bool {
        self.supports_check_mode()
    }
    /// Facts beyond the base ones that `check` will need, so they can be
    /// gathered in the same single round trip as the rest.
    fn needs(&self, _args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(Vec::new())
    }
    /// Facts `check` needs that only other facts can name (a user's home
    /// from /etc/passwd), once those of [`Module::needs`] are known. The
    /// engine gathers the ones not known yet in one more round trip, so
    /// `needs` should already guess the usual answer.
    fn needs_after(&self, _args: &Args, _facts: &Facts) -> Vec<FactRequest> {
        Vec::new()
    }
    /// Decide what to do. Errors are one line naming the argument at fault.
    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String>;
    /// What the task registers besides `changed`, `failed` and `msg`
    /// (stat's `stat`, ping's `ping`), read from the same facts as `check`.
    fn returns(&self, _args: &Args, _ctx: &Context) -> Result<Map<String, Value>, String> {
        Ok(Map::new())
    }
    /// Arguments Ansible documents that kubestrap does not implement, with
    /// why: refused by name when the playbook is loaded.
    fn unsupported(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// Argument values refused when the playbook is loaded, from the
    /// arguments as written (see [`literal`]: templated ones are decided at
    /// run time): `(argument, message)` for each; the argument "" refuses
    /// the call as a whole.
    fn refuse(&self, _args: &Map<String, Value>) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// The module called `name` (with or without `ansible.builtin.`,
/// `ansible.posix.` or `community.general.`).
pub fn lookup(name: &str) -> Option<&'static dyn Module> {
    let short = [
        "ansible.builtin.",
        "ansible.posix.",
        "community.general.",
        "ansible.legacy.",
    ]
    .iter()
    .find_map(|p| name.strip_prefix(p))
    .unwrap_or(name);
    all().iter().copied().find(|m| m.name() == short)
}

/// Every module kubestrap ships.
pub fn all() -> &'static [&'static dyn Module] {
    &[
        &command::Command,
        &shell::Shell,
        &copy::Copy,
        &template::Template,
        &lineinfile::LineInFile,
        &blockinfile::BlockInFile,
        &replace::Replace,
        &file::File,
        &apt::Apt,
        &dpkg_selections::DpkgSelections,
        &deb822_repository::Deb822Repository,
        &systemd::SYSTEMD,
        &systemd::SYSTEMD_SERVICE,
        &systemd::Service,
        &sysctl::Sysctl,
        &modprobe::Modprobe,
        &hostname::Hostname,
        &swap::Swap,
        &wait_for::WaitFor,
        &fetch::Fetch,
        &static_ip::StaticIp,
        &set_fact::SetFact,
        &debug::Debug,
        &assert::Assert,
        &fail::Fail,
        &stat::Stat,
        &ping::Ping,
        &pause::Pause,
        &package::Package,
        &slurp::Slurp,
        &group::Group,
        &user::User,
        &authorized_key::AuthorizedKey,
        &ini_file::IniFile,
        &get_url::GetUrl,
    ]
}

/// A shell-quoted path or word.
pub fn q(s: &str) -> String {
    crate::ssh::shell_quote(s)
}

/// The script and stdin that replace `path` atomically with the stdin
/// content: temp file in the same directory, mode/owner set (or kept from the
/// old file), fsync, backup of the old file as `PATH.PID.YYYY-MM-DD@HH:MM:SS~`
/// when `backup`, then rename over it.
pub fn write_file(
    path: &str,
    content: Vec<u8>,
    mode: Option<u32>,
    owner: Option<&str>,
    group: Option<&str>,
    backup: bool,
) -> Action {
    let opts = WriteOpts {
        mode,
        owner,
        group,
        backup,
        ..WriteOpts::default()
    };
    write_file_with(path, content, &opts)
}

/// How [`write_file_with`] replaces a file.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOpts<'a> {
    /// Permission bits; None keeps the old file's (0644 for a new file).
    pub mode: Option<u32>,
    /// None keeps the old file's owner (or the writing user's for a new file).
    pub owner: Option<&'a str>,
    pub group: Option<&'a str>,
    pub backup: bool,
    /// Write through a symlink to its target (lineinfile and replace do, as
    /// in Ansible) instead of replacing the link with a file (copy).
    pub follow: bool,
    /// Create missing parent directories first (lineinfile `create`).
    pub create_parents: bool,
    /// A command run on the temporary file (`$t`) before it replaces the
    /// old one (see [`validate`]): a failure leaves the old file.
    pub validate: Option<&'a str>,
}

/// [`write_file`] with every option.
pub fn write_file_with(path: &str, content: Vec<u8>, o: &WriteOpts) -> Action {
    let p = q(path);
    let mut s = String::from("set -e\n");
    s.push_str(&format!("p={p}\n"));
    if o.follow {
        s.push_str("if [ -L \"$p\" ]; then p=$(readlink -f -- \"$p\"); fi\n");
    }
    s.push_str("d=$(dirname -- \"$p\")\n");
    if o.create_parents {
        s.push_str("mkdir -p -- \"$d\"\n");
    }
    s.push_str("t=$(mktemp \"$d/.kubestrap.XXXXXX\")\ntrap 'rm -f \"$t\"' EXIT\ncat > \"$t\"\n");
    match o.mode {
        Some(m) => s.push_str(&format!("chmod {m:o} \"$t\"\n")),
        None => s.push_str(
            "if [ -e \"$p\" ]; then chmod --reference=\"$p\" \"$t\"; else chmod 644 \"$t\"; fi\n",
        ),
    }
    // Ownership is first copied whole from the old file, so that giving only
    // `owner` keeps the old group (and the other way round).
    s.push_str("if [ -e \"$p\" ]; then chown --reference=\"$p\" \"$t\"; fi\n");
    if o.owner.is_some() || o.group.is_some() {
        let spec = match (o.owner, o.group) {
            (Some(u), Some(g)) => format!("{u}:{g}"),
            (Some(u), None) => u.to_string(),
            (None, Some(g)) => format!(":{g}"),
            (None, None) => String::new(),
        };
        s.push_str(&format!("chown {} \"$t\"\n", q(&spec)));
    }
    s.push_str("sync \"$t\"\n");
    if let Some(v) = o.validate {
        s.push_str(&validate::script_line(v));
    }
    if o.backup {
        // The PID, as in Ansible's name, keeps two writes in one second
        // from sharing (and losing) a backup.
        s.push_str(
            "if [ -f \"$p\" ]; then cp -p -- \"$p\" \"$p.$$.$(date +%Y-%m-%d@%H:%M:%S)~\"; fi\n",
        );
    }
    s.push_str("mv -f -- \"$t\" \"$p\"\ntrap - EXIT\nsync \"$d\"\n");
    Action::Run {
        script: s,
        stdin: Some(content),
    }
}
