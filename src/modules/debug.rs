//! `debug`: print a message or a variable, on the controller, as Ansible's debug action does.

use serde_json::{Map, Value};

use super::{Args, Context, Local, LocalContext, Module, Plan};

/// Ansible's message when the task gives none.
const DEFAULT_MSG: &str = "Hello world!";

pub struct Debug;

impl Module for Debug {
    fn name(&self) -> &'static str {
        "debug"
    }

    fn params(&self) -> &'static [&'static str] {
        &["msg", "var", "verbosity"]
    }

    fn local(&self, args: &Args, ctx: &LocalContext) -> Option<Result<Local, String>> {
        Some(debug(args, ctx))
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("internal: debug runs on the controller".into())
    }
}

fn debug(args: &Args, ctx: &LocalContext) -> Result<Local, String> {
    if args.has("msg") && args.has("var") {
        return Err("'msg' and 'var' are incompatible options".into());
    }
    let verbosity = match args.0.get("verbosity") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or("argument `verbosity` must be a whole number")?,
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| format!("argument `verbosity` must be a whole number, got {s:?}"))?,
        Some(other) => {
            return Err(format!(
                "argument `verbosity` must be a whole number, got {other}"
            ))
        }
    };
    if verbosity > u64::from(ctx.verbosity) {
        return Ok(Local {
            skipped: true,
            msg: "Verbosity threshold not met.".into(),
            result: Map::from_iter([(
                "skipped_reason".into(),
                "Verbosity threshold not met.".into(),
            )]),
            ..Local::default()
        });
    }
    let (key, value, msg) = match args.str("var")? {
        Some(var) => {
            // Ansible shows an undefined variable this way rather than failing.
            let value =
                (ctx.eval)(&var).unwrap_or_else(|_| Value::from("VARIABLE IS NOT DEFINED!"));
            let msg = value.to_string();
            (var, value, msg)
        }
        None => {
            let value = args
                .0
                .get("msg")
                .cloned()
                .unwrap_or_else(|| DEFAULT_MSG.into());
            let msg = match &value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            ("msg".to_string(), value, msg)
        }
    };
    let result = Map::from_iter([(key, value)]);
    Ok(Local {
        msg,
        shown: Some(Value::Object(result.clone())),
        result,
        ..Local::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::test_kit::local_with;
    use serde_json::json;

    /// What is shown, or skipped (None), or the start of the error.
    type Want = Result<Option<Value>, &'static str>;

    /// (arguments, -v given, what the task does)
    #[test]
    fn shows_a_message_or_a_variable() {
        let vars = json!({"x": [1, 2], "name": "cp1"});
        let cases: &[(Value, u8, Want)] = &[
            (json!({}), 0, Ok(Some(json!({"msg": "Hello world!"})))),
            (
                json!({"msg": "hi cp1"}),
                0,
                Ok(Some(json!({"msg": "hi cp1"}))),
            ),
            (
                json!({"msg": [1, "a"]}),
                0,
                Ok(Some(json!({"msg": [1, "a"]}))),
            ),
            (json!({"var": "x"}), 0, Ok(Some(json!({"x": [1, 2]})))),
            (
                json!({"var": "x | length"}),
                0,
                Ok(Some(json!({"x | length": 2}))),
            ),
            (
                json!({"var": "nope"}),
                0,
                Ok(Some(json!({"nope": "VARIABLE IS NOT DEFINED!"}))),
            ),
            (json!({"msg": "m", "verbosity": 1}), 0, Ok(None)),
            (
                json!({"msg": "m", "verbosity": "1"}),
                1,
                Ok(Some(json!({"msg": "m"}))),
            ),
            (
                json!({"msg": "m", "var": "x"}),
                0,
                Err("'msg' and 'var' are incompatible options"),
            ),
            (
                json!({"verbosity": "loud"}),
                0,
                Err("argument `verbosity` must be a whole number"),
            ),
        ];
        for (args, verbosity, want) in cases {
            let got = local_with(&Debug, args.clone(), &vars, *verbosity);
            match (got, want) {
                (Ok(r), Ok(Some(shown))) => {
                    assert_eq!(r.shown.as_ref(), Some(shown), "{args}");
                    assert_eq!(Value::Object(r.result.clone()), *shown, "{args}");
                    assert!(!r.failed && !r.skipped, "{args}");
                }
                (Ok(r), Ok(None)) => assert!(r.skipped && r.shown.is_none(), "{args}"),
                (Err(e), Err(start)) => assert!(e.starts_with(start), "{args}: {e}"),
                (got, want) => panic!("{args}: got {got:?}, want {want:?}"),
            }
        }
    }
}
