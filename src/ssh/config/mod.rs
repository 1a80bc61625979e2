//! ~/.ssh/config: the subset kubestrap honours, resolved with OpenSSH's ssh_config(5) semantics.
//!
//! Honoured keywords: `Host`, `Match` (`all`, `host`, `originalhost`), `Include`, `HostName`,
//! `User`, `Port`, `IdentityFile`, `ProxyJump`, `UserKnownHostsFile`, `ConnectTimeout`,
//! `ServerAliveInterval` and `StrictHostKeyChecking`. Every other keyword is accepted and
//! ignored, because users' configs are shared with OpenSSH and full of options we do not use.
//!
//! The behaviour mirrors `ssh -G` (OpenSSH 9.x) where it matters to users:
//! - the first obtained value of a keyword wins; only `IdentityFile` accumulates;
//! - `Host` patterns are compared case-sensitively with the alias as typed, while `Match host`
//!   and `Match originalhost` compare case-insensitively;
//! - `Match host` sees the `HostName` obtained *so far* (with `%h` expanded);
//! - an `Include` inside an inactive block contributes nothing, and `Host`/`Match` lines inside
//!   an included file do not change the activity of the including file;
//! - malformed values are errors even inside blocks that never match, so a broken config
//!   fails the same way for every host instead of only for some.
//!
//! Parsing is pure apart from reading the config files themselves; resolution reads only
//! `$HOME` and `$USER`/`$LOGNAME` (for `~`, `%d`, `%u` and the default remote user).
//!
//! Layout: this file holds the public types; `parse` turns lines into directives, `load`
//! reads files and follows `Include`, `resolve` applies a parsed config to one host,
//! `patterns` matches `Host`/`Match` lines, `expand` handles `%`-tokens, `~` and `${VAR}`,
//! and `jump` parses `ProxyJump` hops.

mod expand;
mod jump;
mod load;
mod parse;
mod patterns;
mod resolve;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use jump::JumpHost;
pub(crate) use patterns::{match_pattern_list, ListMatch};

use load::Loader;
use resolve::{home_dir, LocalEnv};

/// Where and why a config file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    /// 1-based; 0 when the problem concerns the whole file (unreadable, bad permissions).
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

/// Settings resolved for one host. `None`/empty means "not configured": callers apply defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostConfig {
    /// `HostName` with `%h` expanded to the alias and `%%` to `%`, lowercased as ssh does.
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    /// All `IdentityFile` values in order, duplicates dropped, with `~`, `${VAR}` and the
    /// `%d %u %h %r %p %n %%` tokens expanded (other tokens are left as written).
    pub identity_files: Vec<PathBuf>,
    /// Empty means no jump host (unset or explicitly `none`).
    pub proxy_jump: Vec<JumpHost>,
    /// Expanded like `identity_files`. `UserKnownHostsFile none` is reported as `/dev/null`,
    /// which has exactly its meaning (nothing is known, nothing is kept) without a
    /// separate flag for callers to forget.
    pub user_known_hosts_files: Vec<PathBuf>,
    /// Seconds.
    pub connect_timeout: Option<u64>,
    /// Seconds.
    pub server_alive_interval: Option<u64>,
    /// Normalised to `yes`, `no`, `ask` or `accept-new`.
    pub strict_host_key_checking: Option<String>,
}

/// A parsed config file, with its includes already read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SshConfig {
    items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// `Host` patterns; `(negated, pattern)`.
    Host(Vec<(bool, String)>),
    Match(Vec<Criterion>),
    Set(Setting),
    /// One entry per included file: each file gets its own block-activity scope.
    Include(Vec<SshConfig>),
}

#[derive(Debug, Clone, PartialEq)]
struct Criterion {
    negated: bool,
    kind: CriterionKind,
}

#[derive(Debug, Clone, PartialEq)]
enum CriterionKind {
    All,
    /// Comma-separated pattern list matched against the HostName obtained so far.
    Host(String),
    /// Comma-separated pattern list matched against the alias as typed.
    OriginalHost(String),
    /// `exec`, `user`, `canonical`, …: we cannot or will not evaluate these, so the block
    /// never applies (running `exec` commands from a config file is not our business).
    Unsupported,
}

#[derive(Debug, Clone, PartialEq)]
enum Setting {
    HostName(String),
    User(String),
    Port(u16),
    IdentityFile(String),
    /// Empty for `none`, which still counts as the first obtained value.
    ProxyJump(Vec<JumpHost>),
    /// Empty for `none`.
    UserKnownHostsFile(Vec<String>),
    ConnectTimeout(u64),
    ServerAliveInterval(u64),
    StrictHostKeyChecking(String),
}

impl SshConfig {
    pub fn empty() -> Self {
        Self::default()
    }

    /// `~/.ssh/config` under `$HOME` if it exists (a missing file, or no `$HOME`, is an
    /// empty config). Like ssh, refuses a file writable by group or others.
    pub fn load_user() -> Result<Self, ConfigError> {
        let Some(home) = home_dir() else {
            return Ok(Self::empty());
        };
        let path = home.join(".ssh").join("config");
        let loader = Loader { home: Some(home) };
        match loader.read(&path, true)? {
            Some(text) => loader.parse(&text, &path, 0),
            None => Ok(Self::empty()),
        }
    }

    /// A config file named explicitly (like `ssh -F`); it must exist.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let loader = Loader { home: home_dir() };
        match loader.read(path, false)? {
            Some(text) => loader.parse(&text, path, 0),
            None => Err(ConfigError {
                file: path.to_path_buf(),
                line: 0,
                message: "no such file".to_string(),
            }),
        }
    }

    /// Parses config text; `origin` names it in errors. Relative `Include`s are read from
    /// `~/.ssh`, as for the user config.
    pub fn parse(text: &str, origin: &Path) -> Result<Self, ConfigError> {
        Loader { home: home_dir() }.parse(text, origin, 0)
    }

    /// Settings for the host alias as typed (before HostName is applied).
    pub fn resolve(&self, host: &str) -> HostConfig {
        self.resolve_with(host, &LocalEnv::from_process())
    }
}
