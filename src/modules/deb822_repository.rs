//! deb822_repository: an apt source in deb822 format with its signed-by key.
//!
//! Writes `/etc/apt/sources.list.d/SLUG.sources` byte for byte as
//! ansible.builtin.deb822_repository does: fields in the order of the
//! argument names, `name` as `X-Repolib-Name`, lists space-separated,
//! booleans yes/no, a multi-line value (an inline armored key) indented by
//! four spaces with `.` for empty lines. The cache is not updated (as in
//! Ansible: notify an `apt: update_cache` task).
//!
//! `signed_by` is passed through (a key block, a path, fingerprints), except
//! a URL: its key is downloaded on the host with curl (or wget) into
//! `/etc/apt/keyrings/SLUG.asc` (`.gpg` when the URL ends in `.gpg`), and
//! the download fails if the key's format does not match that extension.
//! Deviation: a key file that is already there is not downloaded again (so
//! a second apply costs nothing); delete it to refresh the key.

use super::sys_common::{file_fact, file_text, text_diff, written_state};
use super::{q, write_file_with, Action, Args, Context, Module, Plan, WriteOpts};
use crate::facts::{FactRequest, FactUpdate, FileKind, FileState};

pub struct Deb822Repository;

const KEYRINGS: &str = "/etc/apt/keyrings";

/// The deb822 fields, in the order Ansible writes them (sorted argument names).
const FIELDS: &[(&str, Kind)] = &[
    ("allow_downgrade_to_insecure", Kind::Bool),
    ("allow_insecure", Kind::Bool),
    ("allow_weak", Kind::Bool),
    ("architectures", Kind::List),
    ("by_hash", Kind::Bool),
    ("check_date", Kind::Bool),
    ("check_valid_until", Kind::Bool),
    ("components", Kind::List),
    ("date_max_future", Kind::Int),
    ("enabled", Kind::Bool),
    ("inrelease_path", Kind::Str),
    ("languages", Kind::List),
    ("name", Kind::Str),
    ("pdiffs", Kind::Bool),
    ("signed_by", Kind::Str),
    ("suites", Kind::List),
    ("targets", Kind::List),
    ("trusted", Kind::Bool),
    ("types", Kind::List),
    ("uris", Kind::List),
];

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    List,
    Int,
    Str,
}

const PARAMS: &[&str] = &[
    "allow_downgrade_to_insecure",
    "allow_insecure",
    "allow_weak",
    "architectures",
    "by_hash",
    "check_date",
    "check_valid_until",
    "components",
    "date_max_future",
    "enabled",
    "inrelease_path",
    "install_python_debian",
    "languages",
    "name",
    "pdiffs",
    "signed_by",
    "suites",
    "targets",
    "trusted",
    "types",
    "uris",
    "mode",
    "state",
];

impl Module for Deb822Repository {
    fn name(&self) -> &'static str {
        "deb822_repository"
    }

    fn params(&self) -> &'static [&'static str] {
        PARAMS
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let slug = slug(&args.req_str("name")?)?;
        Ok(vec![
            FactRequest::File {
                path: sources_path(&slug),
                content: true,
            },
            FactRequest::File {
                path: key_path(&slug, "asc"),
                content: false,
            },
            FactRequest::File {
                path: key_path(&slug, "gpg"),
                content: false,
            },
        ])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let name = args.req_str("name")?;
        let slug = slug(&name)?;
        let sources = sources_path(&slug);
        let state = args.choice("state", &["present", "absent"], "present")?;
        args.bool("install_python_debian", true)?;
        if state == "absent" {
            return absent(ctx, &slug);
        }
        let mode = args.mode("mode")?.unwrap_or(0o644);

        let mut plan = Plan::default();
        let mut what = Vec::new();
        let mut signed_by = None;
        if let Some(v) = args.str("signed_by")? {
            if is_url(&v) {
                let ext = if v.trim_end_matches('/').ends_with(".gpg") {
                    "gpg"
                } else {
                    "asc"
                };
                let key = key_path(&slug, ext);
                if file_fact(ctx, &key)?.kind == FileKind::Missing {
                    plan.actions.push(download(&v, &key, ext));
                    plan.updates.push(FactUpdate::File(
                        key.clone(),
                        FileState {
                            kind: FileKind::File,
                            mode: Some(0o644),
                            owner: Some("root".into()),
                            group: Some("root".into()),
                            ..FileState::default()
                        },
                    ));
                    what.push(format!("key {key} downloaded"));
                }
                signed_by = Some(key);
            } else {
                signed_by = Some(v);
            }
        }
        let content = render(args, signed_by.as_deref())?;

        let old_state = file_fact(ctx, &sources)?;
        let old = file_text(ctx, &sources)?;
        let mut diff = String::new();
        if old.as_deref() != Some(content.as_str()) {
            diff = text_diff(&sources, old.as_deref().unwrap_or(""), &content);
            let opts = WriteOpts {
                mode: Some(mode),
                ..WriteOpts::default()
            };
            plan.actions.push(write_file_with(
                &sources,
                content.clone().into_bytes(),
                &opts,
            ));
            plan.updates.push(FactUpdate::File(
                sources.clone(),
                written_state(Some(old_state), content.as_bytes(), Some(mode)),
            ));
            what.push(format!("{sources} written"));
        } else if old_state.mode != Some(mode) {
            plan.actions.push(Action::Run {
                script: format!("chmod {mode:o} {}", q(&sources)),
                stdin: None,
            });
            let mut s = old_state.clone();
            s.mode = Some(mode);
            plan.updates.push(FactUpdate::File(sources.clone(), s));
            diff.push_str(&format!(
                "-mode: {:04o}\n+mode: {mode:04o}\n",
                old_state.mode.unwrap_or_default()
            ));
            what.push(format!("{sources} mode set"));
        }
        if plan.actions.is_empty() {
            return Ok(Plan::noop(format!("{sources} is up to date")));
        }
        plan.changed = true;
        plan.diff = Some(diff);
        plan.msg = what.join(", ");
        Ok(plan)
    }
}

/// The file name Ansible derives from `name`: lower case, `_` and blanks
/// to `-`, anything else but [a-z0-9-] dropped.
fn slug(name: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut in_sep = false;
    for c in name.to_lowercase().chars() {
        if c == '_' || c.is_whitespace() {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
            continue;
        }
        in_sep = false;
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            out.push(c);
        }
    }
    if out.is_empty() {
        return Err(format!("argument `name`: {name:?} leaves no file name"));
    }
    Ok(out)
}

fn sources_path(slug: &str) -> String {
    format!("/etc/apt/sources.list.d/{slug}.sources")
}

fn key_path(slug: &str, ext: &str) -> String {
    format!("{KEYRINGS}/{slug}.{ext}")
}

fn is_url(v: &str) -> bool {
    let Some((scheme, _)) = v.split_once("://") else {
        return false;
    };
    !v.contains('\n')
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
}

/// `Field-Name` as Ansible writes it.
fn field_name(key: &str) -> String {
    match key {
        "name" => "X-Repolib-Name".into(),
        "uris" => "URIs".into(),
        _ => key
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f
                        .to_uppercase()
                        .chain(c.flat_map(char::to_lowercase))
                        .collect(),
                    None => String::new(),
                }
            })
            .collect::<Vec<String>>()
            .join("-"),
    }
}

/// A multi-line value: on its own lines, indented, empty lines as `.`.
fn multiline(v: &str) -> String {
    let lines: Vec<String> = v
        .trim()
        .lines()
        .map(|l| match l.trim() {
            "" => "    .".to_string(),
            t => format!("    {t}"),
        })
        .collect();
    format!("\n{}", lines.join("\n"))
}

/// The .sources file content.
fn render(args: &Args, signed_by: Option<&str>) -> Result<String, String> {
    let mut out = String::new();
    for (key, kind) in FIELDS {
        let value = match (key, kind) {
            (&"signed_by", _) => match signed_by {
                Some(v) => v.to_string(),
                None => continue,
            },
            (&"types", _) => {
                let t = args.list("types")?;
                let t = if t.is_empty() {
                    vec!["deb".to_string()]
                } else {
                    t
                };
                if let Some(bad) = t.iter().find(|x| *x != "deb" && *x != "deb-src") {
                    return Err(format!(
                        "argument `types` must be deb or deb-src, got {bad:?}"
                    ));
                }
                t.join(" ")
            }
            _ if !args.has(key) => continue,
            (_, Kind::Bool) => if args.bool(key, false)? { "yes" } else { "no" }.to_string(),
            (_, Kind::List) => {
                let l = args.list(key)?;
                if l.iter().any(|x| x.contains(char::is_whitespace)) {
                    return Err(format!("argument `{key}`: items must not contain blanks"));
                }
                l.join(" ")
            }
            (_, Kind::Int) => {
                let s = args.req_str(key)?;
                s.parse::<i64>()
                    .map_err(|_| format!("argument `{key}` must be a whole number, got {s:?}"))?
                    .to_string()
            }
            (_, Kind::Str) => args.req_str(key)?,
        };
        let value = if value.contains('\n') {
            if *key != "signed_by" {
                return Err(format!("argument `{key}` must be one line"));
            }
            multiline(&value)
        } else {
            value
        };
        // As python-debian dumps it: no blank after the colon of a value
        // that starts on the next line.
        if value.is_empty() || value.starts_with('\n') {
            out.push_str(&format!("{}:{value}\n", field_name(key)));
        } else {
            out.push_str(&format!("{}: {value}\n", field_name(key)));
        }
    }
    Ok(out)
}

/// Download a key to `key`, checking it is in the format its extension says.
fn download(url: &str, key: &str, ext: &str) -> Action {
    let (want, bad) = if ext == "asc" {
        (
            "grep -q -- '-----BEGIN PGP PUBLIC KEY BLOCK-----' \"$t\"",
            "is not an ASCII-armored key (use a URL ending in .gpg for a binary keyring)",
        )
    } else {
        (
            "! grep -q -- '-----BEGIN PGP' \"$t\"",
            "is ASCII-armored (use a URL not ending in .gpg)",
        )
    };
    let script = format!(
        "set -e\n\
         u={u}\nk={k}\n\
         mkdir -p {KEYRINGS} && chmod 755 {KEYRINGS}\n\
         t=$(mktemp {KEYRINGS}/.kubestrap.XXXXXX)\ntrap 'rm -f \"$t\"' EXIT\n\
         if command -v curl >/dev/null 2>&1; then curl -fsSL --max-time 120 -o \"$t\" \"$u\"\n\
         elif command -v wget >/dev/null 2>&1; then wget -q -T 120 -O \"$t\" \"$u\"\n\
         else echo 'Could not fetch signed_by key: neither curl nor wget is installed' >&2; exit 1; fi\n\
         if ! {want}; then echo \"Could not fetch signed_by key: $u {bad}\" >&2; exit 1; fi\n\
         chmod 644 \"$t\"\nsync \"$t\"\nmv -f -- \"$t\" \"$k\"\ntrap - EXIT\n",
        u = q(url),
        k = q(key),
    );
    Action::Run {
        script,
        stdin: None,
    }
}

fn absent(ctx: &Context, slug: &str) -> Result<Plan, String> {
    let mut plan = Plan::default();
    let mut diff = String::new();
    for path in [
        sources_path(slug),
        key_path(slug, "asc"),
        key_path(slug, "gpg"),
    ] {
        if file_fact(ctx, &path)?.kind == FileKind::Missing {
            continue;
        }
        plan.actions.push(Action::Run {
            script: format!("rm -f -- {}", q(&path)),
            stdin: None,
        });
        plan.updates
            .push(FactUpdate::File(path.clone(), FileState::default()));
        diff.push_str(&format!("-{path}\n"));
    }
    if plan.actions.is_empty() {
        return Ok(Plan::noop(format!("{} is absent", sources_path(slug))));
    }
    plan.changed = true;
    plan.msg = format!("{} removed", sources_path(slug));
    plan.diff = Some(diff);
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check, file, missing, scripts, stdins};
    use super::*;
    use crate::facts::Facts;
    use serde_json::json;

    const KEY: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEYCQjIxYJKwYBBAHaRw8BAQdAD/P5Nvvnvk66SxBBHDbhRml9ORg1WV5CvzKY\n=IE0r\n-----END PGP PUBLIC KEY BLOCK-----\n";

    fn facts(sources: Option<&str>, asc: bool) -> Facts {
        let mut f = Facts::default();
        f.files.insert(
            sources_path("kubernetes"),
            sources.map(file).unwrap_or_else(missing),
        );
        f.files.insert(
            key_path("kubernetes", "asc"),
            if asc { file("k") } else { missing() },
        );
        f.files.insert(key_path("kubernetes", "gpg"), missing());
        f
    }

    #[test]
    fn renders_as_ansible() {
        let args = json!({
            "name": "kubernetes",
            "types": "deb",
            "uris": "https://pkgs.k8s.io/core:/stable:/v1.30/deb/",
            "suites": "/",
            "signed_by": KEY,
            "enabled": true,
            "architectures": ["amd64", "arm64"],
        });
        let a = match args {
            serde_json::Value::Object(m) => Args(m),
            _ => unreachable!(),
        };
        assert_eq!(
            render(&a, Some(KEY)).unwrap(),
            "Architectures: amd64 arm64\n\
             Enabled: yes\n\
             X-Repolib-Name: kubernetes\n\
             Signed-By:\n    -----BEGIN PGP PUBLIC KEY BLOCK-----\n    .\n    mDMEYCQjIxYJKwYBBAHaRw8BAQdAD/P5Nvvnvk66SxBBHDbhRml9ORg1WV5CvzKY\n    =IE0r\n    -----END PGP PUBLIC KEY BLOCK-----\n\
             Suites: /\n\
             Types: deb\n\
             URIs: https://pkgs.k8s.io/core:/stable:/v1.30/deb/\n"
        );
        assert_eq!(field_name("check_valid_until"), "Check-Valid-Until");
        assert_eq!(field_name("inrelease_path"), "Inrelease-Path");
        assert_eq!(slug("My_Repo  v2!").unwrap(), "my-repo-v2");
    }

    #[test]
    fn table() {
        let base = json!({"name": "kubernetes", "uris": "http://10.99.8.1/repo", "suites": "bookworm", "components": "main"});
        let content = "Components: main\nX-Repolib-Name: kubernetes\nSuites: bookworm\nTypes: deb\nURIs: http://10.99.8.1/repo\n";
        // No change.
        let plan = check(
            &Deb822Repository,
            &facts(Some(content), false),
            base.clone(),
        )
        .unwrap();
        assert!(!plan.changed, "{plan:?}");
        // New file.
        let plan = check(&Deb822Repository, &facts(None, false), base.clone()).unwrap();
        assert!(plan.changed);
        assert_eq!(stdins(&plan), vec![Some(content.to_string())]);
        assert!(scripts(&plan)[0].contains("chmod 644"));
        // Changed content, key by URL already present: no download, path in the file.
        let mut with_url = base.clone();
        with_url["signed_by"] = json!("https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key");
        let plan = check(
            &Deb822Repository,
            &facts(Some(content), true),
            with_url.clone(),
        )
        .unwrap();
        assert_eq!(plan.actions.len(), 1);
        assert!(stdins(&plan)[0]
            .as_deref()
            .unwrap()
            .contains("Signed-By: /etc/apt/keyrings/kubernetes.asc\n"));
        assert!(plan
            .diff
            .as_deref()
            .unwrap()
            .contains("+Signed-By: /etc/apt/keyrings/kubernetes.asc"));
        // Key missing: downloaded first.
        let plan = check(&Deb822Repository, &facts(Some(content), false), with_url).unwrap();
        let s = scripts(&plan);
        assert_eq!(s.len(), 2);
        assert!(
            s[0].contains("curl -fsSL") && s[0].contains("k='/etc/apt/keyrings/kubernetes.asc'"),
            "{}",
            s[0]
        );
        // Only the mode differs.
        let mut f = facts(Some(content), false);
        f.files.get_mut(&sources_path("kubernetes")).unwrap().mode = Some(0o600);
        let plan = check(&Deb822Repository, &f, base.clone()).unwrap();
        assert_eq!(
            scripts(&plan),
            vec!["chmod 644 '/etc/apt/sources.list.d/kubernetes.sources'".to_string()]
        );
    }

    #[test]
    fn absent_removes_file_and_keys() {
        let plan = check(
            &Deb822Repository,
            &facts(Some("x"), true),
            json!({"name": "kubernetes", "state": "absent"}),
        )
        .unwrap();
        assert_eq!(
            scripts(&plan),
            vec![
                "rm -f -- '/etc/apt/sources.list.d/kubernetes.sources'".to_string(),
                "rm -f -- '/etc/apt/keyrings/kubernetes.asc'".to_string()
            ]
        );
        let plan = check(
            &Deb822Repository,
            &facts(None, false),
            json!({"name": "kubernetes", "state": "absent"}),
        )
        .unwrap();
        assert!(!plan.changed);
    }

    #[test]
    fn errors() {
        let f = facts(None, false);
        for args in [
            json!({}),
            json!({"name": "!!!"}),
            json!({"name": "kubernetes", "types": "rpm"}),
            json!({"name": "kubernetes", "suites": "a\nb"}),
            json!({"name": "kubernetes", "date_max_future": "soon"}),
            json!({"name": "kubernetes", "enabled": "perhaps"}),
            json!({"name": "kubernetes", "mode": "rw"}),
            json!({"name": "other", "uris": "x"}),
        ] {
            assert!(
                check(&Deb822Repository, &f, args.clone()).is_err(),
                "{args}"
            );
        }
    }
}
