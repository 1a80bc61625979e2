//! The package repository of each minor release, and what kubeadm versions it lists.
//!
//! pkgs.k8s.io (and a mirror laid out like it) has one flat repository per
//! minor release, the minor in its path (`core:/stable:/v1.32/deb/`): the
//! repository of a release is the configured URL with that path part
//! replaced by the release's minor. Listings are read on a host (the hosts reach the repository;
//! the operator's machine may not) from the repository's `Packages` index.

use crate::cluster::versions::KubeVersion;
use crate::ssh::shell_quote;

/// pkgs.k8s.io's repository of `minor` (`1.31`).
pub fn default_repository(minor: &str) -> String {
    format!("https://pkgs.k8s.io/core:/stable:/v{minor}/deb/")
}

/// The repository of `minor` (`1.32`) given the configured one: its last
/// `v<major>.<minor>` path part replaced, so a mirror set up for 1.31 is
/// asked for 1.32 where pkgs.k8s.io keeps it. A URL that names no minor
/// release is one repository for every release and is used as it is.
pub fn repository_for(configured: &str, minor: &str) -> String {
    let bytes = configured.as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut found = None;
    for (i, _) in configured.match_indices('v') {
        let boundary_before = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        let major = digits(i + 1);
        if !boundary_before || major == 0 || bytes.get(i + 1 + major) != Some(&b'.') {
            continue;
        }
        let minor_len = digits(i + 2 + major);
        let end = i + 2 + major + minor_len;
        let boundary_after = bytes
            .get(end)
            .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'.');
        if minor_len > 0 && boundary_after {
            found = Some((i, end));
        }
    }
    match found {
        Some((start, end)) => format!("{}v{minor}{}", &configured[..start], &configured[end..]),
        None => configured.to_string(),
    }
}

/// Marks each repository's part of the listing script's output.
const REPO_MARK: &str = "== repository ";

/// One shell script that prints, for each (minor, url), the kubeadm
/// versions its `Packages` index lists (plain or gzip), or why it could
/// not be read. Read-only.
pub fn listing_script(repos: &[(String, String)]) -> String {
    let mut s = String::from("set +e\n");
    let kubeadm = r#"awk '/^Package: /{p=$2} /^Version: / && p=="kubeadm"{print "version " $2}'"#;
    for (minor, url) in repos {
        let base = url.trim_end_matches('/');
        // Packages first; Packages.gz when only that is served. The error
        // shown is the plain index's (curl's 404, a DNS failure).
        s.push_str(&format!(
            "echo {mark}{minor}\n\
             if out=$(curl -fsSL --max-time 60 {plain} 2>&1); then printf '%s\\n' \"$out\" | {kubeadm}\n\
             elif gz=$(curl -fsSL --max-time 60 {gz} 2>/dev/null | gzip -dc 2>/dev/null) && [ -n \"$gz\" ]; then printf '%s\\n' \"$gz\" | {kubeadm}\n\
             else printf 'error %s\\n' \"$(printf '%s' \"$out\" | tail -n1)\"; fi\n",
            mark = shell_quote(REPO_MARK),
            plain = shell_quote(&format!("{base}/Packages")),
            gz = shell_quote(&format!("{base}/Packages.gz")),
        ));
    }
    s
}

/// The listing script's output: per minor, its kubeadm versions or the error.
pub fn parse_listing(output: &str) -> Vec<(String, Result<Vec<KubeVersion>, String>)> {
    let mut out: Vec<(String, Result<Vec<KubeVersion>, String>)> = Vec::new();
    for line in output.lines() {
        if let Some(minor) = line.strip_prefix(REPO_MARK) {
            out.push((minor.trim().to_string(), Ok(Vec::new())));
            continue;
        }
        let Some((_, found)) = out.last_mut() else {
            continue;
        };
        if let Some(v) = line.strip_prefix("version ") {
            if let (Ok(list), Some(v)) = (found.as_mut(), KubeVersion::from_package(v)) {
                if !list.contains(&v) {
                    list.push(v);
                }
            }
        } else if let Some(why) = line.strip_prefix("error ") {
            let why = why.trim();
            *found = Err(if why.is_empty() {
                "unreadable".to_string()
            } else {
                why.to_string()
            });
        }
    }
    for (_, found) in out.iter_mut() {
        match found {
            Ok(list) if list.is_empty() => {
                *found = Err("its Packages index lists no kubeadm".to_string());
            }
            Ok(list) => list.sort(),
            Err(_) => {}
        }
    }
    out
}
