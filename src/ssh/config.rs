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

use std::fmt;
use std::path::{Component, Path, PathBuf};

/// OpenSSH's READCONF_MAX_DEPTH: bounds nesting and breaks include cycles.
const MAX_INCLUDE_DEPTH: usize = 16;

/// OpenSSH's default port, used for `%p` when no `Port` is configured.
const DEFAULT_PORT: u16 = 22;

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

/// One hop of a `ProxyJump` chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHost {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl JumpHost {
    /// Parses one hop: `[user@]host[:port]`, `[user@][v6addr][:port]` or
    /// `ssh://[user@]host[:port][/]`. `None` if malformed.
    pub fn parse(spec: &str) -> Option<JumpHost> {
        if let Some(rest) = spec.strip_prefix("ssh://") {
            return parse_ssh_uri(rest);
        }
        // The user part ends at the *last* '@', as in OpenSSH, so user names may contain '@'.
        let (user, hostport) = match spec.rfind('@') {
            Some(at) => (Some(&spec[..at]), &spec[at + 1..]),
            None => (None, spec),
        };
        if user.is_some_and(str::is_empty) {
            return None;
        }
        let (host, port) = split_host_port(hostport)?;
        Some(JumpHost {
            user: user.map(str::to_string),
            host,
            port,
        })
    }

    /// Parses a `ProxyJump` value: comma-separated hops, first hop first.
    pub fn parse_list(value: &str) -> Option<Vec<JumpHost>> {
        value.split(',').map(JumpHost::parse).collect()
    }
}

fn parse_ssh_uri(rest: &str) -> Option<JumpHost> {
    // A bare trailing '/' is allowed; any real path is not meaningful for a jump host.
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') {
        return None;
    }
    let (user, hostport) = match rest.rfind('@') {
        Some(at) => {
            // RFC 4251-style ";fingerprint=..." connection parameters are ignored, as OpenSSH does.
            let userinfo = &rest[..at];
            let user = userinfo.split(';').next().unwrap_or_default();
            (Some(percent_decode(user)?), &rest[at + 1..])
        }
        None => (None, rest),
    };
    if user.as_deref().is_some_and(str::is_empty) {
        return None;
    }
    let (host, port) = split_host_port(hostport)?;
    Some(JumpHost { user, host, port })
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `host[:port]` or `[v6addr][:port]`; the host may not be empty.
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let close = inner.find(']')?;
        let after = &inner[close + 1..];
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?),
        };
        (&inner[..close], port)
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '@') {
        return None;
    }
    let port = match port {
        Some(p) => Some(parse_port(p)?),
        None => None,
    };
    Some((host.to_string(), port))
}

/// OpenSSH's a2port: decimal 1..=65535 (service names are not supported).
fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok().filter(|&p| p != 0)
}

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

    fn resolve_with(&self, alias: &str, env: &LocalEnv) -> HostConfig {
        let mut acc = Acc::default();
        walk(&self.items, alias, &mut acc);

        let hostname = acc
            .hostname
            .as_deref()
            .map(|h| expand_hostname(h, alias).to_ascii_lowercase());
        // What ssh connects to, and hence what %h means in paths.
        let target = hostname
            .clone()
            .unwrap_or_else(|| alias.to_ascii_lowercase());
        let remote_user = acc.user.clone().or_else(|| env.user.clone());
        let port = acc.port.unwrap_or(DEFAULT_PORT).to_string();
        let token = |c: char| -> Option<String> {
            match c {
                'd' => env.home.as_ref().map(|h| h.to_string_lossy().into_owned()),
                'u' => env.user.clone(),
                'h' => Some(target.clone()),
                'r' => remote_user.clone(),
                'p' => Some(port.clone()),
                'n' => Some(alias.to_string()),
                _ => None,
            }
        };
        let expand_path = |raw: &str| -> PathBuf {
            let tilded = expand_tilde(raw, env.home.as_deref());
            let dollared = expand_env(&tilded, &|name| (env.var)(name));
            PathBuf::from(expand_percent(&dollared, &token))
        };

        let user_known_hosts_files = match &acc.known_hosts {
            None => Vec::new(),
            Some(files) if files.is_empty() => vec![PathBuf::from("/dev/null")],
            Some(files) => files.iter().map(|f| expand_path(f)).collect(),
        };
        HostConfig {
            hostname,
            user: acc.user,
            port: acc.port,
            identity_files: acc.identity_files.iter().map(|f| expand_path(f)).collect(),
            proxy_jump: acc.proxy_jump.unwrap_or_default(),
            user_known_hosts_files,
            connect_timeout: acc.connect_timeout,
            server_alive_interval: acc.server_alive_interval,
            strict_host_key_checking: acc.strict_host_key_checking,
        }
    }
}

/// Looks an environment variable up; a function so tests need not touch the real environment.
type VarLookup = Box<dyn Fn(&str) -> Option<String>>;

/// The local facts that expansion needs, injectable so tests do not depend on the machine.
struct LocalEnv {
    home: Option<PathBuf>,
    user: Option<String>,
    var: VarLookup,
}

impl LocalEnv {
    fn from_process() -> Self {
        LocalEnv {
            home: home_dir(),
            user: std::env::var("USER")
                .or_else(|_| std::env::var("LOGNAME"))
                .ok()
                .filter(|u| !u.is_empty()),
            var: Box::new(|name| std::env::var(name).ok()),
        }
    }
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Raw values obtained so far; the first one wins.
#[derive(Default)]
struct Acc {
    hostname: Option<String>,
    user: Option<String>,
    port: Option<u16>,
    identity_files: Vec<String>,
    proxy_jump: Option<Vec<JumpHost>>,
    known_hosts: Option<Vec<String>>,
    connect_timeout: Option<u64>,
    server_alive_interval: Option<u64>,
    strict_host_key_checking: Option<String>,
}

impl Acc {
    fn apply(&mut self, setting: &Setting) {
        fn first<T: Clone>(slot: &mut Option<T>, value: &T) {
            if slot.is_none() {
                *slot = Some(value.clone());
            }
        }
        match setting {
            Setting::HostName(v) => first(&mut self.hostname, v),
            Setting::User(v) => first(&mut self.user, v),
            Setting::Port(v) => first(&mut self.port, v),
            Setting::IdentityFile(v) => {
                // OpenSSH drops exact duplicates so a key is not offered twice.
                if !self.identity_files.contains(v) {
                    self.identity_files.push(v.clone());
                }
            }
            Setting::ProxyJump(v) => first(&mut self.proxy_jump, v),
            Setting::UserKnownHostsFile(v) => first(&mut self.known_hosts, v),
            Setting::ConnectTimeout(v) => first(&mut self.connect_timeout, v),
            Setting::ServerAliveInterval(v) => first(&mut self.server_alive_interval, v),
            Setting::StrictHostKeyChecking(v) => first(&mut self.strict_host_key_checking, v),
        }
    }
}

/// Applies one file's items. Each file starts active (it is only entered from an active
/// block) and its `Host`/`Match` lines do not leak into the file that included it.
fn walk(items: &[Item], alias: &str, acc: &mut Acc) {
    let mut active = true;
    for item in items {
        match item {
            Item::Host(patterns) => active = host_line_matches(patterns, alias),
            Item::Match(criteria) => active = match_line_matches(criteria, alias, acc),
            Item::Set(setting) if active => acc.apply(setting),
            Item::Include(files) if active => {
                for file in files {
                    walk(&file.items, alias, acc);
                }
            }
            Item::Set(_) | Item::Include(_) => {}
        }
    }
}

fn host_line_matches(patterns: &[(bool, String)], alias: &str) -> bool {
    let mut matched = false;
    for (negated, pattern) in patterns {
        // Case-sensitive on purpose: `ssh -G FOO` does not apply `Host foo`.
        if wildcard_match(pattern, alias) {
            if *negated {
                return false;
            }
            matched = true;
        }
    }
    matched
}

fn match_line_matches(criteria: &[Criterion], alias: &str, acc: &Acc) -> bool {
    let current_host = acc
        .hostname
        .as_deref()
        .map(|h| expand_hostname(h, alias))
        .unwrap_or_else(|| alias.to_string());
    criteria.iter().all(|c| {
        let hit = match &c.kind {
            CriterionKind::All => true,
            CriterionKind::Host(list) => {
                match_pattern_list(&current_host, list) == ListMatch::Positive
            }
            CriterionKind::OriginalHost(list) => {
                match_pattern_list(alias, list) == ListMatch::Positive
            }
            CriterionKind::Unsupported => return false,
        };
        hit != c.negated
    })
}

/// Result of matching against a comma-separated pattern list (OpenSSH match_pattern_list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListMatch {
    NoMatch,
    Positive,
    /// A `!pattern` matched: the list rejects the string whatever else matches.
    Negated,
}

/// Case-insensitive (ASCII) match of `s` against a comma-separated list of `*`/`?` patterns,
/// some possibly `!`-negated.
pub(crate) fn match_pattern_list(s: &str, list: &str) -> ListMatch {
    let s = s.to_ascii_lowercase();
    let mut result = ListMatch::NoMatch;
    for sub in list.split(',') {
        let (negated, pattern) = match sub.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, sub),
        };
        if wildcard_match(&pattern.to_ascii_lowercase(), &s) {
            if negated {
                return ListMatch::Negated;
            }
            result = ListMatch::Positive;
        }
    }
    result
}

/// `*` matches any run of characters, `?` exactly one; everything else is literal.
/// Greedy with single-star backtracking: linear-ish, so hostile patterns cannot blow up.
pub(crate) fn wildcard_match(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = s.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// HostName knows only `%h` (the alias) and `%%`; validated at parse time.
fn expand_hostname(raw: &str, alias: &str) -> String {
    expand_percent(raw, &|c| (c == 'h').then(|| alias.to_string()))
}

/// Expands `%x` via `lookup` and `%%` to `%`; unknown tokens stay as written.
fn expand_percent(s: &str, lookup: &dyn Fn(char) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(t) => match lookup(t) {
                Some(v) => out.push_str(&v),
                None => {
                    out.push('%');
                    out.push(t);
                }
            },
            None => out.push('%'),
        }
    }
    out
}

/// Expands `${NAME}`; undefined variables stay as written.
fn expand_env(s: &str, var: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match var(name) {
                    Some(v) if !name.is_empty() => out.push_str(&v),
                    _ => out.push_str(&rest[start..start + 2 + end + 1]),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// `~` and `~/…` become the home directory; `~user` is left alone (no passwd lookups).
fn expand_tilde(s: &str, home: Option<&Path>) -> String {
    match home {
        Some(home) if s == "~" => home.to_string_lossy().into_owned(),
        Some(home) if s.starts_with("~/") => {
            format!(
                "{}{}",
                home.to_string_lossy().trim_end_matches('/'),
                &s[1..]
            )
        }
        _ => s.to_string(),
    }
}

/// Reads and parses files, following `Include`.
struct Loader {
    home: Option<PathBuf>,
}

impl Loader {
    /// `Ok(None)` when the file does not exist.
    fn read(&self, path: &Path, check_perms: bool) -> Result<Option<String>, ConfigError> {
        let whole_file = |message: String| ConfigError {
            file: path.to_path_buf(),
            line: 0,
            message,
        };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(whole_file(format!("cannot read: {e}"))),
        };
        if meta.is_dir() {
            return Err(whole_file("is a directory".to_string()));
        }
        // ssh refuses configs others could have edited; so do we.
        #[cfg(unix)]
        if check_perms {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o022 != 0 {
                return Err(whole_file(
                    "bad permissions: writable by group or others".to_string(),
                ));
            }
        }
        #[cfg(not(unix))]
        let _ = check_perms;
        let bytes = std::fs::read(path).map_err(|e| whole_file(format!("cannot read: {e}")))?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    fn parse(&self, text: &str, origin: &Path, depth: usize) -> Result<SshConfig, ConfigError> {
        let mut items = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let lineno = index + 1;
            let err = |message: String| ConfigError {
                file: origin.to_path_buf(),
                line: lineno,
                message,
            };
            let Some((keyword, args)) = split_line(line).map_err(err)? else {
                continue;
            };
            if keyword == "include" {
                items.push(Item::Include(self.include(&args, depth).map_err(
                    |e| match e {
                        IncludeError::Here(m) => err(m),
                        IncludeError::Nested(e) => e,
                    },
                )?));
            } else if let Some(item) = parse_directive(&keyword, &args).map_err(err)? {
                items.push(item);
            }
        }
        Ok(SshConfig { items })
    }

    fn include(&self, args: &[String], depth: usize) -> Result<Vec<SshConfig>, IncludeError> {
        if depth + 1 > MAX_INCLUDE_DEPTH {
            return Err(IncludeError::Here(
                "too many recursive configuration includes".to_string(),
            ));
        }
        let mut files = Vec::new();
        for arg in args {
            if arg.is_empty() {
                return Err(IncludeError::Here("empty Include argument".to_string()));
            }
            let expanded = expand_tilde(arg, self.home.as_deref());
            let pattern = if Path::new(&expanded).is_absolute() {
                PathBuf::from(expanded)
            } else {
                match &self.home {
                    Some(home) => home.join(".ssh").join(expanded),
                    None => {
                        return Err(IncludeError::Here(format!(
                            "cannot resolve relative Include {arg:?} without $HOME"
                        )))
                    }
                }
            };
            for path in glob(&pattern) {
                if path.is_dir() {
                    continue;
                }
                if let Some(text) = self.read(&path, true).map_err(IncludeError::Nested)? {
                    files.push(
                        self.parse(&text, &path, depth + 1)
                            .map_err(IncludeError::Nested)?,
                    );
                }
            }
        }
        Ok(files)
    }
}

enum IncludeError {
    /// Reported at the `Include` line itself.
    Here(String),
    /// Already located in an included file.
    Nested(ConfigError),
}

/// Expands `*`/`?` in any path component, like glob(3): matches sorted, hidden names only
/// matched by patterns starting with '.', nothing returned for paths that do not exist.
fn glob(pattern: &Path) -> Vec<PathBuf> {
    let mut current = vec![PathBuf::new()];
    for component in pattern.components() {
        let mut next = Vec::new();
        match component {
            Component::Normal(name) if has_wildcard(&name.to_string_lossy()) => {
                let pat = name.to_string_lossy();
                for base in &current {
                    let dir = if base.as_os_str().is_empty() {
                        Path::new(".")
                    } else {
                        base.as_path()
                    };
                    let Ok(entries) = std::fs::read_dir(dir) else {
                        continue;
                    };
                    let mut names: Vec<String> = entries
                        .filter_map(Result::ok)
                        .filter_map(|e| e.file_name().into_string().ok())
                        .filter(|n| !n.starts_with('.') || pat.starts_with('.'))
                        .filter(|n| wildcard_match(&pat, n))
                        .collect();
                    names.sort();
                    next.extend(names.into_iter().map(|n| base.join(n)));
                }
            }
            other => next.extend(current.iter().map(|b| b.join(other.as_os_str()))),
        }
        current = next;
    }
    current.retain(|p| p.exists());
    current
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Splits a line into its lowercased keyword and arguments; `None` for blank/comment lines.
fn split_line(line: &str) -> Result<Option<(String, Vec<String>)>, String> {
    const WS: &[char] = &[' ', '\t', '\r', '\n', '\x0c'];
    let line = line.trim_matches(WS);
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let end = line
        .find(|c: char| WS.contains(&c) || c == '=')
        .unwrap_or(line.len());
    let keyword = line[..end].to_ascii_lowercase();
    // Whitespace, or optional whitespace and exactly one '=' (ssh_config(5)).
    let rest = line[end..].trim_start_matches(WS);
    let rest = rest
        .strip_prefix('=')
        .unwrap_or(rest)
        .trim_start_matches(WS);
    let args = split_args(rest).ok_or_else(|| "invalid quotes".to_string())?;
    if args.is_empty() {
        return Err(format!("no argument after keyword \"{keyword}\""));
    }
    Ok(Some((keyword, args)))
}

/// OpenSSH's argv_split: whitespace-separated words, '…' or "…" quoting, backslash escapes
/// for quotes, backslash and (unquoted) space, and `#` at the start of a word ends the line.
/// `None` on an unterminated quote.
fn split_args(s: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        match chars.peek() {
            None | Some('#') => return Some(args),
            Some(_) => {}
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some(&n)
                        if n == '\'' || n == '"' || n == '\\' || (quote.is_none() && n == ' ') =>
                    {
                        arg.push(n);
                        chars.next();
                    }
                    _ => arg.push('\\'),
                },
                ' ' | '\t' if quote.is_none() => break,
                '"' | '\'' if quote.is_none() => quote = Some(c),
                _ if quote == Some(c) => quote = None,
                _ => arg.push(c),
            }
        }
        if quote.is_some() {
            return None;
        }
        args.push(arg);
    }
}

/// Turns one directive into an item; `None` for keywords kubestrap ignores.
fn parse_directive(keyword: &str, args: &[String]) -> Result<Option<Item>, String> {
    let setting = match keyword {
        "host" => {
            let mut patterns = Vec::with_capacity(args.len());
            for arg in args {
                let (negated, pattern) = match arg.strip_prefix('!') {
                    Some(p) => (true, p),
                    None => (false, arg.as_str()),
                };
                if pattern.is_empty() {
                    return Err("empty Host pattern".to_string());
                }
                patterns.push((negated, pattern.to_string()));
            }
            return Ok(Some(Item::Host(patterns)));
        }
        "match" => return parse_match(args).map(|c| Some(Item::Match(c))),
        "hostname" => {
            let v = single(keyword, args)?;
            validate_tokens(v, &['h'])?;
            Setting::HostName(v.to_string())
        }
        "user" => Setting::User(single(keyword, args)?.to_string()),
        "port" => {
            let v = single(keyword, args)?;
            Setting::Port(parse_port(v).ok_or_else(|| format!("bad port {v:?}"))?)
        }
        "identityfile" => Setting::IdentityFile(single(keyword, args)?.to_string()),
        "proxyjump" => {
            let v = single(keyword, args)?;
            if v.eq_ignore_ascii_case("none") {
                Setting::ProxyJump(Vec::new())
            } else {
                Setting::ProxyJump(
                    JumpHost::parse_list(v).ok_or_else(|| format!("invalid ProxyJump {v:?}"))?,
                )
            }
        }
        "userknownhostsfile" => {
            if args.iter().any(|a| a.is_empty()) {
                return Err(format!("empty argument to \"{keyword}\""));
            }
            if args.iter().any(|a| a.eq_ignore_ascii_case("none")) {
                if args.len() != 1 {
                    return Err(format!(
                        "\"none\" argument to \"{keyword}\" must appear alone"
                    ));
                }
                Setting::UserKnownHostsFile(Vec::new())
            } else {
                Setting::UserKnownHostsFile(args.to_vec())
            }
        }
        "connecttimeout" => Setting::ConnectTimeout(time_arg(keyword, args)?),
        "serveraliveinterval" => Setting::ServerAliveInterval(time_arg(keyword, args)?),
        "stricthostkeychecking" => {
            let v = single(keyword, args)?;
            let normalised = match v.to_ascii_lowercase().as_str() {
                "yes" | "true" => "yes",
                "no" | "false" | "off" => "no",
                "ask" => "ask",
                "accept-new" => "accept-new",
                _ => return Err(format!("unsupported StrictHostKeyChecking value {v:?}")),
            };
            Setting::StrictHostKeyChecking(normalised.to_string())
        }
        _ => return Ok(None),
    };
    Ok(Some(Item::Set(setting)))
}

fn parse_match(args: &[String]) -> Result<Vec<Criterion>, String> {
    let mut criteria = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let (negated, name) = match arg.strip_prefix('!') {
            Some(n) => (true, n),
            None => (false, arg.as_str()),
        };
        let name = name.to_ascii_lowercase();
        let mut value = || {
            it.next()
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| format!("missing Match criteria for {name}"))
        };
        let kind = match name.as_str() {
            "all" => CriterionKind::All,
            "host" => CriterionKind::Host(value()?),
            "originalhost" => CriterionKind::OriginalHost(value()?),
            "canonical" | "final" => CriterionKind::Unsupported,
            "user" | "localuser" | "exec" | "localnetwork" | "tagged" | "version"
            | "sessiontype" | "command" => {
                value()?;
                CriterionKind::Unsupported
            }
            _ => {
                // Unknown criterion, unknown arity: the block cannot match, so stop here.
                criteria.push(Criterion {
                    negated,
                    kind: CriterionKind::Unsupported,
                });
                break;
            }
        };
        criteria.push(Criterion { negated, kind });
    }
    Ok(criteria)
}

/// Exactly one non-empty argument.
fn single<'a>(keyword: &str, args: &'a [String]) -> Result<&'a str, String> {
    match args {
        [v] if !v.is_empty() => Ok(v),
        [_] | [] => Err(format!("missing argument to \"{keyword}\"")),
        _ => Err(format!(
            "keyword \"{keyword}\" extra arguments at end of line"
        )),
    }
}

fn validate_tokens(v: &str, allowed: &[char]) -> Result<(), String> {
    let mut chars = v.chars();
    while let Some(c) = chars.next() {
        if c == '%' {
            match chars.next() {
                Some('%') => {}
                Some(t) if allowed.contains(&t) => {}
                Some(t) => return Err(format!("unknown token %{t} in {v:?}")),
                None => return Err(format!("trailing '%' in {v:?}")),
            }
        }
    }
    Ok(())
}

fn time_arg(keyword: &str, args: &[String]) -> Result<u64, String> {
    let v = single(keyword, args)?;
    parse_time(v).ok_or_else(|| format!("invalid time value {v:?}"))
}

/// OpenSSH's convtime: `90`, `1m30s`, `2h`, `1w` …, in seconds, bounded by i32::MAX as there.
fn parse_time(s: &str) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let mult = match rest.bytes().next().map(|b| b.to_ascii_lowercase()) {
            None => 1,
            Some(b's') => 1,
            Some(b'm') => 60,
            Some(b'h') => 3600,
            Some(b'd') => 86400,
            Some(b'w') => 604800,
            Some(_) => return None,
        };
        // The unit, if any, is a single ASCII byte, so this stays on a char boundary.
        rest = rest.get(1..).unwrap_or_default();
        total = total.checked_add(n.checked_mul(mult)?)?;
    }
    (total <= i32::MAX as u64).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> LocalEnv {
        LocalEnv {
            home: Some(PathBuf::from("/home/me")),
            user: Some("me".to_string()),
            var: Box::new(|name| (name == "KEYS").then(|| "/keys".to_string())),
        }
    }

    fn parse(text: &str) -> SshConfig {
        Loader { home: None }
            .parse(text, Path::new("cfg"), 0)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn resolve(text: &str, host: &str) -> HostConfig {
        parse(text).resolve_with(host, &env())
    }

    #[test]
    fn resolves_like_openssh() {
        struct Case {
            name: &'static str,
            config: &'static str,
            host: &'static str,
            want: HostConfig,
        }
        let hc = HostConfig::default;
        let cases = [
            Case {
                name: "empty config",
                config: "",
                host: "a",
                want: hc(),
            },
            Case {
                name: "first value wins, specific block first",
                config: "Host web\n  User alice\n  Port 2222\nHost *\n  User root\n  Port 22\n  ConnectTimeout 5\n",
                host: "web",
                want: HostConfig {
                    user: Some("alice".into()),
                    port: Some(2222),
                    connect_timeout: Some(5),
                    ..hc()
                },
            },
            Case {
                name: "Host * first shadows later blocks",
                config: "Host *\n User root\nHost web\n User alice\n",
                host: "web",
                want: HostConfig { user: Some("root".into()), ..hc() },
            },
            Case {
                name: "keywords case-insensitive, '=' and quotes, trailing comment",
                config: "HOST=db\n\tuSeR = \"the admin\" # who\n  port=2200\n",
                host: "db",
                want: HostConfig {
                    user: Some("the admin".into()),
                    port: Some(2200),
                    ..hc()
                },
            },
            Case {
                name: "several patterns, wildcards and negation",
                config: "Host !bastion *.internal node?\n  User k8s\nHost *\n  User other\n",
                host: "node7",
                want: HostConfig { user: Some("k8s".into()), ..hc() },
            },
            Case {
                name: "negated pattern excludes the block",
                config: "Host *.internal !bastion.internal\n  User k8s\nHost *\n  User other\n",
                host: "bastion.internal",
                want: HostConfig { user: Some("other".into()), ..hc() },
            },
            Case {
                name: "Host patterns are case-sensitive like ssh -G",
                config: "Host web\n  Port 1\n",
                host: "WEB",
                want: hc(),
            },
            Case {
                name: "HostName %h and %% expanded, lowercased",
                config: "Host n*\n  HostName %h.Example.COM%%x\n",
                host: "n1",
                want: HostConfig {
                    hostname: Some("n1.example.com%x".into()),
                    ..hc()
                },
            },
            Case {
                name: "Match host sees HostName obtained so far, case-insensitively",
                config: "Host x\n  HostName 10.0.0.9\nMatch host 10.0.0.*\n  User ipuser\nMatch originalhost X\n  Port 2\n",
                host: "x",
                want: HostConfig {
                    hostname: Some("10.0.0.9".into()),
                    user: Some("ipuser".into()),
                    port: Some(2),
                    ..hc()
                },
            },
            Case {
                name: "Match host pattern list with negation",
                config: "Match host *.lan,!gw.lan\n  User lan\nMatch all\n  User any\n",
                host: "gw.lan",
                want: HostConfig { user: Some("any".into()), ..hc() },
            },
            Case {
                name: "negated criterion and AND of criteria",
                config: "Match !host a* originalhost b*\n  Port 3\n",
                host: "bx",
                want: HostConfig { port: Some(3), ..hc() },
            },
            Case {
                name: "unsupported Match criteria never match",
                config: "Match exec \"true\"\n  Port 3\nMatch user root host *\n  Port 4\nMatch canonical all\n  Port 5\nMatch whatever x y\n  Port 6\nMatch final\n  Port 7\n",
                host: "h",
                want: hc(),
            },
            Case {
                name: "IdentityFile accumulates, dedups and expands",
                config: "Host h\n  User deploy\n  Port 2022\n  IdentityFile ~/.ssh/id_%r@%h:%p\nHost *\n  IdentityFile ~/.ssh/id_ed25519\n  IdentityFile ~/.ssh/id_%r@%h:%p\n  IdentityFile %d/%u/%n/%l/${KEYS}/${NOPE}\n",
                host: "h",
                want: HostConfig {
                    user: Some("deploy".into()),
                    port: Some(2022),
                    identity_files: vec![
                        "/home/me/.ssh/id_deploy@h:2022".into(),
                        "/home/me/.ssh/id_ed25519".into(),
                        "/home/me/me/h/%l//keys/${NOPE}".into(),
                    ],
                    ..hc()
                },
            },
            Case {
                name: "%h in paths is the lowercased HostName, %r defaults to local user",
                config: "Host A\n  HostName Real.Example\n  IdentityFile /k/%r@%h:%p\n",
                host: "A",
                want: HostConfig {
                    hostname: Some("real.example".into()),
                    identity_files: vec!["/k/me@real.example:22".into()],
                    ..hc()
                },
            },
            Case {
                name: "UserKnownHostsFile is first-line-wins, several files per line",
                config: "Host h\n  UserKnownHostsFile ~/kh1 /etc/kh_%h\nHost *\n  UserKnownHostsFile ~/other\n",
                host: "h",
                want: HostConfig {
                    user_known_hosts_files: vec!["/home/me/kh1".into(), "/etc/kh_h".into()],
                    ..hc()
                },
            },
            Case {
                name: "UserKnownHostsFile none",
                config: "UserKnownHostsFile none\nUserKnownHostsFile ~/x\n",
                host: "h",
                want: HostConfig {
                    user_known_hosts_files: vec!["/dev/null".into()],
                    ..hc()
                },
            },
            Case {
                name: "ProxyJump chain, ports, IPv6 and ssh:// URIs",
                config: "Host h\n  ProxyJump ops@gw1:2201,[fd00::1]:22,ssh://a%40b@gw3:7/,gw4\n",
                host: "h",
                want: HostConfig {
                    proxy_jump: vec![
                        JumpHost { user: Some("ops".into()), host: "gw1".into(), port: Some(2201) },
                        JumpHost { user: None, host: "fd00::1".into(), port: Some(22) },
                        JumpHost { user: Some("a@b".into()), host: "gw3".into(), port: Some(7) },
                        JumpHost { user: None, host: "gw4".into(), port: None },
                    ],
                    ..hc()
                },
            },
            Case {
                name: "ProxyJump none is a first value that blocks later ones",
                config: "Host h\n  ProxyJump none\nHost *\n  ProxyJump gw\n",
                host: "h",
                want: hc(),
            },
            Case {
                name: "times and StrictHostKeyChecking normalised",
                config: "ConnectTimeout 1m30s\nServerAliveInterval 2H\nStrictHostKeyChecking off\n",
                host: "h",
                want: HostConfig {
                    connect_timeout: Some(90),
                    server_alive_interval: Some(7200),
                    strict_host_key_checking: Some("no".into()),
                    ..hc()
                },
            },
            Case {
                name: "unknown keywords ignored, settings before any Host apply to all",
                config: "# comment\n\nForwardAgent yes\nSendEnv LANG LC_*\nUser top\nHost h\n  User later\n",
                host: "h",
                want: HostConfig { user: Some("top".into()), ..hc() },
            },
        ];
        for case in cases {
            assert_eq!(resolve(case.config, case.host), case.want, "{}", case.name);
        }
    }

    #[test]
    fn malformed_lines_are_errors_even_in_inactive_blocks() {
        let cases = [
            ("Host other\n  Port abc\n", 2, "bad port"),
            ("Port 0\n", 1, "bad port"),
            ("Port 65536\n", 1, "bad port"),
            ("Port 22 23\n", 1, "extra arguments"),
            ("User\n", 1, "no argument"),
            ("User \"\"\n", 1, "missing argument"),
            ("User \"unterminated\n", 1, "invalid quotes"),
            ("\n\nHostName %z.example\n", 3, "unknown token"),
            ("ProxyJump user@:22\n", 1, "invalid ProxyJump"),
            ("ProxyJump gw:ssh\n", 1, "invalid ProxyJump"),
            ("ProxyJump ssh://gw/path\n", 1, "invalid ProxyJump"),
            ("ConnectTimeout soon\n", 1, "invalid time"),
            ("ServerAliveInterval 99999999999\n", 1, "invalid time"),
            ("StrictHostKeyChecking maybe\n", 1, "StrictHostKeyChecking"),
            ("UserKnownHostsFile none ~/x\n", 1, "must appear alone"),
            ("Match host\n", 1, "missing Match criteria"),
            ("Match exec\n", 1, "missing Match criteria"),
            ("Host \"\"\n", 1, "empty Host pattern"),
            ("Host a\n  Include nope/*\n", 2, "without $HOME"),
        ];
        for (text, line, needle) in cases {
            let err = Loader { home: None }
                .parse(text, Path::new("/x/config"), 0)
                .expect_err(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert_eq!(err.file, Path::new("/x/config"));
            assert!(err.message.contains(needle), "{text:?}: {err}");
            assert!(err.to_string().starts_with(&format!("/x/config:{line}: ")));
        }
    }

    #[test]
    fn argument_splitting() {
        let cases: &[(&str, Option<&[&str]>)] = &[
            ("a b\tc", Some(&["a", "b", "c"])),
            ("\"a b\" 'c d'", Some(&["a b", "c d"])),
            ("a\\ b", Some(&["a b"])),
            ("\"a\\\"b\"", Some(&["a\"b"])),
            ("a\\x", Some(&["a\\x"])),
            ("a #comment", Some(&["a"])),
            ("a#b", Some(&["a#b"])),
            ("\"#x\"", Some(&["#x"])),
            ("pre\"mid dle\"post", Some(&["premid dlepost"])),
            ("\"\"", Some(&[""])),
            ("\"open", None),
        ];
        for (input, want) in cases {
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(split_args(input), want, "{input:?}");
        }
    }

    #[test]
    fn wildcard_and_pattern_lists() {
        let cases = [
            ("*", "", true),
            ("a*c", "abbbc", true),
            ("a*c", "abbbd", false),
            ("?.lan", "a.lan", true),
            ("?.lan", "ab.lan", false),
            (
                "*a*a*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                false,
            ),
            ("10.0.*", "10.0.3.4", true),
        ];
        for (p, s, want) in cases {
            assert_eq!(wildcard_match(p, s), want, "{p} vs {s}");
        }
        assert_eq!(match_pattern_list("GW.lan", "*.LAN"), ListMatch::Positive);
        assert_eq!(
            match_pattern_list("gw.lan", "*.lan,!gw.*"),
            ListMatch::Negated
        );
        assert_eq!(match_pattern_list("x", "a,b"), ListMatch::NoMatch);
    }

    #[test]
    fn jump_host_parsing() {
        let cases = [
            ("h", Some((None, "h", None))),
            ("u@h:2", Some((Some("u"), "h", Some(2)))),
            ("a@b@h", Some((Some("a@b"), "h", None))),
            ("[::1]", Some((None, "::1", None))),
            ("ssh://h", Some((None, "h", None))),
            ("ssh://u;fingerprint=x@h:9", Some((Some("u"), "h", Some(9)))),
            ("", None),
            ("@h", None),
            ("h:", None),
            ("h:0", None),
            ("[::1", None),
            ("[::1]x", None),
            ("fe80::1", None),
            ("ssh://%zz@h", None),
        ];
        for (spec, want) in cases {
            let got = JumpHost::parse(spec);
            let want = want.map(|(u, h, p)| JumpHost {
                user: u.map(str::to_string),
                host: h.to_string(),
                port: p,
            });
            assert_eq!(got, want, "{spec:?}");
        }
        assert_eq!(JumpHost::parse_list("a,,b"), None);
    }

    #[cfg(unix)]
    fn write(path: &Path, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, text).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// Mirrors OpenSSH's own regress test for Include (cfginclude.sh): conditional includes,
    /// per-file Match scope, and first-value-wins across files.
    #[cfg(unix)]
    #[test]
    fn include_semantics_match_openssh_regress() {
        let home = tempfile::tempdir().unwrap();
        let ssh = home.path().join(".ssh");
        write(&ssh.join("i.0"), "Match host xxxxxx\n");
        write(
            &ssh.join("i.1"),
            "Match host a\nHostname aaa\nMatch host b\nHostname bbb\nMatch host c\nHostname ccc\nHost d\nHostname ddd\nHost e\nHostname eee\nHost f\nHostname fff\n",
        );
        write(
            &ssh.join("i.2"),
            "Match host a\nHostname aaaa\nMatch host b\nHostname bbbb\nMatch host c\nHostname cccc\nHost d\nHostname dddd\nHost e\nHostname eeee\nHost f\nHostname ffff\nMatch all\nHostname xxxx\n",
        );
        write(&ssh.join(".hidden"), "Hostname hidden\n");
        let main = "Match host a\n\tHostname aa\n\nMatch host b\n\tHostname bb\n\tInclude i.*\n\nMatch host c\n\tInclude ~/.ssh/i.*\n\tHostname cc\n\nMatch host m\n\tInclude i.*\n\nHost d\n\tHostname dd\n\nHost e\n\tHostname ee\n\tInclude i.*\n\nHost f\n\tInclude i.*\n\tHostname ff\n\nHost n\n\tInclude i.*\n\nHost h\n\tInclude *\n";
        let loader = Loader {
            home: Some(home.path().to_path_buf()),
        };
        let config = loader.parse(main, &ssh.join("config"), 0).unwrap();
        let cases = [
            ("a", Some("aa")),
            ("b", Some("bb")),
            ("c", Some("ccc")),
            ("d", Some("dd")),
            ("e", Some("ee")),
            ("f", Some("fff")),
            ("m", Some("xxxx")),
            ("n", Some("xxxx")),
            ("h", Some("xxxx")),
            ("x", None),
        ];
        for (host, want) in cases {
            assert_eq!(
                config.resolve_with(host, &env()).hostname.as_deref(),
                want,
                "host {host}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn include_errors_and_limits() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let ssh = home.path().join(".ssh");
        let loader = Loader {
            home: Some(home.path().to_path_buf()),
        };

        // An error inside an included file names that file and line.
        write(&ssh.join("bad"), "User x\nPort nope\n");
        let err = loader
            .parse("Include bad\n", &ssh.join("config"), 0)
            .unwrap_err();
        assert_eq!((err.file.clone(), err.line), (ssh.join("bad"), 2), "{err}");

        // Self-inclusion stops at the depth limit instead of recursing forever.
        write(&ssh.join("loop"), "Include loop\n");
        let err = loader
            .parse("Include loop\n", &ssh.join("config"), 0)
            .unwrap_err();
        assert!(err.message.contains("too many recursive"), "{err}");

        // Missing includes are silently empty, as with glob(3) finding nothing.
        let cfg = loader
            .parse("Include nothing-here missing/*\n", &ssh.join("config"), 0)
            .unwrap();
        assert_eq!(cfg.resolve_with("h", &env()), HostConfig::default());

        // Group-writable included files are refused, like ssh does.
        write(&ssh.join("loose"), "User x\n");
        std::fs::set_permissions(ssh.join("loose"), std::fs::Permissions::from_mode(0o664))
            .unwrap();
        let err = loader
            .parse("Include loose\n", &ssh.join("config"), 0)
            .unwrap_err();
        assert!(err.message.contains("bad permissions"), "{err}");
        assert_eq!(err.line, 0);
    }

    #[cfg(unix)]
    #[test]
    fn load_reads_files_and_reports_missing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cfg");
        write(&path, "Host h\n  Port 2200\n");
        let cfg = SshConfig::load(&path).unwrap();
        assert_eq!(cfg.resolve_with("h", &env()).port, Some(2200));
        let err = SshConfig::load(&dir.path().join("absent")).unwrap_err();
        assert_eq!(err.line, 0);
        assert_eq!(
            SshConfig::empty().resolve("anything"),
            HostConfig::default()
        );
    }

    /// Deterministic junk built from the characters the parser treats specially: any input
    /// must give a value or an error, never a panic.
    #[test]
    fn arbitrary_input_never_panics() {
        const PIECES: &[&str] = &[
            "Host ",
            "Match ",
            "host ",
            "!",
            "*",
            "?",
            "HostName ",
            "%",
            "%h",
            "%%",
            "Port ",
            "IdentityFile ",
            "~",
            "~/",
            "${",
            "}",
            "ProxyJump ",
            "ssh://",
            "@",
            ":",
            "[",
            "]",
            ",",
            "\"",
            "'",
            "\\",
            "#",
            "=",
            " ",
            "\t",
            "\n",
            "é",
            "0",
            "65535",
            "1m",
            "none",
            "ConnectTimeout ",
            "UserKnownHostsFile ",
            "Include ",
            "all",
            "/",
            "%4",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push_str(PIECES[(seed % PIECES.len() as u64) as usize]);
            }
            let parsed = Loader { home: None }.parse(&text, Path::new("f"), 0);
            if let Ok(cfg) = parsed {
                for host in ["", "a", "%h", "é*"] {
                    let _ = cfg.resolve_with(host, &env());
                }
            }
            let _ = JumpHost::parse_list(&text);
            let _ = parse_time(&text);
        }
    }

    #[test]
    fn parse_time_values() {
        let cases = [
            ("0", Some(0)),
            ("90", Some(90)),
            ("1m30s", Some(90)),
            ("1W1d", Some(691200)),
            ("2147483647", Some(2147483647)),
            ("2147483648", None),
            ("", None),
            ("m", None),
            ("5x", None),
            ("-1", None),
            ("99999999999999999999999", None),
            ("5é", None),
            ("5mé", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_time(s), want, "{s:?}");
        }
    }
}
