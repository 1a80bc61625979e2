//! Turn raw inventory values into the model's typed fields, with one message per mistake.
//!
//! Both YAML formats and the INI format end up with loosely typed values
//! (`serde_json::Value`); these helpers are the single place where "is this a
//! port?" or "is this a boolean?" is decided, so every format answers alike.

use serde_json::Value;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// An inventory value that is not what its key takes; `shown` is the value
/// as [`describe`] writes it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("port {shown} is not a number")]
    PortNotNumber { shown: String },
    #[error("port {0} is out of range (1-65535)")]
    PortOutOfRange(i64),
    #[error("port {shown} is not a whole number")]
    PortNotWhole { shown: String },
    #[error("{key} {shown} is not a boolean (use true or false)")]
    NotBoolean { key: String, shown: String },
    #[error("{key} must be a string, got {shown}")]
    NotString { key: String, shown: String },
    #[error("{key} {value:?} is not an IP address")]
    NotIp { key: String, value: String },
}

/// Convert a YAML value into the JSON value model vars are kept in.
///
/// Non-string keys become their YAML text, as Ansible's templating would show
/// them; tags are dropped because no inventory key depends on them.
pub fn yaml_to_json(v: &serde_yaml::Value) -> Value {
    match v {
        serde_yaml::Value::Null => Value::Null,
        serde_yaml::Value::Bool(b) => Value::Bool(*b),
        serde_yaml::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number)
                    // NaN and infinities have no JSON form; keep their text.
                    .unwrap_or_else(|| Value::String(n.to_string()))
            }
        }
        serde_yaml::Value::String(s) => Value::String(s.clone()),
        serde_yaml::Value::Sequence(seq) => Value::Array(seq.iter().map(yaml_to_json).collect()),
        serde_yaml::Value::Mapping(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (key_text(k), yaml_to_json(v)))
                .collect(),
        ),
        serde_yaml::Value::Tagged(t) => yaml_to_json(&t.value),
    }
}

/// The text of a mapping key, whatever its YAML type.
pub fn key_text(k: &serde_yaml::Value) -> String {
    match k {
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Null => "null".into(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        other => serde_yaml::to_string(other)
            .map(|s| s.trim().to_string())
            .unwrap_or_default(),
    }
}

/// Short description of a value for messages: strings quoted, others as JSON.
pub fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// A TCP port, 1-65535; numbers written as strings are accepted as Ansible does.
pub fn port(v: &Value) -> Result<u16, ValueError> {
    let n = match v {
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => return Err(ValueError::PortNotNumber { shown: describe(v) }),
        },
        Value::Number(n) => n.as_i64(),
        other => {
            return Err(ValueError::PortNotNumber {
                shown: describe(other),
            })
        }
    };
    match n {
        Some(n) if (1..=65535).contains(&n) => Ok(n as u16),
        Some(n) => Err(ValueError::PortOutOfRange(n)),
        None => Err(ValueError::PortNotWhole { shown: describe(v) }),
    }
}

/// Ansible's truthiness for booleans written as words (`yes`, `on`, `1`, …).
pub fn boolean(key: &str, v: &Value) -> Result<bool, ValueError> {
    let not_boolean = || ValueError::NotBoolean {
        key: key.to_string(),
        shown: describe(v),
    };
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "yes" | "on" | "1" | "true" | "y" | "t" => Ok(true),
            "no" | "off" | "0" | "false" | "n" | "f" | "" => Ok(false),
            _ => Err(not_boolean()),
        },
        _ => Err(not_boolean()),
    }
}

/// A plain string setting; numbers are accepted because YAML turns `user: 1000` into one.
pub fn string(key: &str, v: &Value) -> Result<String, ValueError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(ValueError::NotString {
            key: key.to_string(),
            shown: describe(other),
        }),
    }
}

/// An IP address setting (`ip`, gateway, dns).
pub fn ip(key: &str, v: &Value) -> Result<IpAddr, ValueError> {
    let s = string(key, v)?;
    s.trim().parse().map_err(|_| ValueError::NotIp {
        key: key.to_string(),
        value: s,
    })
}

/// Expand `~` and make a relative path relative to the inventory's directory,
/// so an inventory means the same thing whatever directory kubestrap runs in.
pub fn resolve_path(written: &str, inventory: &Path) -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let expanded = if written == "~" {
        home.unwrap_or_else(|| PathBuf::from(written))
    } else if let (Some(rest), Some(home)) = (written.strip_prefix("~/"), home) {
        home.join(rest)
    } else {
        PathBuf::from(written)
    };
    if expanded.is_absolute() {
        expanded
    } else {
        inventory
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(expanded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ports() {
        let port = |v: &Value| port(v).map_err(|e| e.to_string());
        assert_eq!(port(&json!(22)), Ok(22));
        assert_eq!(port(&json!("2222")), Ok(2222));
        assert_eq!(
            port(&json!(0)),
            Err("port 0 is out of range (1-65535)".into())
        );
        assert_eq!(
            port(&json!("ssh")),
            Err("port \"ssh\" is not a number".into())
        );
        assert_eq!(
            port(&json!(2.5)),
            Err("port 2.5 is not a whole number".into())
        );
    }

    #[test]
    fn booleans_as_ansible_reads_them() {
        assert_eq!(boolean("become", &json!("yes")), Ok(true));
        assert_eq!(boolean("become", &json!("False")), Ok(false));
        assert!(boolean("become", &json!("maybe")).is_err());
    }

    #[test]
    fn paths_resolve_against_the_inventory_dir() {
        let p = resolve_path("keys/id", Path::new("/etc/inv/hosts.ini"));
        assert_eq!(p, PathBuf::from("/etc/inv/keys/id"));
        assert_eq!(resolve_path("/k", Path::new("x.ini")), PathBuf::from("/k"));
    }
}
