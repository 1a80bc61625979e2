//! ping: prove the host answers; returns `ping: pong` (or the `data` given), never a change.
//!
//! The play's fact gathering already logged in and ran a command on the
//! host, so a ping costs no command of its own. `data: crash` fails the
//! task, as Ansible's module does (to test failure handling).

use serde_json::{Map, Value};

use super::{Args, Context, Module, Plan};

pub struct Ping;

impl Module for Ping {
    fn name(&self) -> &'static str {
        "ping"
    }

    fn params(&self) -> &'static [&'static str] {
        &["data"]
    }

    fn check(&self, args: &Args, _ctx: &Context) -> Result<Plan, String> {
        let data = data(args)?;
        if data == "crash" {
            // Ansible's module raises Exception("boom").
            return Err("boom".into());
        }
        Ok(Plan::noop(data))
    }

    fn returns(&self, args: &Args, _ctx: &Context) -> Result<Map<String, Value>, String> {
        Ok(Map::from_iter([(
            "ping".to_string(),
            Value::from(data(args)?),
        )]))
    }
}

fn data(args: &Args) -> Result<String, String> {
    Ok(args.str("data")?.unwrap_or_else(|| "pong".into()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{args, check, with_ctx};
    use super::*;
    use crate::facts::Facts;

    #[test]
    fn pongs_echoes_and_crashes_as_ansible() {
        let facts = Facts::default();
        let cases = [
            (json!({}), Ok("pong")),
            (json!({"data": "hello"}), Ok("hello")),
            (json!({"data": "crash"}), Err("boom")),
        ];
        for (a, want) in cases {
            let got = check(&Ping, &facts, a.clone());
            match want {
                Ok(d) => {
                    let plan = got.unwrap();
                    assert!(!plan.changed && plan.actions.is_empty(), "{a}");
                    let r = with_ctx(&facts, |ctx| Ping.returns(&args(a.clone()), ctx)).unwrap();
                    assert_eq!(r["ping"], json!(d), "{a}");
                }
                Err(e) => assert_eq!(got.unwrap_err(), e, "{a}"),
            }
        }
    }
}
