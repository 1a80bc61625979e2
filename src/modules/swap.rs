//! swap: swap off now, fstab swap lines commented out, swap units masked.
//!
//! kubestrap's own module (kubelet refuses to run with swap on by default);
//! Ansible playbooks do the same with a command, a replace and a systemd task.
//! It never turns swap on: the only state is `off`. Swap lines are commented
//! out, not deleted, so an operator can see and restore them; every swap unit
//! systemd knows is masked, so neither fstab's generator nor a zram/swapfile
//! unit brings swap back after a reboot. A swap unit whose state the facts do
//! not hold is masked again (masking is idempotent on the host).

use super::sys_common::{file_fact, file_text, text_diff, written_state};
use super::{q, write_file_with, Action, Args, Context, Module, Plan, WriteOpts};
use crate::facts::{FactRequest, FactUpdate};

pub struct Swap;

const FSTAB: &str = "/etc/fstab";

impl Module for Swap {
    fn name(&self) -> &'static str {
        "swap"
    }

    fn params(&self) -> &'static [&'static str] {
        &["state"]
    }

    fn needs(&self, _args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(vec![FactRequest::File {
            path: FSTAB.into(),
            content: true,
        }])
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        args.choice("state", &["off"], "off")?;
        let facts = ctx.facts;
        let mut plan = Plan::default();
        let mut diff = String::new();
        let mut what = Vec::new();

        if !facts.swaps.is_empty() {
            plan.actions.push(Action::Run {
                script: "swapoff -a".into(),
                stdin: None,
            });
            plan.updates.push(FactUpdate::SwapsOff);
            for s in &facts.swaps {
                diff.push_str(&format!("-swap: {s}\n"));
            }
            what.push(format!("swap off ({})", facts.swaps.join(", ")));
        }

        let old = file_text(ctx, FSTAB)?.unwrap_or_default();
        let new = comment_swap_lines(&old);
        if new != old {
            let opts = WriteOpts {
                backup: true,
                follow: true,
                ..WriteOpts::default()
            };
            plan.actions
                .push(write_file_with(FSTAB, new.clone().into_bytes(), &opts));
            plan.updates.push(FactUpdate::File(
                FSTAB.into(),
                written_state(Some(file_fact(ctx, FSTAB)?), new.as_bytes(), None),
            ));
            diff.push_str(&text_diff(FSTAB, &old, &new));
            what.push("fstab swap lines commented out".to_string());
        }

        let to_mask: Vec<&String> = facts
            .swap_units
            .iter()
            .filter(|u| {
                facts
                    .units
                    .get(*u)
                    .is_none_or(|s| s.load_state != "masked" && s.unit_file_state != "masked")
            })
            .collect();
        if !to_mask.is_empty() {
            let names: Vec<String> = to_mask.iter().map(|u| q(u)).collect();
            plan.actions.push(Action::Run {
                script: format!("systemctl mask {}", names.join(" ")),
                stdin: None,
            });
            for u in &to_mask {
                plan.updates.push(FactUpdate::SwapUnitMasked((*u).clone()));
                diff.push_str(&format!("-{u}: unmasked\n+{u}: masked\n"));
            }
            let list: Vec<&str> = to_mask.iter().map(|u| u.as_str()).collect();
            what.push(format!("masked {}", list.join(", ")));
        }

        if plan.actions.is_empty() {
            return Ok(Plan::noop(
                "swap is off, fstab has no active swap line, swap units are masked",
            ));
        }
        plan.changed = true;
        plan.diff = Some(diff);
        plan.msg = what.join("; ");
        Ok(plan)
    }
}

/// fstab with every active swap entry (third field `swap`) commented out.
fn comment_swap_lines(fstab: &str) -> String {
    let mut out = String::with_capacity(fstab.len() + 16);
    for line in fstab.split_inclusive('\n') {
        let t = line.trim_start();
        let is_swap = !t.starts_with('#') && t.split_whitespace().nth(2) == Some("swap");
        if is_swap {
            out.push('#');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{after, check, file, missing, scripts, stdins};
    use super::*;
    use crate::facts::{Facts, UnitState};
    use serde_json::json;

    const FSTAB_SWAP: &str = "UUID=1 / ext4 errors=remount-ro 0 1\n\
        UUID=2 none swap sw 0 0\n\
        # /swapfile none swap sw 0 0\n\
        /swap.img\tnone\tswap\tsw\t0\t0";

    fn masked() -> UnitState {
        UnitState {
            load_state: "masked".into(),
            active_state: "inactive".into(),
            unit_file_state: "masked".into(),
            ..Default::default()
        }
    }

    #[test]
    fn comments_only_active_swap_lines() {
        assert_eq!(
            comment_swap_lines(FSTAB_SWAP),
            "UUID=1 / ext4 errors=remount-ro 0 1\n\
             #UUID=2 none swap sw 0 0\n\
             # /swapfile none swap sw 0 0\n\
             #/swap.img\tnone\tswap\tsw\t0\t0"
        );
        assert_eq!(comment_swap_lines(""), "");
        assert_eq!(
            comment_swap_lines("/dev/sda1 /swap ext4 defaults 0 0\n"),
            "/dev/sda1 /swap ext4 defaults 0 0\n"
        );
    }

    /// Swaps, fstab, swap units (masked or not), expected script kinds.
    type Case<'a> = (Vec<&'a str>, Option<&'a str>, Vec<(&'a str, bool)>, &'a str);

    #[test]
    fn table() {
        // Kinds: o swapoff, f fstab write, m mask.
        let cases: Vec<Case> = vec![
            (vec![], Some("UUID=1 / ext4 defaults 0 1\n"), vec![], ""),
            (vec![], None, vec![("dev-sda2.swap", true)], ""),
            (
                vec!["/dev/sda2"],
                Some(FSTAB_SWAP),
                vec![("dev-sda2.swap", false)],
                "ofm",
            ),
            (
                vec!["/dev/sda2"],
                Some("#UUID=2 none swap sw 0 0\n"),
                vec![],
                "o",
            ),
            (vec![], Some(FSTAB_SWAP), vec![], "f"),
            (
                vec![],
                None,
                vec![("swap.img.swap", false), ("dev-zram0.swap", true)],
                "m",
            ),
        ];
        for (swaps, fstab, units, kinds) in cases {
            let mut f = Facts {
                swaps: swaps.iter().map(|s| s.to_string()).collect(),
                ..Facts::default()
            };
            f.files
                .insert(FSTAB.into(), fstab.map(file).unwrap_or_else(missing));
            for (u, is_masked) in &units {
                f.swap_units.push(u.to_string());
                if *is_masked {
                    f.units.insert(u.to_string(), masked());
                }
            }
            let plan = check(&Swap, &f, json!({"state": "off"})).unwrap();
            assert_eq!(plan.changed, !kinds.is_empty());
            let s = scripts(&plan);
            assert_eq!(s.len(), kinds.len(), "{swaps:?} {fstab:?} {units:?}");
            for (script, k) in s.iter().zip(kinds.chars()) {
                match k {
                    'o' => assert_eq!(script, "swapoff -a"),
                    'f' => assert!(
                        script.contains("cp -p") && script.contains("mv -f"),
                        "{script}"
                    ),
                    _ => assert!(script.starts_with("systemctl mask '"), "{script}"),
                }
            }
            assert!(s.iter().all(|x| !x.contains("swapon")));
        }
    }

    #[test]
    fn updates() {
        let mut f = Facts {
            swaps: vec!["/swap.img".into()],
            swap_units: vec!["swap.img.swap".into()],
            ..Facts::default()
        };
        f.files.insert(FSTAB.into(), file(FSTAB_SWAP));
        let plan = check(&Swap, &f, json!({})).unwrap();
        assert_eq!(plan.updates[0], FactUpdate::SwapsOff);
        assert!(
            matches!(&plan.updates[1], FactUpdate::File(p, s) if p == FSTAB && s.content.as_deref().is_some_and(|c| c.starts_with(b"UUID=1")))
        );
        assert_eq!(
            plan.updates[2],
            FactUpdate::SwapUnitMasked("swap.img.swap".into())
        );
        assert_eq!(scripts(&plan)[2], "systemctl mask 'swap.img.swap'");
        assert!(stdins(&plan)[1]
            .as_deref()
            .is_some_and(|s| s.contains("#UUID=2 none swap")));
        // The same host after the change: nothing to do.
        assert!(!check(&Swap, &after(&f, &plan), json!({})).unwrap().changed);
        assert!(check(&Swap, &f, json!({"state": "on"})).is_err());
    }
}
