//! Conversions between YAML, JSON and minijinja values, which carry the same data.
//!
//! minijinja is built without its `serde` feature, so values cross by hand.
//! Map keys become strings, as Ansible's JSON-minded data model expects.

use minijinja::value::ValueKind;
use serde_json::{Map, Number, Value as Json};
use std::collections::BTreeMap;

use super::error::RenderError;

/// YAML as loaded by serde_yaml → JSON. Tags are dropped (`!unsafe x` is `x`).
pub fn yaml_to_json(v: &serde_yaml::Value) -> Json {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(*b),
        Y::Number(n) => yaml_number(n),
        Y::String(s) => Json::String(s.clone()),
        Y::Sequence(items) => Json::Array(items.iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Json::Object(
            m.iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_json(v)))
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(&t.value),
    }
}

fn yaml_number(n: &serde_yaml::Number) -> Json {
    if let Some(i) = n.as_i64() {
        Json::from(i)
    } else if let Some(u) = n.as_u64() {
        Json::from(u)
    } else {
        // NaN and infinities have no JSON form; null is the honest answer.
        n.as_f64()
            .and_then(Number::from_f64)
            .map_or(Json::Null, Json::Number)
    }
}

/// A mapping key as text: `1: a` and `true: b` are keyed "1" and "true".
pub fn yaml_key(k: &serde_yaml::Value) -> String {
    use serde_yaml::Value as Y;
    match k {
        Y::String(s) => s.clone(),
        Y::Null => "null".into(),
        Y::Bool(b) => b.to_string(),
        Y::Number(n) => n.to_string(),
        Y::Tagged(t) => yaml_key(&t.value),
        other => json_compact(&key_json(other)),
    }
}

/// A mapping or sequence used as a key, as JSON; keys inside it that are
/// mappings or sequences themselves show only what they are. Rendering them
/// whole would escape each level's text once more at the next, doubling
/// its size per level (a key nested a hundred deep would never finish).
fn key_json(v: &serde_yaml::Value) -> Json {
    use serde_yaml::Value as Y;
    match v {
        Y::Sequence(items) => Json::Array(items.iter().map(key_json).collect()),
        Y::Mapping(m) => Json::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::Mapping(_) => "{…}".to_string(),
                        Y::Sequence(_) => "[…]".to_string(),
                        scalar => yaml_key(scalar),
                    };
                    (key, key_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => key_json(&t.value),
        scalar => yaml_to_json(scalar),
    }
}

fn json_compact(v: &Json) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// JSON → a minijinja value for rendering.
pub fn to_jinja(v: &Json) -> minijinja::Value {
    use minijinja::Value as J;
    match v {
        Json::Null => J::from(()),
        Json::Bool(b) => J::from(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                J::from(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => J::from(s.as_str()),
        Json::Array(items) => J::from(items.iter().map(to_jinja).collect::<Vec<_>>()),
        Json::Object(m) => J::from(
            m.iter()
                .map(|(k, v)| (k.clone(), to_jinja(v)))
                .collect::<BTreeMap<String, J>>(),
        ),
    }
}

/// A JSON object's entries as a minijinja map (the usual shape of variables).
#[cfg(test)]
pub fn map_to_jinja(m: &Map<String, Json>) -> minijinja::Value {
    minijinja::Value::from(
        m.iter()
            .map(|(k, v)| (k.clone(), to_jinja(v)))
            .collect::<BTreeMap<String, minijinja::Value>>(),
    )
}

/// A minijinja value → JSON. Undefined is an error (it means a template
/// produced nothing); callables and other objects become their text.
pub fn from_jinja(v: &minijinja::Value) -> Result<Json, RenderError> {
    Ok(match v.kind() {
        ValueKind::Undefined => return Err(RenderError::UndefinedResult),
        ValueKind::None => Json::Null,
        ValueKind::Bool => Json::Bool(v.is_true()),
        ValueKind::Number => number(v),
        ValueKind::String => Json::String(v.as_str().unwrap_or_default().to_string()),
        ValueKind::Bytes => {
            Json::String(String::from_utf8_lossy(v.as_bytes().unwrap_or_default()).into_owned())
        }
        ValueKind::Seq | ValueKind::Iterable => {
            let items = v.try_iter().map_err(RenderError::Convert)?;
            Json::Array(items.map(|i| from_jinja(&i)).collect::<Result<_, _>>()?)
        }
        ValueKind::Map => {
            let mut out = Map::new();
            for key in v.try_iter().map_err(RenderError::Convert)? {
                let item = v.get_item(&key).map_err(RenderError::Convert)?;
                let name = match key.as_str() {
                    Some(s) => s.to_string(),
                    None => key.to_string(),
                };
                out.insert(name, from_jinja(&item)?);
            }
            Json::Object(out)
        }
        _ => Json::String(v.to_string()),
    })
}

fn number(v: &minijinja::Value) -> Json {
    if v.is_integer() {
        if let Ok(i) = i64::try_from(v.clone()) {
            return Json::from(i);
        }
        if let Ok(u) = u64::try_from(v.clone()) {
            return Json::from(u);
        }
    }
    f64::try_from(v.clone())
        .ok()
        .and_then(Number::from_f64)
        .map_or(Json::Null, Json::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_jinja() {
        let v = json!({"a": [1, 2.5, "x", null, true], "b": {"c": -3}, "big": u64::MAX});
        assert_eq!(from_jinja(&to_jinja(&v)).unwrap(), v);
    }

    #[test]
    fn yaml_keys_and_tags_become_plain_json() {
        let y: serde_yaml::Value =
            serde_yaml::from_str("1: a\ntrue: b\nc: !tag d\ne: .nan\n").unwrap();
        assert_eq!(
            yaml_to_json(&y),
            json!({"1": "a", "true": "b", "c": "d", "e": null})
        );
    }

    #[test]
    fn keys_nested_deep_stay_as_long_as_the_text() {
        // `{{{…}}}`: a mapping whose key is a mapping whose key is …
        for depth in [2usize, 20, 120] {
            let text = format!("{}{}", "{".repeat(depth), "}".repeat(depth));
            let y: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
            let shown = serde_json::to_string(&yaml_to_json(&y)).unwrap();
            assert!(shown.len() < 64, "depth {depth}: {} bytes", shown.len());
        }
        let y: serde_yaml::Value = serde_yaml::from_str("{[a, {b: 1}]: x}").unwrap();
        assert_eq!(yaml_to_json(&y), json!({"[\"a\",{\"b\":1}]": "x"}));
    }

    #[test]
    fn undefined_does_not_convert() {
        assert!(from_jinja(&minijinja::Value::UNDEFINED).is_err());
    }
}
