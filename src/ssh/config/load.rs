//! Reading config files and following `Include` (glob(3) patterns, OpenSSH's depth limit).
//!
//! Like ssh, files writable by group or others are refused, and an error in an included
//! file names that file and line.

use std::path::{Component, Path, PathBuf};

use super::expand::expand_tilde;
use super::parse::{parse_directive, split_line};
use super::patterns::wildcard_match;
use super::{ConfigError, Item, SshConfig};

/// OpenSSH's READCONF_MAX_DEPTH: bounds nesting and breaks include cycles.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Reads and parses files, following `Include`.
pub(super) struct Loader {
    pub(super) home: Option<PathBuf>,
}

impl Loader {
    /// `Ok(None)` when the file does not exist.
    pub(super) fn read(
        &self,
        path: &Path,
        check_perms: bool,
    ) -> Result<Option<String>, ConfigError> {
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

    pub(super) fn parse(
        &self,
        text: &str,
        origin: &Path,
        depth: usize,
    ) -> Result<SshConfig, ConfigError> {
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

#[cfg(test)]
mod tests {
    use super::super::tests::env;
    use super::super::HostConfig;
    use super::*;

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
}
