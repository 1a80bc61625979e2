//! `assert`: check expressions on the controller, as Ansible's assert action does.
//!
//! Every `that` expression must hold; the first that does not fails the
//! host with `fail_msg` (or `msg`). On success Ansible prints its verdict
//! unless `quiet` says not to.

use serde_json::{Map, Value};

use super::{Args, Context, Local, LocalContext, Module, Plan};

pub struct Assert;

impl Module for Assert {
    fn name(&self) -> &'static str {
        "assert"
    }

    fn params(&self) -> &'static [&'static str] {
        &["that", "fail_msg", "msg", "success_msg", "quiet"]
    }

    fn local(&self, args: &Args, ctx: &LocalContext) -> Option<Result<Local, String>> {
        Some(assert(args, ctx))
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("internal: assert runs on the controller".into())
    }
}

/// `that` as a list of expressions (a single one may be written alone).
fn conditions(args: &Args) -> Result<Vec<String>, String> {
    let text = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(format!(
            "argument `that` must be a list of expressions, got {other}"
        )),
    };
    match args.0.get("that") {
        None | Some(Value::Null) => Err("missing required argument `that`".into()),
        Some(Value::Array(items)) => items.iter().map(text).collect(),
        Some(one) => Ok(vec![text(one)?]),
    }
}

fn assert(args: &Args, ctx: &LocalContext) -> Result<Local, String> {
    let that = conditions(args)?;
    let fail_msg = match args.str("fail_msg")? {
        Some(m) => Some(m),
        None => args.str("msg")?,
    };
    let success_msg = args.str("success_msg")?;
    let quiet = args.bool("quiet", false)?;
    for expr in &that {
        if !(ctx.holds)(expr)? {
            let msg = fail_msg.unwrap_or_else(|| "Assertion failed".into());
            return Ok(Local {
                failed: true,
                result: Map::from_iter([
                    ("assertion".into(), Value::from(expr.as_str())),
                    ("evaluated_to".into(), Value::from(false)),
                    ("msg".into(), Value::from(msg.as_str())),
                ]),
                msg,
                ..Local::default()
            });
        }
    }
    let msg = success_msg.unwrap_or_else(|| "All assertions passed".into());
    let result = Map::from_iter([("msg".into(), Value::from(msg.as_str()))]);
    Ok(Local {
        shown: (!quiet).then(|| {
            let mut shown = Map::from_iter([("changed".into(), Value::from(false))]);
            shown.extend(result.clone());
            Value::Object(shown)
        }),
        result,
        msg,
        ..Local::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::test_kit::local_with;
    use serde_json::json;

    /// (arguments, failed, the message, shown)
    #[test]
    fn every_expression_must_hold() {
        let vars = json!({"n": 3, "name": "cp1"});
        let passed = |m: &str| Some(json!({"changed": false, "msg": m}));
        let cases: &[(Value, bool, &str, Option<Value>)] = &[
            (
                json!({"that": "n > 2"}),
                false,
                "All assertions passed",
                passed("All assertions passed"),
            ),
            (
                json!({"that": ["n > 2", "name == 'cp1'"], "success_msg": "fine"}),
                false,
                "fine",
                passed("fine"),
            ),
            (
                json!({"that": ["n > 2"], "quiet": true}),
                false,
                "All assertions passed",
                None,
            ),
            (
                json!({"that": ["n > 2", "n > 5"]}),
                true,
                "Assertion failed",
                None,
            ),
            (
                json!({"that": "n > 5", "fail_msg": "too few"}),
                true,
                "too few",
                None,
            ),
            (
                json!({"that": "n > 5", "msg": "too few (msg)"}),
                true,
                "too few (msg)",
                None,
            ),
        ];
        for (args, failed, msg, shown) in cases {
            let r = local_with(&Assert, args.clone(), &vars, 0).unwrap();
            assert_eq!(
                (r.failed, r.msg.as_str(), &r.shown),
                (*failed, *msg, shown),
                "{args}"
            );
        }
        let r = local_with(&Assert, json!({"that": ["n > 2", "n > 5"]}), &vars, 0).unwrap();
        assert_eq!(r.result["assertion"], json!("n > 5"));
        assert_eq!(r.result["evaluated_to"], json!(false));
        for (args, start) in [
            (json!({}), "missing required argument `that`"),
            (
                json!({"that": [{"a": 1}]}),
                "argument `that` must be a list of expressions",
            ),
            (json!({"that": "n >"}), ""),
        ] {
            let e = local_with(&Assert, args.clone(), &vars, 0).unwrap_err();
            assert!(e.starts_with(start), "{args}: {e}");
        }
    }
}
