//! Resolving a parsed config for one host alias: first obtained value wins, then paths expand.

use std::path::PathBuf;

use super::expand::{expand_env, expand_hostname, expand_percent, expand_tilde};
use super::patterns::{host_line_matches, match_line_matches};
use super::{HostConfig, Item, JumpHost, Setting, SshConfig};

/// OpenSSH's default port, used for `%p` when no `Port` is configured.
const DEFAULT_PORT: u16 = 22;

impl SshConfig {
    /// [`SshConfig::resolve`] with the local environment injected.
    pub(super) fn resolve_with(&self, alias: &str, env: &LocalEnv) -> HostConfig {
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
pub(super) type VarLookup = Box<dyn Fn(&str) -> Option<String>>;

/// The local facts that expansion needs, injectable so tests do not depend on the machine.
pub(super) struct LocalEnv {
    pub(super) home: Option<PathBuf>,
    pub(super) user: Option<String>,
    pub(super) var: VarLookup,
}

impl LocalEnv {
    pub(super) fn from_process() -> Self {
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

pub(super) fn home_dir() -> Option<PathBuf> {
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
            Item::Match(criteria) => {
                active = match_line_matches(criteria, alias, &current_host(alias, acc))
            }
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

/// What `Match host` compares against: the HostName obtained so far (with `%h` expanded),
/// or the alias when there is none yet.
fn current_host(alias: &str, acc: &Acc) -> String {
    acc.hostname
        .as_deref()
        .map(|h| expand_hostname(h, alias))
        .unwrap_or_else(|| alias.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::load::Loader;
    use super::super::tests::env;
    use super::*;

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
}
