//! `set_fact`: variables for the host from now on, set on the controller without a round trip.
//!
//! As Ansible's set_fact action: every argument but `cacheable` is a
//! variable, whose name must be a valid identifier; the values are the
//! rendered arguments as they are. kubestrap keeps no fact cache between
//! runs, so `cacheable` changes nothing but is accepted.

use serde_json::{Map, Value};

use super::{Args, Context, Local, LocalContext, Module, Plan};

pub struct SetFact;

/// Ansible's rule for a variable name: a Python identifier, not a keyword.
fn valid_name(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ];
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}

impl Module for SetFact {
    fn name(&self) -> &'static str {
        "set_fact"
    }

    /// Any name is a variable to set.
    fn params(&self) -> &'static [&'static str] {
        &[]
    }

    fn local(&self, args: &Args, _ctx: &LocalContext) -> Option<Result<Local, String>> {
        Some(set(args))
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("internal: set_fact runs on the controller".into())
    }
}

fn set(args: &Args) -> Result<Local, String> {
    args.bool("cacheable", false)?;
    let facts: Map<String, Value> = args
        .0
        .iter()
        .filter(|(k, _)| *k != "cacheable")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if facts.is_empty() {
        return Err(
            "No key/value pairs provided, at least one is required for this action to succeed"
                .into(),
        );
    }
    if let Some(bad) = facts.keys().find(|k| !valid_name(k)) {
        return Err(format!(
            "The variable name '{bad}' is not valid. Variables must start with a letter or \
             underscore character, and contain only letters, numbers and underscores."
        ));
    }
    Ok(Local {
        result: Map::from_iter([("ansible_facts".into(), Value::Object(facts.clone()))]),
        facts,
        ..Local::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::test_kit::local;
    use serde_json::json;

    /// (arguments, the facts set, or the start of the error)
    #[test]
    fn sets_every_argument_but_cacheable() {
        let cases: &[(Value, Result<Value, &str>)] = &[
            (
                json!({"a": 1, "b": [1, "x"]}),
                Ok(json!({"a": 1, "b": [1, "x"]})),
            ),
            (
                json!({"a": "yes", "cacheable": true}),
                Ok(json!({"a": "yes"})),
            ),
            (json!({"_x9": null}), Ok(json!({"_x9": null}))),
            (json!({}), Err("No key/value pairs provided")),
            (
                json!({"cacheable": "yes"}),
                Err("No key/value pairs provided"),
            ),
            (
                json!({"9a": 1}),
                Err("The variable name '9a' is not valid."),
            ),
            (
                json!({"a-b": 1}),
                Err("The variable name 'a-b' is not valid."),
            ),
            (
                json!({"class": 1}),
                Err("The variable name 'class' is not valid."),
            ),
            (
                json!({"a": 1, "cacheable": "maybe"}),
                Err("argument `cacheable` must be a boolean"),
            ),
        ];
        for (args, want) in cases {
            let got = local(&SetFact, args.clone());
            match (got, want) {
                (Ok(r), Ok(facts)) => {
                    assert_eq!(Value::Object(r.facts.clone()), *facts, "{args}");
                    assert_eq!(r.result["ansible_facts"], *facts, "{args}");
                    assert!(!r.failed && r.shown.is_none(), "{args}");
                }
                (Err(e), Err(start)) => assert!(e.starts_with(start), "{args}: {e}"),
                (got, want) => panic!("{args}: got {got:?}, want {want:?}"),
            }
        }
    }
}
