//! sysctl: a kernel parameter, persistent in a sysctl file and live.
//!
//! As ansible.posix.sysctl: the setting is written as `name=value` in
//! `sysctl_file` (the first line for the key is replaced, later duplicates
//! dropped, other lines left as they are; Ansible rewrites every line).
//! The live value is compared and set with `sysctl -w` when `reload` (the
//! default) or `sysctl_set` is on; Ansible compares it only with
//! `sysctl_set` and reloads the whole file with `sysctl -p`, which would also
//! re-apply (and fail on) settings this task does not own.

use super::sys_common::{file_fact, file_text, prop_diff, text_diff, written_state};
use super::{q, write_file_with, Args, Context, Module, Plan, WriteOpts};
use crate::facts::{FactRequest, FactUpdate};

pub struct Sysctl;

const DEFAULT_FILE: &str = "/etc/sysctl.conf";

impl Module for Sysctl {
    fn name(&self) -> &'static str {
        "sysctl"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "name",
            "key",
            "value",
            "val",
            "state",
            "sysctl_file",
            "reload",
            "sysctl_set",
            "ignoreerrors",
        ]
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(vec![
            FactRequest::Sysctl(key(args)?),
            FactRequest::File {
                path: sysctl_file(args)?,
                content: true,
            },
        ])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let name = key(args)?;
        let path = sysctl_file(args)?;
        let state = args.choice("state", &["present", "absent"], "present")?;
        let reload = args.bool("reload", true)?;
        let set_live = args.bool("sysctl_set", false)? || reload;
        let ignore = args.bool("ignoreerrors", false)?;
        let value = value(args)?;
        if state == "present" && value.is_none() {
            return Err("missing required argument `value` (state is present)".into());
        }

        let old = file_text(ctx, &path)?.unwrap_or_default();
        let new = edit(&old, &name, value.as_deref());
        let mut plan = Plan::default();
        let mut diff = String::new();
        let mut what = Vec::new();
        if new != old {
            diff.push_str(&text_diff(&path, &old, &new));
            let old_state = file_fact(ctx, &path)?;
            let opts = WriteOpts {
                create_parents: true,
                follow: true,
                ..WriteOpts::default()
            };
            plan.actions
                .push(write_file_with(&path, new.clone().into_bytes(), &opts));
            plan.updates.push(FactUpdate::File(
                path.clone(),
                written_state(Some(old_state), new.as_bytes(), None),
            ));
            what.push(format!("{path} updated"));
        }

        if let (Some(want), true) = (&value, set_live) {
            let live = ctx
                .facts
                .sysctls
                .get(&name)
                .ok_or_else(|| format!("facts for sysctl {name} were not gathered"))?;
            // A key that is missing now may appear once its module loads
            // (br_netfilter's net.bridge.*), so it is set and sysctl decides.
            if live.as_deref().map(normalize) != Some(normalize(want)) {
                let e = if ignore { " -e" } else { "" };
                plan.actions.push(super::Action::Run {
                    script: format!("sysctl{e} -q -w {}", q(&format!("{name}={want}"))),
                    stdin: None,
                });
                diff.push_str(&prop_diff(&name, live.as_deref().unwrap_or("(none)"), want));
                plan.updates
                    .push(FactUpdate::Sysctl(name.clone(), want.clone()));
                what.push(format!("{name} set to {want}"));
            }
        }

        if plan.actions.is_empty() {
            return Ok(Plan::noop(format!(
                "{name} is already {}",
                value.as_deref().unwrap_or("absent")
            )));
        }
        plan.changed = true;
        plan.diff = Some(diff);
        plan.msg = what.join(", ");
        Ok(plan)
    }
}

fn key(args: &Args) -> Result<String, String> {
    let name = match (args.str("name")?, args.str("key")?) {
        (Some(n), None) | (None, Some(n)) => n,
        (None, None) => return Err("missing required argument `name`".into()),
        (Some(_), Some(_)) => return Err("give only one of `name` and `key`".into()),
    };
    let valid = |c: char| c.is_ascii_alphanumeric() || "._-/*@:".contains(c);
    if name.is_empty() || name.starts_with('-') || !name.chars().all(valid) {
        return Err(format!("argument `name`: {name:?} is not a sysctl key"));
    }
    Ok(name)
}

fn sysctl_file(args: &Args) -> Result<String, String> {
    let p = args
        .str("sysctl_file")?
        .unwrap_or_else(|| DEFAULT_FILE.into());
    if !p.starts_with('/') {
        return Err(format!(
            "argument `sysctl_file` must be an absolute path, got {p:?}"
        ));
    }
    Ok(p)
}

/// The value as Ansible normalizes it: booleans become 1/0, ends trimmed.
fn value(args: &Args) -> Result<Option<String>, String> {
    let v = match (args.str("value")?, args.str("val")?) {
        (Some(v), None) | (None, Some(v)) => v,
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => return Err("give only one of `value` and `val`".into()),
    };
    let v = match v.to_lowercase().as_str() {
        "yes" | "true" | "on" | "y" | "t" => "1".to_string(),
        "no" | "false" | "off" | "n" | "f" => "0".to_string(),
        _ => v.trim().to_string(),
    };
    if v.contains(['\n', '\r']) {
        return Err("argument `value` must be one line".into());
    }
    Ok(Some(v))
}

/// Whitespace runs compare equal (`32768\t60999` is `32768 60999`).
fn normalize(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The key a sysctl.conf line sets, if it is a setting (a leading `-`
/// means "ignore errors" to systemd-sysctl and is not part of the key).
fn line_key(line: &str) -> Option<(&str, &str)> {
    let t = line.trim();
    if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
        return None;
    }
    let (k, v) = t.split_once('=')?;
    Some((k.trim().trim_start_matches('-').trim(), v.trim()))
}

/// The file with `name` set to `value` (None: removed). Unchanged when the
/// value the file gives the key already is `value`.
fn edit(old: &str, name: &str, value: Option<&str>) -> String {
    let same_key = |l: &str| {
        line_key(l).is_some_and(|(k, _)| k == name || k.replace('/', ".") == name.replace('/', "."))
    };
    // The last setting of the key is the one that takes effect.
    let current = old
        .lines()
        .rev()
        .filter(|l| same_key(l))
        .find_map(line_key)
        .map(|(_, v)| normalize(v));
    if current.as_deref() == value.map(normalize).as_deref() {
        return old.to_string();
    }
    let mut out = String::with_capacity(old.len() + 64);
    let mut done = false;
    for line in old.lines() {
        if same_key(line) {
            if let (Some(v), false) = (value, done) {
                out.push_str(&format!("{name}={v}\n"));
            }
            done = true;
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if let (Some(v), false) = (value, done) {
        out.push_str(&format!("{name}={v}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check, file, missing, scripts, stdins};
    use super::*;
    use crate::facts::Facts;
    use serde_json::json;

    const K8S: &str = "/etc/sysctl.d/99-kubernetes.conf";

    fn facts(content: Option<&str>, live: Option<&str>) -> Facts {
        let mut f = Facts::default();
        f.files
            .insert(K8S.into(), content.map(file).unwrap_or_else(missing));
        f.sysctls
            .insert("net.ipv4.ip_forward".into(), live.map(String::from));
        f
    }

    #[test]
    fn file_edits() {
        let cases = [
            ("", Some("1"), "net.ipv4.ip_forward=1\n"),
            ("# k8s\n", Some("1"), "# k8s\nnet.ipv4.ip_forward=1\n"),
            (
                "a = 1\nnet.ipv4.ip_forward = 0\nb=2\nnet.ipv4.ip_forward=0\n",
                Some("1"),
                "a = 1\nnet.ipv4.ip_forward=1\nb=2\n",
            ),
            (
                "net.ipv4.ip_forward = 1\n",
                Some("1"),
                "net.ipv4.ip_forward = 1\n",
            ),
            (
                "-net.ipv4.ip_forward=0",
                Some("1"),
                "net.ipv4.ip_forward=1\n",
            ),
            ("x=1\nnet.ipv4.ip_forward = 1\n", None, "x=1\n"),
            ("x=1", None, "x=1"),
            (
                "#net.ipv4.ip_forward=0\n",
                Some("1"),
                "#net.ipv4.ip_forward=0\nnet.ipv4.ip_forward=1\n",
            ),
            (
                "net/ipv4/ip_forward=0\n",
                Some("1"),
                "net.ipv4.ip_forward=1\n",
            ),
        ];
        for (old, v, want) in cases {
            assert_eq!(edit(old, "net.ipv4.ip_forward", v), want, "{old:?}");
        }
    }

    #[test]
    fn table() {
        let args = json!({"name": "net.ipv4.ip_forward", "value": "1", "sysctl_file": K8S});
        // (file, live, expect file write, expect live set)
        let cases = [
            (Some("net.ipv4.ip_forward=1\n"), Some("1"), false, false),
            (None, Some("1"), true, false),
            (Some("net.ipv4.ip_forward=1\n"), Some("0"), false, true),
            (None, Some("0"), true, true),
            (None, None, true, true),
        ];
        for (content, live, write, set) in cases {
            let f = facts(content, live);
            let plan = check(&Sysctl, &f, args.clone()).unwrap();
            assert_eq!(plan.changed, write || set, "{content:?} {live:?}");
            let s = scripts(&plan);
            assert_eq!(s.len(), write as usize + set as usize);
            if write {
                assert!(s[0].contains("mv -f"), "{}", s[0]);
                assert_eq!(stdins(&plan)[0].as_deref(), Some("net.ipv4.ip_forward=1\n"));
            }
            if set {
                assert_eq!(s.last().unwrap(), "sysctl -q -w 'net.ipv4.ip_forward=1'");
                assert!(plan.updates.contains(&FactUpdate::Sysctl(
                    "net.ipv4.ip_forward".into(),
                    "1".into()
                )));
            }
        }
    }

    #[test]
    fn reload_off_only_writes_the_file_and_absent_removes() {
        let f = facts(Some("net.ipv4.ip_forward=1\n"), Some("0"));
        let p = check(&Sysctl, &f, json!({"name": "net.ipv4.ip_forward", "value": true, "sysctl_file": K8S, "reload": false})).unwrap();
        assert!(!p.changed, "{p:?}");
        let p = check(
            &Sysctl,
            &f,
            json!({"name": "net.ipv4.ip_forward", "state": "absent", "sysctl_file": K8S}),
        )
        .unwrap();
        assert!(p.changed);
        assert_eq!(stdins(&p), vec![Some(String::new())]);
        let f = facts(Some("net.ipv4.ip_forward=1\n"), Some("1"));
        let p = check(&Sysctl, &f, json!({"name": "net.ipv4.ip_forward", "value": 0, "sysctl_file": K8S, "ignoreerrors": true})).unwrap();
        assert_eq!(scripts(&p)[1], "sysctl -e -q -w 'net.ipv4.ip_forward=0'");
        let diff = p.diff.unwrap();
        assert!(
            diff.ends_with("-net.ipv4.ip_forward: 1\n+net.ipv4.ip_forward: 0\n"),
            "{diff}"
        );
        assert!(diff.contains("+net.ipv4.ip_forward=0"), "{diff}");
    }

    #[test]
    fn errors() {
        let f = facts(None, Some("0"));
        for args in [
            json!({"value": "1"}),
            json!({"name": "net.ipv4.ip_forward", "sysctl_file": K8S}),
            json!({"name": "a b", "value": 1, "sysctl_file": K8S}),
            json!({"name": "net.ipv4.ip_forward", "value": "1\nx=2", "sysctl_file": K8S}),
            json!({"name": "net.ipv4.ip_forward", "value": 1}),
            json!({"name": "net.ipv4.ip_forward", "value": 1, "sysctl_file": "rel"}),
            json!({"name": "net.ipv4.ip_forward", "value": 1, "sysctl_file": K8S, "state": "on"}),
        ] {
            assert!(check(&Sysctl, &f, args.clone()).is_err(), "{args}");
        }
    }
}
