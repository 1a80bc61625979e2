//! group: a local group present (with its gid) or absent, with groupadd, groupmod and groupdel as Ansible runs them.
//!
//! Decided from /etc/group as gathered with the play's facts, so a group
//! already as wanted costs no command. Returns Ansible's keys: `name`,
//! `state`, and for a present group `gid` and `system`.

use serde_json::{json, Map, Value};

use super::accounts::{account_needs, group_update, groups, next_id, valid_name};
use super::{q, Args, Context, Module, Plan};
use crate::facts::FactRequest;

pub struct Group;

/// The decision and the group as it is afterwards (None: absent).
struct Decision {
    plan: Plan,
    gid: Option<u32>,
}

impl Module for Group {
    fn name(&self) -> &'static str {
        "group"
    }

    fn params(&self) -> &'static [&'static str] {
        &["name", "gid", "state", "system", "force", "non_unique"]
    }

    fn unsupported(&self) -> &'static [(&'static str, &'static str)] {
        &[(
            "local",
            "kubestrap manages the host's own files with groupadd; there is no central directory to bypass",
        )]
    }

    fn needs(&self, _args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(account_needs(false))
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        Ok(decide(args, ctx)?.plan)
    }

    fn returns(&self, args: &Args, ctx: &Context) -> Result<Map<String, Value>, String> {
        let d = decide(args, ctx)?;
        let mut m = Map::new();
        m.insert("name".into(), json!(args.req_str("name")?));
        let present = d.gid.is_some();
        m.insert(
            "state".into(),
            json!(if present { "present" } else { "absent" }),
        );
        if let Some(gid) = d.gid {
            m.insert("gid".into(), json!(gid));
            m.insert("system".into(), json!(args.bool("system", false)?));
        }
        Ok(m)
    }
}

/// A gid argument: a whole number.
pub fn id_arg(args: &Args, key: &str) -> Result<Option<u32>, String> {
    args.str(key)?
        .map(|s| {
            s.parse::<u32>()
                .map_err(|_| format!("argument `{key}` must be a number, got {s:?}"))
        })
        .transpose()
}

fn decide(args: &Args, ctx: &Context) -> Result<Decision, String> {
    let name = args.req_str("name")?;
    if !valid_name(&name) {
        return Err(format!("invalid group name {name:?}"));
    }
    let present = args.choice("state", &["present", "absent"], "present")? == "present";
    let gid = id_arg(args, "gid")?;
    let system = args.bool("system", false)?;
    let non_unique = if args.bool("non_unique", false)? {
        " -o"
    } else {
        ""
    };
    let all = groups(ctx.facts)?;
    let current = all.iter().find(|g| g.name == name);
    Ok(match (present, current) {
        (false, None) => Decision {
            plan: Plan::noop(format!("group {name} is absent")),
            gid: None,
        },
        (false, Some(_)) => {
            let force = if args.bool("force", false)? {
                "-f "
            } else {
                ""
            };
            let mut plan = Plan::run(
                format!("group {name} removed"),
                format!("groupdel {force}{}\n", q(&name)),
            );
            plan.updates = vec![group_update(ctx.facts, &[], &[&name])?];
            Decision { plan, gid: None }
        }
        (true, None) => {
            let mut cmd = String::from("groupadd");
            if let Some(g) = gid {
                cmd.push_str(&format!(" -g {g}{non_unique}"));
            }
            if system {
                cmd.push_str(" -r");
            }
            let new_gid = gid.unwrap_or_else(|| next_id(all.iter().map(|g| g.gid), system));
            if let Some(g) = gid.and_then(|g| all.iter().find(|o| o.gid == g)) {
                if non_unique.is_empty() {
                    return Err(format!(
                        "GID '{}' already exists with group '{}'",
                        g.gid, g.name
                    ));
                }
            }
            let mut plan = Plan::run(
                format!("group {name} added"),
                format!("{cmd} {}\n", q(&name)),
            );
            let entry = super::accounts::GroupEntry {
                name: name.clone(),
                gid: new_gid,
                members: Vec::new(),
            };
            plan.updates = vec![group_update(ctx.facts, &[entry], &[])?];
            plan.diff = Some(format!("group {name} added (gid {new_gid})\n"));
            Decision {
                plan,
                gid: Some(new_gid),
            }
        }
        (true, Some(cur)) => match gid.filter(|g| *g != cur.gid) {
            None => Decision {
                plan: Plan::noop(format!("group {name} is present (gid {})", cur.gid)),
                gid: Some(cur.gid),
            },
            Some(g) => {
                let mut plan = Plan::run(
                    format!("group {name}: gid {} → {g}", cur.gid),
                    format!("groupmod -g {g}{non_unique} {}\n", q(&name)),
                );
                let mut entry = cur.clone();
                entry.gid = g;
                plan.updates = vec![group_update(ctx.facts, &[entry], &[])?];
                plan.diff = Some(format!("group {name}: gid {} → {g}\n", cur.gid));
                Decision { plan, gid: Some(g) }
            }
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{args, check_files, file, only_run, with_ctx};
    use super::*;
    use crate::facts::{FactUpdate, FileState};

    const GROUPS: &str = "root:x:0:\nusers:x:100:\nops:x:1000:kube\n";

    fn files(group: &str) -> Vec<(&'static str, FileState)> {
        vec![
            ("/etc/group", file(group)),
            ("/etc/passwd", file("root:x:0:0:root:/root:/bin/bash\n")),
        ]
    }

    /// (what, args, script or None for no change, /etc/group afterwards, returned gid)
    type Case<'a> = (&'a str, Value, Option<&'a str>, &'a str, Option<u32>);

    #[test]
    fn plans_from_etc_group() {
        let table: Vec<Case> = vec![
            (
                "present already",
                json!({"name": "ops"}),
                None,
                GROUPS,
                Some(1000),
            ),
            (
                "added with the next gid",
                json!({"name": "app"}),
                Some("groupadd 'app'\n"),
                "root:x:0:\nusers:x:100:\nops:x:1000:kube\napp:x:1001:\n",
                Some(1001),
            ),
            (
                "added with its gid, as a system group",
                json!({"name": "app", "gid": 950, "system": true}),
                Some("groupadd -g 950 -r 'app'\n"),
                "root:x:0:\nusers:x:100:\nops:x:1000:kube\napp:x:950:\n",
                Some(950),
            ),
            (
                "gid changed, members kept",
                json!({"name": "ops", "gid": "1500"}),
                Some("groupmod -g 1500 'ops'\n"),
                "root:x:0:\nusers:x:100:\nops:x:1500:kube\n",
                Some(1500),
            ),
            (
                "removed",
                json!({"name": "ops", "state": "absent", "force": true}),
                Some("groupdel -f 'ops'\n"),
                "root:x:0:\nusers:x:100:\n",
                None,
            ),
            (
                "absent already",
                json!({"name": "nope", "state": "absent"}),
                None,
                GROUPS,
                None,
            ),
        ];
        for (what, a, script, after, gid) in table {
            let f = files(GROUPS);
            let plan = check_files(&Group, a.clone(), &f).unwrap_or_else(|e| panic!("{what}: {e}"));
            match script {
                None => assert!(!plan.changed && plan.actions.is_empty(), "{what}: {plan:?}"),
                Some(s) => {
                    assert!(plan.changed, "{what}");
                    assert_eq!(only_run(&plan).0, s, "{what}");
                    let got = plan.updates.iter().find_map(|u| match u {
                        FactUpdate::File(p, st) if p == "/etc/group" => st.content.clone(),
                        _ => None,
                    });
                    assert_eq!(got.as_deref(), Some(after.as_bytes()), "{what}");
                }
            }
            let facts = super::super::test_kit::facts_of_files(&f);
            let ret = with_ctx(&facts, |ctx| Group.returns(&args(a), ctx)).unwrap();
            assert_eq!(
                ret.get("gid").and_then(Value::as_u64),
                gid.map(u64::from),
                "{what}"
            );
        }
    }

    #[test]
    fn bad_arguments_are_one_line_errors() {
        let table = [
            (json!({}), "missing required argument `name`"),
            (json!({"name": "a b"}), "invalid group name \"a b\""),
            (
                json!({"name": "x", "gid": "ten"}),
                "argument `gid` must be a number, got \"ten\"",
            ),
            (
                json!({"name": "x", "gid": 1000}),
                "GID '1000' already exists with group 'ops'",
            ),
        ];
        for (a, want) in table {
            assert_eq!(check_files(&Group, a, &files(GROUPS)).unwrap_err(), want);
        }
    }
}
