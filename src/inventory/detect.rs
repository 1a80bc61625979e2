//! Tell the three inventory formats apart from the text alone.
//!
//! kubestrap's own format is a mapping of only `cluster`, `defaults` and
//! `hosts`; any other YAML mapping is an Ansible YAML inventory; everything
//! else is Ansible INI — unless the text is plainly meant as YAML but does not
//! parse, where a YAML error helps more than a pile of INI complaints.

use serde_yaml::{Mapping, Value};

/// Top-level keys of kubestrap's own format.
const KUBESTRAP_TOP_KEYS: [&str; 3] = ["cluster", "defaults", "hosts"];

/// What the text turned out to be.
pub enum Detected {
    Kubestrap(Mapping),
    AnsibleYaml(Mapping),
    AnsibleIni,
    /// Meant as YAML, but not valid YAML: 1-based line (0 if unknown) and message.
    YamlError(usize, String),
}

pub fn detect(text: &str) -> Detected {
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => {
            let ours = m.contains_key("hosts")
                && m.keys()
                    .all(|k| k.as_str().is_some_and(|k| KUBESTRAP_TOP_KEYS.contains(&k)));
            if ours {
                Detected::Kubestrap(m)
            } else {
                Detected::AnsibleYaml(m)
            }
        }
        Ok(_) => Detected::AnsibleIni,
        Err(e) if looks_like_yaml(text) => {
            let (line, message) = yaml_error(&e);
            Detected::YamlError(line, message)
        }
        Err(_) => Detected::AnsibleIni,
    }
}

/// Split serde_yaml's message from its position, which we print ourselves.
pub fn yaml_error(e: &serde_yaml::Error) -> (usize, String) {
    let line = e.location().map_or(0, |l| l.line());
    let text = e.to_string();
    let message = match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    (line, format!("invalid YAML: {message}"))
}

/// YAML documents have `key:` lines at column 0 (or a `---` marker) and no
/// INI `[section]` headers.
fn looks_like_yaml(text: &str) -> bool {
    let mut yamlish = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && t.contains(']') && !t.contains(',') && !t.contains(": ") {
            return false;
        }
        if line.starts_with("---") {
            yamlish = true;
        }
        if let Some((key, rest)) = line.split_once(':') {
            let plain_key = !key.is_empty()
                && !key.starts_with(['#', ';', ' ', '\t'])
                && !key.contains(char::is_whitespace);
            if plain_key && (rest.is_empty() || rest.starts_with([' ', '\t'])) {
                yamlish = true;
            }
        }
    }
    yamlish
}

/// A duplicate mapping key, moved to the line of its second occurrence.
pub struct Duplicate {
    pub line: usize,
    pub host: Option<String>,
    pub message: String,
}

/// serde_yaml reports a duplicate key at the start of its mapping; point at
/// the repeated key instead, and call a repeated host a duplicate host.
pub fn duplicate_key(text: &str, line: usize, message: &str) -> Option<Duplicate> {
    let rest = message.strip_prefix("invalid YAML: ")?;
    let (path, key) = match rest.split_once(": duplicate entry with key ") {
        Some((path, key)) => (path, key),
        None => ("", rest.strip_prefix("duplicate entry with key ")?),
    };
    let key = key.trim_matches('"');
    let start = line.checked_sub(1)?;
    let lines: Vec<&str> = text.lines().collect();
    let first = *lines.get(start)?;
    let indent = first.len() - first.trim_start().len();
    let mut seen = Vec::new();
    for (i, l) in lines.iter().enumerate().skip(start) {
        let content = l.trim_start();
        let this_indent = l.len() - content.len();
        if !content.is_empty() && !content.starts_with('#') && this_indent < indent {
            break;
        }
        let defines = [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ]
        .iter()
        .any(|k| content.starts_with(k.as_str()));
        if this_indent == indent && defines {
            seen.push(i + 1);
        }
    }
    let (&first_line, &second_line) = (seen.first()?, seen.get(1)?);
    Some(if path == "hosts" {
        Duplicate {
            line: second_line,
            host: Some(key.to_string()),
            message: format!("duplicate host name (first defined on line {first_line})"),
        }
    } else {
        let within = if path.is_empty() {
            String::new()
        } else {
            format!(" in {path}")
        };
        Duplicate {
            line: second_line,
            host: None,
            message: format!("duplicate key {key:?}{within} (first on line {first_line})"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> &'static str {
        match detect(text) {
            Detected::Kubestrap(_) => "kubestrap",
            Detected::AnsibleYaml(_) => "ansible-yaml",
            Detected::AnsibleIni => "ini",
            Detected::YamlError(..) => "yaml-error",
        }
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(kind("hosts:\n  a: {roles: [worker]}\n"), "kubestrap");
        assert_eq!(kind("cluster: {}\nhosts: {}\n"), "kubestrap");
        assert_eq!(kind("all:\n  hosts:\n    a:\n"), "ansible-yaml");
        assert_eq!(kind("[all]\nnode1\n"), "ini");
        assert_eq!(kind("node1:2222\nnode2\n"), "ini");
        assert_eq!(kind(""), "ini");
    }

    #[test]
    fn broken_yaml_is_reported_as_yaml() {
        assert_eq!(kind("hosts:\n  a: [worker\n"), "yaml-error");
        assert_eq!(kind("[kube_node]\nnode1 a=b: c\n"), "ini");
    }
}
