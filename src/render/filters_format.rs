//! Ansible's serialisation filters: to_json, to_nice_json, to_yaml, to_nice_yaml, from_json, from_yaml.

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, State, Value};
use serde::Serialize;
use serde_json::Value as Json;

use super::convert::{from_jinja, to_jinja, yaml_to_json};
use super::filters::{defined, invalid};

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("to_json", to_json);
    env.add_filter("to_nice_json", to_nice_json);
    env.add_filter("to_yaml", to_yaml);
    env.add_filter("to_nice_yaml", to_yaml);
    env.add_filter("from_json", from_json);
    env.add_filter("from_yaml", from_yaml);
}

fn json_of(state: &State, v: &Value) -> Result<Json, Error> {
    defined(state, v)?;
    // minijinja errors carry a message: the filter fails with ours.
    from_jinja(v).map_err(|e| invalid(e.to_string()))
}

/// Python's `json.dumps` layout (`{"a": 1, "b": [1, 2]}`), which is what
/// Ansible's `to_json` prints and what people compare against.
fn to_json(state: &State, v: &Value, _kwargs: Kwargs) -> Result<String, Error> {
    let mut out = String::new();
    python_json(&json_of(state, v)?, &mut out);
    Ok(out)
}

fn python_json(v: &Json, out: &mut String) {
    match v {
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_json(item, out);
            }
            out.push(']');
        }
        Json::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Json::String(k.clone()).to_string());
                out.push_str(": ");
                python_json(item, out);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `json.dumps(indent=4, sort_keys=True)`, Ansible's `to_nice_json`.
fn to_nice_json(state: &State, v: &Value, kwargs: Kwargs) -> Result<String, Error> {
    let indent = kwargs.get::<Option<usize>>("indent")?.unwrap_or(4);
    kwargs.assert_all_used()?;
    let json = json_of(state, v)?;
    let pad = " ".repeat(indent.min(16));
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    json.serialize(&mut ser)
        .map_err(|e| invalid(e.to_string()))?;
    String::from_utf8(buf).map_err(|e| invalid(e.to_string()))
}

/// Block-style YAML (serde_yaml's layout; Ansible's to_yaml uses flow style
/// for inner collections, which reads the same to any YAML parser).
fn to_yaml(state: &State, v: &Value, _kwargs: Kwargs) -> Result<String, Error> {
    serde_yaml::to_string(&json_of(state, v)?).map_err(|e| invalid(e.to_string()))
}

fn from_json(state: &State, v: &Value) -> Result<Value, Error> {
    defined(state, v)?;
    let text = v
        .as_str()
        .ok_or_else(|| invalid("from_json expects a string"))?;
    serde_json::from_str::<Json>(text)
        .map(|j| to_jinja(&j))
        .map_err(|e| invalid(format!("from_json: {e}")))
}

fn from_yaml(state: &State, v: &Value) -> Result<Value, Error> {
    defined(state, v)?;
    let text = v
        .as_str()
        .ok_or_else(|| invalid("from_yaml expects a string"))?;
    serde_yaml::from_str::<serde_yaml::Value>(text)
        .map(|y| to_jinja(&yaml_to_json(&y)))
        .map_err(|e| invalid(format!("from_yaml: {e}")))
}
