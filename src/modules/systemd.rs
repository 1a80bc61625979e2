//! systemd: systemd units: enabled, started, restarted, masked, daemon-reload.
//!
//! Also answers to `systemd_service` (the same module in Ansible) and to
//! `service` with its common arguments, since every host kubestrap manages
//! runs systemd. Steps run in Ansible's order: daemon-reload, mask/unmask,
//! enable/disable, then the state. A unit the facts do not find may have
//! been installed since they were gathered (a package, a copied unit file),
//! so it is treated as inactive and disabled and systemctl has the last word;
//! stopping or disabling a unit that does not exist is a no-op.

use super::sys_common::prop_diff;
use super::{q, Action, Args, Context, Module, Plan};
use crate::facts::{FactRequest, FactUpdate};

/// `systemd`, and the same module under Ansible's newer name `systemd_service`.
pub struct Systemd {
    pub name: &'static str,
}

pub const SYSTEMD: Systemd = Systemd { name: "systemd" };
pub const SYSTEMD_SERVICE: Systemd = Systemd {
    name: "systemd_service",
};
pub struct Service;

const SYSTEMD_PARAMS: &[&str] = &[
    "name",
    "unit",
    "service",
    "state",
    "enabled",
    "masked",
    "daemon_reload",
    "daemon-reload",
    "daemon_reexec",
    "daemon-reexec",
    "no_block",
    "scope",
    "force",
];

const SERVICE_PARAMS: &[&str] = &["name", "state", "enabled", "use"];

impl Module for Systemd {
    /// A started unit makes sockets and runtime files the facts do not list.
    fn effects_in_facts(&self) -> bool {
        false
    }
    fn name(&self) -> &'static str {
        self.name
    }
    fn params(&self) -> &'static [&'static str] {
        SYSTEMD_PARAMS
    }
    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        needs(args)
    }
    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        check(args, ctx)
    }
}

impl Module for Service {
    /// A started unit makes sockets and runtime files the facts do not list.
    fn effects_in_facts(&self) -> bool {
        false
    }
    fn name(&self) -> &'static str {
        "service"
    }
    fn params(&self) -> &'static [&'static str] {
        SERVICE_PARAMS
    }
    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        needs(args)
    }
    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        if let Some(u) = args.str("use")? {
            if u != "auto" && u != "systemd" {
                return Err(format!(
                    "argument `use`: only systemd hosts are supported, got {u:?}"
                ));
            }
        }
        if !args.has("name") {
            return Err("missing required argument `name`".into());
        }
        check(args, ctx)
    }
}

fn unit_name(args: &Args) -> Result<Option<String>, String> {
    let mut found = None;
    for key in ["name", "unit", "service"] {
        if let Some(v) = args.str(key)? {
            if found.is_some() {
                return Err("give only one of `name`, `unit` and `service`".into());
            }
            if v.is_empty() || v.starts_with('-') || v.contains(char::is_whitespace) {
                return Err(format!("argument `{key}`: {v:?} is not a unit name"));
            }
            found = Some(v);
        }
    }
    Ok(found)
}

fn needs(args: &Args) -> Result<Vec<FactRequest>, String> {
    Ok(unit_name(args)?
        .map(FactRequest::Unit)
        .into_iter()
        .collect())
}

/// An optional boolean argument.
fn opt_bool(args: &Args, key: &str) -> Result<Option<bool>, String> {
    if args.has(key) {
        args.bool(key, false).map(Some)
    } else {
        Ok(None)
    }
}

fn flag(args: &Args, a: &str, b: &str) -> Result<bool, String> {
    Ok(args.bool(a, false)? || args.bool(b, false)?)
}

/// Whether `systemctl is-enabled` would say yes (exit 0) for this state,
/// which is what Ansible compares; `indirect` and `alias` count as disabled.
fn is_enabled(unit_file_state: &str) -> bool {
    matches!(
        unit_file_state,
        "enabled" | "enabled-runtime" | "static" | "generated" | "transient"
    )
}

fn check(args: &Args, ctx: &Context) -> Result<Plan, String> {
    let name = unit_name(args)?;
    let state = match args.str("state")? {
        None => None,
        Some(s) => Some(args.choice(
            "state",
            &["started", "stopped", "restarted", "reloaded"],
            &s,
        )?),
    };
    let enabled = opt_bool(args, "enabled")?;
    let masked = opt_bool(args, "masked")?;
    let reload = flag(args, "daemon_reload", "daemon-reload")?;
    let reexec = flag(args, "daemon_reexec", "daemon-reexec")?;
    let no_block = args.bool("no_block", false)?;
    let force = args.bool("force", false)?;
    if let Some(scope) = args.str("scope")? {
        if scope != "system" {
            return Err(format!(
                "argument `scope`: only `system` is supported, got {scope:?}"
            ));
        }
    }

    let mut steps: Vec<String> = Vec::new();
    let mut changed = false;
    let mut diff = String::new();
    if reexec {
        steps.push("systemctl daemon-reexec".into());
    }
    let Some(name) = name else {
        if state.is_some() || enabled.is_some() || masked.is_some() {
            return Err("missing required argument `name`".into());
        }
        if !reload && steps.is_empty() {
            return Err("nothing to do: give `name` or `daemon_reload`".into());
        }
        if reload {
            // No unit to ask about, so reload always, as Ansible does.
            steps.push("systemctl daemon-reload".into());
        }
        // A reload alone reports ok, as in Ansible.
        return Ok(Plan {
            actions: vec![run(steps.join("\n"))],
            msg: "systemd manager reloaded".into(),
            updates: if reload {
                vec![FactUpdate::DaemonReloaded]
            } else {
                Vec::new()
            },
            ..Plan::default()
        });
    };
    let unit = ctx
        .facts
        .units
        .get(&name)
        .ok_or_else(|| format!("facts for unit {name} were not gathered"))?;
    let mut now = unit.clone();
    let not_found = unit.load_state == "not-found";
    // daemon-reload only when systemd has something to reload: the unit's
    // own NeedDaemonReload, a unit file written earlier in this run, or a
    // unit systemd does not know yet. A no-op re-run then costs nothing here.
    let reload_due = unit.need_daemon_reload || ctx.facts.unit_files_changed || not_found;
    let reloading = reload && reload_due;
    if reloading {
        steps.push("systemctl daemon-reload".into());
    }
    if not_found {
        now.load_state = "loaded".into();
        now.active_state = "inactive".into();
        now.unit_file_state = "disabled".into();
    }
    let q_name = q(&name);
    let nb = if no_block { " --no-block" } else { "" };
    let mut msgs = Vec::new();

    if let Some(want) = masked {
        let is = unit.load_state == "masked" || unit.unit_file_state.starts_with("masked");
        if want != is && (want || !not_found) {
            steps.push(format!(
                "systemctl {} {q_name}",
                if want { "mask" } else { "unmask" }
            ));
            diff.push_str(&prop_diff("masked", &is.to_string(), &want.to_string()));
            msgs.push(if want { "masked" } else { "unmasked" });
            changed = true;
            if want {
                now.load_state = "masked".into();
                now.unit_file_state = "masked".into();
            } else {
                now.load_state = "loaded".into();
                now.unit_file_state = "disabled".into();
            }
        }
    }
    if let Some(want) = enabled {
        let is = !not_found && is_enabled(&now.unit_file_state);
        if want != is && (want || !not_found) {
            let force = if force { " --force" } else { "" };
            steps.push(format!(
                "systemctl {}{force} {q_name}",
                if want { "enable" } else { "disable" }
            ));
            diff.push_str(&prop_diff("enabled", &is.to_string(), &want.to_string()));
            msgs.push(if want { "enabled" } else { "disabled" });
            changed = true;
            now.unit_file_state = if want { "enabled" } else { "disabled" }.into();
        }
    }
    if let Some(want) = state {
        let running = matches!(
            now.active_state.as_str(),
            "active" | "activating" | "reloading"
        );
        let verb = match want.as_str() {
            "started" if !running => Some("start"),
            "stopped" if !not_found && (running || now.active_state == "deactivating") => {
                Some("stop")
            }
            "restarted" => Some("restart"),
            "reloaded" if running => Some("reload"),
            "reloaded" => Some("start"),
            _ => None,
        };
        if let Some(verb) = verb {
            steps.push(format!("systemctl{nb} {verb} {q_name}"));
            let after = if verb == "stop" { "inactive" } else { "active" };
            diff.push_str(&prop_diff("state", &now.active_state, after));
            msgs.push(match verb {
                "start" => "started",
                "stop" => "stopped",
                "restart" => "restarted",
                _ => "reloaded",
            });
            changed = true;
            now.active_state = after.into();
        }
    }

    if !changed {
        let reason = if not_found {
            format!("unit {name} is not installed; nothing to stop or disable")
        } else {
            format!("unit {name} is already in the requested state")
        };
        return Ok(Plan {
            actions: if steps.is_empty() {
                Vec::new()
            } else {
                vec![run(steps.join("\n"))]
            },
            msg: reason,
            updates: if reloading {
                vec![FactUpdate::DaemonReloaded]
            } else {
                Vec::new()
            },
            ..Plan::default()
        });
    }
    Ok(Plan {
        changed: true,
        actions: vec![run(steps.join("\n"))],
        diff: Some(diff),
        updates: if reloading {
            vec![
                FactUpdate::DaemonReloaded,
                FactUpdate::Unit(name.clone(), now),
            ]
        } else {
            vec![FactUpdate::Unit(name.clone(), now)]
        },
        msg: format!("{name}: {}", msgs.join(", ")),
        read_only: false,
    })
}

fn run(steps: String) -> Action {
    // `set -e`: a failed step stops the ones after it, as each is a separate call in Ansible.
    Action::Run {
        script: format!("set -e\n{steps}"),
        stdin: None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check as run_check, scripts};
    use super::*;
    use crate::facts::{Facts, UnitState};
    use serde_json::json;

    /// The unit state in fixtures: load, active, unit-file.
    fn unit(load: &str, active: &str, file: &str) -> UnitState {
        UnitState {
            load_state: load.into(),
            active_state: active.into(),
            unit_file_state: file.into(),
            ..Default::default()
        }
    }

    fn facts() -> Facts {
        let mut f = Facts::default();
        f.units
            .insert("containerd".into(), unit("loaded", "active", "enabled"));
        f.units.insert(
            "kubelet.service".into(),
            unit("loaded", "inactive", "disabled"),
        );
        f.units
            .insert("new".into(), unit("not-found", "inactive", ""));
        f.units
            .insert("dev-sda2.swap".into(), unit("masked", "inactive", "masked"));
        f.units.insert(
            "systemd-journald".into(),
            unit("loaded", "active", "static"),
        );
        f.units
            .insert("getty@tty1".into(), unit("loaded", "inactive", "indirect"));
        f
    }

    #[test]
    fn table() {
        let f = facts();
        // (args, expected steps (without set -e) or "" for nothing, changed)
        let cases = [
            (
                json!({"name": "containerd", "state": "started", "enabled": true}),
                "",
                false,
            ),
            (
                json!({"name": "containerd", "state": "restarted"}),
                "systemctl restart 'containerd'",
                true,
            ),
            (
                json!({"name": "containerd", "state": "reloaded"}),
                "systemctl reload 'containerd'",
                true,
            ),
            (
                json!({"name": "containerd", "state": "stopped", "enabled": "no"}),
                "systemctl disable 'containerd'\nsystemctl stop 'containerd'",
                true,
            ),
            // systemd has nothing new to load: no daemon-reload.
            (
                json!({"name": "kubelet.service", "state": "started", "enabled": true, "daemon_reload": true}),
                "systemctl enable 'kubelet.service'\nsystemctl start 'kubelet.service'",
                true,
            ),
            // A unit systemd does not know yet: reload first.
            (
                json!({"name": "new", "state": "started", "daemon_reload": true}),
                "systemctl daemon-reload\nsystemctl start 'new'",
                true,
            ),
            (
                json!({"name": "kubelet.service", "state": "reloaded", "no_block": true}),
                "systemctl --no-block start 'kubelet.service'",
                true,
            ),
            (
                json!({"name": "kubelet.service", "masked": true}),
                "systemctl mask 'kubelet.service'",
                true,
            ),
            (json!({"name": "dev-sda2.swap", "masked": true}), "", false),
            (
                json!({"name": "dev-sda2.swap", "masked": false, "enabled": true}),
                "systemctl unmask 'dev-sda2.swap'\nsystemctl enable 'dev-sda2.swap'",
                true,
            ),
            (
                json!({"name": "new", "enabled": true, "state": "started"}),
                "systemctl enable 'new'\nsystemctl start 'new'",
                true,
            ),
            (
                json!({"name": "new", "enabled": false, "state": "stopped", "masked": false}),
                "",
                false,
            ),
            (
                json!({"name": "systemd-journald", "enabled": true}),
                "",
                false,
            ),
            (
                json!({"name": "getty@tty1", "enabled": true, "force": true}),
                "systemctl enable --force 'getty@tty1'",
                true,
            ),
            (
                json!({"name": "containerd", "daemon_reload": true}),
                "",
                false,
            ),
            (
                json!({"daemon-reload": true}),
                "systemctl daemon-reload",
                false,
            ),
        ];
        for (args, steps, changed) in cases {
            let plan =
                run_check(&SYSTEMD, &f, args.clone()).unwrap_or_else(|e| panic!("{args}: {e}"));
            let reloads = plan.updates.contains(&FactUpdate::DaemonReloaded);
            assert_eq!(
                reloads,
                steps.contains("daemon-reload"),
                "{args}: facts must record the reload"
            );
            assert_eq!(plan.changed, changed, "{args}");
            let want: Vec<String> = if steps.is_empty() {
                vec![]
            } else {
                vec![format!("set -e\n{steps}")]
            };
            assert_eq!(scripts(&plan), want, "{args}");
        }
    }

    #[test]
    fn daemon_reload_runs_only_when_systemd_has_something_to_load() {
        let args = json!({"name": "containerd", "daemon_reload": true});
        let reload = vec!["set -e\nsystemctl daemon-reload".to_string()];
        let mut f = facts();
        assert!(scripts(&run_check(&SYSTEMD, &f, args.clone()).unwrap()).is_empty());
        // systemd itself says the unit file changed on disk.
        f.units.get_mut("containerd").unwrap().need_daemon_reload = true;
        assert_eq!(
            scripts(&run_check(&SYSTEMD, &f, args.clone()).unwrap()),
            reload
        );
        // A unit file written by an earlier task of this run.
        let mut f = facts();
        f.update(&FactUpdate::File(
            "/etc/systemd/system/containerd.service.d/x.conf".into(),
            Default::default(),
        ));
        let plan = run_check(&SYSTEMD, &f, args.clone()).unwrap();
        assert_eq!(scripts(&plan), reload);
        f.update(&FactUpdate::DaemonReloaded);
        assert!(
            scripts(&run_check(&SYSTEMD, &f, args).unwrap()).is_empty(),
            "reloaded once is enough"
        );
    }

    #[test]
    fn updates_and_diff() {
        let f = facts();
        let plan = run_check(
            &SYSTEMD_SERVICE,
            &f,
            json!({"name": "kubelet.service", "state": "started", "enabled": true}),
        )
        .unwrap();
        assert_eq!(
            plan.updates,
            vec![FactUpdate::Unit(
                "kubelet.service".into(),
                unit("loaded", "active", "enabled")
            )]
        );
        assert_eq!(
            plan.diff.as_deref(),
            Some("-enabled: false\n+enabled: true\n-state: inactive\n+state: active\n")
        );
        assert_eq!(plan.msg, "kubelet.service: enabled, started");
        let plan = run_check(
            &Service,
            &f,
            json!({"name": "containerd", "state": "stopped"}),
        )
        .unwrap();
        assert_eq!(
            plan.updates,
            vec![FactUpdate::Unit(
                "containerd".into(),
                unit("loaded", "inactive", "enabled")
            )]
        );
    }

    #[test]
    fn errors() {
        let f = facts();
        for args in [
            json!({}),
            json!({"state": "started"}),
            json!({"name": "containerd", "state": "running"}),
            json!({"name": "missing-fact", "state": "started"}),
            json!({"name": "containerd", "scope": "user"}),
            json!({"name": "-x"}),
            json!({"name": "a", "unit": "b"}),
            json!({"name": "containerd", "enabled": "maybe"}),
        ] {
            assert!(run_check(&SYSTEMD, &f, args.clone()).is_err(), "{args}");
        }
        assert!(run_check(
            &Service,
            &f,
            json!({"name": "containerd", "use": "sysvinit"})
        )
        .is_err());
        assert!(run_check(&Service, &f, json!({"daemon_reload": true})).is_err());
    }
}
