//! Typed reads of play and task keywords from YAML, with Ansible's spellings (`yes`, `tags: a,b`).
//!
//! Each returns a one-line message on failure; the caller adds file and line.

use serde_json::{Map, Value as Json};
use serde_yaml::Value as Yaml;

use crate::render::{yaml_key, yaml_to_json};

/// A value as shown in a message: strings bare, anything else as JSON.
pub fn show(v: &Yaml) -> String {
    match v {
        Yaml::String(s) => s.clone(),
        other => serde_json::to_string(&yaml_to_json(other)).unwrap_or_default(),
    }
}

/// The entries of a mapping with their keys as text.
pub fn entries(m: &serde_yaml::Mapping) -> Vec<(String, &Yaml)> {
    m.iter().map(|(k, v)| (yaml_key(k), v)).collect()
}

/// A boolean keyword; YAML 1.2 reads `yes` as a string, Ansible as true.
pub fn boolean(key: &str, v: &Yaml) -> Result<bool, String> {
    let word = match v {
        Yaml::Bool(b) => return Ok(*b),
        Yaml::String(s) => s.to_lowercase(),
        Yaml::Number(n) => n.to_string(),
        _ => String::new(),
    };
    match word.as_str() {
        "yes" | "true" | "on" | "y" | "t" | "1" => Ok(true),
        "no" | "false" | "off" | "n" | "f" | "0" => Ok(false),
        _ => Err(format!("`{key}` must be a boolean, got `{}`", show(v))),
    }
}

/// A scalar keyword as text (`name: 42` is "42").
pub fn text(key: &str, v: &Yaml) -> Result<String, String> {
    match v {
        Yaml::String(s) => Ok(s.clone()),
        Yaml::Number(n) => Ok(n.to_string()),
        Yaml::Bool(b) => Ok(b.to_string()),
        _ => Err(format!("`{key}` must be a string, got `{}`", show(v))),
    }
}

/// A string or a list of strings (`notify`, `listen`).
pub fn text_list(key: &str, v: &Yaml) -> Result<Vec<String>, String> {
    match v {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Sequence(items) => items.iter().map(|i| text(key, i)).collect(),
        other => text(key, other).map(|s| vec![s]),
    }
}

/// `tags: a, b` or `tags: [a, b]`; a string is split on commas as in Ansible.
pub fn tags(v: &Yaml) -> Result<Vec<String>, String> {
    let split = |s: String| -> Vec<String> {
        s.split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    };
    Ok(text_list("tags", v)?.into_iter().flat_map(split).collect())
}

/// `when` and friends: one condition or a list, all of which must hold.
/// Booleans are kept as Jinja literals.
pub fn conditions(key: &str, v: &Yaml) -> Result<Vec<String>, String> {
    let one = |v: &Yaml| match v {
        Yaml::Bool(b) => Ok(b.to_string()),
        Yaml::String(s) => Ok(s.clone()),
        Yaml::Number(n) => Ok(n.to_string()),
        other => Err(format!(
            "`{key}` must be a condition or a list of them, got `{}`",
            show(other)
        )),
    };
    match v {
        Yaml::Sequence(items) => items.iter().map(one).collect(),
        other => one(other).map(|c| vec![c]),
    }
}

/// A count (`retries`, `delay`): a whole number, written as one or as text.
pub fn whole(key: &str, v: &Yaml) -> Result<u32, String> {
    let parsed = match v {
        Yaml::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Yaml::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    parsed.ok_or_else(|| format!("`{key}` must be a whole number, got `{}`", show(v)))
}

/// `environment`: a mapping of variable names to values (templates
/// allowed), as Ansible takes it; a list of mappings is merged in order.
pub fn environment(v: &Yaml) -> Result<Map<String, Json>, String> {
    let mut out = Map::new();
    let parts: Vec<&Yaml> = match v {
        Yaml::Sequence(items) => items.iter().collect(),
        other => vec![other],
    };
    for part in parts {
        let Yaml::Mapping(m) = part else {
            return Err(format!(
                "`environment` must be a mapping of variable names to values, got `{}`",
                show(part)
            ));
        };
        for (name, value) in entries(m) {
            if !is_identifier(&name) {
                return Err(format!("`environment`: `{name}` is not a variable name"));
            }
            let value = match value {
                Yaml::Mapping(_) | Yaml::Sequence(_) => {
                    return Err(format!("`environment`: `{name}` must be a single value"))
                }
                Yaml::Bool(b) => Json::from(if *b { "True" } else { "False" }),
                Yaml::Null => Json::from(""),
                other => Json::from(text(&name, other)?),
            };
            out.insert(name, value);
        }
    }
    Ok(out)
}

/// A mapping keyword (`vars`, `args`); null is an empty mapping.
pub fn mapping(key: &str, v: &Yaml) -> Result<Map<String, Json>, String> {
    match v {
        Yaml::Null => Ok(Map::new()),
        Yaml::Mapping(_) => match yaml_to_json(v) {
            Json::Object(m) => Ok(m),
            _ => Ok(Map::new()),
        },
        other => Err(format!("`{key}` must be a mapping, got `{}`", show(other))),
    }
}

/// Is `s` a variable name Jinja can refer to (`register`, `loop_var`)?
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
