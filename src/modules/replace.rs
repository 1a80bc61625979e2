//! replace: replace every match of a regular expression in a file.
//!
//! Also home of the Python `re` compatibility that lineinfile shares: the
//! pattern spellings Rust's regex lacks and Python's replacement templates.

use regex::bytes::Captures as BytesCaptures;
use regex::{Captures, Regex, RegexBuilder};

use super::diff::unified;
use super::file_facts::{attrs_plan, content_of, fact, path_arg, written, Attrs};
use super::{write_file_with, Args, Context, Module, Plan, WriteOpts};
use crate::facts::{FactRequest, FactUpdate, FileKind};

pub struct Replace;

const PATH: &[&str] = &["path", "dest", "destfile", "name"];

impl Module for Replace {
    fn name(&self) -> &'static str {
        "replace"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "path", "dest", "destfile", "name", "regexp", "replace", "after", "before", "backup",
            "mode", "owner", "group", "validate",
        ]
    }

    fn refuse(&self, args: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
        super::validate::refuse_validate(args)
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(vec![FactRequest::File {
            path: path_arg(args, PATH)?,
            content: true,
        }])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let path = path_arg(args, PATH)?;
        let regexp = args.req_str("regexp")?;
        let template = args.str("replace")?.unwrap_or_default();
        let after = args.str("after")?.filter(|s| !s.is_empty());
        let before = args.str("before")?.filter(|s| !s.is_empty());
        let attrs = Attrs::from_args(args)?;
        let backup = args.bool("backup", false)?;
        let validate = super::validate::validate_arg(args)?;

        let st = fact(ctx, &path).ok_or_else(|| format!("no facts were gathered for {path}"))?;
        match st.kind {
            FileKind::Directory => return Err(format!("Path {path} is a directory !")),
            FileKind::Missing => return Err(format!("Path {path} does not exist !")),
            _ => {}
        }
        let contents = std::str::from_utf8(content_of(&path, st)?)
            .map_err(|_| format!("{path} is not UTF-8 text"))?;

        // Like Ansible: the section between `after` and `before` (DOTALL,
        // first match) is all that is searched.
        let section_pattern = match (&after, &before) {
            (Some(a), Some(b)) => Some(format!("{a}(?P<subsection>.*?){b}")),
            (Some(a), None) => Some(format!("{a}(?P<subsection>.*)")),
            (None, Some(b)) => Some(format!("(?P<subsection>.*){b}")),
            (None, None) => None,
        };
        let (start, end) = match &section_pattern {
            None => (0, contents.len()),
            Some(p) => {
                let re = py_regex(p, false, true)?;
                match re.captures(contents).and_then(|c| c.name("subsection")) {
                    Some(m) => (m.start(), m.end()),
                    None => {
                        let why = format!(
                            "Pattern for before/after params did not match the given file: {p}"
                        );
                        return Ok(attrs_plan(&path, st, &attrs, false, why));
                    }
                }
            }
        };
        let re = py_regex(&regexp, true, false)?;
        let section = &contents[start..end];
        let (new_section, count) = py_subn(&re, &template, section)?;
        if count == 0 || new_section == section {
            let why = format!("no match for {regexp:?} in {path}");
            return Ok(attrs_plan(&path, st, &attrs, false, why));
        }
        let new = format!("{}{new_section}{}", &contents[..start], &contents[end..]);
        let opts = WriteOpts {
            mode: attrs.mode,
            owner: attrs.owner.as_deref(),
            group: attrs.group.as_deref(),
            backup,
            follow: true,
            create_parents: false,
            validate: validate.as_deref(),
        };
        Ok(Plan {
            changed: true,
            actions: vec![write_file_with(&path, new.clone().into_bytes(), &opts)],
            diff: unified(&path, contents.as_bytes(), new.as_bytes()),
            updates: vec![FactUpdate::File(
                path.clone(),
                written(new.as_bytes(), &attrs, Some(st)),
            )],
            msg: format!("{count} replacements made in {path}"),
            read_only: false,
        })
    }
}

/// Python's `\Z` (end of text) is Rust's `\z`; the rest of the syntax
/// Ansible playbooks use is common to both.
fn translate(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('Z') => out.push_str("\\z"),
            Some(n) => {
                out.push('\\');
                out.push(n);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn bad_regex(pattern: &str, e: regex::Error) -> String {
    let detail = e.to_string();
    let last = detail
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    format!("regular expression {pattern:?} is not supported: {last}")
}

/// A text pattern with Python `re` flags (replace works on decoded text).
pub(super) fn py_regex(pattern: &str, multiline: bool, dotall: bool) -> Result<Regex, String> {
    RegexBuilder::new(&translate(pattern))
        .multi_line(multiline)
        .dot_matches_new_line(dotall)
        .build()
        .map_err(|e| bad_regex(pattern, e))
}

/// A pattern searched in a file's lines (lineinfile), which may not be
/// UTF-8; Ansible reads them as text, so classes are Unicode-aware.
pub(super) fn py_bytes_regex(pattern: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::Regex::new(&translate(pattern)).map_err(|e| bad_regex(pattern, e))
}

/// Which group a template names.
enum Group<'t> {
    Index(usize),
    Name(&'t str),
}

/// Python's `match.expand(template)` over bytes: `\1`, `\g<1>`, `\g<name>`,
/// and the character escapes; a group that did not take part is empty.
fn py_expand(
    template: &[u8],
    group: &dyn Fn(Group) -> Option<Option<Vec<u8>>>,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(template.len());
    let mut i = 0;
    let missing = |g: String| {
        format!(
            "invalid group reference {g} in {:?}",
            String::from_utf8_lossy(template)
        )
    };
    while i < template.len() {
        let c = template[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = template.get(i) else {
            return Err("bad escape (end of pattern) in replacement".into());
        };
        i += 1;
        match e {
            b'1'..=b'9' => {
                let mut n = usize::from(e - b'0');
                if let Some(d) = template.get(i).filter(|d| d.is_ascii_digit()) {
                    n = n * 10 + usize::from(d - b'0');
                    i += 1;
                }
                out.extend(
                    group(Group::Index(n))
                        .ok_or_else(|| missing(n.to_string()))?
                        .unwrap_or_default(),
                );
            }
            b'0' => {
                // Octal escape of up to three digits, as Python reads `\0`.
                let mut v = 0u32;
                let mut k = 0;
                while k < 2 && template.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                    v = v * 8 + u32::from(template[i] - b'0');
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            b'g' => {
                let rest = &template[i..];
                let close = rest.iter().position(|&b| b == b'>');
                let (Some(b'<'), Some(close)) = (rest.first(), close) else {
                    return Err("missing group name in \\g<...> of replacement".into());
                };
                let name = std::str::from_utf8(&rest[1..close])
                    .map_err(|_| "bad group name in replacement".to_string())?;
                i += close + 1;
                let g = match name.parse::<usize>() {
                    Ok(n) => Group::Index(n),
                    Err(_) => Group::Name(name),
                };
                out.extend(
                    group(g)
                        .ok_or_else(|| missing(name.to_string()))?
                        .unwrap_or_default(),
                );
            }
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'f' => out.push(0x0c),
            b'v' => out.push(0x0b),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'\\' => out.push(b'\\'),
            e if e.is_ascii_alphabetic() => {
                return Err(format!("bad escape \\{} in replacement", e as char));
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// `match.expand(template)` for a text match of `re`.
fn expand_text(re: &Regex, caps: &Captures, template: &str) -> Result<String, String> {
    let get = |g: Group| -> Option<Option<Vec<u8>>> {
        match g {
            Group::Index(n) if n < caps.len() => {
                Some(caps.get(n).map(|m| m.as_str().as_bytes().to_vec()))
            }
            Group::Name(name) if re.capture_names().any(|n| n == Some(name)) => {
                Some(caps.name(name).map(|m| m.as_str().as_bytes().to_vec()))
            }
            _ => None,
        }
    };
    let bytes = py_expand(template.as_bytes(), &get)?;
    String::from_utf8(bytes).map_err(|_| "replacement is not valid UTF-8".to_string())
}

/// `match.expand(template)` for a byte match (lineinfile `backrefs`).
pub(super) fn expand_bytes(
    re: &regex::bytes::Regex,
    caps: &BytesCaptures,
    template: &str,
) -> Result<Vec<u8>, String> {
    let get = |g: Group| -> Option<Option<Vec<u8>>> {
        match g {
            Group::Index(n) if n < caps.len() => Some(caps.get(n).map(|m| m.as_bytes().to_vec())),
            Group::Name(name) if re.capture_names().any(|n| n == Some(name)) => {
                Some(caps.name(name).map(|m| m.as_bytes().to_vec()))
            }
            _ => None,
        }
    };
    py_expand(template.as_bytes(), &get)
}

/// Python's `re.subn(pattern, template, text)`: every match replaced.
fn py_subn(re: &Regex, template: &str, text: &str) -> Result<(String, usize), String> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut count = 0;
    for caps in re.captures_iter(text) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&text[last..m.start()]);
        out.push_str(&expand_text(re, &caps, template)?);
        last = m.end();
        count += 1;
    }
    out.push_str(&text[last..]);
    Ok((out, count))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{check_files, dir, file, missing, only_run, updated};
    use super::*;

    const P: &str = "/etc/hosts";

    #[test]
    fn replaces_as_ansible_does() {
        // (what, args without path, before, after; None = no change)
        let table: Vec<(&str, serde_json::Value, &str, Option<&str>)> = vec![
            (
                "every match, MULTILINE anchors (hosts example)",
                json!({"regexp": "(\\s+)old\\.host\\.name(\\s+.*)?$", "replace": "\\1new.host.name\\2"}),
                "1.2.3.4 old.host.name alias\n5.6.7.8  old.host.name\n",
                Some("1.2.3.4 new.host.name alias\n5.6.7.8  new.host.name\n"),
            ),
            (
                "no match is a noop",
                json!({"regexp": "^nothing$", "replace": "x"}),
                "a\n",
                None,
            ),
            (
                "same text after replacing is a noop",
                json!({"regexp": "a", "replace": "a"}),
                "a\n",
                None,
            ),
            (
                "replace defaults to empty",
                json!({"regexp": "^#.*\\n"}),
                "#c\nk=v\n",
                Some("k=v\n"),
            ),
            (
                "only between after and before",
                json!({"after": "<Start>", "before": "</End>", "regexp": "x", "replace": "y"}),
                "x\n<Start>\nx\n</End>\nx\n",
                Some("x\n<Start>\ny\n</End>\nx\n"),
            ),
            (
                "after only",
                json!({"after": "marker", "regexp": "^x$", "replace": "y"}),
                "x\nmarker\nx\n",
                Some("x\nmarker\ny\n"),
            ),
            (
                "before/after not found is a noop",
                json!({"after": "nowhere", "regexp": "x", "replace": "y"}),
                "x\n",
                None,
            ),
            (
                "named groups and \\g<0>",
                json!({"regexp": "^(?P<k>\\w+)=(\\d+)$", "replace": "\\g<k>: \\g<0>"}),
                "a=1\n",
                Some("a: a=1\n"),
            ),
            (
                "\\Z means end of text",
                json!({"regexp": "\\n\\Z", "replace": "\\n\\n"}),
                "a\n",
                Some("a\n\n"),
            ),
            (
                "swap entries commented out",
                json!({"regexp": "^([^#].*\\sswap\\s.*)$", "replace": "# \\1"}),
                "/dev/sda1 / ext4 0 1\n/swap.img none swap sw 0 0\n",
                Some("/dev/sda1 / ext4 0 1\n# /swap.img none swap sw 0 0\n"),
            ),
        ];
        for (i, (what, mut args, before, after)) in table.into_iter().enumerate() {
            args["path"] = json!(P);
            // Every other case asks for a backup; Ansible's default is none.
            let backup = i % 2 == 0;
            if backup {
                args["backup"] = json!(true);
            }
            let plan = check_files(&Replace, args, &[(P, file(before))])
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            match after {
                None => assert!(!plan.changed && plan.actions.is_empty(), "{what}: {plan:?}"),
                Some(after) => {
                    let (script, stdin) = only_run(&plan);
                    assert_eq!(String::from_utf8_lossy(stdin.unwrap()), after, "{what}");
                    assert!(script.contains("readlink -f"), "{what}");
                    assert_eq!(script.contains("cp -p"), backup, "{what}: backup");
                    assert_eq!(
                        updated(&plan, P).sha256.as_deref(),
                        Some(super::super::file_facts::sha256_hex(after.as_bytes()).as_str())
                    );
                }
            }
        }
    }

    #[test]
    fn count_and_diff_are_reported() {
        let plan = check_files(
            &Replace,
            json!({"path": P, "regexp": "a", "replace": "b"}),
            &[(P, file("a\na\n"))],
        )
        .unwrap();
        assert_eq!(plan.msg, "2 replacements made in /etc/hosts");
        assert_eq!(
            plan.diff.as_deref(),
            Some(
                "--- before: /etc/hosts\n+++ after: /etc/hosts\n@@ -1,2 +1,2 @@\n-a\n-a\n+b\n+b\n"
            )
        );
    }

    #[test]
    fn failures_match_ansible() {
        let err = check_files(
            &Replace,
            json!({"path": P, "regexp": "a"}),
            &[(P, missing())],
        )
        .unwrap_err();
        assert_eq!(err, "Path /etc/hosts does not exist !");
        let err = check_files(
            &Replace,
            json!({"path": "/etc", "regexp": "a"}),
            &[("/etc", dir())],
        )
        .unwrap_err();
        assert_eq!(err, "Path /etc is a directory !");
        let err = check_files(&Replace, json!({"path": P}), &[(P, file("a"))]).unwrap_err();
        assert_eq!(err, "missing required argument `regexp`");
        let err = check_files(
            &Replace,
            json!({"path": P, "regexp": "(a)\\1"}),
            &[(P, file("a"))],
        )
        .unwrap_err();
        assert!(
            err.starts_with("regular expression \"(a)\\\\1\" is not supported"),
            "{err}"
        );
        let err = check_files(
            &Replace,
            json!({"path": P, "regexp": "a", "replace": "\\q"}),
            &[(P, file("a"))],
        )
        .unwrap_err();
        assert_eq!(err, "bad escape \\q in replacement");
    }

    #[test]
    fn expand_understands_python_templates() {
        let re = py_regex("(a)(b)?(?P<n>c)", false, false).unwrap();
        let caps = re.captures("ac").unwrap();
        let cases = [
            ("\\1-\\2-\\3", "a--c"),
            ("\\g<n>\\g<1>", "ca"),
            ("$1 \\\\ \\t|", "$1 \\ \t|"),
            ("\\0", "\0"),
            ("\\.", "\\."),
        ];
        for (t, want) in cases {
            assert_eq!(expand_text(&re, &caps, t).unwrap(), want, "{t}");
        }
        assert!(expand_text(&re, &caps, "\\g<zz>").is_err());
        assert!(expand_text(&re, &caps, "\\g<1").is_err());
        assert!(expand_text(&re, &caps, "x\\").is_err());
    }
}
