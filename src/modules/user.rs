//! user: a local account present (uid, groups, shell, home, comment, password hash) or absent, with useradd/usermod/userdel as Ansible runs them.
//!
//! Decided from /etc/passwd, /etc/group (and /etc/shadow when a password is
//! given) as gathered with the play's facts, so an account already as
//! wanted costs no command. The commands and their arguments are Ansible's
//! (Debian: `-N` when a group named like the user exists, `-a -G` to
//! append), so both tools leave the same lines. The password hash travels
//! on the command's stdin, never in a script, a message or a diff.

use serde_json::{json, Map, Value};

use super::accounts::{
    account_needs, find_group, group_update, groups, next_id, passwd_update, shadow_hash,
    shadow_update, users, valid_name, GroupEntry, PasswdEntry,
};
use super::file_facts::{fact, parent};
use super::group::id_arg;
use super::{q, Action, Args, Context, Module, Plan};
use crate::facts::{FactRequest, FactUpdate, Facts, FileKind, FileState};

pub struct User;

impl Module for User {
    fn name(&self) -> &'static str {
        "user"
    }

    fn params(&self) -> &'static [&'static str] {
        &[
            "name",
            "user",
            "uid",
            "group",
            "groups",
            "append",
            "shell",
            "home",
            "create_home",
            "createhome",
            "move_home",
            "system",
            "state",
            "comment",
            "password",
            "update_password",
            "remove",
            "force",
            "non_unique",
        ]
    }

    fn unsupported(&self) -> &'static [(&'static str, &'static str)] {
        const WHY: &str = "not implemented by kubestrap's user module";
        &[
            ("generate_ssh_key", "kubestrap does not generate keys on hosts; use authorized_key with a key from the controller"),
            ("ssh_key_bits", WHY),
            ("ssh_key_comment", WHY),
            ("ssh_key_file", WHY),
            ("ssh_key_passphrase", WHY),
            ("ssh_key_type", WHY),
            ("expires", WHY),
            ("inactive", WHY),
            ("password_expire_max", WHY),
            ("password_expire_min", WHY),
            ("password_expire_warn", WHY),
            ("password_expire_account_disable", WHY),
            ("password_lock", WHY),
            ("skeleton", WHY),
            ("umask", WHY),
            ("uid_min", WHY),
            ("uid_max", WHY),
            ("seuser", "kubestrap targets Debian and Ubuntu hosts, without SELinux"),
            ("local", "kubestrap manages the host's own files with useradd; there is no central directory to bypass"),
            ("login_class", "BSD only"),
            ("hidden", "macOS only"),
            ("profile", "Illumos/Solaris only"),
            ("authorization", "Illumos/Solaris only"),
            ("role", "Illumos/Solaris only"),
        ]
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        let name = name_arg(args)?;
        let mut out = account_needs(args.has("password"));
        // The usual home, so that a missing one is seen in the first gather.
        let home = match args.str("home")? {
            Some(h) => h,
            None => default_home(&name),
        };
        out.push(FactRequest::File {
            path: home,
            content: false,
        });
        Ok(out)
    }

    fn needs_after(&self, args: &Args, facts: &Facts) -> Vec<FactRequest> {
        let (Ok(name), Ok(None)) = (name_arg(args), args.str("home")) else {
            return Vec::new();
        };
        match users(facts)
            .ok()
            .and_then(|u| u.into_iter().find(|u| u.name == name))
        {
            Some(u) => vec![FactRequest::File {
                path: u.home,
                content: false,
            }],
            None => Vec::new(),
        }
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        Ok(decide(args, ctx)?.0)
    }

    fn returns(&self, args: &Args, ctx: &Context) -> Result<Map<String, Value>, String> {
        let (_, after, created) = decide(args, ctx)?;
        let present = args.choice("state", &["present", "absent"], "present")? == "present";
        let mut m = Map::new();
        m.insert("name".into(), json!(name_arg(args)?));
        m.insert(
            "state".into(),
            json!(if present { "present" } else { "absent" }),
        );
        if !present {
            if after.is_none() {
                m.insert("force".into(), json!(args.bool("force", false)?));
                m.insert("remove".into(), json!(args.bool("remove", false)?));
            }
            return Ok(m);
        }
        if created {
            m.insert("system".into(), json!(args.bool("system", false)?));
            m.insert("create_home".into(), json!(create_home(args)?));
        } else {
            m.insert("append".into(), json!(args.bool("append", false)?));
            m.insert("move_home".into(), json!(args.bool("move_home", false)?));
        }
        if args.has("password") {
            m.insert("password".into(), json!("NOT_LOGGING_PASSWORD"));
        }
        if let Some(u) = after {
            m.insert("uid".into(), json!(u.uid));
            m.insert("group".into(), json!(u.gid));
            m.insert("comment".into(), json!(u.comment));
            m.insert("home".into(), json!(u.home));
            m.insert("shell".into(), json!(u.shell));
        }
        if args.has("groups") {
            m.insert("groups".into(), json!(args.list("groups")?.join(",")));
        }
        Ok(m)
    }
}

fn name_arg(args: &Args) -> Result<String, String> {
    let name = match args.str("name")? {
        Some(n) => n,
        None => args
            .req_str("user")
            .map_err(|_| "missing required argument `name`")?,
    };
    if !valid_name(&name) {
        return Err(format!("invalid user name {name:?}"));
    }
    Ok(name)
}

fn default_home(name: &str) -> String {
    if name == "root" {
        "/root".into()
    } else {
        format!("/home/{name}")
    }
}

fn create_home(args: &Args) -> Result<bool, String> {
    let alias = args.bool("createhome", true)?;
    args.bool("create_home", alias)
}

/// What the task asks of the account.
struct Want {
    name: String,
    uid: Option<u32>,
    group: Option<String>,
    /// None: not managed; Some(empty): no supplementary groups.
    groups: Option<Vec<String>>,
    append: bool,
    shell: Option<String>,
    home: Option<String>,
    comment: Option<String>,
    password: Option<String>,
    system: bool,
    create_home: bool,
    move_home: bool,
    non_unique: bool,
}

impl Want {
    fn from_args(args: &Args) -> Result<Want, String> {
        let groups = if args.has("groups") {
            Some(args.list("groups")?)
        } else {
            None
        };
        let update = args.choice("update_password", &["always", "on_create"], "always")?;
        Ok(Want {
            name: name_arg(args)?,
            uid: id_arg(args, "uid")?,
            group: args.str("group")?,
            groups,
            append: args.bool("append", false)?,
            shell: args.str("shell")?,
            home: args.str("home")?,
            comment: args.str("comment")?,
            password: args.str("password")?.filter(|_| update == "always"),
            system: args.bool("system", false)?,
            create_home: create_home(args)?,
            move_home: args.bool("move_home", false)?,
            non_unique: args.bool("non_unique", false)?,
        })
    }
}

/// The plan, the account afterwards (None: absent), and whether it is created.
fn decide(args: &Args, ctx: &Context) -> Result<(Plan, Option<PasswdEntry>, bool), String> {
    let present = args.choice("state", &["present", "absent"], "present")? == "present";
    let name = name_arg(args)?;
    let all = users(ctx.facts)?;
    let current = all.iter().find(|u| u.name == name).cloned();
    if !present {
        let Some(cur) = current else {
            return Ok((Plan::noop(format!("user {name} is absent")), None, false));
        };
        let mut cmd = String::from("userdel");
        if args.bool("force", false)? {
            cmd.push_str(" -f");
        }
        if args.bool("remove", false)? {
            cmd.push_str(" -r");
        }
        let mut plan = Plan::run(
            format!("user {name} removed"),
            format!("{cmd} {}\n", q(&name)),
        );
        let gs = groups(ctx.facts)?;
        let mut changed: Vec<GroupEntry> = gs
            .iter()
            .filter(|g| g.members.contains(&name))
            .map(|g| without_member(g, &name))
            .collect();
        // userdel removes the user's own group when nobody else uses it.
        let own = gs
            .iter()
            .find(|g| g.name == name && g.gid == cur.gid && g.members.iter().all(|m| *m == name));
        changed.retain(|g| own.is_none_or(|o| o.name != g.name));
        let removed: Vec<&str> = own.map(|g| g.name.as_str()).into_iter().collect();
        plan.updates = vec![
            passwd_update(ctx.facts, &name, None)?,
            group_update(ctx.facts, &changed, &removed)?,
        ];
        return Ok((plan, None, false));
    }
    let want = Want::from_args(args)?;
    match current {
        None => create(&want, ctx).map(|(p, e)| (p, Some(e), true)),
        Some(cur) => modify(&want, &cur, ctx).map(|(p, e)| (p, Some(e), false)),
    }
}

fn without_member(g: &GroupEntry, name: &str) -> GroupEntry {
    let mut g = g.clone();
    g.members.retain(|m| m != name);
    g
}

/// The script's first line when a password hash comes on stdin.
fn read_password(plan: &mut Plan, want: &Want, script: &str) {
    if let (Some(pw), [Action::Run { script: s, stdin }]) = (&want.password, &mut plan.actions[..])
    {
        *s = format!("set -e\nIFS= read -r pw\n{script}");
        *stdin = Some(format!("{pw}\n").into_bytes());
    }
}

fn create(want: &Want, ctx: &Context) -> Result<(Plan, PasswdEntry), String> {
    let name = &want.name;
    let gs = groups(ctx.facts)?;
    let all = users(ctx.facts)?;
    let mut cmd = String::from("useradd");
    if let Some(u) = want.uid {
        cmd.push_str(&format!(" -u {u}"));
        if want.non_unique {
            cmd.push_str(" -o");
        }
    }
    let uid = want
        .uid
        .unwrap_or_else(|| next_id(all.iter().map(|u| u.uid), want.system));
    let mut new_groups: Vec<GroupEntry> = Vec::new();
    let gid = match &want.group {
        Some(g) => {
            let entry = find_group(&gs, g).ok_or_else(|| format!("Group {g} does not exist"))?;
            cmd.push_str(&format!(" -g {}", q(g)));
            entry.gid
        }
        None => match gs.iter().find(|g| g.name == *name) {
            // Ansible's -N: no user group when one of that name exists;
            // useradd then takes /etc/default/useradd's GROUP (100, users).
            Some(_) => {
                cmd.push_str(" -N");
                100
            }
            None => {
                // USERGROUPS_ENAB (Debian's default): a group named like the
                // user, with the uid as gid when that is free.
                let gid = if gs.iter().any(|g| g.gid == uid) {
                    next_id(gs.iter().map(|g| g.gid), want.system)
                } else {
                    uid
                };
                new_groups.push(GroupEntry {
                    name: name.clone(),
                    gid,
                    members: Vec::new(),
                });
                gid
            }
        },
    };
    if let Some(list) = want.groups.as_ref().filter(|l| !l.is_empty()) {
        for g in list {
            let entry = find_group(&gs, g).ok_or_else(|| format!("Group {g} does not exist"))?;
            let mut e = entry.clone();
            e.members.push(name.clone());
            new_groups.push(e);
        }
        cmd.push_str(&format!(" -G {}", q(&list.join(","))));
    }
    if let Some(c) = &want.comment {
        cmd.push_str(&format!(" -c {}", q(c)));
    }
    let mut pre = String::new();
    if let Some(h) = &want.home {
        if want.create_home {
            // useradd cannot make a home whose parent is missing.
            if let Some(p) = parent(h) {
                pre.push_str(&format!("mkdir -p -- {}\n", q(&p)));
            }
        }
        cmd.push_str(&format!(" -d {}", q(h)));
    }
    if let Some(s) = &want.shell {
        cmd.push_str(&format!(" -s {}", q(s)));
    }
    if want.password.is_some() {
        cmd.push_str(" -p \"$pw\"");
    }
    cmd.push_str(if want.create_home { " -m" } else { " -M" });
    if want.system {
        cmd.push_str(" -r");
    }
    let set_e = if pre.is_empty() { "" } else { "set -e\n" };
    let script = format!("{set_e}{pre}{cmd} {}\n", q(name));
    let home = want.home.clone().unwrap_or_else(|| default_home(name));
    let entry = PasswdEntry {
        name: name.clone(),
        uid,
        gid,
        comment: want.comment.clone().unwrap_or_default(),
        home: home.clone(),
        // /etc/default/useradd's SHELL on Debian.
        shell: want.shell.clone().unwrap_or_else(|| "/bin/sh".into()),
    };
    let mut plan = Plan::run(format!("user {name} added"), script.clone());
    read_password(&mut plan, want, &script);
    plan.diff = Some(format!("user {name} added (uid {uid})\n"));
    plan.updates = vec![
        passwd_update(ctx.facts, name, Some(&entry))?,
        group_update(ctx.facts, &new_groups, &[])?,
    ];
    if let Some(u) = want
        .password
        .as_ref()
        .and_then(|pw| shadow_update(ctx.facts, name, pw))
    {
        plan.updates.push(u);
    }
    if want.create_home {
        plan.updates.push(home_made(&home, name, &gs, gid));
    }
    Ok((plan, entry))
}

/// The fact of a home directory useradd -m (or the module) made.
fn home_made(home: &str, name: &str, gs: &[GroupEntry], gid: u32) -> FactUpdate {
    let group = gs
        .iter()
        .find(|g| g.gid == gid)
        .map_or_else(|| name.to_string(), |g| g.name.clone());
    FactUpdate::File(
        home.to_string(),
        FileState {
            kind: FileKind::Directory,
            // Debian's login.defs: UMASK 022.
            mode: Some(0o755),
            owner: Some(name.to_string()),
            group: Some(group),
            ..FileState::default()
        },
    )
}

fn modify(want: &Want, cur: &PasswdEntry, ctx: &Context) -> Result<(Plan, PasswdEntry), String> {
    let name = &want.name;
    let gs = groups(ctx.facts)?;
    let mut after = cur.clone();
    let mut opts = String::new();
    let mut what: Vec<String> = Vec::new();
    if let Some(u) = want.uid.filter(|u| *u != cur.uid) {
        opts.push_str(&format!(" -u {u}"));
        if want.non_unique {
            opts.push_str(" -o");
        }
        what.push(format!("uid {} → {u}", cur.uid));
        after.uid = u;
    }
    if let Some(g) = &want.group {
        let entry = find_group(&gs, g).ok_or_else(|| format!("Group {g} does not exist"))?;
        if entry.gid != cur.gid {
            opts.push_str(&format!(" -g {}", entry.gid));
            what.push(format!("group {} → {}", cur.gid, entry.gid));
            after.gid = entry.gid;
        }
    }
    let mut new_groups: Vec<GroupEntry> = Vec::new();
    if let Some(list) = &want.groups {
        let current: Vec<&GroupEntry> = gs.iter().filter(|g| g.members.contains(name)).collect();
        let mut wanted: Vec<&GroupEntry> = Vec::new();
        for g in list {
            wanted.push(find_group(&gs, g).ok_or_else(|| format!("Group {g} does not exist"))?);
        }
        let has = |g: &GroupEntry| current.iter().any(|c| c.name == g.name);
        let change = if list.is_empty() {
            !current.is_empty() && !want.append
        } else if want.append {
            wanted.iter().any(|g| !has(g))
        } else {
            wanted.iter().any(|g| !has(g))
                || current
                    .iter()
                    .any(|c| !wanted.iter().any(|w| w.name == c.name))
        };
        if change {
            let names: Vec<&str> = list.iter().map(String::as_str).collect();
            let flag = if want.append { " -a" } else { "" };
            opts.push_str(&format!("{flag} -G {}", q(&names.join(","))));
            what.push(format!("groups → {}", names.join(",")));
            for g in &wanted {
                if !has(g) {
                    let mut e = (*g).clone();
                    e.members.push(name.clone());
                    new_groups.push(e);
                }
            }
            if !want.append {
                for c in &current {
                    if !wanted.iter().any(|w| w.name == c.name) {
                        new_groups.push(without_member(c, name));
                    }
                }
            }
        }
    }
    if let Some(c) = want.comment.as_ref().filter(|c| **c != cur.comment) {
        opts.push_str(&format!(" -c {}", q(c)));
        what.push(format!("comment {:?} → {c:?}", cur.comment));
        after.comment = c.clone();
    }
    if let Some(h) = want.home.as_ref().filter(|h| **h != cur.home) {
        opts.push_str(&format!(" -d {}", q(h)));
        if want.move_home {
            opts.push_str(" -m");
        }
        what.push(format!("home {} → {h}", cur.home));
        after.home = h.clone();
    }
    if let Some(s) = want.shell.as_ref().filter(|s| **s != cur.shell) {
        opts.push_str(&format!(" -s {}", q(s)));
        what.push(format!("shell {} → {s}", cur.shell));
        after.shell = s.clone();
    }
    if let Some(pw) = &want.password {
        let now = shadow_hash(ctx.facts, name)?.unwrap_or_default();
        if now.trim_start_matches('!') != pw.trim_start_matches('!') {
            opts.push_str(" -p \"$pw\"");
            what.push("password".into());
        }
    }
    let mut script = String::new();
    if !opts.is_empty() {
        script.push_str(&format!("usermod{opts} {}\n", q(name)));
    }
    // Ansible makes a missing home (from /etc/skel) for an existing user.
    let home_missing = want.create_home
        && fact(ctx, &after.home).is_some_and(|f| f.kind == FileKind::Missing)
        && !(want.move_home && after.home != cur.home);
    if home_missing {
        script.push_str(&make_home(&after.home, after.uid, after.gid));
        what.push(format!("home {} made", after.home));
    }
    if script.is_empty() {
        return Ok((Plan::noop(format!("user {name} is as wanted")), after));
    }
    let msg = format!("user {name}: {}", what.join(", "));
    let mut plan = Plan::run(msg, script.clone());
    if opts.contains("\"$pw\"") {
        read_password(&mut plan, want, &script);
        if let Some(u) = want
            .password
            .as_ref()
            .and_then(|pw| shadow_update(ctx.facts, name, pw))
        {
            plan.updates.push(u);
        }
    } else if let [Action::Run { script: s, .. }] = &mut plan.actions[..] {
        *s = format!("set -e\n{script}");
    }
    plan.diff = Some(format!("{}\n", what.join("\n")));
    plan.updates
        .push(passwd_update(ctx.facts, name, Some(&after))?);
    if !new_groups.is_empty() {
        plan.updates
            .push(group_update(ctx.facts, &new_groups, &[])?);
    }
    if home_missing {
        plan.updates
            .push(home_made(&after.home, name, &gs, after.gid));
    }
    Ok((plan, after))
}

/// Ansible's home for an account without one: /etc/skel copied (or an
/// empty directory), its mode from login.defs' UMASK, owned by the user.
fn make_home(home: &str, uid: u32, gid: u32) -> String {
    let h = q(home);
    format!(
        "if [ -d /etc/skel ]; then cp -a /etc/skel {h}; else mkdir -p -- {h}; fi\n\
         u=$(sed -n 's/^UMASK[[:space:]]\\{{1,\\}}\\([0-9]\\{{1,\\}}\\)$/\\1/p' /etc/login.defs 2>/dev/null | tail -n 1)\n\
         if [ -n \"$u\" ]; then chmod \"$(printf '%o' $((0777 & ~0$u)))\" {h}; fi\n\
         chown -R {uid}:{gid} {h}\n"
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_kit::{
        args, check_files, dir, facts_of_files, file, missing, only_run, with_ctx,
    };
    use super::*;

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/bash\nkube:x:1000:1000:Kube:/home/kube:/bin/bash\n";
    const GROUP: &str = "root:x:0:\nusers:x:100:\nkube:x:1000:\ndocker:x:999:kube\nops:x:1001:\n";
    const SHADOW: &str = "root:*:19000:0:99999:7:::\nkube:$6$old:19000:0:99999:7:::\n";

    fn files(home: FileState) -> Vec<(&'static str, FileState)> {
        vec![
            ("/etc/passwd", file(PASSWD)),
            ("/etc/group", file(GROUP)),
            ("/etc/shadow", file(SHADOW)),
            ("/home/kube", home.clone()),
            ("/home/app", missing()),
        ]
    }

    /// (what, args, the script, or None for no change)
    #[test]
    fn commands_are_ansible_s() {
        let table: Vec<(&str, Value, Option<&str>)> = vec![
            ("as wanted", json!({"name": "kube", "shell": "/bin/bash", "groups": ["docker"]}), None),
            ("appended group already in", json!({"name": "kube", "groups": "docker", "append": true}), None),
            (
                "new user, all options",
                json!({"name": "app", "uid": 1500, "group": "ops", "groups": ["docker", "users"],
                       "comment": "App user", "shell": "/bin/bash", "system": false}),
                Some("useradd -u 1500 -g 'ops' -G 'docker,users' -c 'App user' -s '/bin/bash' -m 'app'\n"),
            ),
            (
                "new system user without home",
                json!({"name": "svc", "create_home": false, "system": true, "home": "/var/lib/svc"}),
                Some("useradd -d '/var/lib/svc' -M -r 'svc'\n"),
            ),
            (
                "a group of the same name exists: -N",
                json!({"name": "ops"}),
                Some("useradd -N -m 'ops'\n"),
            ),
            (
                "groups replaced",
                json!({"name": "kube", "groups": ["ops"]}),
                Some("set -e\nusermod -G 'ops' 'kube'\n"),
            ),
            (
                "groups appended",
                json!({"name": "kube", "groups": ["ops"], "append": true}),
                Some("set -e\nusermod -a -G 'ops' 'kube'\n"),
            ),
            (
                "no groups at all",
                json!({"name": "kube", "groups": []}),
                Some("set -e\nusermod -G '' 'kube'\n"),
            ),
            (
                "shell and primary group",
                json!({"name": "kube", "shell": "/bin/sh", "group": "ops"}),
                Some("set -e\nusermod -g 1001 -s '/bin/sh' 'kube'\n"),
            ),
            (
                "removed with its home",
                json!({"name": "kube", "state": "absent", "remove": true}),
                Some("userdel -r 'kube'\n"),
            ),
            ("absent already", json!({"name": "app", "state": "absent"}), None),
        ];
        for (what, a, want) in table {
            let plan =
                check_files(&User, a, &files(dir())).unwrap_or_else(|e| panic!("{what}: {e}"));
            match want {
                None => assert!(!plan.changed && plan.actions.is_empty(), "{what}: {plan:?}"),
                Some(s) => assert_eq!(only_run(&plan).0, s, "{what}"),
            }
        }
    }

    #[test]
    fn the_password_hash_travels_on_stdin_only() {
        let plan = check_files(
            &User,
            json!({"name": "kube", "password": "$6$new"}),
            &files(dir()),
        )
        .unwrap();
        let (script, stdin) = only_run(&plan);
        assert_eq!(
            script,
            "set -e\nIFS= read -r pw\nusermod -p \"$pw\" 'kube'\n"
        );
        assert_eq!(stdin, Some(&b"$6$new\n"[..]));
        assert!(!plan.msg.contains("$6") && !plan.diff.as_deref().unwrap().contains("$6"));
        // The same hash (also when locked) is no change; on_create leaves it.
        for a in [
            json!({"name": "kube", "password": "$6$old"}),
            json!({"name": "kube", "password": "!$6$old"}),
            json!({"name": "kube", "password": "$6$new", "update_password": "on_create"}),
        ] {
            let plan = check_files(&User, a.clone(), &files(dir())).unwrap();
            assert!(!plan.changed, "{a}: {plan:?}");
        }
        let plan = check_files(
            &User,
            json!({"name": "app", "password": "$6$x"}),
            &files(dir()),
        )
        .unwrap();
        assert_eq!(
            only_run(&plan).0,
            "set -e\nIFS= read -r pw\nuseradd -p \"$pw\" -m 'app'\n"
        );
    }

    #[test]
    fn a_missing_home_is_made_as_ansible_makes_it() {
        let plan = check_files(&User, json!({"name": "kube"}), &files(missing())).unwrap();
        let (script, _) = only_run(&plan);
        assert!(
            script.starts_with("set -e\nif [ -d /etc/skel ]; then cp -a /etc/skel '/home/kube'"),
            "{script}"
        );
        assert!(
            script.ends_with("chown -R 1000:1000 '/home/kube'\n"),
            "{script}"
        );
        let plan = check_files(
            &User,
            json!({"name": "kube", "create_home": false}),
            &files(missing()),
        )
        .unwrap();
        assert!(!plan.changed);
    }

    #[test]
    fn returns_ansible_s_keys_and_predicts_the_new_lines() {
        let facts = facts_of_files(&files(dir()));
        let a = json!({"name": "app", "groups": ["docker"], "password": "$6$x"});
        let ret = with_ctx(&facts, |ctx| User.returns(&args(a.clone()), ctx)).unwrap();
        assert_eq!(
            Value::Object(ret),
            json!({"name": "app", "state": "present", "system": false, "create_home": true,
                   "password": "NOT_LOGGING_PASSWORD", "uid": 1001, "group": 1002, "comment": "",
                   "home": "/home/app", "shell": "/bin/sh", "groups": "docker"})
        );
        let plan = check_files(&User, a, &files(dir())).unwrap();
        let after = super::super::test_kit::after(&facts, &plan);
        let text = |p: &str| String::from_utf8(after.files[p].content.clone().unwrap()).unwrap();
        assert!(text("/etc/passwd").ends_with("app:x:1001:1002::/home/app:/bin/sh\n"));
        assert!(text("/etc/group").contains("docker:x:999:kube,app\n"));
        assert!(text("/etc/group").ends_with("app:x:1002:\n"));
        assert!(text("/etc/shadow").ends_with("app:$6$x:::::::\n"));
        assert_eq!(after.files["/home/app"].kind, FileKind::Directory);
    }

    #[test]
    fn asks_for_the_real_home_when_it_is_not_the_usual_one() {
        let mut facts = facts_of_files(&files(dir()));
        let p = "root:x:0:0:root:/root:/bin/bash\nkube:x:1000:1000::/srv/kube:/bin/sh\n";
        facts.files.insert("/etc/passwd".into(), file(p));
        assert_eq!(
            User.needs_after(&args(json!({"name": "kube"})), &facts),
            vec![FactRequest::File {
                path: "/srv/kube".into(),
                content: false
            }]
        );
        assert!(User
            .needs(&args(json!({"name": "kube", "password": "x"})))
            .unwrap()
            .contains(&FactRequest::File {
                path: "/etc/shadow".into(),
                content: true
            }));
    }

    #[test]
    fn bad_arguments_are_one_line_errors() {
        let table = [
            (json!({}), "missing required argument `name`"),
            (json!({"name": "a:b"}), "invalid user name \"a:b\""),
            (
                json!({"name": "app", "group": "nope"}),
                "Group nope does not exist",
            ),
            (
                json!({"name": "app", "groups": ["nope"]}),
                "Group nope does not exist",
            ),
            (
                json!({"name": "app", "uid": "x"}),
                "argument `uid` must be a number, got \"x\"",
            ),
        ];
        for (a, want) in table {
            assert_eq!(check_files(&User, a, &files(dir())).unwrap_err(), want);
        }
        let mut f = files(dir());
        f[2].1.content = None;
        assert_eq!(
            check_files(&User, json!({"name": "kube", "password": "$6$n"}), &f).unwrap_err(),
            "/etc/shadow could not be read (it needs root: become: true)"
        );
    }
}
