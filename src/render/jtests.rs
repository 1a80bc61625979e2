//! Ansible's Jinja tests: match/search/regex, version, the task-result tests, contains, subset.

use std::cmp::Ordering;

use minijinja::value::{Kwargs, ValueKind};
use minijinja::{Environment, Error, State, Value};

use super::filters::{defined, invalid, items};
use super::filters_text::{as_text, compile};

pub fn register(env: &mut Environment<'static>) {
    env.add_test("match", |s: &State, v: &Value, p: String, k: Kwargs| {
        regex_test(s, v, &p, k, "match")
    });
    env.add_test("search", |s: &State, v: &Value, p: String, k: Kwargs| {
        regex_test(s, v, &p, k, "search")
    });
    env.add_test("regex", regex_generic);
    env.add_test("version", version);
    env.add_test("version_compare", version);
    for name in ["failed", "failure"] {
        env.add_test(name, |s: &State, v: &Value| flag(s, v, "failed"));
    }
    for name in ["succeeded", "success", "successful"] {
        env.add_test(name, |s: &State, v: &Value| {
            flag(s, v, "failed").map(|f| !f)
        });
    }
    for name in ["changed", "change"] {
        env.add_test(name, |s: &State, v: &Value| flag(s, v, "changed"));
    }
    for name in ["skipped", "skip"] {
        env.add_test(name, |s: &State, v: &Value| flag(s, v, "skipped"));
    }
    env.add_test("contains", contains);
    env.add_test("subset", |a: &Value, b: &Value| subset(a, b));
    env.add_test("superset", |a: &Value, b: &Value| subset(b, a));
    env.add_test("truthy", |v: &Value| v.is_true());
    env.add_test("falsy", |v: &Value| !v.is_true());
}

fn regex_test(
    state: &State,
    v: &Value,
    pattern: &str,
    kwargs: Kwargs,
    how: &str,
) -> Result<bool, Error> {
    defined(state, v)?;
    let i = kwargs.get::<Option<bool>>("ignorecase")?.unwrap_or(false);
    let m = kwargs.get::<Option<bool>>("multiline")?.unwrap_or(false);
    kwargs.assert_all_used()?;
    let Some(text) = as_text(v) else {
        return Ok(false);
    };
    let anchored = match how {
        "match" => true,
        "search" => false,
        other => {
            return Err(invalid(format!(
                "regex: match_type must be match or search, got `{other}`"
            )))
        }
    };
    Ok(compile(pattern, i, m, anchored)?.is_match(&text))
}

/// `x is regex(pattern, ignorecase=False, multiline=False, match_type='search')`.
fn regex_generic(state: &State, v: &Value, pattern: String, kwargs: Kwargs) -> Result<bool, Error> {
    let how = kwargs
        .get::<Option<String>>("match_type")?
        .unwrap_or_else(|| "search".into());
    regex_test(state, v, &pattern, kwargs, &how)
}

/// A registered result's boolean field (`result is changed`).
fn flag(state: &State, v: &Value, field: &str) -> Result<bool, Error> {
    defined(state, v)?;
    if v.kind() != ValueKind::Map {
        return Err(invalid(format!(
            "the `{field}` test expects a task result, got {}",
            v.kind()
        )));
    }
    Ok(v.get_attr(field)?.is_true())
}

fn contains(state: &State, seq: &Value, item: &Value) -> Result<bool, Error> {
    defined(state, seq)?;
    Ok(items(seq, "contains")?.contains(item))
}

fn subset(a: &Value, b: &Value) -> Result<bool, Error> {
    let big = items(b, "subset")?;
    Ok(items(a, "subset")?.iter().all(|x| big.contains(x)))
}

/// `ver is version('1.28', '>=')` with Ansible's operators; `strict` and
/// `version_type` are accepted, comparison is always the loose one (numbers
/// compare as numbers, `1.10 > 1.9`), which is what kubernetes versions need.
fn version(
    state: &State,
    v: &Value,
    other: Value,
    op: Option<String>,
    kwargs: Kwargs,
) -> Result<bool, Error> {
    defined(state, v)?;
    let op = kwargs
        .get::<Option<String>>("operator")?
        .or(op)
        .unwrap_or_else(|| "eq".into());
    let _: Option<bool> = kwargs.get("strict")?;
    let _: Option<String> = kwargs.get("version_type")?;
    kwargs.assert_all_used()?;
    let a = as_text(v).ok_or_else(|| invalid(format!("version: cannot compare {}", v.kind())))?;
    let b = as_text(&other)
        .ok_or_else(|| invalid(format!("version: cannot compare {}", other.kind())))?;
    let ord = compare_versions(&a, &b);
    Ok(match op.as_str() {
        "<" | "lt" => ord == Ordering::Less,
        "<=" | "le" => ord != Ordering::Greater,
        ">" | "gt" => ord == Ordering::Greater,
        ">=" | "ge" => ord != Ordering::Less,
        "==" | "=" | "eq" => ord == Ordering::Equal,
        "!=" | "<>" | "ne" => ord != Ordering::Equal,
        other => return Err(invalid(format!("version: unknown operator `{other}`"))),
    })
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Part {
    // Declared first so that a number sorts below a word, as in `1.0 < 1.0a`.
    Num(u128),
    Word(String),
}

/// Split like Python's LooseVersion: runs of digits and runs of letters.
fn parts(v: &str) -> Vec<Part> {
    let v = v.trim().trim_start_matches(['v', 'V']);
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<Part>| {
        if cur.is_empty() {
            return;
        }
        out.push(match cur.parse::<u128>() {
            Ok(n) => Part::Num(n),
            Err(_) => Part::Word(cur.clone()),
        });
        cur.clear();
    };
    for c in v.chars() {
        let switch = cur
            .chars()
            .last()
            .is_some_and(|l| l.is_ascii_digit() != c.is_ascii_digit());
        if !c.is_alphanumeric() || switch {
            flush(&mut cur, &mut out);
        }
        if c.is_alphanumeric() {
            cur.push(c);
        }
    }
    flush(&mut cur, &mut out);
    out
}

pub fn compare_versions(a: &str, b: &str) -> Ordering {
    parts(a).cmp(&parts(b))
}
