//! Ansible's string filters: regex_*, b64encode/b64decode, basename/dirname, quote, hash.

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, State, Value};
use regex::{Regex, RegexBuilder};

use super::filters::{defined, invalid};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("regex_replace", regex_replace);
    env.add_filter("regex_search", regex_search);
    env.add_filter("regex_findall", regex_findall);
    env.add_filter("regex_escape", regex_escape);
    env.add_filter("b64encode", b64encode);
    env.add_filter("b64decode", b64decode);
    env.add_filter("basename", basename);
    env.add_filter("dirname", dirname);
    env.add_filter("quote", quote);
}

/// Text of a value as Python's `str()` would give it (strings unquoted).
pub(super) fn text(state: &State, v: &Value) -> Result<String, Error> {
    defined(state, v)?;
    Ok(match v.as_str() {
        Some(s) => s.to_string(),
        None if v.is_none() => "None".into(),
        None => v.to_string(),
    })
}

/// Compile a Python-style pattern; `match_start` anchors it as `re.match` does.
pub fn compile(
    pattern: &str,
    ignorecase: bool,
    multiline: bool,
    match_start: bool,
) -> Result<Regex, Error> {
    let p = if match_start {
        format!(r"\A(?:{pattern})")
    } else {
        pattern.to_string()
    };
    RegexBuilder::new(&p)
        .case_insensitive(ignorecase)
        .multi_line(multiline)
        .build()
        .map_err(|e| {
            invalid(format!(
                "invalid regular expression `{pattern}`: {}",
                e.to_string().lines().last().unwrap_or_default()
            ))
        })
}

fn flags(kwargs: &Kwargs) -> Result<(bool, bool), Error> {
    let i = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let m = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    Ok((i, m))
}

/// Python's `\1`, `\g<1>`, `\g<name>` replacement syntax in Rust's `${1}` form.
fn python_replacement(repl: &str) -> String {
    let mut out = String::new();
    let mut chars = repl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '$' => out.push_str("$$"),
            '\\' => match chars.peek().copied() {
                Some(d) if d.is_ascii_digit() => {
                    let mut n = String::new();
                    while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                        n.push(d);
                        chars.next();
                    }
                    out.push_str(&format!("${{{n}}}"));
                }
                Some('g') => {
                    chars.next();
                    if chars.peek() == Some(&'<') {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
                        out.push_str(&format!("${{{name}}}"));
                    } else {
                        out.push_str("\\g");
                    }
                }
                Some('n') => {
                    chars.next();
                    out.push('\n');
                }
                Some('t') => {
                    chars.next();
                    out.push('\t');
                }
                Some('\\') => {
                    chars.next();
                    out.push('\\');
                }
                _ => out.push('\\'),
            },
            other => out.push(other),
        }
    }
    out
}

/// `regex_replace(pattern, replacement='', ignorecase=False, multiline=False, count=0)`.
fn regex_replace(
    state: &State,
    v: &Value,
    pattern: String,
    replacement: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let s = text(state, v)?;
    let (i, m) = flags(&kwargs)?;
    let count = kwargs.get::<Option<usize>>("count")?.unwrap_or(0);
    kwargs.assert_all_used()?;
    let re = compile(&pattern, i, m, false)?;
    let repl = python_replacement(replacement.as_deref().unwrap_or(""));
    Ok(re.replacen(&s, count, repl.as_str()).into_owned())
}

/// `regex_search(pattern, '\\1', '\\g<name>', ...)`: the match (or the named
/// groups, as a list), None when nothing matches.
fn regex_search(
    state: &State,
    v: &Value,
    pattern: String,
    groups: Rest<String>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let s = text(state, v)?;
    let (i, m) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile(&pattern, i, m, false)?;
    let Some(caps) = re.captures(&s) else {
        return Ok(Value::from(()));
    };
    if groups.is_empty() {
        return Ok(Value::from(caps.get(0).map_or("", |g| g.as_str())));
    }
    let mut out = Vec::new();
    for g in groups.iter() {
        let found = if let Some(n) = g.strip_prefix('\\').and_then(|n| n.parse::<usize>().ok()) {
            caps.get(n)
        } else if let Some(name) = g.strip_prefix("\\g<").and_then(|n| n.strip_suffix('>')) {
            caps.name(name)
        } else {
            return Err(invalid(format!(
                "regex_search: unknown group argument `{g}`"
            )));
        };
        out.push(found.map_or(Value::from(()), |m| Value::from(m.as_str())));
    }
    Ok(Value::from(out))
}

/// Python's `re.findall`: whole matches, or the group, or a list per match of all groups.
fn regex_findall(
    state: &State,
    v: &Value,
    pattern: String,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let s = text(state, v)?;
    let (i, m) = flags(&kwargs)?;
    kwargs.assert_all_used()?;
    let re = compile(&pattern, i, m, false)?;
    let groups = re.captures_len() - 1;
    let found: Vec<Value> = re
        .captures_iter(&s)
        .map(|c| {
            let g = |n: usize| Value::from(c.get(n).map_or("", |x| x.as_str()));
            match groups {
                0 => g(0),
                1 => g(1),
                n => Value::from((1..=n).map(g).collect::<Vec<_>>()),
            }
        })
        .collect();
    Ok(Value::from(found))
}

fn regex_escape(state: &State, v: &Value) -> Result<String, Error> {
    Ok(regex::escape(&text(state, v)?))
}

fn b64encode(state: &State, v: &Value) -> Result<String, Error> {
    Ok(data_encoding::BASE64.encode(text(state, v)?.as_bytes()))
}

fn b64decode(state: &State, v: &Value) -> Result<String, Error> {
    let s = text(state, v)?;
    let bytes = data_encoding::BASE64
        .decode(s.trim().as_bytes())
        .map_err(|e| invalid(format!("b64decode: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Python's `os.path.basename`: the part after the last `/` ("" for "a/").
fn basename(state: &State, v: &Value) -> Result<String, Error> {
    let s = text(state, v)?;
    Ok(s.rsplit_once('/')
        .map_or(s.as_str(), |(_, b)| b)
        .to_string())
}

/// Python's `os.path.dirname`: the part before the last `/`, trailing
/// slashes removed unless it is all slashes.
fn dirname(state: &State, v: &Value) -> Result<String, Error> {
    let s = text(state, v)?;
    Ok(match s.rsplit_once('/') {
        None => String::new(),
        Some((head, _)) => {
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head.to_string()
            } else {
                trimmed.to_string()
            }
        }
    })
}

/// Python's `shlex.quote`, which Ansible's `quote` is: safe words stay bare.
fn quote(state: &State, v: &Value) -> Result<String, Error> {
    let s = text(state, v)?;
    let safe = |c: char| c.is_alphanumeric() || "_@%+=:,./-".contains(c);
    Ok(if s.is_empty() {
        "''".into()
    } else if s.chars().all(safe) {
        s
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    })
}

/// Used by the tests module: is `v` text a regex can look at?
pub fn as_text(v: &Value) -> Option<String> {
    match v.kind() {
        ValueKind::String => v.as_str().map(str::to_string),
        ValueKind::Number | ValueKind::Bool => Some(v.to_string()),
        _ => None,
    }
}
