//! `fail`: stop the host with a message, on the controller, as Ansible's fail action does.

use super::{Args, Context, Local, LocalContext, Module, Plan};

/// Ansible's message when the task gives none.
const DEFAULT_MSG: &str = "Failed as requested from task";

pub struct Fail;

impl Module for Fail {
    fn name(&self) -> &'static str {
        "fail"
    }

    fn params(&self) -> &'static [&'static str] {
        &["msg"]
    }

    fn local(&self, args: &Args, _ctx: &LocalContext) -> Option<Result<Local, String>> {
        Some(args.str("msg").map(|msg| {
            let msg = msg.unwrap_or_else(|| DEFAULT_MSG.into());
            Local {
                failed: true,
                result: serde_json::Map::from_iter([("msg".into(), msg.clone().into())]),
                msg,
                ..Local::default()
            }
        }))
    }

    fn check(&self, _args: &Args, _ctx: &Context) -> Result<Plan, String> {
        Err("internal: fail runs on the controller".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::test_kit::local;
    use serde_json::json;

    #[test]
    fn fails_with_its_message_or_ansibles() {
        let cases = [
            (json!({}), DEFAULT_MSG),
            (json!({"msg": "no disk"}), "no disk"),
            (json!({"msg": 42}), "42"),
        ];
        for (args, msg) in cases {
            let r = local(&Fail, args.clone()).unwrap();
            assert!(r.failed, "{args}");
            assert_eq!(r.msg, msg, "{args}");
        }
        assert!(local(&Fail, json!({"msg": [1]})).is_err());
    }
}
