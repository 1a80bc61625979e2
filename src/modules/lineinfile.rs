//! lineinfile: make sure one line is present in (or absent from) a file.
//!
//! The edit follows Ansible's algorithm step for step (the regexp is
//! searched in each line, the last match wins unless `firstmatch`), so a
//! playbook edits a file the same way under both tools.

use super::file_facts::{attrs_plan, content_of, edit_plan, fact, path_arg, Attrs, Rewrite};
use super::replace::{expand_bytes, py_bytes_regex};
use super::{Args, Context, Module, Plan};
use crate::facts::{FactRequest, FileKind};

pub struct LineInFile;

const PATH: &[&str] = &["path", "dest", "destfile", "name"];

impl Module for LineInFile {
    fn name(&self) -> &'static str {
        "lineinfile"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "path",
            "dest",
            "destfile",
            "name",
            "line",
            "value",
            "regexp",
            "regex",
            "search_string",
            "state",
            "insertafter",
            "insertbefore",
            "create",
            "backrefs",
            "firstmatch",
            "backup",
            "mode",
            "owner",
            "group",
            "validate",
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
        let spec = Spec::from_args(args)?;
        let attrs = Attrs::from_args(args)?;
        let how = Rewrite::from_args(args, false)?;
        let create = args.bool("create", false)?;

        let st = fact(ctx, &path).ok_or_else(|| format!("no facts were gathered for {path}"))?;
        let missing = st.kind == FileKind::Missing;
        let before: &[u8] = match st.kind {
            FileKind::Directory => return Err(format!("Path {path} is a directory !")),
            FileKind::Missing if !spec.present => return Ok(Plan::noop("file not present")),
            FileKind::Missing if !create => {
                return Err(format!("Destination {path} does not exist !"))
            }
            FileKind::Missing => b"",
            _ => content_of(&path, st)?,
        };
        let (after, msg) = spec.edit(before)?;
        if after == before && !missing {
            let why = format!("{path} already as wanted");
            return Ok(attrs_plan(&path, st, &attrs, false, why));
        }
        let msg = if msg.is_empty() {
            format!("{path} created")
        } else {
            format!("{msg} in {path}")
        };
        // A file that `create` makes gets its directories made too, as in Ansible.
        Ok(edit_plan(ctx, &path, st, (before, after), &attrs, how, msg))
    }
}

/// What to look for and where to put the line.
struct Spec {
    present: bool,
    line: Option<String>,
    regexp: Option<regex::bytes::Regex>,
    search: Option<String>,
    insertafter: Option<String>,
    insertbefore: Option<String>,
    backrefs: bool,
    firstmatch: bool,
}

impl Spec {
    fn from_args(args: &Args) -> Result<Spec, String> {
        let present = args.choice("state", &["present", "absent"], "present")? == "present";
        let line = match args.str("line")? {
            Some(l) => Some(l),
            None => args.str("value")?,
        };
        let regexp = match args.str("regexp")? {
            Some(r) => Some(r),
            None => args.str("regex")?,
        };
        let search = args.str("search_string")?;
        let insertafter = args.str("insertafter")?;
        let insertbefore = args.str("insertbefore")?;
        let backrefs = args.bool("backrefs", false)?;
        for (a, b, both) in [
            (
                "insertafter",
                "insertbefore",
                insertafter.is_some() && insertbefore.is_some(),
            ),
            (
                "regexp",
                "search_string",
                regexp.is_some() && search.is_some(),
            ),
            ("backrefs", "search_string", backrefs && search.is_some()),
        ] {
            if both {
                return Err(format!("parameters are mutually exclusive: {a}|{b}"));
            }
        }
        if present {
            if backrefs && regexp.is_none() {
                return Err("regexp is required with backrefs=true".into());
            }
            if line.is_none() {
                return Err("line is required with state=present".into());
            }
        } else if line.is_none() && regexp.is_none() && search.is_none() {
            return Err(
                "one of line, search_string, or regexp is required with state=absent".into(),
            );
        }
        // Ansible's default place for a new line is the end of the file.
        let insertafter = match (&insertafter, &insertbefore) {
            (None, None) => Some("EOF".to_string()),
            _ => insertafter,
        };
        Ok(Spec {
            present,
            line,
            regexp: regexp.as_deref().map(py_bytes_regex).transpose()?,
            search,
            insertafter,
            insertbefore,
            backrefs,
            firstmatch: args.bool("firstmatch", false)?,
        })
    }

    /// The new content and Ansible's message for the change ("" for none).
    fn edit(&self, content: &[u8]) -> Result<(Vec<u8>, String), String> {
        let lines = split_lines(content);
        let (lines, msg) = if self.present {
            self.present(lines)?
        } else {
            self.absent(lines)
        };
        Ok((lines.concat(), msg))
    }

    fn absent(&self, lines: Vec<Vec<u8>>) -> (Vec<Vec<u8>>, String) {
        let before = lines.len();
        let kept: Vec<Vec<u8>> = lines
            .into_iter()
            .filter(|l| {
                let found = if let Some(re) = &self.regexp {
                    re.is_match(chomp(l))
                } else if let Some(s) = &self.search {
                    contains(l, s.as_bytes())
                } else {
                    self.line
                        .as_deref()
                        .is_some_and(|line| rstrip_eol(l) == line.as_bytes())
                };
                !found
            })
            .collect();
        let removed = before - kept.len();
        let msg = if removed > 0 {
            format!("{removed} line(s) removed")
        } else {
            String::new()
        };
        (kept, msg)
    }

    fn present(&self, mut lines: Vec<Vec<u8>>) -> Result<(Vec<Vec<u8>>, String), String> {
        let line = self.line.as_deref().unwrap_or("").as_bytes();
        let with_eol = |l: &[u8]| [l, b"\n"].concat();
        let ins_re = match (&self.insertafter, &self.insertbefore) {
            (Some(a), _) if a != "BOF" && a != "EOF" => Some(py_bytes_regex(a)?),
            (_, Some(b)) if b != "BOF" => Some(py_bytes_regex(b)?),
            _ => None,
        };
        // index.0: line the regexp/search string/exact line was found at;
        // index.1: where insertafter/insertbefore says to insert.
        let mut index: (Option<usize>, Option<usize>) = (None, None);
        let mut found: Option<usize> = None;
        let mut expanded: Option<Vec<u8>> = None;
        if let Some(re) = &self.regexp {
            for (n, l) in lines.iter().enumerate() {
                if let Some(caps) = re.captures(chomp(l)) {
                    index.0 = Some(n);
                    found = Some(n);
                    if self.backrefs {
                        expanded =
                            Some(expand_bytes(re, &caps, self.line.as_deref().unwrap_or(""))?);
                    }
                    if self.firstmatch {
                        break;
                    }
                }
            }
        }
        if let Some(s) = &self.search {
            for (n, l) in lines.iter().enumerate() {
                if contains(l, s.as_bytes()) {
                    index.0 = Some(n);
                    found = Some(n);
                    if self.firstmatch {
                        break;
                    }
                }
            }
        }
        if found.is_none() {
            for (n, l) in lines.iter().enumerate() {
                if rstrip_eol(l) == line {
                    index.0 = Some(n);
                } else if ins_re.as_ref().is_some_and(|re| re.is_match(chomp(l))) {
                    index.1 = Some(if self.insertafter.is_some() { n + 1 } else { n });
                    if self.firstmatch {
                        break;
                    }
                }
            }
        }

        let added = |lines: Vec<Vec<u8>>| Ok((lines, "line added".to_string()));
        if let Some(i) = index.0 {
            // Found the regexp, the search string or the line itself.
            let mut new_line = match (&expanded, found) {
                (Some(e), Some(_)) => e.clone(),
                _ => line.to_vec(),
            };
            if !new_line.ends_with(b"\n") {
                new_line.push(b'\n');
            }
            if lines[i] != new_line {
                lines[i] = new_line;
                return Ok((lines, "line replaced".into()));
            }
            return Ok((lines, String::new()));
        }
        if self.backrefs {
            // Without a match there is nothing to fill the backreferences
            // with, so Ansible leaves the file alone.
            return Ok((lines, String::new()));
        }
        let bof = self.insertbefore.as_deref() == Some("BOF")
            || self.insertafter.as_deref() == Some("BOF");
        if bof {
            lines.insert(0, with_eol(line));
            return added(lines);
        }
        if self.insertafter.as_deref() == Some("EOF") || index.1.is_none() {
            end_with_newline(&mut lines);
            lines.push(with_eol(line));
            return added(lines);
        }
        let at = index.1.unwrap_or(lines.len());
        if self.insertafter.is_some() {
            // Not again if the line is already right after the anchor.
            let next = if at == lines.len() {
                at.checked_sub(1)
            } else {
                Some(at)
            };
            if next
                .and_then(|n| lines.get(n))
                .is_some_and(|l| rstrip_eol(l) == line)
            {
                return Ok((lines, String::new()));
            }
            if at == lines.len() {
                // Ansible would glue the line to a last line without a
                // newline here; it gets its newline first instead.
                end_with_newline(&mut lines);
                lines.push(with_eol(line));
            } else {
                lines.insert(at, with_eol(line));
            }
            return added(lines);
        }
        lines.insert(at.min(lines.len()), with_eol(line));
        added(lines)
    }
}

/// Lines as Python's `readlines()` gives them: each with its `\n`, the last
/// one without when the file does not end in a newline.
fn split_lines(content: &[u8]) -> Vec<Vec<u8>> {
    content
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// The line without its `\n`: what a Python pattern's `$` (end, or before a
/// final newline) sees as the end.
fn chomp(l: &[u8]) -> &[u8] {
    l.strip_suffix(b"\n").unwrap_or(l)
}

/// `line.rstrip(b'\r\n')`.
fn rstrip_eol(l: &[u8]) -> &[u8] {
    let end = l
        .iter()
        .rposition(|&b| b != b'\n' && b != b'\r')
        .map_or(0, |i| i + 1);
    &l[..end]
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle)
}

/// Give a last line without one its newline before appending after it.
fn end_with_newline(lines: &mut [Vec<u8>]) {
    if let Some(last) = lines.last_mut() {
        if !matches!(last.last(), Some(b'\n' | b'\r')) {
            last.push(b'\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{check_files, dir, file, missing, only_run, updated};
    use super::*;
    use crate::facts::FileState;

    const P: &str = "/etc/f";

    /// (what, args without path, file before, file after; None = no change)
    fn table() -> Vec<(
        &'static str,
        serde_json::Value,
        &'static str,
        Option<&'static str>,
    )> {
        vec![
            (
                "regexp replaces the matching line (SELinux example)",
                json!({"regexp": "^SELINUX=", "line": "SELINUX=enforcing"}),
                "# c\nSELINUX=disabled\nSELINUXTYPE=targeted\n",
                Some("# c\nSELINUX=enforcing\nSELINUXTYPE=targeted\n"),
            ),
            (
                "the last match is the one replaced",
                json!({"regexp": "^a=", "line": "a=3"}),
                "a=1\nb\na=2\n",
                Some("a=1\nb\na=3\n"),
            ),
            (
                "firstmatch replaces the first",
                json!({"regexp": "^a=", "line": "a=3", "firstmatch": true}),
                "a=1\nb\na=2\n",
                Some("a=3\nb\na=2\n"),
            ),
            (
                "line already there",
                json!({"regexp": "^a=", "line": "a=1"}),
                "a=1\nb\n",
                None,
            ),
            (
                "exact line without regexp",
                json!({"line": "b"}),
                "a\nb\nc\n",
                None,
            ),
            (
                "appended at EOF by default",
                json!({"line": "c"}),
                "a\nb\n",
                Some("a\nb\nc\n"),
            ),
            (
                "a missing final newline is added first",
                json!({"line": "c"}),
                "a\nb",
                Some("a\nb\nc\n"),
            ),
            (
                "insertafter when regexp does not match (httpd example)",
                json!({"regexp": "^Listen ", "insertafter": "^#Listen ", "line": "Listen 8080"}),
                "#Listen 12.34.56.78:80\n#Listen 80\nServerRoot x\n",
                Some("#Listen 12.34.56.78:80\n#Listen 80\nListen 8080\nServerRoot x\n"),
            ),
            (
                "insertafter with firstmatch uses the first anchor",
                json!({"insertafter": "^#Listen ", "line": "Listen 8080", "firstmatch": true}),
                "#Listen 1\n#Listen 2\n",
                Some("#Listen 1\nListen 8080\n#Listen 2\n"),
            ),
            (
                "insertbefore (services example)",
                json!({"regexp": "^# port for http", "insertbefore": "^www.*80/tcp", "line": "# port for http by default"}),
                "ftp 21/tcp\nwww 80/tcp\n",
                Some("ftp 21/tcp\n# port for http by default\nwww 80/tcp\n"),
            ),
            (
                "insertbefore BOF",
                json!({"line": "first", "insertbefore": "BOF"}),
                "a\n",
                Some("first\na\n"),
            ),
            (
                "an anchor that does not match means EOF",
                json!({"line": "z", "insertafter": "^nothing"}),
                "a\n",
                Some("a\nz\n"),
            ),
            (
                "insertafter the last line without a newline",
                json!({"line": "z", "insertafter": "^a"}),
                "a",
                Some("a\nz\n"),
            ),
            (
                "not inserted twice after its anchor",
                json!({"line": "z", "insertafter": "^a"}),
                "a\nz\n",
                None,
            ),
            (
                "backrefs expand groups (JBoss example)",
                json!({"regexp": "^(.*)Xms(\\d+)m(.*)$", "line": "\\1Xms512m\\3", "backrefs": true}),
                "JAVA_OPTS=\"-Xms128m -Xmx512m\"\n",
                Some("JAVA_OPTS=\"-Xms512m -Xmx512m\"\n"),
            ),
            (
                "backrefs with named groups",
                json!({"regexp": "^(?P<k>\\w+)=old$", "line": "\\g<k>=new", "backrefs": true}),
                "key=old\n",
                Some("key=new\n"),
            ),
            (
                "backrefs and no match change nothing",
                json!({"regexp": "^nomatch(.*)$", "line": "x\\1", "backrefs": true}),
                "a\n",
                None,
            ),
            (
                "search_string replaces the line containing it",
                json!({"search_string": "127.0.0.1", "line": "127.0.0.1 localhost"}),
                "127.0.0.1 old\n::1 x\n",
                Some("127.0.0.1 localhost\n::1 x\n"),
            ),
            (
                "absent removes every matching line (sudoers example)",
                json!({"state": "absent", "regexp": "^%wheel"}),
                "root ALL\n%wheel ALL\n%wheel2 x\n",
                Some("root ALL\n"),
            ),
            (
                "absent by exact line",
                json!({"state": "absent", "line": "b"}),
                "a\nb\r\nc\n",
                Some("a\nc\n"),
            ),
            (
                "absent with nothing to remove",
                json!({"state": "absent", "regexp": "^x"}),
                "a\n",
                None,
            ),
            (
                "swap line in fstab commented out with backrefs",
                json!({"regexp": "^([^#].*\\sswap\\s.*)$", "line": "# \\1", "backrefs": true}),
                "UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n",
                Some("UUID=1 / ext4 defaults 0 1\n# /swap.img none swap sw 0 0\n"),
            ),
        ]
    }

    #[test]
    fn edits_as_ansible_does() {
        for (i, (what, mut args, before, after)) in table().into_iter().enumerate() {
            args["path"] = json!(P);
            // Every other case asks for a backup; Ansible's default is none.
            let backup = i % 2 == 0;
            if backup {
                args["backup"] = json!(true);
            }
            let plan = check_files(&LineInFile, args, &[(P, file(before))])
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            match after {
                None => assert!(!plan.changed && plan.actions.is_empty(), "{what}: {plan:?}"),
                Some(after) => {
                    assert!(plan.changed, "{what}");
                    let (script, stdin) = only_run(&plan);
                    assert_eq!(String::from_utf8_lossy(stdin.unwrap()), after, "{what}");
                    assert!(script.contains("readlink -f"), "{what}: follows links");
                    assert_eq!(script.contains("cp -p"), backup, "{what}: backup");
                    assert!(plan.diff.is_some(), "{what}");
                    assert_eq!(
                        updated(&plan, P).content.as_deref(),
                        Some(after.as_bytes()),
                        "{what}"
                    );
                }
            }
        }
    }

    #[test]
    fn diff_shows_the_replaced_line() {
        let plan = check_files(
            &LineInFile,
            json!({"path": P, "regexp": "^a=", "line": "a=2"}),
            &[(P, file("a=1\n"))],
        )
        .unwrap();
        assert_eq!(
            plan.diff.as_deref(),
            Some("--- before: /etc/f\n+++ after: /etc/f\n@@ -1 +1 @@\n-a=1\n+a=2\n")
        );
        assert_eq!(plan.msg, "line replaced in /etc/f");
    }

    #[test]
    fn create_makes_the_file_and_its_directory() {
        let args = json!({"path": "/tmp/d/testfile", "line": "192.168.1.99 foo.lab.net foo", "create": true});
        let plan = check_files(
            &LineInFile,
            args,
            &[("/tmp/d/testfile", missing()), ("/tmp/d", missing())],
        )
        .unwrap();
        let (script, stdin) = only_run(&plan);
        assert_eq!(stdin, Some(&b"192.168.1.99 foo.lab.net foo\n"[..]));
        assert!(script.contains("mkdir -p -- \"$d\""), "{script}");
        assert_eq!(updated(&plan, "/tmp/d/testfile").mode, Some(0o644));
        let args = json!({"path": "/tmp/testfile", "line": "x", "create": true, "mode": "0600"});
        let plan = check_files(
            &LineInFile,
            args,
            &[("/tmp/testfile", missing()), ("/tmp", dir())],
        )
        .unwrap();
        assert!(!only_run(&plan).0.contains("mkdir"));
    }

    #[test]
    fn missing_file_without_create_fails_like_ansible() {
        let err = check_files(
            &LineInFile,
            json!({"path": P, "line": "x"}),
            &[(P, missing())],
        )
        .unwrap_err();
        assert_eq!(err, "Destination /etc/f does not exist !");
        let plan = check_files(
            &LineInFile,
            json!({"path": P, "line": "x", "state": "absent"}),
            &[(P, missing())],
        )
        .unwrap();
        assert_eq!(plan.msg, "file not present");
    }

    #[test]
    fn unchanged_content_with_mode_drift_is_a_chmod() {
        let plan = check_files(
            &LineInFile,
            json!({"dest": P, "line": "a", "mode": "0600"}),
            &[(P, file("a\n"))],
        )
        .unwrap();
        assert_eq!(only_run(&plan).0, "chmod 0600 -- '/etc/f'\n");
    }

    #[test]
    fn argument_errors_match_ansible() {
        let cases = [
            (json!({"path": P}), "line is required with state=present"),
            (
                json!({"path": P, "line": "x", "backrefs": true}),
                "regexp is required with backrefs=true",
            ),
            (
                json!({"path": P, "state": "absent"}),
                "one of line, search_string, or regexp is required with state=absent",
            ),
            (
                json!({"path": P, "line": "x", "insertafter": "a", "insertbefore": "b"}),
                "parameters are mutually exclusive: insertafter|insertbefore",
            ),
            (json!({"line": "x"}), "missing required argument `path`"),
            (
                json!({"path": P, "line": "x", "regexp": "(a"}),
                "regular expression \"(a\" is not supported: error: unclosed group",
            ),
            (
                json!({"path": P, "line": "\\9", "regexp": "(a)", "backrefs": true}),
                "invalid group reference 9 in \"\\\\9\"",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(
                check_files(&LineInFile, args, &[(P, file("a\n"))]).unwrap_err(),
                want
            );
        }
        let err = check_files(
            &LineInFile,
            json!({"path": "/etc", "line": "x"}),
            &[("/etc", dir())],
        )
        .unwrap_err();
        assert_eq!(err, "Path /etc is a directory !");
        let mut big = file("");
        big.content = None;
        big.size = Some(300_000);
        let err =
            check_files(&LineInFile, json!({"path": P, "line": "x"}), &[(P, big)]).unwrap_err();
        assert_eq!(
            err,
            "/etc/f is 300000 bytes; kubestrap edits files up to 256 KiB in place"
        );
        let link = FileState {
            kind: FileKind::Link,
            ..FileState::default()
        };
        let err =
            check_files(&LineInFile, json!({"path": P, "line": "x"}), &[(P, link)]).unwrap_err();
        assert!(err.starts_with("/etc/f is a symlink"), "{err}");
    }
}
