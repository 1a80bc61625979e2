//! ini_file: an option (or a section) in an INI file, edited as community.general.ini_file edits it.
//!
//! The edit is a port of that module's algorithm, so both tools leave the
//! same bytes: `option = value` (`option=value` with `no_extra_spaces`),
//! a commented-out `# option = …` reused when present, a missing option
//! added after the section's last non-blank, non-comment line, a missing
//! section appended at the end, a new file starting with a blank line, a
//! missing final newline added. Its messages too (`option added`, `option
//! changed`, `section and option added`, …). The write is atomic, with a
//! backup on request.

use regex::Regex;
use serde_json::{json, Map, Value};

use super::file_facts::{
    attrs_plan, content_of, edit_plan, fact, parent, path_arg, Attrs, Rewrite,
};
use super::{Args, Context, Module, Plan};
use crate::facts::{FactRequest, FileKind};

pub struct IniFile;

const PATH: &[&str] = &["path", "dest"];

/// The first line of the stand-in section above the file's first section
/// (the module's own trick: an option without a section goes there).
const TOP: &str = "ad01e11446efb704fcdbdb21f2c43757423d91c5";

impl Module for IniFile {
    fn name(&self) -> &'static str {
        "ini_file"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "path",
            "dest",
            "section",
            "option",
            "value",
            "values",
            "state",
            "exclusive",
            "no_extra_spaces",
            "ignore_spaces",
            "allow_no_value",
            "modify_inactive_option",
            "create",
            "backup",
            "follow",
            "mode",
            "owner",
            "group",
        ]
    }

    fn unsupported(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "section_has_values",
            "kubestrap picks a section by its name only",
        )]
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let path = path_arg(args, PATH)?;
        let mut out = vec![FactRequest::File {
            path: path.clone(),
            content: true,
        }];
        if let Some(p) = parent(&path) {
            out.push(FactRequest::File {
                path: p,
                content: false,
            });
        }
        Ok(out)
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        Ok(decide(args, ctx)?.0)
    }

    fn returns(&self, args: &Args, ctx: &Context) -> Result<Map<String, Value>, String> {
        let (_, msg) = decide(args, ctx)?;
        Ok(Map::from_iter([
            ("path".to_string(), json!(path_arg(args, PATH)?)),
            ("msg".to_string(), json!(msg)),
        ]))
    }
}

/// The plan and the module's message.
fn decide(args: &Args, ctx: &Context) -> Result<(Plan, String), String> {
    let path = path_arg(args, PATH)?;
    let spec = Spec::from_args(args)?;
    let attrs = Attrs::from_args(args)?;
    let st = fact(ctx, &path).ok_or_else(|| format!("no facts were gathered for {path}"))?;
    let before: Option<&[u8]> = match st.kind {
        FileKind::Missing if !args.bool("create", true)? => {
            return Err(format!("Destination {path} does not exist!"))
        }
        FileKind::Missing => None,
        FileKind::Directory => return Err(format!("{path} is a directory")),
        _ => Some(content_of(&path, st)?),
    };
    let text = before.map(|b| String::from_utf8_lossy(b).into_owned());
    let edit = spec.apply(text.as_deref())?;
    if !edit.changed {
        let plan = attrs_plan(&path, st, &attrs, false, edit.msg.clone());
        return Ok((plan, edit.msg));
    }
    let plan = edit_plan(
        ctx,
        &path,
        st,
        (before.unwrap_or_default(), edit.content.into_bytes()),
        &attrs,
        Rewrite::from_args(args, false)?,
        edit.msg.clone(),
    );
    Ok((plan, edit.msg))
}

/// What the task asks of the file.
struct Spec {
    section: Option<String>,
    option: Option<String>,
    values: Vec<String>,
    present: bool,
    exclusive: bool,
    sep: &'static str,
    ignore_spaces: bool,
    allow_no_value: bool,
    inactive: bool,
}

/// The new content, whether it differs (as the module reports it), and its message.
#[derive(Debug, PartialEq)]
struct Edit {
    content: String,
    changed: bool,
    msg: String,
}

/// A value as Ansible's `str` argument makes it (`yes` → `True`).
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("True".into()),
        Value::Bool(false) => Some("False".into()),
        other => Some(other.to_string()),
    }
}

impl Spec {
    fn from_args(args: &Args) -> Result<Spec, String> {
        let present = args.choice("state", &["present", "absent"], "present")? == "present";
        let allow_no_value = args.bool("allow_no_value", false)?;
        let value = args.0.get("value").and_then(text_of);
        let list = match args.0.get("values") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(items.iter().filter_map(text_of).collect::<Vec<_>>()),
            Some(other) => Some(text_of(other).into_iter().collect()),
        };
        if value.is_some() && list.is_some() {
            return Err("parameters are mutually exclusive: value|values".into());
        }
        if present && !allow_no_value && value.is_none() && list.as_ref().is_none_or(Vec::is_empty)
        {
            return Err(
                "Parameter 'value(s)' must be defined if state=present and allow_no_value=False."
                    .into(),
            );
        }
        let mut values: Vec<String> = Vec::new();
        for v in value.into_iter().chain(list.unwrap_or_default()) {
            if !values.contains(&v) {
                values.push(v);
            }
        }
        Ok(Spec {
            section: args.str("section")?.filter(|s| !s.is_empty()),
            option: args.str("option")?,
            values,
            present,
            exclusive: args.bool("exclusive", true)?,
            sep: if args.bool("no_extra_spaces", false)? {
                "="
            } else {
                " = "
            },
            ignore_spaces: args.bool("ignore_spaces", false)?,
            allow_no_value,
            inactive: args.bool("modify_inactive_option", true)?,
        })
    }

    /// The module's edit of `original` (None: no file yet).
    fn apply(&self, original: Option<&str>) -> Result<Edit, String> {
        let text = original
            .unwrap_or_default()
            .trim_start_matches('\u{feff}')
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
        let mut changed = false;
        if lines.is_empty() {
            lines.push("\n".into());
        }
        if let Some(last) = lines.last_mut() {
            if !last.ends_with('\n') {
                last.push('\n');
                changed = true;
            }
        }
        lines.insert(0, format!("[{TOP}]"));
        lines.push("[".into());
        let section = self.section.clone().unwrap_or_else(|| TOP.to_string());
        let header = Regex::new(&format!(r"^\[\s*{}\s*]", regex::escape(section.trim())))
            .map_err(|e| e.to_string())?;
        let mut within = false;
        let (mut start, mut end) = (0, 0);
        for (i, line) in lines.iter().enumerate() {
            if within && line.starts_with('[') {
                end = i;
                break;
            }
            if header.is_match(line) {
                within = true;
                start = i;
            }
        }
        let after: Vec<String> = lines.split_off(end);
        let mut sec: Vec<String> = lines.split_off(start);
        let before = lines;
        let mut msg = "OK".to_string();
        let mut values = self.values.clone();
        let mut touched = vec![false; sec.len()];
        let opt = self.option.as_deref();
        let matcher = |line: &str| -> Option<OptMatch> {
            opt.and_then(|o| match_opt(o, line, self.inactive))
        };

        if self.present {
            if let Some(o) = opt {
                let mut no_value_present = false;
                let mut i = 0;
                while i < sec.len() {
                    if let Some(m) = matcher(&sec[i]) {
                        if !values.is_empty() && values.contains(&m.value) {
                            let newline = if m.value.is_empty() && self.allow_no_value {
                                no_value_present = true;
                                format!("{o}\n")
                            } else {
                                format!("{o}{}{}\n", self.sep, m.value)
                            };
                            self.update(
                                o,
                                &mut sec,
                                i,
                                &mut touched,
                                &newline,
                                &mut changed,
                                &mut msg,
                            );
                            values.retain(|v| *v != m.value);
                        } else if values.is_empty() && self.allow_no_value {
                            self.update(
                                o,
                                &mut sec,
                                i,
                                &mut touched,
                                &format!("{o}\n"),
                                &mut changed,
                                &mut msg,
                            );
                            no_value_present = true;
                            break;
                        }
                    }
                    i += 1;
                }
                if self.exclusive && !self.allow_no_value {
                    if !values.is_empty() {
                        for i in 0..sec.len() {
                            let m = if touched[i] { None } else { matcher(&sec[i]) };
                            if m.is_some_and(|m| m.is_setting()) {
                                let newline = format!("{o}{}{}\n", self.sep, values.remove(0));
                                self.update(
                                    o,
                                    &mut sec,
                                    i,
                                    &mut touched,
                                    &newline,
                                    &mut changed,
                                    &mut msg,
                                );
                                if values.is_empty() {
                                    break;
                                }
                            }
                        }
                    }
                    for i in (1..sec.len()).rev() {
                        let m = if touched[i] { None } else { matcher(&sec[i]) };
                        if m.is_some_and(|m| m.is_setting()) {
                            sec.remove(i);
                            touched.remove(i);
                            changed = true;
                            msg = "option changed".into();
                        }
                    }
                }
                // Missing lines go after the section's last line that is
                // neither blank nor a comment.
                if let Some(at) = (1..=sec.len())
                    .rev()
                    .find(|&i| !blank_or_comment(&sec[i - 1]))
                {
                    if !values.is_empty() {
                        for v in values.iter().rev() {
                            sec.insert(at, format!("{o}{}{v}\n", self.sep));
                        }
                        msg = "option added".into();
                        changed = true;
                    } else if self.allow_no_value && !no_value_present {
                        sec.insert(at, format!("{o}\n"));
                        msg = "option added".into();
                        changed = true;
                    }
                }
            }
        } else {
            match opt {
                Some(o) => {
                    let gone = |l: &String| {
                        match_opt(o, l, false)
                            .is_some_and(|m| self.exclusive || values.contains(&m.value))
                    };
                    if self.exclusive || !values.is_empty() {
                        let n = sec.len();
                        sec.retain(|l| !gone(l));
                        if sec.len() != n {
                            changed = true;
                            msg = "option changed".into();
                        }
                    }
                }
                None if !sec.is_empty() => {
                    sec.clear();
                    msg = "section removed".into();
                    changed = true;
                }
                None => {}
            }
        }
        let mut all: Vec<String> = before.into_iter().chain(sec).chain(after).collect();
        all.remove(0);
        all.pop();
        if !within && self.present {
            all.push(format!("[{section}]\n"));
            msg = "section and option added".into();
            match opt {
                Some(o) if !values.is_empty() => {
                    for v in &values {
                        all.push(format!("{o}{}{v}\n", self.sep));
                    }
                }
                Some(o) if self.allow_no_value => all.push(format!("{o}\n")),
                _ => msg = "only section added".into(),
            }
            changed = true;
        }
        Ok(Edit {
            content: all.concat(),
            changed,
            msg,
        })
    }

    /// Put `newline` at `i` when it differs (by value only with
    /// `ignore_spaces`), as the module's update_section_line.
    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        option: &str,
        sec: &mut [String],
        i: usize,
        touched: &mut [bool],
        newline: &str,
        changed: &mut bool,
        msg: &mut String,
    ) {
        let mut differs = None;
        if self.ignore_spaces {
            if let Some(old) = match_opt(option, &sec[i], true).filter(|m| !m.commented) {
                let new = match_opt(option, newline, true);
                differs = Some(new.is_none_or(|n| n.value != old.value));
            }
        }
        let differs = differs.unwrap_or(sec[i] != newline);
        if differs {
            sec[i] = newline.to_string();
            *changed = true;
            *msg = "option changed".into();
        }
        touched[i] = true;
    }
}

/// What the module's option pattern found on a line.
struct OptMatch {
    commented: bool,
    /// An `=` follows the option (else the line ends there).
    sep: bool,
    value: String,
}

impl OptMatch {
    /// A setting, active or commented out; not a comment that only names
    /// the option (`; output_buffering`).
    fn is_setting(&self) -> bool {
        !self.commented || self.sep
    }
}

/// The module's match_opt (`inactive`: `# option = …` counts too) or
/// match_active_opt, anchored at the line's start.
fn match_opt(option: &str, line: &str, inactive: bool) -> Option<OptMatch> {
    let comment = if inactive { "[#;]?" } else { "" };
    let re = Regex::new(&format!(
        r"^[ \t]*(?P<comment>{comment})[ \t]*{}[ \t]*(?P<sep>=|$)[ \t]*(?P<value>.*)",
        regex::escape(option)
    ))
    .ok()?;
    // Python's `$` also matches before a final newline, and `.` stops there.
    let line = line.strip_suffix('\n').unwrap_or(line);
    let c = re.captures(line)?;
    Some(OptMatch {
        commented: !c["comment"].is_empty(),
        sep: !c["sep"].is_empty(),
        value: c["value"].to_string(),
    })
}

/// Blank, or a `#`/`;` comment.
fn blank_or_comment(line: &str) -> bool {
    let t = line.strip_suffix('\n').unwrap_or(line);
    let t = t.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#') || t.starts_with(';')
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{args, check_files, dir, file, missing, only_run};
    use super::*;

    fn edit(a: Value, before: Option<&str>) -> Edit {
        Spec::from_args(&args(a)).unwrap().apply(before).unwrap()
    }

    /// (what, args, file before (None: missing), file after, message) — the
    /// bytes and messages community.general.ini_file gives.
    #[test]
    fn edits_as_community_general_makes_them() {
        let conf = "[main]\n# port = 80\nname = x\n\n[other]\nk = v\n";
        let table: Vec<(&str, Value, Option<&str>, &str, &str)> = vec![
            (
                "new file: a blank line first",
                json!({"section": "drinks", "option": "fav", "value": "lemonade"}),
                None,
                "\n[drinks]\nfav = lemonade\n",
                "section and option added",
            ),
            (
                "commented option reused",
                json!({"section": "main", "option": "port", "value": 8080}),
                Some(conf),
                "[main]\nport = 8080\nname = x\n\n[other]\nk = v\n",
                "option changed",
            ),
            (
                "added after the last line, before the blank",
                json!({"section": "main", "option": "workers", "value": "4", "no_extra_spaces": true}),
                Some(conf),
                "[main]\n# port = 80\nname = x\nworkers=4\n\n[other]\nk = v\n",
                "option added",
            ),
            (
                "as wanted",
                json!({"section": "other", "option": "k", "value": "v"}),
                Some(conf),
                conf,
                "OK",
            ),
            (
                "duplicates dropped (exclusive)",
                json!({"section": "s", "option": "a", "value": "2"}),
                Some("[s]\na = 1\na = 3\n"),
                "[s]\na = 2\n",
                "option changed",
            ),
            (
                "several values",
                json!({"section": "s", "option": "a", "values": ["1", "2"]}),
                Some("[s]\na = 1\n"),
                "[s]\na = 1\na = 2\n",
                "option added",
            ),
            (
                "no section: above the first one",
                json!({"option": "top", "value": "yes"}),
                Some("[s]\na = 1\n"),
                "top = yes\n[s]\na = 1\n",
                "option added",
            ),
            (
                "option removed",
                json!({"section": "main", "option": "name", "state": "absent"}),
                Some(conf),
                "[main]\n# port = 80\n\n[other]\nk = v\n",
                "option changed",
            ),
            (
                "section removed",
                json!({"section": "other", "state": "absent"}),
                Some(conf),
                "[main]\n# port = 80\nname = x\n\n",
                "section removed",
            ),
            (
                "no value allowed",
                json!({"section": "mysqld", "option": "skip-name-resolve", "allow_no_value": true}),
                Some("[mysqld]\nuser = mysql\n"),
                "[mysqld]\nuser = mysql\nskip-name-resolve\n",
                "option added",
            ),
            (
                "final newline added",
                json!({"section": "s", "option": "a", "value": "1"}),
                Some("[s]\na = 1"),
                "[s]\na = 1\n",
                "OK",
            ),
            (
                "yes is True, as Ansible's str",
                json!({"section": "s", "option": "on", "value": true}),
                Some("[s]\n"),
                "[s]\non = True\n",
                "option added",
            ),
            (
                "spaces ignored",
                json!({"section": "s", "option": "a", "value": "1", "ignore_spaces": true}),
                Some("[s]\na=1\n"),
                "[s]\na=1\n",
                "OK",
            ),
        ];
        for (what, a, before, after, msg) in table {
            let got = edit(a, before);
            assert_eq!(got.content, after, "{what}");
            assert_eq!(got.msg, msg, "{what}");
            assert_eq!(got.changed, before != Some(after), "{what}");
        }
    }

    #[test]
    fn plans_and_errors() {
        let files = [("/etc/app.ini", file("[s]\na = 1\n")), ("/etc", dir())];
        let plan = check_files(
            &IniFile,
            json!({"path": "/etc/app.ini", "section": "s", "option": "a", "value": "1", "mode": "0600"}),
            &files,
        )
        .unwrap();
        assert_eq!(only_run(&plan).0, "chmod 0600 -- '/etc/app.ini'\n");
        let plan = check_files(
            &IniFile,
            json!({"path": "/etc/app.ini", "section": "s", "option": "a", "value": "2"}),
            &files,
        )
        .unwrap();
        assert_eq!(only_run(&plan).1, Some(&b"[s]\na = 2\n"[..]));
        assert_eq!(plan.msg, "option changed");
        let err = |a: Value| {
            check_files(&IniFile, a, &[("/x.ini", missing()), ("/", dir())]).unwrap_err()
        };
        assert_eq!(
            err(
                json!({"path": "/x.ini", "section": "s", "option": "a", "value": "1", "create": false})
            ),
            "Destination /x.ini does not exist!"
        );
        assert_eq!(
            err(json!({"path": "/x.ini", "section": "s", "option": "a"})),
            "Parameter 'value(s)' must be defined if state=present and allow_no_value=False."
        );
        assert_eq!(
            err(json!({"path": "/x.ini", "option": "a", "value": "1", "values": ["2"]})),
            "parameters are mutually exclusive: value|values"
        );
    }
}
