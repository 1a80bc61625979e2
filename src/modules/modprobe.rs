//! modprobe: a kernel module, in modules-load.d and loaded where the host allows.
//!
//! As community.general.modprobe. `persistent: present` writes
//! `/etc/modules-load.d/NAME.conf` (and `/etc/modprobe.d/NAME.conf` with the
//! `params`); `absent` removes those two files; `disabled` (the default)
//! leaves them alone. Loading: a module already in /proc/modules is left
//! alone; otherwise `modprobe` runs, and when it fails because the host cannot
//! load modules (a container, no /lib/modules) the task still succeeds if the
//! module is present in /sys/module (built in, or loaded by the host's
//! kernel); if it is not, the task fails, since what needs it would fail later.
//! A kernel without loadable module support (no /proc/modules: everything
//! it has is built in) gets no live `modprobe` at all: the persistent files
//! are still managed, and the result says live loading was skipped.

use super::sys_common::{file_fact, file_text, missing_state, shlex_split, written_state};
use super::{q, write_file_with, Action, Args, Context, Module, Plan, WriteOpts};
use crate::facts::{FactRequest, FactUpdate, FileKind};

pub struct Modprobe;

impl Module for Modprobe {
    fn name(&self) -> &'static str {
        "modprobe"
    }

    fn params(&self) -> &'static [&'static str] {
        &["name", "state", "params", "persistent"]
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let name = module_name(args)?;
        if args.choice("persistent", &["present", "absent", "disabled"], "disabled")? == "disabled"
        {
            return Ok(Vec::new());
        }
        Ok(files(&name)
            .into_iter()
            .map(|path| FactRequest::File {
                path,
                content: true,
            })
            .collect())
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let name = module_name(args)?;
        let state = args.choice("state", &["present", "absent"], "present")?;
        let persistent =
            args.choice("persistent", &["present", "absent", "disabled"], "disabled")?;
        let params = args.str("params")?.unwrap_or_default();
        let words = shlex_split(&params).map_err(|e| format!("argument `params`: {e}"))?;
        // Words starting with `-` would be modprobe options, not module parameters.
        if words.iter().any(|w| w.starts_with('-')) {
            return Err(
                "argument `params` must be module parameters (`key=value`), not options".into(),
            );
        }
        let canonical = name.replace('-', "_");
        let loaded = ctx.facts.kernel_modules.contains(&canonical);

        let mut plan = Plan::default();
        let mut diff = String::new();
        let mut what = Vec::new();
        let live = ctx.facts.loadable_modules;
        let mut skipped = None;
        match (state.as_str(), loaded) {
            ("present", false) if !live => skipped = Some("loading"),
            ("absent", true) if !live => skipped = Some("unloading"),
            ("present", false) => {
                let mut cmd = format!("modprobe -- {}", q(&name));
                for w in &words {
                    cmd.push(' ');
                    cmd.push_str(&q(w));
                }
                let sys = q(&format!("/sys/module/{canonical}"));
                let script = format!(
                    "if {cmd}; then exit 0; fi\n\
                     if [ -d {sys} ]; then echo {msg_ok} >&2; exit 0; fi\n\
                     echo {msg_fail} >&2; exit 1\n",
                    msg_ok = q(&format!("modprobe {name} failed, but the module is present in /sys/module (built in or loaded by the host kernel)")),
                    msg_fail = q(&format!("cannot load kernel module {name}: modprobe failed and /sys/module/{canonical} does not exist")),
                );
                plan.actions.push(Action::Run {
                    script,
                    stdin: None,
                });
                plan.updates
                    .push(FactUpdate::KernelModule(canonical.clone()));
                diff.push_str(&format!("-{name}: not loaded\n+{name}: loaded\n"));
                what.push(format!("{name} loaded"));
            }
            ("absent", true) => {
                plan.actions.push(Action::Run {
                    script: format!("modprobe -r -- {}", q(&name)),
                    stdin: None,
                });
                diff.push_str(&format!("-{name}: loaded\n+{name}: not loaded\n"));
                what.push(format!("{name} unloaded"));
            }
            _ => {}
        }

        let [load_file, options_file] = files(&name);
        let wanted: [(String, Option<String>); 2] = match persistent.as_str() {
            "present" => [
                (load_file, Some(format!("{name}\n"))),
                (
                    options_file,
                    (!params.trim().is_empty())
                        .then(|| format!("options {name} {}\n", params.trim())),
                ),
            ],
            "absent" => [(load_file, None), (options_file, None)],
            _ => return finish(plan, diff, what, &name, skipped),
        };
        for (path, content) in wanted {
            let fact = file_fact(ctx, &path)?;
            match content {
                Some(text) => {
                    if file_text(ctx, &path)?.as_deref() == Some(text.as_str()) {
                        continue;
                    }
                    let opts = WriteOpts {
                        create_parents: true,
                        ..WriteOpts::default()
                    };
                    plan.actions
                        .push(write_file_with(&path, text.clone().into_bytes(), &opts));
                    plan.updates.push(FactUpdate::File(
                        path.clone(),
                        written_state(Some(fact), text.as_bytes(), None),
                    ));
                    diff.push_str(&format!("+{path}: {}\n", text.trim_end()));
                    what.push(format!("{path} written"));
                }
                // Only the options file is optional with present: absent
                // params leave an existing options file as it is, as Ansible.
                None if persistent == "present" => {}
                None => {
                    if fact.kind == FileKind::Missing {
                        continue;
                    }
                    plan.actions.push(Action::Run {
                        script: format!("rm -f -- {}", q(&path)),
                        stdin: None,
                    });
                    plan.updates
                        .push(FactUpdate::File(path.clone(), missing_state()));
                    diff.push_str(&format!("-{path}\n"));
                    what.push(format!("{path} removed"));
                }
            }
        }
        finish(plan, diff, what, &name, skipped)
    }
}

/// `skipped`: the live step (`loading`, `unloading`) left out because the
/// kernel has no loadable module support.
fn finish(
    mut plan: Plan,
    diff: String,
    what: Vec<String>,
    name: &str,
    skipped: Option<&str>,
) -> Result<Plan, String> {
    let note = skipped.map(|step| {
        format!("live {step} of {name} skipped: the kernel has no loadable module support")
    });
    if plan.actions.is_empty() {
        return Ok(Plan::noop(match note {
            Some(note) => format!("{note}; nothing else to do"),
            None => format!("kernel module {name} is already as requested"),
        }));
    }
    plan.changed = true;
    plan.diff = Some(diff);
    plan.msg = what.into_iter().chain(note).collect::<Vec<_>>().join(", ");
    Ok(plan)
}

/// The persistent files for `name`: modules-load.d, then modprobe.d options.
fn files(name: &str) -> [String; 2] {
    [
        format!("/etc/modules-load.d/{name}.conf"),
        format!("/etc/modprobe.d/{name}.conf"),
    ]
}

fn module_name(args: &Args) -> Result<String, String> {
    let name = args.req_str("name")?;
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    if name.is_empty() || name.starts_with('-') || !name.chars().all(valid) {
        return Err(format!(
            "argument `name`: {name:?} is not a kernel module name"
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check, file, missing, scripts, stdins};
    use super::*;
    use crate::facts::Facts;
    use serde_json::json;

    /// A kernel with loadable modules: live modprobe as ever.
    fn facts() -> Facts {
        let mut f = Facts {
            loadable_modules: true,
            ..Facts::default()
        };
        f.kernel_modules.insert("overlay".into());
        f.kernel_modules.insert("br_netfilter".into());
        f.files
            .insert("/etc/modules-load.d/overlay.conf".into(), file("overlay\n"));
        f.files
            .insert("/etc/modprobe.d/overlay.conf".into(), missing());
        f.files
            .insert("/etc/modules-load.d/br_netfilter.conf".into(), missing());
        f.files
            .insert("/etc/modprobe.d/br_netfilter.conf".into(), missing());
        f.files
            .insert("/etc/modules-load.d/dummy.conf".into(), file("dummy\n"));
        f.files.insert(
            "/etc/modprobe.d/dummy.conf".into(),
            file("options dummy numdummies=2\n"),
        );
        f
    }

    #[test]
    fn table() {
        let f = facts();
        // (args, number of actions, first script starts with)
        let cases = [
            (json!({"name": "overlay"}), 0, ""),
            (json!({"name": "overlay", "persistent": "present"}), 0, ""),
            (
                json!({"name": "br_netfilter", "persistent": "present"}),
                1,
                "set -e",
            ),
            (json!({"name": "br-netfilter"}), 0, ""),
            (
                json!({"name": "dummy", "params": "numdummies=2"}),
                1,
                "if modprobe -- 'dummy' 'numdummies=2'; then exit 0; fi",
            ),
            (
                json!({"name": "dummy", "persistent": "present", "params": "numdummies=2"}),
                1,
                "if modprobe",
            ),
            (
                json!({"name": "dummy", "state": "absent", "persistent": "absent"}),
                2,
                "rm -f -- '/etc/modules-load.d/dummy.conf'",
            ),
            (
                json!({"name": "overlay", "state": "absent"}),
                1,
                "modprobe -r -- 'overlay'",
            ),
            (
                json!({"name": "br_netfilter", "state": "absent", "persistent": "absent"}),
                1,
                "modprobe -r",
            ),
        ];
        for (args, n, start) in cases {
            let plan = check(&Modprobe, &f, args.clone()).unwrap_or_else(|e| panic!("{args}: {e}"));
            assert_eq!(plan.actions.len(), n, "{args}: {plan:?}");
            assert_eq!(plan.changed, n > 0, "{args}");
            if n > 0 {
                assert!(
                    scripts(&plan)[0].starts_with(start),
                    "{args}: {}",
                    scripts(&plan)[0]
                );
            }
        }
    }

    /// A kernel with everything built in: no live modprobe, files as asked.
    #[test]
    fn no_loadable_module_support() {
        let mut f = facts();
        f.loadable_modules = false;
        f.files
            .insert("/etc/modules-load.d/ip_vs.conf".into(), missing());
        f.files
            .insert("/etc/modprobe.d/ip_vs.conf".into(), missing());
        // (args, scripts start with, msg)
        let cases = [
            (
                json!({"name": "dummy"}),
                vec![],
                "live loading of dummy skipped: the kernel has no loadable module support; nothing else to do",
            ),
            (
                json!({"name": "dummy", "persistent": "present", "params": "numdummies=2"}),
                vec![],
                "live loading of dummy skipped: the kernel has no loadable module support; nothing else to do",
            ),
            (
                json!({"name": "ip_vs", "persistent": "present"}),
                vec!["set -e"],
                "/etc/modules-load.d/ip_vs.conf written, live loading of ip_vs skipped: the kernel has no loadable module support",
            ),
            (
                json!({"name": "br_netfilter", "persistent": "present"}),
                vec!["set -e"],
                "/etc/modules-load.d/br_netfilter.conf written",
            ),
            (
                json!({"name": "dummy", "state": "absent", "persistent": "absent"}),
                vec!["rm -f -- '/etc/modules-load.d/dummy.conf'", "rm -f -- '/etc/modprobe.d/dummy.conf'"],
                "/etc/modules-load.d/dummy.conf removed, /etc/modprobe.d/dummy.conf removed",
            ),
            (
                json!({"name": "overlay", "state": "absent"}),
                vec![],
                "live unloading of overlay skipped: the kernel has no loadable module support; nothing else to do",
            ),
            (
                json!({"name": "overlay", "persistent": "present"}),
                vec![],
                "kernel module overlay is already as requested",
            ),
        ];
        for (args, starts, msg) in cases {
            let plan = check(&Modprobe, &f, args.clone()).unwrap_or_else(|e| panic!("{args}: {e}"));
            let got = scripts(&plan);
            assert_eq!(got.len(), starts.len(), "{args}: {got:?}");
            for (s, start) in got.iter().zip(&starts) {
                assert!(s.starts_with(start), "{args}: {s}");
                assert!(!s.contains("modprobe -"), "{args}: {s}");
            }
            assert_eq!(plan.changed, !starts.is_empty(), "{args}");
            assert_eq!(plan.msg, msg, "{args}");
            assert!(
                !plan
                    .updates
                    .iter()
                    .any(|u| matches!(u, FactUpdate::KernelModule(_))),
                "{args}: nothing was loaded"
            );
        }
    }

    #[test]
    fn load_falls_back_to_sys_module_and_records_the_fact() {
        let f = facts();
        let plan = check(&Modprobe, &f, json!({"name": "dummy"})).unwrap();
        let s = &scripts(&plan)[0];
        assert!(s.contains("if [ -d '/sys/module/dummy' ]; then"), "{s}");
        assert!(s.ends_with("exit 1\n"));
        assert_eq!(plan.updates, vec![FactUpdate::KernelModule("dummy".into())]);
        let plan = check(
            &Modprobe,
            &f,
            json!({"name": "br_netfilter", "persistent": "present", "params": ""}),
        )
        .unwrap();
        assert_eq!(stdins(&plan), vec![Some("br_netfilter\n".to_string())]);
    }

    #[test]
    fn errors() {
        let f = facts();
        for args in [
            json!({}),
            json!({"name": "a/b"}),
            json!({"name": "-r"}),
            json!({"name": "x", "state": "loaded"}),
            json!({"name": "x", "persistent": "yes"}),
            json!({"name": "x", "params": "a='b"}),
            json!({"name": "nofacts", "persistent": "present"}),
            json!({"name": "x", "params": "--force"}),
        ] {
            assert!(check(&Modprobe, &f, args.clone()).is_err(), "{args}");
        }
    }
}
