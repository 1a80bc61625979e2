//! hostname: the host's name, now and across reboots.
//!
//! Without `use`: /etc/hostname is replaced atomically (with a backup) and
//! the running name is set with hostnamectl when systemd-hostnamed answers,
//! else with `hostname`. `use: systemd` leaves both to hostnamectl;
//! `use: debian` never calls it. Other strategies of Ansible are refused.
//! /etc/hosts is not touched, as in Ansible.

use super::sys_common::{file_fact, file_text, prop_diff, text_diff, written_state};
use super::{q, write_file_with, Action, Args, Context, Module, Plan, WriteOpts};
use crate::facts::{FactRequest, FactUpdate};

pub struct Hostname;

const ETC_HOSTNAME: &str = "/etc/hostname";

impl Module for Hostname {
    fn name(&self) -> &'static str {
        "hostname"
    }

    fn params(&self) -> &'static [&'static str] {
        &["name", "use"]
    }

    fn needs(&self, _args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(vec![FactRequest::File {
            path: ETC_HOSTNAME.into(),
            content: true,
        }])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let name = args.req_str("name")?;
        validate(&name)?;
        let strategy = match args.str("use")? {
            None => "auto".to_string(),
            Some(u) if u == "systemd" || u == "debian" => u,
            Some(u) => {
                return Err(format!(
                    "argument `use`: only systemd and debian are supported, got {u:?}"
                ))
            }
        };
        let old_file = file_text(ctx, ETC_HOSTNAME)?.unwrap_or_default();
        // The static name is the first line that is not a comment.
        let static_name = old_file
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap_or("");
        let file_ok = static_name == name;
        let live_ok = ctx.facts.hostname == name;
        if file_ok && live_ok {
            return Ok(Plan::noop(format!("hostname is already {name}")));
        }

        let new_file = format!("{name}\n");
        let n = q(&name);
        let mut actions = Vec::new();
        let mut diff = String::new();
        if !live_ok {
            diff.push_str(&prop_diff("hostname", &ctx.facts.hostname, &name));
        }
        if !file_ok {
            diff.push_str(&text_diff(ETC_HOSTNAME, &old_file, &new_file));
        }
        match strategy.as_str() {
            "systemd" => actions.push(Action::Run {
                script: format!("hostnamectl set-hostname {n}"),
                stdin: None,
            }),
            other => {
                if !file_ok {
                    let opts = WriteOpts {
                        backup: true,
                        ..WriteOpts::default()
                    };
                    actions.push(write_file_with(
                        ETC_HOSTNAME,
                        new_file.clone().into_bytes(),
                        &opts,
                    ));
                }
                if !live_ok {
                    let script = if other == "debian" {
                        format!("hostname {n}")
                    } else {
                        // hostnamectl also tells systemd-hostnamed (and so
                        // dbus clients); without it, the kernel name is enough.
                        format!(
                            "if command -v hostnamectl >/dev/null 2>&1 && hostnamectl set-hostname {n} 2>/dev/null; then exit 0; fi\n\
                             hostname {n}"
                        )
                    };
                    actions.push(Action::Run {
                        script,
                        stdin: None,
                    });
                }
            }
        }
        let old_state = file_fact(ctx, ETC_HOSTNAME)?;
        Ok(Plan {
            changed: true,
            actions,
            diff: Some(diff),
            updates: vec![
                FactUpdate::Hostname(name.clone()),
                FactUpdate::File(
                    ETC_HOSTNAME.into(),
                    written_state(Some(old_state), new_file.as_bytes(), None),
                ),
            ],
            msg: format!("hostname set to {name}"),
            read_only: false,
        })
    }
}

/// A DNS name (RFC 1123): what hostnamectl keeps without mangling it.
fn validate(name: &str) -> Result<(), String> {
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if name.is_empty() || name.len() > 253 || !name.split('.').all(label_ok) {
        return Err(format!(
            "argument `name`: {name:?} is not a valid host name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check, file, missing, scripts, stdins};
    use super::*;
    use crate::facts::Facts;
    use serde_json::json;

    fn facts(live: &str, etc: Option<&str>) -> Facts {
        let mut f = Facts {
            hostname: live.into(),
            ..Facts::default()
        };
        f.files
            .insert(ETC_HOSTNAME.into(), etc.map(file).unwrap_or_else(missing));
        f
    }

    #[test]
    fn table() {
        // (live, /etc/hostname, use, actions: "w" write, "l" live auto, "d" debian, "s" systemd)
        let cases = [
            ("cp1", Some("cp1\n"), None, ""),
            ("cp1", Some("# managed\ncp1"), None, ""),
            ("node1", Some("cp1\n"), None, "l"),
            ("cp1", Some("node1\n"), None, "w"),
            ("node1", None, None, "wl"),
            ("node1", Some("cp1\n"), Some("debian"), "d"),
            ("node1", Some("node1\n"), Some("debian"), "wd"),
            ("node1", Some("node1\n"), Some("systemd"), "s"),
            ("cp1", Some("node1\n"), Some("systemd"), "s"),
        ];
        for (live, etc, use_, want) in cases {
            let f = facts(live, etc);
            let mut args = json!({"name": "cp1"});
            if let Some(u) = use_ {
                args["use"] = json!(u);
            }
            let plan = check(&Hostname, &f, args).unwrap();
            assert_eq!(plan.changed, !want.is_empty());
            let s = scripts(&plan);
            assert_eq!(s.len(), want.len(), "{live} {etc:?} {use_:?}");
            for (script, kind) in s.iter().zip(want.chars()) {
                let ok = match kind {
                    'w' => script.contains("mv -f") && script.contains("cp -p"),
                    'l' => {
                        script.contains("hostnamectl set-hostname 'cp1'")
                            && script.ends_with("hostname 'cp1'")
                    }
                    'd' => script == "hostname 'cp1'",
                    _ => script == "hostnamectl set-hostname 'cp1'",
                };
                assert!(ok, "{kind}: {script}");
            }
            if want.contains('w') {
                assert_eq!(stdins(&plan)[0].as_deref(), Some("cp1\n"));
            }
            if !want.is_empty() {
                assert!(plan.updates.contains(&FactUpdate::Hostname("cp1".into())));
            }
        }
    }

    #[test]
    fn errors() {
        let f = facts("a", Some("a\n"));
        for args in [
            json!({}),
            json!({"name": "bad_name"}),
            json!({"name": "-x"}),
            json!({"name": "a..b"}),
            json!({"name": "x; reboot"}),
            json!({"name": "cp1", "use": "redhat"}),
        ] {
            assert!(check(&Hostname, &f, args.clone()).is_err(), "{args}");
        }
    }
}
