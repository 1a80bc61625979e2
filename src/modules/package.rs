//! package: Ansible's generic package module, which on kubestrap's Debian and Ubuntu hosts is apt.
//!
//! `name` and `state` are handed to [`super::apt`] unchanged, so the
//! plan, the facts and the messages are apt's. `use` may only name apt (or
//! `auto`): any other manager is refused when the playbook is loaded.

use serde_json::{Map, Value};

use super::apt::Apt;
use super::{literal, Args, Context, Module, Plan};
use crate::facts::FactRequest;

pub struct Package;

impl Module for Package {
    fn name(&self) -> &'static str {
        "package"
    }

    fn params(&self) -> &'static [&'static str] {
        &["name", "state", "use"]
    }

    fn refuse(&self, args: &Map<String, Value>) -> Vec<(String, String)> {
        literal(args, "use")
            .and_then(|u| use_error(&u))
            .map(|e| ("use".to_string(), e))
            .into_iter()
            .collect()
    }

    fn effects_in_facts(&self) -> bool {
        Apt.effects_in_facts()
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        Apt.needs(&as_apt(args)?)
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        Apt.check(&as_apt(args)?, ctx)
    }
}

/// Why `use: u` is refused; None for apt and auto.
fn use_error(u: &str) -> Option<String> {
    (u != "auto" && u != "apt")
        .then(|| format!("use: {u} is not supported by kubestrap: its hosts use apt (auto or apt)"))
}

/// The apt arguments for these package arguments.
fn as_apt(args: &Args) -> Result<Args, String> {
    if let Some(e) = args.str("use")?.and_then(|u| use_error(&u)) {
        return Err(e);
    }
    if !args.has("name") {
        return Err("missing required argument `name`".into());
    }
    let mut a = args.0.clone();
    a.remove("use");
    if !a.contains_key("state") {
        // package requires `state`; apt's default is the same one.
        return Err("missing required argument `state`".into());
    }
    Ok(Args(a))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{args, check};
    use super::*;
    use crate::facts::{Facts, PackageState};

    #[test]
    fn is_apt_by_another_name() {
        let mut facts = Facts::default();
        facts.packages.insert(
            "curl".into(),
            PackageState {
                version: Some("8.5.0-2".into()),
                held: false,
            },
        );
        facts.packages.insert("jq".into(), PackageState::default());
        let cases = [
            json!({"name": "curl", "state": "present"}),
            json!({"name": "curl", "state": "present", "use": "apt"}),
            json!({"name": "jq", "state": "absent"}),
            json!({"name": ["curl", "jq"], "state": "present"}),
        ];
        for a in cases {
            let mut apt_args = a.clone();
            apt_args.as_object_mut().unwrap().remove("use");
            assert_eq!(
                check(&Package, &facts, a.clone()),
                check(&Apt, &facts, apt_args.clone()),
                "{a}"
            );
            assert_eq!(
                Package.needs(&args(a.clone())),
                Apt.needs(&args(apt_args)),
                "{a}"
            );
        }
        assert!(
            !check(
                &Package,
                &facts,
                json!({"name": "curl", "state": "present"})
            )
            .unwrap()
            .changed
        );
        assert!(
            check(&Package, &facts, json!({"name": "jq", "state": "present"}))
                .unwrap()
                .changed
        );
    }

    #[test]
    fn other_managers_and_missing_arguments_are_refused() {
        let refused =
            Package.refuse(&args(json!({"name": "x", "state": "present", "use": "yum"})).0);
        assert_eq!(
            refused,
            vec![(
                "use".to_string(),
                "use: yum is not supported by kubestrap: its hosts use apt (auto or apt)"
                    .to_string()
            )]
        );
        assert!(Package.refuse(&args(json!({"use": "auto"})).0).is_empty());
        assert!(Package
            .refuse(&args(json!({"use": "{{ mgr }}"})).0)
            .is_empty());
        let facts = Facts::default();
        assert_eq!(
            check(&Package, &facts, json!({"state": "present"})).unwrap_err(),
            "missing required argument `name`"
        );
        assert_eq!(
            check(&Package, &facts, json!({"name": "x"})).unwrap_err(),
            "missing required argument `state`"
        );
    }
}
