//! Loops beyond `loop:`: the `with_*` lookups Ansible documents, and `loop_control`.
//!
//! A `with_X` keyword is Ansible's lookup plugin `X` run over its terms;
//! the terms are kept as written ([`LoopKind`] says which lookup) and
//! turned into items when the task runs, once its templates are rendered
//! ([`items`]), so `with_dict: "{{ users }}"` sees the host's `users`.
//! `loop_control` carries `loop_var`, `index_var`, `label`, `pause` and
//! `extended`, with Ansible's meaning.

use std::path::Path;

use serde_json::{Map, Value as Json};
use serde_yaml::Value as Yaml;

use super::fields::{self, entries, show};
use super::model::Task;
use super::parse::{child, Ctx};
use crate::render::{has_template, yaml_to_json};

/// Which lookup makes a task's loop items from its terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoopKind {
    /// `loop`, `with_items` (flattened at load time), `with_list`: the list itself.
    #[default]
    List,
    /// `with_dict`: a mapping, as `{key, value}` items.
    Dict,
    /// `with_together`: lists zipped, the shorter padded with null.
    Together,
    /// `with_nested`: every combination of the lists, as lists.
    Nested,
    /// `with_indexed_items`: the list flattened one level, as `[index, item]`.
    IndexedItems,
    /// `with_sequence`: `start=1 end=5 stride=1 format=%d` or `count=`, or `[start-]end[/stride][:format]`.
    Sequence,
    /// `with_fileglob`: controller files matching the patterns (relative
    /// ones under the playbook's `files/`, then beside it), as absolute paths.
    Fileglob,
}

/// The `with_*` keywords kubestrap runs (`with_items` is parsed on its own).
pub const WITH: &[(&str, LoopKind)] = &[
    ("with_list", LoopKind::List),
    ("with_dict", LoopKind::Dict),
    ("with_together", LoopKind::Together),
    ("with_nested", LoopKind::Nested),
    ("with_indexed_items", LoopKind::IndexedItems),
    ("with_sequence", LoopKind::Sequence),
    ("with_fileglob", LoopKind::Fileglob),
];

/// `loop_control` as Ansible takes it, but for `loop_var` (the task's own field).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LoopControl {
    /// `index_var`: a variable holding the item's 0-based index.
    pub index_var: Option<String>,
    /// `label`: what the item's status line shows instead of the item (a template).
    pub label: Option<Json>,
    /// `pause`: seconds between two items.
    pub pause: f64,
    /// `extended`: `ansible_loop` with `index`, `first`, `length`, … .
    pub extended: bool,
}

/// Parse `loop_control` (its `loop_var` into `loop_var`); each problem
/// with the key it is under ("" for the whole).
pub fn loop_control(v: &Yaml, loop_var: &mut String) -> Result<LoopControl, Vec<(String, String)>> {
    let Yaml::Mapping(m) = v else {
        let why = format!("`loop_control` must be a mapping, got `{}`", show(v));
        return Err(vec![(String::new(), why)]);
    };
    let mut lc = LoopControl::default();
    let mut problems = Vec::new();
    let variable = |key: &str, value: &Yaml| -> Result<String, String> {
        let name = fields::text(key, value)?;
        if fields::is_identifier(&name) {
            Ok(name)
        } else {
            Err(format!("`{key}` must be a variable name, got `{name}`"))
        }
    };
    for (key, value) in entries(m) {
        let result = match key.as_str() {
            "loop_var" => variable("loop_var", value).map(|n| *loop_var = n),
            "index_var" => variable("index_var", value).map(|n| lc.index_var = Some(n)),
            "label" => fields::text("label", value).map(|l| lc.label = Some(Json::String(l))),
            "pause" => seconds(value).map(|p| lc.pause = p),
            "extended" => fields::boolean("extended", value).map(|b| lc.extended = b),
            // Every item is in `ansible_loop.allitems` anyway; dropping it only saves memory.
            "extended_allitems" => fields::boolean(&key, value).map(|_| ()),
            other => Err(format!(
                "`loop_control.{other}` is not supported by kubestrap"
            )),
        };
        if let Err(e) = result {
            problems.push((key, e));
        }
    }
    if problems.is_empty() {
        Ok(lc)
    } else {
        Err(problems)
    }
}

fn seconds(v: &Yaml) -> Result<f64, String> {
    let n = match v {
        Yaml::Number(n) => n.as_f64(),
        Yaml::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    n.filter(|n: &f64| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| format!("`pause` must be a number of seconds, got `{}`", show(v)))
}

/// The terms of `with_X` as written (a template is kept for run time);
/// what is known now is checked now.
pub fn terms(key: &str, kind: LoopKind, v: &Yaml) -> Result<Json, String> {
    if let Yaml::String(s) = v {
        if has_template(s) {
            return Ok(Json::String(s.clone()));
        }
    }
    let value = yaml_to_json(v);
    // A literal is turned into items now, so a mistake shows at its line.
    items(kind, &value, Path::new("")).map_err(|e| format!("`{key}`: {e}"))?;
    Ok(value)
}

/// The loop items `kind` makes of `terms` (rendered); `base` is the
/// playbook's directory, for `with_fileglob`.
pub fn items(kind: LoopKind, terms: &Json, base: &Path) -> Result<Vec<Json>, String> {
    match kind {
        LoopKind::List => match terms {
            Json::Array(items) => Ok(items.clone()),
            other => Err(format!("requires a list, got {other}")),
        },
        LoopKind::Dict => match terms {
            Json::Object(m) => Ok(m
                .iter()
                .map(|(k, v)| {
                    let mut item = Map::new();
                    item.insert("key".into(), Json::from(k.as_str()));
                    item.insert("value".into(), v.clone());
                    Json::Object(item)
                })
                .collect()),
            other => Err(format!("requires a mapping, got {other}")),
        },
        LoopKind::Together => {
            let lists = lists_of(terms)?;
            let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
            Ok((0..longest)
                .map(|i| {
                    Json::Array(
                        lists
                            .iter()
                            .map(|l| l.get(i).cloned().unwrap_or(Json::Null))
                            .collect(),
                    )
                })
                .collect())
        }
        LoopKind::Nested => {
            let mut out: Vec<Vec<Json>> = vec![Vec::new()];
            for list in lists_of(terms)? {
                out = out
                    .iter()
                    .flat_map(|prefix| {
                        list.iter().map(move |x| {
                            let mut p = prefix.clone();
                            p.push(x.clone());
                            p
                        })
                    })
                    .collect();
            }
            Ok(out.into_iter().map(Json::Array).collect())
        }
        LoopKind::IndexedItems => {
            let Json::Array(items) = terms else {
                return Err(format!("requires a list, got {terms}"));
            };
            let flat = items.iter().flat_map(|i| match i {
                Json::Array(inner) => inner.clone(),
                other => vec![other.clone()],
            });
            Ok(flat
                .enumerate()
                .map(|(i, x)| Json::Array(vec![Json::from(i), x]))
                .collect())
        }
        LoopKind::Sequence => {
            let mut out = Vec::new();
            for term in strings_of(terms)? {
                out.extend(sequence(&term)?.into_iter().map(Json::String));
            }
            Ok(out)
        }
        LoopKind::Fileglob => {
            let mut out = Vec::new();
            for pattern in strings_of(terms)? {
                out.extend(fileglob(&pattern, base).into_iter().map(Json::String));
            }
            Ok(out)
        }
    }
}

/// A list of lists (an item that is not a list counts as a list of one, as Ansible's `listify`).
fn lists_of(terms: &Json) -> Result<Vec<Vec<Json>>, String> {
    let Json::Array(items) = terms else {
        return Err(format!("requires a list of lists, got {terms}"));
    };
    if items.is_empty() {
        return Err("requires at least one list".into());
    }
    Ok(items
        .iter()
        .map(|i| match i {
            Json::Array(l) => l.clone(),
            other => vec![other.clone()],
        })
        .collect())
}

/// One term or a list of them, each a string.
fn strings_of(terms: &Json) -> Result<Vec<String>, String> {
    let one = |t: &Json| match t {
        Json::String(s) => Ok(s.clone()),
        other => Err(format!("requires text, got {other}")),
    };
    match terms {
        Json::Array(items) => items.iter().map(one).collect(),
        other => one(other).map(|s| vec![s]),
    }
}

/// One `with_sequence` term, as Ansible's `sequence` lookup reads it.
pub fn sequence(term: &str) -> Result<Vec<String>, String> {
    let (mut start, mut end, mut count, mut stride) = (1i64, None, None, 1i64);
    let mut format = "%d".to_string();
    let int = |k: &str, v: &str| -> Result<i64, String> {
        let v = v.trim();
        let parsed = if let Some(hex) = v.strip_prefix("0x") {
            i64::from_str_radix(hex, 16).ok()
        } else if let Some(oct) = v
            .strip_prefix("0o")
            .or(v.strip_prefix('0').filter(|r| !r.is_empty()))
        {
            i64::from_str_radix(oct, 8).ok()
        } else {
            v.parse().ok()
        };
        parsed.ok_or_else(|| format!("can't parse {k}={v} as integer"))
    };
    if term.contains('=') {
        for word in term.split_whitespace() {
            let Some((k, v)) = word.split_once('=') else {
                return Err(format!("expected key=value, got `{word}`"));
            };
            match k {
                "start" => start = int(k, v)?,
                "end" => end = Some(int(k, v)?),
                "count" => count = Some(int(k, v)?),
                "stride" => stride = int(k, v)?,
                "format" => format = v.to_string(),
                _ => return Err(format!("unrecognized arguments to with_sequence: `{k}`")),
            }
        }
    } else {
        // [start-]end[/stride][:format]
        let re = regex::Regex::new(
            r"^(?:(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*|-[0-9]+)-)?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)(?:/(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*))?(?::(.+))?$",
        )
        .map_err(|e| e.to_string())?;
        let c = re
            .captures(term.trim())
            .ok_or_else(|| format!("can't parse arg `{term}`"))?;
        if let Some(s) = c.get(1) {
            start = int("start", s.as_str())?;
        }
        end = Some(int("end", &c[2])?);
        if let Some(s) = c.get(3) {
            stride = int("stride", s.as_str())?;
        }
        if let Some(f) = c.get(4) {
            format = f.as_str().to_string();
        }
    }
    let end = match (end, count) {
        (Some(_), Some(_)) => return Err("can't specify both count and end".into()),
        (None, None) => return Err("must specify count or end".into()),
        (Some(e), None) => e,
        (None, Some(0)) => return Ok(Vec::new()),
        (None, Some(c)) => start + (c - 1) * stride,
    };
    if stride == 0 {
        return Ok(Vec::new());
    }
    if (stride > 0 && end < start) || (stride < 0 && end > start) {
        return Err("to count backwards make stride negative".into());
    }
    let mut out = Vec::new();
    let mut i = start;
    while (stride > 0 && i <= end) || (stride < 0 && i >= end) {
        out.push(printf(&format, i)?);
        i += stride;
    }
    Ok(out)
}

/// Python's `format % i` for the conversions a sequence uses: `%d`, `%i`,
/// `%x`, `%X`, `%o`, `%s` with an optional zero flag and width, and `%%`.
fn printf(format: &str, i: i64) -> Result<String, String> {
    let re = regex::Regex::new(r"%(0?)(\d*)([dixXos%])").map_err(|e| e.to_string())?;
    let mut used = 0;
    let out = re.replace_all(format, |c: &regex::Captures| {
        let conv = &c[3];
        if conv == "%" {
            return "%".to_string();
        }
        used += 1;
        let width: usize = c[2].parse().unwrap_or(0);
        let body = match conv {
            "x" => format!("{i:x}"),
            "X" => format!("{i:X}"),
            "o" => format!("{i:o}"),
            _ => i.to_string(),
        };
        match (&c[1], body.len() < width) {
            ("0", true) if i < 0 => format!("-{:0>w$}", &body[1..], w = width - 1),
            ("0", true) => format!("{body:0>width$}"),
            (_, true) => format!("{body:>width$}"),
            _ => body,
        }
    });
    if used != 1 {
        return Err(format!("bad formatting string: {format}"));
    }
    Ok(out.into_owned())
}

/// Files (not directories) matching `pattern`: `*`, `?` and `[...]` in its
/// last part only, as Ansible's `fileglob`; sorted.
pub fn fileglob(pattern: &str, base: &Path) -> Vec<String> {
    let p = Path::new(pattern);
    let dirs: Vec<std::path::PathBuf> = if p.is_absolute() {
        vec![p.parent().map(Path::to_path_buf).unwrap_or_default()]
    } else {
        let parent = p.parent().unwrap_or(Path::new(""));
        vec![base.join("files").join(parent), base.join(parent)]
    };
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(re) = glob_regex(&name) else {
        return Vec::new();
    };
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut found: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_file())
            .filter(|e| {
                // As a shell's glob, a wildcard does not match a leading dot.
                let n = e.file_name().to_string_lossy().into_owned();
                re.is_match(&n) && (name.starts_with('.') || !n.starts_with('.'))
            })
            .map(|e| absolute(&e.path()))
            .collect();
        if !found.is_empty() {
            found.sort();
            return found;
        }
    }
    Vec::new()
}

fn absolute(p: &Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

/// A shell glob (one path part) as an anchored regex.
fn glob_regex(glob: &str) -> Option<regex::Regex> {
    let mut re = String::from("^");
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        match c {
            '*' => re.push_str(".*"),
            '?' => re.push('.'),
            '[' => {
                re.push('[');
                let mut rest = chars.clone().peekable();
                if rest.peek() == Some(&'!') {
                    chars.next();
                    re.push('^');
                }
                for c in chars.by_ref() {
                    if c == ']' {
                        break;
                    }
                    if c == '\\' || c == '[' {
                        re.push('\\');
                    }
                    re.push(c);
                }
                re.push(']');
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}

/// What a loop cannot be combined with: a `meta` task, and a `delegate_to`
/// that names the loop's item (each item delegated elsewhere).
pub fn check_task(ctx: &mut Ctx, path: &[String], task: &Task) {
    if task.loop_.is_none() {
        return;
    }
    if task.module.name() == "meta" {
        ctx.err(path, "a `meta` task takes no loop");
    }
    let per_item = regex::Regex::new(&format!(r"\b{}\b", regex::escape(&task.loop_var)));
    if let (Some(d), Ok(re)) = (&task.delegate_to, per_item) {
        if re.is_match(d) {
            ctx.err(
                &child(path, "delegate_to"),
                format!(
                    "`delegate_to` per loop item (`{d}`) is not supported by kubestrap: \
                     delegate the task to one host, or loop over hosts with a play"
                ),
            );
        }
    }
}

#[cfg(test)]
#[path = "loops_tests.rs"]
mod tests;
