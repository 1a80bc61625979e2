//! A task's rendered arguments, with typed getters whose errors name the argument.

use serde_json::{Map, Value};

/// Arguments after templating: a JSON object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args(pub Map<String, Value>);

/// Argument `key` as the playbook writes it, unless a template decides it
/// at run time (then None, as when it is not given): for load-time checks.
pub fn literal(args: &Map<String, Value>, key: &str) -> Option<String> {
    let v = match args.get(key)? {
        Value::String(s) if crate::render::has_template(s) => return None,
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    Some(v)
}

impl Args {
    pub fn from_pairs(pairs: &[(&str, Value)]) -> Args {
        Args(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    pub fn has(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(|v| !v.is_null())
    }

    /// A string argument; numbers and booleans are accepted and shown as
    /// YAML would write them (so `mode: 0644` and `mode: "0644"` both work).
    pub fn str(&self, key: &str) -> Result<Option<String>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(other) => Err(format!("argument `{key}` must be a string, got {other}")),
        }
    }

    pub fn req_str(&self, key: &str) -> Result<String, String> {
        self.str(key)?
            .ok_or_else(|| format!("missing required argument `{key}`"))
    }

    /// A boolean in any of the spellings Ansible accepts (yes/no, true/false, on/off, 1/0).
    pub fn bool(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) => {
                let s = match v {
                    Value::String(s) => s.to_lowercase(),
                    other => other.to_string(),
                };
                match s.as_str() {
                    "yes" | "true" | "on" | "1" | "y" | "t" => Ok(true),
                    "no" | "false" | "off" | "0" | "n" | "f" => Ok(false),
                    _ => Err(format!("argument `{key}` must be a boolean, got {v}")),
                }
            }
        }
    }

    /// A list of strings; a single string or a comma-separated string is a list too.
    pub fn list(&self, key: &str) -> Result<Vec<String>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(n) => Ok(n.to_string()),
                    other => Err(format!(
                        "argument `{key}` must be a list of strings, got {other}"
                    )),
                })
                .collect(),
            Some(Value::String(s)) => Ok(s
                .split(',')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect()),
            Some(other) => Err(format!("argument `{key}` must be a list, got {other}")),
        }
    }

    /// One of a fixed set of words.
    pub fn choice(&self, key: &str, allowed: &[&str], default: &str) -> Result<String, String> {
        let v = self.str(key)?.unwrap_or_else(|| default.to_string());
        if allowed.contains(&v.as_str()) {
            Ok(v)
        } else {
            Err(format!(
                "argument `{key}` must be one of {}, got {v:?}",
                allowed.join(", ")
            ))
        }
    }

    /// A file mode: an octal string (`"0644"`, `"644"`) or a number. YAML 1.2
    /// (serde_yaml) reads an unquoted `0644` as the number 644, where Ansible's
    /// YAML 1.1 read it as octal, so a number's digits are taken as octal
    /// digits: `mode: 0644` means rw-r--r-- in both tools.
    pub fn mode(&self, key: &str) -> Result<Option<u32>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => u32::from_str_radix(&n.to_string(), 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .map(Some)
                .ok_or_else(|| format!("argument `{key}` is not a file mode: {n}")),
            Some(Value::String(s)) => u32::from_str_radix(s.trim_start_matches("0o"), 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .map(Some)
                .ok_or_else(|| {
                    format!("argument `{key}` must be an octal mode like \"0644\", got {s:?}")
                }),
            Some(other) => Err(format!("argument `{key}` is not a file mode: {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_getters_accept_ansible_spellings() {
        let a = Args::from_pairs(&[
            ("s", json!("x")),
            ("n", json!(5)),
            ("b1", json!("yes")),
            ("b2", json!("off")),
            ("l", json!("a, b")),
            ("m1", json!("0644")),
            ("m2", json!(644)),
            ("bad", json!([1])),
        ]);
        assert_eq!(a.str("s").unwrap().as_deref(), Some("x"));
        assert_eq!(a.str("n").unwrap().as_deref(), Some("5"));
        assert!(a.bool("b1", false).unwrap());
        assert!(!a.bool("b2", true).unwrap());
        assert!(a.bool("missing", true).unwrap());
        assert_eq!(a.list("l").unwrap(), vec!["a", "b"]);
        assert_eq!(a.mode("m1").unwrap(), Some(0o644));
        assert_eq!(a.mode("m2").unwrap(), Some(0o644));
        assert_eq!(
            a.str("bad").unwrap_err(),
            "argument `bad` must be a string, got [1]"
        );
        assert_eq!(
            a.req_str("nope").unwrap_err(),
            "missing required argument `nope`"
        );
        assert!(a.choice("s", &["present", "absent"], "present").is_err());
    }
}
