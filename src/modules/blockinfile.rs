//! blockinfile: keep a block of lines between two marker lines in a file.
//!
//! The edit follows Ansible's algorithm (markers found by whole-line
//! equality, the block replaced in place, else inserted after the last line
//! matching `insertafter` or before the last matching `insertbefore`, EOF by
//! default), so both tools leave the same bytes. The new content is a pure
//! function ([`Spec::render`]); the write is atomic, through symlinks, with
//! a backup on request, as lineinfile's.

use super::file_facts::{
    attrs_plan, content_of, edit_plan, fact, parent, path_arg, Attrs, Rewrite,
};
use super::replace::py_bytes_regex;
use super::validate::refuse_validate;
use super::{Args, Context, Module, Plan};
use crate::facts::{FactRequest, FileKind};

pub struct BlockInFile;

const PATH: &[&str] = &["path", "dest", "destfile", "name"];

impl Module for BlockInFile {
    fn name(&self) -> &'static str {
        "blockinfile"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "path",
            "dest",
            "destfile",
            "name",
            "state",
            "marker",
            "block",
            "content",
            "insertafter",
            "insertbefore",
            "create",
            "backup",
            "marker_begin",
            "marker_end",
            "append_newline",
            "prepend_newline",
            "mode",
            "owner",
            "group",
            "validate",
        ]
    }

    fn refuse(&self, args: &serde_json::Map<String, serde_json::Value>) -> Vec<(String, String)> {
        refuse_validate(args)
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let path = path_arg(args, PATH)?;
        let mut needs = vec![FactRequest::File {
            path: path.clone(),
            content: true,
        }];
        // A created file's directory is made when missing.
        if let Some(p) = parent(&path) {
            needs.push(FactRequest::File {
                path: p,
                content: false,
            });
        }
        Ok(needs)
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let path = path_arg(args, PATH)?;
        let spec = Spec::from_args(args)?;
        let attrs = Attrs::from_args(args)?;
        let how = Rewrite::from_args(args, false)?;
        let create = args.bool("create", false)?;

        let st = fact(ctx, &path).ok_or_else(|| format!("no facts were gathered for {path}"))?;
        let before: Option<&[u8]> = match st.kind {
            FileKind::Directory => return Err(format!("Path {path} is a directory !")),
            FileKind::Missing if !create => return Err(format!("Path {path} does not exist !")),
            FileKind::Missing if !spec.present => {
                return Ok(Plan::noop(format!("File {path} not present")))
            }
            FileKind::Missing => None,
            _ => Some(content_of(&path, st)?),
        };
        let after = spec.render(before)?;
        if before == Some(after.as_slice()) {
            return Ok(attrs_plan(
                &path,
                st,
                &attrs,
                false,
                format!("{path} already as wanted"),
            ));
        }
        let msg = match before {
            None => "File created",
            Some(_) if !spec.present || spec.block.is_empty() => "Block removed",
            Some(_) => "Block inserted",
        };
        let msg = format!("{msg}: {path}");
        let edit = (before.unwrap_or_default(), after);
        Ok(edit_plan(ctx, &path, st, edit, &attrs, how, msg))
    }
}

/// The block, its markers and where it goes.
struct Spec {
    present: bool,
    block: Vec<u8>,
    begin: Vec<u8>,
    end: Vec<u8>,
    insertafter: Option<String>,
    insertbefore: Option<String>,
    append_newline: bool,
    prepend_newline: bool,
}

impl Spec {
    fn from_args(args: &Args) -> Result<Spec, String> {
        let present = args.choice("state", &["present", "absent"], "present")? == "present";
        let block = match args.str("block")? {
            Some(b) => b,
            None => args.str("content")?.unwrap_or_default(),
        };
        let marker = args
            .str("marker")?
            .unwrap_or_else(|| "# {mark} ANSIBLE MANAGED BLOCK".into());
        let begin = args.str("marker_begin")?.unwrap_or_else(|| "BEGIN".into());
        let end = args.str("marker_end")?.unwrap_or_else(|| "END".into());
        let insertafter = args.str("insertafter")?;
        let insertbefore = args.str("insertbefore")?;
        if insertafter.is_some() && insertbefore.is_some() {
            return Err("parameters are mutually exclusive: insertbefore|insertafter".into());
        }
        let line = |mark: &str| format!("{}\n", marker.replace("{mark}", mark)).into_bytes();
        Ok(Spec {
            present,
            block: block.into_bytes(),
            begin: line(&begin),
            end: line(&end),
            insertafter,
            insertbefore,
            append_newline: args.bool("append_newline", false)?,
            prepend_newline: args.bool("prepend_newline", false)?,
        })
    }

    /// The file's new content from its old one (None: no file yet).
    fn render(&self, original: Option<&[u8]>) -> Result<Vec<u8>, String> {
        let content = original.unwrap_or_default();
        let mut lines: Vec<Vec<u8>> = content
            .split_inclusive(|&b| b == b'\n')
            .map(<[u8]>::to_vec)
            .collect();
        let mut block_lines: Vec<Vec<u8>> = Vec::new();
        if self.present && !self.block.is_empty() {
            let mut block = self.block.clone();
            if !block.ends_with(b"\n") {
                block.push(b'\n');
            }
            block_lines.push(self.begin.clone());
            block_lines.extend(block.split_inclusive(|&b| b == b'\n').map(<[u8]>::to_vec));
            block_lines.push(self.end.clone());
        }
        // The last line equal to each marker, as Ansible finds them.
        let last = |m: &[u8]| lines.iter().rposition(|l| l == m);
        let at = match (last(&self.begin), last(&self.end)) {
            (Some(b), Some(e)) => {
                let (lo, hi) = (b.min(e), b.max(e));
                lines.drain(lo..=hi);
                lo
            }
            _ => self.anchor(content, &lines)?,
        };
        if at > 0 {
            let prev = &mut lines[at - 1];
            if !prev.ends_with(b"\n") {
                prev.push(b'\n');
            }
        }
        let mut at = at;
        if self.prepend_newline && self.present && at != 0 && lines[at - 1] != b"\n" {
            lines.insert(at, b"\n".to_vec());
            at += 1;
        }
        let after_block = at + block_lines.len();
        lines.splice(at..at, block_lines);
        if self.append_newline
            && self.present
            && after_block < lines.len()
            && lines[after_block] != b"\n"
        {
            lines.insert(after_block, b"\n".to_vec());
        }
        Ok(lines.concat())
    }

    /// Where a block without its markers in the file goes: after the last
    /// line matching `insertafter`, before the last matching `insertbefore`,
    /// at BOF, or at the end (also when the pattern matches nowhere).
    fn anchor(&self, content: &[u8], lines: &[Vec<u8>]) -> Result<usize, String> {
        let pattern = match (&self.insertafter, &self.insertbefore) {
            (Some(a), _) if a != "EOF" => a,
            (None, Some(b)) if b != "BOF" => b,
            (None, Some(_)) => return Ok(0),
            _ => return Ok(lines.len()),
        };
        let re = py_bytes_regex(pattern)?;
        let after = self.insertafter.is_some();
        let found = if multiline(pattern) {
            // A (?m) pattern is searched in the whole file; the block goes
            // at the line where the match ends (after) or starts (before).
            re.find(content).map(|m| {
                let upto = if after { m.end() } else { m.start() };
                content[..upto].iter().filter(|&&b| b == b'\n').count()
            })
        } else {
            lines
                .iter()
                .rposition(|l| re.is_match(l.strip_suffix(b"\n").unwrap_or(l)))
        };
        Ok(match found {
            None => lines.len(),
            Some(n) if after => n + 1,
            Some(n) => n,
        })
    }
}

/// Whether a Python pattern turns on MULTILINE with a leading inline flag
/// group (`(?m)`, `(?im)`).
fn multiline(pattern: &str) -> bool {
    pattern
        .strip_prefix("(?")
        .and_then(|r| r.split_once(')'))
        .is_some_and(|(flags, _)| {
            flags.chars().all(|c| c.is_ascii_alphabetic()) && flags.contains('m')
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{args, check_files, dir, file, missing, only_run, updated};
    use super::*;

    const P: &str = "/etc/f";
    const B: &str = "# BEGIN ANSIBLE MANAGED BLOCK\n";
    const E: &str = "# END ANSIBLE MANAGED BLOCK\n";

    /// (what, args without path, file before (None: missing), file after)
    fn table() -> Vec<(
        &'static str,
        serde_json::Value,
        Option<&'static str>,
        String,
    )> {
        vec![
            (
                "appended at EOF by default",
                json!({"block": "a=1\nb=2"}),
                Some("x\n"),
                format!("x\n{B}a=1\nb=2\n{E}"),
            ),
            (
                "the last line gets its newline first",
                json!({"block": "a=1"}),
                Some("x"),
                format!("x\n{B}a=1\n{E}"),
            ),
            (
                "replaced between its markers, in place",
                json!({"block": "new"}),
                Some("x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\ny\n"),
                format!("x\n{B}new\n{E}y\n"),
            ),
            (
                "already there: unchanged",
                json!({"block": "a=1\n"}),
                Some("# BEGIN ANSIBLE MANAGED BLOCK\na=1\n# END ANSIBLE MANAGED BLOCK\n"),
                format!("{B}a=1\n{E}"),
            ),
            (
                "insertbefore BOF",
                json!({"block": "top", "insertbefore": "BOF"}),
                Some("x\n"),
                format!("{B}top\n{E}x\n"),
            ),
            (
                "insertafter the last matching line",
                json!({"block": "k", "insertafter": "^\\[main\\]"}),
                Some("[main]\na\n[main]\nb\n"),
                format!("[main]\na\n[main]\n{B}k\n{E}b\n"),
            ),
            (
                "insertbefore a regex",
                json!({"block": "k", "insertbefore": "^</VirtualHost>"}),
                Some("<VirtualHost>\nx\n</VirtualHost>\n"),
                format!("<VirtualHost>\nx\n{B}k\n{E}</VirtualHost>\n"),
            ),
            (
                "no match means EOF",
                json!({"block": "k", "insertafter": "^nothing"}),
                Some("a\n"),
                format!("a\n{B}k\n{E}"),
            ),
            (
                "custom marker with {mark}",
                json!({"block": "k", "marker": "<!-- {mark} managed -->", "marker_begin": "START", "marker_end": "STOP"}),
                Some("<html>\n"),
                "<html>\n<!-- START managed -->\nk\n<!-- STOP managed -->\n".into(),
            ),
            (
                "state absent removes the block and its markers",
                json!({"state": "absent"}),
                Some("x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\ny\n"),
                "x\ny\n".into(),
            ),
            (
                "an empty block removes it too",
                json!({"block": ""}),
                Some("# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\n"),
                String::new(),
            ),
            (
                "create a missing file",
                json!({"block": "k", "create": true}),
                None,
                format!("{B}k\n{E}"),
            ),
            (
                "prepend and append blank lines",
                json!({"block": "k", "insertafter": "^a", "prepend_newline": true, "append_newline": true}),
                Some("a\nb\n"),
                format!("a\n\n{B}k\n{E}\nb\n"),
            ),
            (
                "a (?m) pattern is searched in the whole file",
                json!({"block": "k", "insertafter": "(?m)^b$"}),
                Some("a\nb\nc\n"),
                format!("a\nb\n{B}k\n{E}c\n"),
            ),
        ]
    }

    #[test]
    fn renders_as_ansible_does() {
        for (what, a, before, after) in table() {
            let spec = Spec::from_args(&args(a.clone())).unwrap();
            let got = spec.render(before.map(str::as_bytes)).unwrap();
            assert_eq!(String::from_utf8_lossy(&got), after, "{what}");
            // Rendering the result again changes nothing: idempotent.
            assert_eq!(spec.render(Some(&got)).unwrap(), got, "{what}: idempotent");
        }
    }

    #[test]
    fn plans_an_atomic_write_or_nothing() {
        for (what, mut a, before, after) in table() {
            a["path"] = json!(P);
            a["create"] = json!(true);
            let st = before.map_or_else(missing, file);
            let plan = check_files(&BlockInFile, a, &[(P, st), ("/etc", dir())])
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            if before == Some(after.as_str()) {
                assert!(!plan.changed && plan.actions.is_empty(), "{what}: {plan:?}");
                continue;
            }
            assert!(plan.changed, "{what}");
            let (script, stdin) = only_run(&plan);
            assert_eq!(String::from_utf8_lossy(stdin.unwrap()), after, "{what}");
            assert!(
                script.contains("mv -f") && script.contains("readlink -f"),
                "{what}"
            );
            assert!(!script.contains("cp -p"), "{what}: no backup unless asked");
            assert_eq!(
                updated(&plan, P).content.as_deref(),
                Some(after.as_bytes()),
                "{what}"
            );
        }
        let plan = check_files(
            &BlockInFile,
            json!({"path": P, "block": "k", "backup": true}),
            &[(P, file("x\n"))],
        )
        .unwrap();
        assert!(only_run(&plan).0.contains("cp -p"));
        assert_eq!(plan.msg, "Block inserted: /etc/f");
        assert!(plan.diff.unwrap().contains("+k\n"));
    }

    #[test]
    fn unchanged_block_with_mode_drift_is_a_chmod() {
        let plan = check_files(
            &BlockInFile,
            json!({"path": P, "block": "k", "mode": "0600"}),
            &[(P, file(&format!("{B}k\n{E}")))],
        )
        .unwrap();
        assert_eq!(only_run(&plan).0, "chmod 0600 -- '/etc/f'\n");
    }

    #[test]
    fn errors_match_ansible() {
        let cases = [
            (
                json!({"path": P, "block": "k"}),
                missing(),
                "Path /etc/f does not exist !",
            ),
            (
                json!({"path": P, "block": "k"}),
                dir(),
                "Path /etc/f is a directory !",
            ),
            (
                json!({"path": P, "insertafter": "a", "insertbefore": "b"}),
                file(""),
                "parameters are mutually exclusive: insertbefore|insertafter",
            ),
            (
                json!({"block": "k"}),
                file(""),
                "missing required argument `path`",
            ),
        ];
        for (a, st, want) in cases {
            assert_eq!(check_files(&BlockInFile, a, &[(P, st)]).unwrap_err(), want);
        }
        let plan = check_files(
            &BlockInFile,
            json!({"path": P, "state": "absent", "create": true}),
            &[(P, missing())],
        )
        .unwrap();
        assert!(!plan.changed);
        let plan = check_files(
            &BlockInFile,
            json!({"path": P, "block": "x", "validate": "nginx -t -c %s"}),
            &[(P, file("a\n"))],
        )
        .unwrap();
        let (script, _) = only_run(&plan);
        assert!(
            script.contains("'nginx' '-t' '-c' \"$t\" >&2 ||"),
            "{script}"
        );
    }
}
