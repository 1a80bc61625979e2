//! Ansible's data filters that plain minijinja lacks or spells differently.
//!
//! Semantics follow Ansible's (Python) filters, e.g. `bool` reads "yes"/"on"
//! as true and `int` of garbage is 0, because playbooks rely on them.

use std::collections::BTreeMap;

use minijinja::value::{Kwargs, Rest, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};

use super::{filters_format, filters_hash, filters_lists, filters_net, filters_text};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("bool", bool_);
    env.add_filter("int", int);
    env.add_filter("float", float);
    env.add_filter("ternary", ternary);
    env.add_filter("mandatory", mandatory);
    env.add_filter("combine", combine);
    env.add_filter("dict2items", dict2items);
    env.add_filter("items2dict", items2dict);
    env.add_filter("flatten", flatten);
    env.add_filter("union", union);
    env.add_filter("intersect", intersect);
    env.add_filter("difference", difference);
    env.add_filter("symmetric_difference", symmetric_difference);
    env.add_filter("type_debug", type_debug);
    env.add_filter("join", join);
    env.add_filter("first", |state: &State, v: &Value| {
        defined(state, v)?;
        minijinja::filters::first(v)
    });
    env.add_filter("last", |state: &State, v: Value| {
        defined(state, &v)?;
        minijinja::filters::last(v)
    });
    filters_format::register(env);
    filters_text::register(env);
    filters_hash::register(env);
    filters_lists::register(env);
    filters_net::register(env);
}

/// Fail the way minijinja does (naming the variable) when `v` is undefined;
/// minijinja's own `bool` filter raises exactly that error in strict mode.
pub fn defined(state: &State, v: &Value) -> Result<(), Error> {
    if v.is_undefined() {
        minijinja::filters::bool(state, v)?;
    }
    Ok(())
}

/// minijinja's `join`, but an undefined value is an error naming it, as in
/// Ansible (minijinja's own gives "" even in strict mode; its `first` and
/// `last` fail without naming it, so they are wrapped alike above).
fn join(
    state: &mut State,
    v: &Value,
    joiner: Option<minijinja::value::StringInput<'_>>,
    attribute: Option<&str>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    defined(state, v)?;
    minijinja::filters::join(state, v, joiner, attribute, kwargs)
}

pub fn invalid(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Ansible's `bool`: booleans as is, "yes"/"on"/"1"/"true" (any case) and 1 true, anything else false.
fn bool_(state: &State, v: &Value) -> Result<bool, Error> {
    defined(state, v)?;
    Ok(match v.kind() {
        ValueKind::Bool => v.is_true(),
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default().trim().to_lowercase();
            matches!(s.as_str(), "yes" | "on" | "1" | "true")
        }
        ValueKind::Number => f64::try_from(v.clone()).is_ok_and(|n| n == 1.0),
        _ => false,
    })
}

/// Jinja's `int(default=0, base=10)`: strings are parsed, floats truncated.
fn int(state: &State, v: &Value, default: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    defined(state, v)?;
    let default = kwargs
        .get::<Option<Value>>("default")?
        .or(default)
        .unwrap_or(Value::from(0));
    let base: u32 = kwargs.get::<Option<u32>>("base")?.unwrap_or(10);
    kwargs.assert_all_used()?;
    if !(2..=36).contains(&base) {
        return Err(invalid(format!("int: base {base} is out of range")));
    }
    Ok(match v.kind() {
        ValueKind::Bool => Value::from(v.is_true() as i64),
        ValueKind::Number if v.is_integer() => v.clone(),
        ValueKind::Number => f64::try_from(v.clone())
            .ok()
            .filter(|f| f.is_finite())
            .map_or(default, |f| Value::from(f.trunc() as i64)),
        ValueKind::String => {
            let s = v.as_str().unwrap_or_default().trim().replace('_', "");
            let digits = match base {
                16 => s.trim_start_matches("0x").trim_start_matches("0X"),
                8 => s.trim_start_matches("0o").trim_start_matches("0O"),
                2 => s.trim_start_matches("0b").trim_start_matches("0B"),
                _ => &s,
            };
            match i64::from_str_radix(digits, base) {
                Ok(i) => Value::from(i),
                Err(_) if base == 10 => s
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map_or(default, |f| Value::from(f.trunc() as i64)),
                Err(_) => default,
            }
        }
        _ => default,
    })
}

/// Jinja's `float(default=0.0)`.
fn float(state: &State, v: &Value, default: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    defined(state, v)?;
    let default = kwargs
        .get::<Option<Value>>("default")?
        .or(default)
        .unwrap_or(Value::from(0.0));
    kwargs.assert_all_used()?;
    Ok(match v.kind() {
        ValueKind::Bool => Value::from(if v.is_true() { 1.0 } else { 0.0 }),
        ValueKind::Number => f64::try_from(v.clone()).map_or(default, Value::from),
        ValueKind::String => v
            .as_str()
            .unwrap_or_default()
            .trim()
            .parse::<f64>()
            .map_or(default, Value::from),
        _ => default,
    })
}

/// `cond | ternary(a, b[, none_value])`.
fn ternary(
    state: &State,
    v: &Value,
    yes: Value,
    no: Value,
    none: Option<Value>,
) -> Result<Value, Error> {
    defined(state, v)?;
    Ok(match none {
        Some(n) if v.is_none() => n,
        _ if v.is_true() => yes,
        _ => no,
    })
}

/// `x | mandatory` fails when `x` is undefined; `mandatory(msg)` says why.
fn mandatory(state: &State, v: &Value, msg: Option<String>) -> Result<Value, Error> {
    if v.is_undefined() {
        if let Some(m) = msg {
            return Err(Error::new(ErrorKind::UndefinedError, m));
        }
        defined(state, v)?;
    }
    Ok(v.clone())
}

/// The entries of a map value, in the map's order.
pub fn entries(v: &Value, filter: &str) -> Result<Vec<(Value, Value)>, Error> {
    if v.kind() != ValueKind::Map {
        return Err(invalid(format!(
            "{filter} expects a dictionary, got {}",
            v.kind()
        )));
    }
    v.try_iter()?
        .map(|k| v.get_item(&k).map(|item| (k, item)))
        .collect()
}

pub fn items(v: &Value, filter: &str) -> Result<Vec<Value>, Error> {
    match v.kind() {
        ValueKind::Seq | ValueKind::Iterable => Ok(v.try_iter()?.collect()),
        _ => Err(invalid(format!(
            "{filter} expects a list, got {}",
            v.kind()
        ))),
    }
}

/// `a | combine(b, c, recursive=false, list_merge='replace')`: later dicts win.
fn combine(state: &State, v: &Value, others: Rest<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    defined(state, v)?;
    let recursive = kwargs.get::<Option<bool>>("recursive")?.unwrap_or(false);
    let list_merge = kwargs
        .get::<Option<String>>("list_merge")?
        .unwrap_or_else(|| "replace".into());
    kwargs.assert_all_used()?;
    if !["replace", "keep", "append", "prepend"].contains(&list_merge.as_str()) {
        return Err(invalid(format!(
            "combine: unsupported list_merge `{list_merge}`"
        )));
    }
    let mut acc = v.clone();
    for other in others.iter() {
        // `combine([a, b])` takes a list of dicts, as Ansible does.
        let layers = if other.kind() == ValueKind::Seq {
            items(other, "combine")?
        } else {
            vec![other.clone()]
        };
        for layer in layers {
            acc = merge(&acc, &layer, recursive, &list_merge)?;
        }
    }
    Ok(acc)
}

fn merge(a: &Value, b: &Value, recursive: bool, list_merge: &str) -> Result<Value, Error> {
    let mut out: BTreeMap<Value, Value> = entries(a, "combine")?.into_iter().collect();
    for (k, bv) in entries(b, "combine")? {
        let merged = match out.get(&k) {
            Some(av) if recursive && av.kind() == ValueKind::Map && bv.kind() == ValueKind::Map => {
                merge(av, &bv, recursive, list_merge)?
            }
            Some(av) if av.kind() == ValueKind::Seq && bv.kind() == ValueKind::Seq => {
                let (x, y) = (items(av, "combine")?, items(&bv, "combine")?);
                match list_merge {
                    "keep" => av.clone(),
                    "append" => Value::from(x.into_iter().chain(y).collect::<Vec<_>>()),
                    "prepend" => Value::from(y.into_iter().chain(x).collect::<Vec<_>>()),
                    _ => bv,
                }
            }
            _ => bv,
        };
        out.insert(k, merged);
    }
    Ok(Value::from(out))
}

fn names(kwargs: &Kwargs) -> Result<(String, String), Error> {
    let k = kwargs
        .get::<Option<String>>("key_name")?
        .unwrap_or_else(|| "key".into());
    let v = kwargs
        .get::<Option<String>>("value_name")?
        .unwrap_or_else(|| "value".into());
    kwargs.assert_all_used()?;
    Ok((k, v))
}

/// `{a: 1} | dict2items` → `[{key: a, value: 1}]`.
fn dict2items(state: &State, v: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    defined(state, v)?;
    let (kn, vn) = names(&kwargs)?;
    let out: Vec<Value> = entries(v, "dict2items")?
        .into_iter()
        .map(|(k, item)| Value::from(BTreeMap::from([(kn.clone(), k), (vn.clone(), item)])))
        .collect();
    Ok(Value::from(out))
}

/// The inverse of dict2items.
fn items2dict(state: &State, v: &Value, kwargs: Kwargs) -> Result<Value, Error> {
    defined(state, v)?;
    let (kn, vn) = names(&kwargs)?;
    let mut out = BTreeMap::new();
    for item in items(v, "items2dict")? {
        let key = item.get_attr(&kn)?;
        let value = item.get_attr(&vn)?;
        if key.is_undefined() || value.is_undefined() {
            return Err(invalid(format!(
                "items2dict: every item needs `{kn}` and `{vn}`"
            )));
        }
        out.insert(key, value);
    }
    Ok(Value::from(out))
}

/// `flatten(levels=None, skip_nulls=True)`.
fn flatten(
    state: &State,
    v: &Value,
    levels: Option<usize>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    defined(state, v)?;
    let levels = kwargs.get::<Option<usize>>("levels")?.or(levels);
    let skip_nulls = kwargs.get::<Option<bool>>("skip_nulls")?.unwrap_or(true);
    kwargs.assert_all_used()?;
    let mut out = Vec::new();
    flatten_into(&items(v, "flatten")?, levels, skip_nulls, &mut out)?;
    Ok(Value::from(out))
}

fn flatten_into(
    list: &[Value],
    levels: Option<usize>,
    skip_nulls: bool,
    out: &mut Vec<Value>,
) -> Result<(), Error> {
    for item in list {
        if skip_nulls && item.is_none() {
            continue;
        }
        match (item.kind(), levels) {
            (ValueKind::Seq | ValueKind::Iterable, Some(0)) => out.push(item.clone()),
            (ValueKind::Seq | ValueKind::Iterable, _) => flatten_into(
                &items(item, "flatten")?,
                levels.map(|l| l - 1),
                skip_nulls,
                out,
            )?,
            _ => out.push(item.clone()),
        }
    }
    Ok(())
}

fn unique(list: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in list {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn union(a: &Value, b: &Value) -> Result<Value, Error> {
    let all = items(a, "union")?
        .into_iter()
        .chain(items(b, "union")?)
        .collect();
    Ok(Value::from(unique(all)))
}

fn intersect(a: &Value, b: &Value) -> Result<Value, Error> {
    let other = items(b, "intersect")?;
    Ok(Value::from(unique(
        items(a, "intersect")?
            .into_iter()
            .filter(|x| other.contains(x))
            .collect(),
    )))
}

fn difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let other = items(b, "difference")?;
    Ok(Value::from(unique(
        items(a, "difference")?
            .into_iter()
            .filter(|x| !other.contains(x))
            .collect(),
    )))
}

fn symmetric_difference(a: &Value, b: &Value) -> Result<Value, Error> {
    let (x, y) = (
        items(a, "symmetric_difference")?,
        items(b, "symmetric_difference")?,
    );
    let left = x.iter().filter(|i| !y.contains(i)).cloned();
    let right = y.iter().filter(|i| !x.contains(i)).cloned();
    Ok(Value::from(unique(left.chain(right).collect())))
}

/// The Python type name Ansible users expect from `type_debug`.
fn type_debug(v: &Value) -> &'static str {
    match v.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number if v.is_integer() => "int",
        ValueKind::Number => "float",
        ValueKind::String => "str",
        ValueKind::Bytes => "bytes",
        ValueKind::Seq | ValueKind::Iterable => "list",
        ValueKind::Map => "dict",
        _ => "object",
    }
}
