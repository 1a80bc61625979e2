//! dpkg_selections: hold a package at its version (or release the hold), as Ansible does.
//!
//! The package facts know only whether a package is held, so `hold` and
//! `install` are decided exactly; `deinstall` and `purge` count as done when
//! the package is not installed (Ansible would read the selection itself).

use super::{q, Args, Context, Module, Plan};
use crate::facts::{FactRequest, FactUpdate, PackageState};

pub struct DpkgSelections;

impl Module for DpkgSelections {
    fn name(&self) -> &'static str {
        "dpkg_selections"
    }

    fn params(&self) -> &'static [&'static str] {
        &["name", "selection"]
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(vec![FactRequest::Package(name(args)?)])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let name = name(args)?;
        let selection = args.req_str("selection")?;
        let cur = ctx
            .facts
            .packages
            .get(&name)
            .ok_or_else(|| format!("facts for package {name} were not gathered"))?;
        let installed = cur.version.is_some();
        let current = match (installed, cur.held) {
            (_, true) => "hold",
            (true, false) => "install",
            (false, false) => "not installed",
        };
        let done = match selection.as_str() {
            "hold" if !installed && !cur.held => {
                return Err(format!("package {name} is not installed, so it cannot be held"));
            }
            "hold" => cur.held,
            "install" => !cur.held,
            "deinstall" | "purge" => !installed && !cur.held,
            other => {
                return Err(format!(
                    "argument `selection` must be one of install, hold, deinstall, purge, got {other:?}"
                ))
            }
        };
        if done {
            return Ok(Plan::noop(format!("{name} selection is already {current}")));
        }
        // dpkg reads "name selection" lines; the name is checked to be a plain package name.
        let mut plan = Plan::run(
            format!("{name}: {current} -> {selection}"),
            format!(
                "printf '%s %s\\n' {} {} | dpkg --set-selections",
                q(&name),
                q(&selection)
            ),
        );
        plan.diff = Some(format!("-selection: {current}\n+selection: {selection}\n"));
        plan.updates = vec![FactUpdate::Package(
            name,
            PackageState {
                version: cur.version.clone(),
                held: selection == "hold",
            },
        )];
        Ok(plan)
    }
}

fn name(args: &Args) -> Result<String, String> {
    let name = args.req_str("name")?;
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.:".contains(c);
    if name.is_empty() || name.starts_with('-') || !name.chars().all(valid) {
        return Err(format!(
            "argument `name`: {name:?} is not a Debian package name"
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check, scripts};
    use super::*;
    use crate::facts::Facts;
    use serde_json::json;

    fn facts() -> Facts {
        let mut f = Facts::default();
        let v = |s: &str| Some(s.to_string());
        f.packages.insert(
            "kubelet".into(),
            PackageState {
                version: v("1.30.2-1.1"),
                held: true,
            },
        );
        f.packages.insert(
            "kubeadm".into(),
            PackageState {
                version: v("1.30.2-1.1"),
                held: false,
            },
        );
        f.packages.insert("gone".into(), PackageState::default());
        f
    }

    #[test]
    fn table() {
        let f = facts();
        let cases = [
            ("kubelet", "hold", None),
            ("kubeadm", "install", None),
            ("gone", "install", None),
            ("gone", "purge", None),
            (
                "kubeadm",
                "hold",
                Some("printf '%s %s\\n' 'kubeadm' 'hold' | dpkg --set-selections"),
            ),
            (
                "kubelet",
                "install",
                Some("printf '%s %s\\n' 'kubelet' 'install' | dpkg --set-selections"),
            ),
            (
                "kubeadm",
                "deinstall",
                Some("printf '%s %s\\n' 'kubeadm' 'deinstall' | dpkg --set-selections"),
            ),
        ];
        for (name, sel, want) in cases {
            let plan = check(&DpkgSelections, &f, json!({"name": name, "selection": sel})).unwrap();
            match want {
                None => assert!(!plan.changed, "{name} {sel}"),
                Some(s) => {
                    assert!(plan.changed);
                    assert_eq!(scripts(&plan), vec![s.to_string()]);
                }
            }
        }
        let plan = check(
            &DpkgSelections,
            &f,
            json!({"name": "kubeadm", "selection": "hold"}),
        )
        .unwrap();
        assert_eq!(
            plan.updates,
            vec![FactUpdate::Package(
                "kubeadm".into(),
                PackageState {
                    version: Some("1.30.2-1.1".into()),
                    held: true
                }
            )]
        );
        assert_eq!(
            plan.diff.as_deref(),
            Some("-selection: install\n+selection: hold\n")
        );
    }

    #[test]
    fn errors() {
        let f = facts();
        for args in [
            json!({"name": "gone", "selection": "hold"}),
            json!({"name": "kubeadm", "selection": "frozen"}),
            json!({"name": "kubeadm"}),
            json!({"name": "x y", "selection": "hold"}),
            json!({"name": "other", "selection": "hold"}),
        ] {
            assert!(check(&DpkgSelections, &f, args.clone()).is_err(), "{args}");
        }
    }
}
