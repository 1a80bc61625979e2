//! pause: wait `seconds` or `minutes`, also under --check, as Ansible does; never a change.
//!
//! A kubestrap run asks nothing on the terminal, so a pause that would
//! wait for a key (`prompt`, or neither `seconds` nor `minutes`) is refused
//! when the playbook is loaded. The wait is a `sleep` on the host: every
//! host of the play waits at once, as the play's one pause does in Ansible.

use serde_json::{Map, Value};

use super::{literal, Action, Args, Context, Module, Plan};

pub struct Pause;

/// Why a pause that waits for the operator is refused.
const UNATTENDED: &str = "a kubestrap run asks nothing on the terminal; give seconds or minutes";

impl Module for Pause {
    fn name(&self) -> &'static str {
        "pause"
    }

    fn params(&self) -> &'static [&'static str] {
        &["seconds", "minutes"]
    }

    fn unsupported(&self) -> &'static [(&'static str, &'static str)] {
        &[("prompt", UNATTENDED), ("echo", UNATTENDED)]
    }

    fn refuse(&self, args: &Map<String, Value>) -> Vec<(String, String)> {
        if !args.contains_key("seconds") && !args.contains_key("minutes") {
            return vec![(
                String::new(),
                format!("pause without seconds or minutes waits for a key: {UNATTENDED}"),
            )];
        }
        ["seconds", "minutes"]
            .into_iter()
            .filter_map(|k| {
                let v = literal(args, k)?;
                v.parse::<u64>().is_err().then(|| {
                    (
                        k.to_string(),
                        format!("argument `{k}` must be a whole number, got {v:?}"),
                    )
                })
            })
            .collect()
    }

    fn check(&self, args: &Args, _ctx: &Context) -> Result<Plan, String> {
        let secs = seconds(args)?;
        Ok(Plan {
            actions: vec![Action::Run {
                script: format!("sleep {secs}"),
                stdin: None,
            }],
            msg: format!("Paused for {secs} seconds"),
            read_only: true,
            ..Plan::default()
        })
    }

    fn returns(&self, args: &Args, _ctx: &Context) -> Result<Map<String, Value>, String> {
        let secs = seconds(args)?;
        Ok(Map::from_iter([
            ("delta".to_string(), Value::from(secs)),
            ("echo".to_string(), Value::Bool(true)),
            ("user_input".to_string(), Value::from("")),
        ]))
    }
}

/// The wait in seconds; `minutes` wins when both are given, as in Ansible.
fn seconds(args: &Args) -> Result<u64, String> {
    for (key, factor) in [("minutes", 60), ("seconds", 1)] {
        if let Some(v) = args.str(key)? {
            let n = v
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("argument `{key}` must be a whole number, got {v:?}"))?;
            return Ok(n * factor);
        }
    }
    Err("pause needs seconds or minutes".into())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{args, check, only_run};
    use super::*;
    use crate::facts::Facts;

    #[test]
    fn sleeps_on_the_host_even_under_check() {
        let cases = [
            (json!({"seconds": 3}), "sleep 3"),
            (json!({"seconds": "5"}), "sleep 5"),
            (json!({"minutes": 2}), "sleep 120"),
            (json!({"minutes": 1, "seconds": 7}), "sleep 60"),
        ];
        for (a, script) in cases {
            let plan = check(&Pause, &Facts::default(), a.clone()).unwrap();
            assert_eq!(only_run(&plan).0, script, "{a}");
            assert!(!plan.changed && plan.read_only, "{a}");
        }
        let err = check(&Pause, &Facts::default(), json!({"seconds": "soon"})).unwrap_err();
        assert_eq!(
            err,
            "argument `seconds` must be a whole number, got \"soon\""
        );
    }

    #[test]
    fn waiting_for_a_key_is_refused_at_load_time() {
        let refuse = |a: Value| Pause.refuse(&args(a).0);
        assert_eq!(refuse(json!({}))[0].0, "");
        assert!(refuse(json!({}))[0]
            .1
            .starts_with("pause without seconds or minutes"));
        assert_eq!(refuse(json!({"minutes": "x"}))[0].0, "minutes");
        assert!(refuse(json!({"seconds": "{{ wait }}"})).is_empty());
        assert!(refuse(json!({"seconds": 10})).is_empty());
        assert!(Pause.unsupported().iter().any(|(n, _)| *n == "prompt"));
    }
}
