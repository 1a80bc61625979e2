//! apt: Debian packages: present, absent, exact version (`name=version`), cache update.
//!
//! Holds are not an apt argument in Ansible: they are set with
//! `dpkg_selections` (see that module). A pinned version change of a held
//! package passes `--allow-change-held-packages` by itself, because pinning
//! the exact version is the point of the hold (Ansible would require
//! `allow_change_held_packages: true`; kubestrap accepts it too).
//!
//! `state: latest` is refused: whether a newer candidate exists is not a
//! fact kubestrap has without a round trip, and kubestrap pins versions.
//! `update_cache` runs `apt-get update` before installing, and only when
//! something is to be installed; alone (no `name`) it runs and reports ok, so
//! a second apply stays at changed=0. `cache_valid_time` is checked on the host.

use super::debversion;
use super::{Action, Args, Context, Module, Plan};
use crate::facts::{FactRequest, FactUpdate, PackageState};

pub struct Apt;

const PARAMS: &[&str] = &[
    "name",
    "pkg",
    "package",
    "state",
    "update_cache",
    "cache_valid_time",
    "install_recommends",
    "allow_downgrade",
    "allow_change_held_packages",
    "purge",
    "autoremove",
    "force_apt_get",
];

/// Keeps dpkg from asking about changed config files: keep the local one,
/// take the package's for files never edited (Ansible's own default options).
const DPKG_OPTS: &str = "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";

// Every apt-get below waits up to two minutes for dpkg's lock (held by
// unattended-upgrades, or by the apt-get of a kubestrap run that was killed)
// instead of failing at once.

/// One requested package: `name` or `name=version`.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    name: String,
    version: Option<String>,
}

fn parse_spec(s: &str) -> Result<Spec, String> {
    let s = s.trim();
    let (name, version) = match s.split_once('=') {
        Some((n, v)) => (n.trim(), Some(v.trim().to_string())),
        None => (s, None),
    };
    if name.is_empty() || version.as_deref() == Some("") {
        return Err(format!(
            "argument `name`: {s:?} is not `package` or `package=version`"
        ));
    }
    // Package names are [a-z0-9+.-] (plus an :arch suffix); anything else
    // would be a typo or an attempt to pass apt-get an option.
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.:".contains(c);
    if !name.chars().all(valid) || name.starts_with('-') {
        return Err(format!(
            "argument `name`: {name:?} is not a Debian package name"
        ));
    }
    let vvalid = |c: char| c.is_ascii_alphanumeric() || ".+-~:*?[]!".contains(c);
    if let Some(v) = &version {
        if !v.chars().all(vvalid) {
            return Err(format!("argument `name`: {v:?} is not a Debian version"));
        }
    }
    Ok(Spec {
        name: name.to_string(),
        version,
    })
}

fn specs(args: &Args) -> Result<Vec<Spec>, String> {
    let mut names = Vec::new();
    for key in ["name", "pkg", "package"] {
        if args.has(key) {
            if !names.is_empty() {
                return Err("give only one of `name`, `pkg` and `package`".into());
            }
            names = args.list(key)?;
        }
    }
    names.iter().map(|n| parse_spec(n)).collect()
}

impl Module for Apt {
    /// A package brings files, units and commands the facts do not list.
    fn effects_in_facts(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "apt"
    }

    fn params(&self) -> &'static [&'static str] {
        PARAMS
    }

    fn needs(&self, args: &Args) -> Result<Vec<FactRequest>, String> {
        Ok(specs(args)?
            .into_iter()
            .map(|s| FactRequest::Package(s.name))
            .collect())
    }

    fn check(&self, args: &Args, ctx: &Context) -> Result<Plan, String> {
        let specs = specs(args)?;
        let state = args.choice(
            "state",
            &["present", "absent", "latest", "installed", "removed"],
            "present",
        )?;
        if state == "latest" {
            return Err(
                "argument `state`: latest is not supported; pin a version with `name: pkg=VERSION`"
                    .into(),
            );
        }
        let update = args.bool("update_cache", false)?;
        let valid_time = match args.str("cache_valid_time")? {
            None => 0,
            Some(s) => s
                .parse::<u64>()
                .map_err(|_| format!("argument `cache_valid_time` must be seconds, got {s:?}"))?,
        };
        let recommends = match args.has("install_recommends") {
            true => Some(args.bool("install_recommends", true)?),
            false => None,
        };
        let allow_downgrade = args.bool("allow_downgrade", false)?;
        let allow_held = args.bool("allow_change_held_packages", false)?;
        let purge = args.bool("purge", false)?;
        let autoremove = args.bool("autoremove", false)?;
        args.bool("force_apt_get", false)?;

        if specs.is_empty() {
            if !update {
                return Err("missing required argument `name` (or `update_cache: true`)".into());
            }
            return Ok(Plan {
                changed: false,
                actions: vec![run(update_script(valid_time))],
                msg: "apt cache updated".into(),
                ..Plan::default()
            });
        }

        let mut plan = match state.as_str() {
            "absent" | "removed" => remove(&specs, ctx, purge, autoremove)?,
            _ => install(&specs, ctx, recommends, allow_downgrade, allow_held)?,
        };
        if plan.changed && update {
            plan.actions.insert(0, run(update_script(valid_time)));
        }
        Ok(plan)
    }
}

fn run(script: String) -> Action {
    Action::Run {
        script,
        stdin: None,
    }
}

fn package<'a>(ctx: &'a Context, name: &str) -> Result<&'a PackageState, String> {
    ctx.facts
        .packages
        .get(name)
        .ok_or_else(|| format!("facts for package {name} were not gathered"))
}

fn install(
    specs: &[Spec],
    ctx: &Context,
    recommends: Option<bool>,
    allow_downgrade: bool,
    allow_held: bool,
) -> Result<Plan, String> {
    let mut words = Vec::new();
    let mut diff = String::new();
    let mut updates = Vec::new();
    let (mut downgrade, mut held) = (false, false);
    for s in specs {
        let cur = package(ctx, &s.name)?;
        let ok = match (&cur.version, &s.version) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(have), Some(want)) => debversion::matches(have, want),
        };
        if ok {
            continue;
        }
        if let (Some(have), Some(want)) = (&cur.version, &s.version) {
            let is_glob = want.contains(['*', '?', '[']);
            if !is_glob && debversion::compare(want, have).is_lt() {
                if !allow_downgrade {
                    return Err(format!(
                        "{} {have} is installed; {want} would be a downgrade: set `allow_downgrade: true`",
                        s.name
                    ));
                }
                downgrade = true;
            }
            held |= cur.held;
        }
        words.push(match &s.version {
            Some(v) => format!("{}={v}", s.name),
            None => s.name.clone(),
        });
        diff.push_str(&format!(
            "-{}: {}\n+{}: {}\n",
            s.name,
            cur.version.as_deref().unwrap_or("(not installed)"),
            s.name,
            s.version.as_deref().unwrap_or("(installed)")
        ));
        // A glob or no version: the exact version is known only after the
        // install; keep the old one, or "" for "installed, version unknown".
        let version = match &s.version {
            Some(v) if !v.contains(['*', '?', '[']) => v.clone(),
            _ => cur.version.clone().unwrap_or_default(),
        };
        updates.push(FactUpdate::Package(
            s.name.clone(),
            PackageState {
                version: Some(version),
                held: cur.held,
            },
        ));
    }
    if words.is_empty() {
        return Ok(Plan::noop(
            "all packages are installed at the requested version",
        ));
    }
    let mut cmd = format!("DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -q {DPKG_OPTS}");
    match recommends {
        Some(true) => cmd.push_str(" -o APT::Install-Recommends=yes"),
        Some(false) => cmd.push_str(" --no-install-recommends"),
        None => {}
    }
    if downgrade {
        cmd.push_str(" --allow-downgrades");
    }
    if held || allow_held {
        cmd.push_str(" --allow-change-held-packages");
    }
    for w in &words {
        cmd.push(' ');
        cmd.push_str(&super::q(w));
    }
    let mut plan = Plan::run(format!("install {}", words.join(" ")), cmd);
    plan.diff = Some(diff);
    plan.updates = updates;
    Ok(plan)
}

fn remove(specs: &[Spec], ctx: &Context, purge: bool, autoremove: bool) -> Result<Plan, String> {
    let mut names = Vec::new();
    let mut diff = String::new();
    let mut updates = Vec::new();
    for s in specs {
        let cur = package(ctx, &s.name)?;
        // `pkg=1.2` with state absent removes only that version, as in Ansible.
        let installed = match (&cur.version, &s.version) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(have), Some(want)) => debversion::matches(have, want),
        };
        if !installed {
            continue;
        }
        names.push(s.name.clone());
        diff.push_str(&format!(
            "-{}: {}\n+{}: (not installed)\n",
            s.name,
            cur.version.as_deref().unwrap_or_default(),
            s.name
        ));
        updates.push(FactUpdate::Package(s.name.clone(), PackageState::default()));
    }
    if names.is_empty() {
        return Ok(Plan::noop("no package to remove is installed"));
    }
    // Removing a held package needs the hold lifted; apt-get remove refuses otherwise.
    let mut cmd = String::from(
        "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 remove -y -q --allow-change-held-packages",
    );
    if purge {
        cmd.push_str(" --purge");
    }
    if autoremove {
        cmd.push_str(" --auto-remove");
    }
    for n in &names {
        cmd.push(' ');
        cmd.push_str(&super::q(n));
    }
    let mut plan = Plan::run(format!("remove {}", names.join(" ")), cmd);
    plan.diff = Some(diff);
    plan.updates = updates;
    Ok(plan)
}

/// `apt-get update` that fails when a source could not be fetched (apt-get
/// itself only warns, and Ansible fails), skipped while the lists are younger
/// than `valid_time` seconds.
fn update_script(valid_time: u64) -> String {
    let mut s = String::new();
    if valid_time > 0 {
        s.push_str(&format!(
            "last=$(stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null || stat -c %Y /var/lib/apt/lists 2>/dev/null || echo 0)\n\
             if [ $(( $(date +%s) - last )) -lt {valid_time} ]; then exit 0; fi\n"
        ));
    }
    s.push_str(
        "out=$(DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 update -q 2>&1); rc=$?\n\
         printf '%s\\n' \"$out\"\n\
         if [ $rc -ne 0 ]; then exit $rc; fi\n\
         if printf '%s\\n' \"$out\" | grep -Eq '^(E:|Err:|W: Failed to fetch|W: Some index files failed)'; then\n\
         \x20 echo 'Failed to update apt cache: some sources could not be fetched' >&2; exit 1\n\
         fi\n\
         mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp\n",
    );
    s
}

#[cfg(test)]
mod tests {
    use super::super::test_kit::{check, scripts};
    use super::*;
    use crate::facts::Facts;
    use serde_json::json;

    fn facts() -> Facts {
        let mut f = Facts::default();
        let pkgs = [
            ("curl", Some("7.88.1-10"), false),
            ("kubelet", Some("1.30.2-1.1"), true),
            ("kubeadm", Some("1.30.2-1.1"), false),
            ("containerd", None, false),
            ("runc", None, false),
        ];
        for (n, v, held) in pkgs {
            f.packages.insert(
                n.into(),
                PackageState {
                    version: v.map(String::from),
                    held,
                },
            );
        }
        f
    }

    const INSTALL: &str = "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";

    #[test]
    fn table() {
        let f = facts();
        // (args, expected command or None for no-op)
        let cases: Vec<(serde_json::Value, Option<String>)> = vec![
            (json!({"name": "curl"}), None),
            (json!({"name": ["curl", "kubeadm=1.30.2-1.1"]}), None),
            (json!({"name": "kubelet=1.30.*"}), None),
            (json!({"name": "containerd", "state": "absent"}), None),
            (json!({"name": "curl=7.0-1", "state": "absent"}), None),
            (json!({"name": ["curl", "containerd", "runc"]}), Some(format!("{INSTALL} 'containerd' 'runc'"))),
            (json!({"pkg": "containerd", "install_recommends": false}), Some(format!("{INSTALL} --no-install-recommends 'containerd'"))),
            (json!({"name": "kubeadm=1.30.3-1.1"}), Some(format!("{INSTALL} 'kubeadm=1.30.3-1.1'"))),
            // A held package moves to a pinned version only with the hold overridden.
            (json!({"name": "kubelet=1.31.0-1.1"}), Some(format!("{INSTALL} --allow-change-held-packages 'kubelet=1.31.0-1.1'"))),
            (json!({"name": "kubelet=1.30.1-1.1", "allow_downgrade": true}), Some(format!("{INSTALL} --allow-downgrades --allow-change-held-packages 'kubelet=1.30.1-1.1'"))),
            (json!({"name": "curl", "state": "absent", "purge": true}), Some("DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 remove -y -q --allow-change-held-packages --purge 'curl'".into())),
            (json!({"name": "kubelet=1.30.2-1.1", "state": "removed", "autoremove": "yes"}), Some("DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 remove -y -q --allow-change-held-packages --auto-remove 'kubelet'".into())),
        ];
        for (args, want) in cases {
            let plan = check(&Apt, &f, args.clone()).unwrap_or_else(|e| panic!("{args}: {e}"));
            match want {
                None => assert!(!plan.changed && plan.actions.is_empty(), "{args}: {plan:?}"),
                Some(cmd) => {
                    assert!(plan.changed, "{args}");
                    assert_eq!(scripts(&plan), vec![cmd], "{args}");
                }
            }
        }
    }

    #[test]
    fn updates_and_diff() {
        let f = facts();
        let plan = check(&Apt, &f, json!({"name": ["kubelet=1.31.0-1.1", "runc"]})).unwrap();
        assert_eq!(
            plan.updates,
            vec![
                FactUpdate::Package(
                    "kubelet".into(),
                    PackageState {
                        version: Some("1.31.0-1.1".into()),
                        held: true
                    }
                ),
                FactUpdate::Package(
                    "runc".into(),
                    PackageState {
                        version: Some(String::new()),
                        held: false
                    }
                ),
            ]
        );
        assert_eq!(
            plan.diff.as_deref(),
            Some("-kubelet: 1.30.2-1.1\n+kubelet: 1.31.0-1.1\n-runc: (not installed)\n+runc: (installed)\n")
        );
        let plan = check(&Apt, &f, json!({"name": "curl", "state": "absent"})).unwrap();
        assert_eq!(
            plan.updates,
            vec![FactUpdate::Package("curl".into(), PackageState::default())]
        );
    }

    #[test]
    fn update_cache() {
        let f = facts();
        // Alone: runs, reports ok.
        let plan = check(
            &Apt,
            &f,
            json!({"update_cache": true, "cache_valid_time": 3600}),
        )
        .unwrap();
        assert!(!plan.changed);
        let s = scripts(&plan);
        assert!(s[0].contains("-lt 3600 ]; then exit 0"), "{}", s[0]);
        assert!(s[0].contains("apt-get -o DPkg::Lock::Timeout=120 update"));
        // Before an install; not at all when nothing is to be installed.
        let plan = check(&Apt, &f, json!({"name": "runc", "update_cache": true})).unwrap();
        assert_eq!(plan.actions.len(), 2);
        assert!(scripts(&plan)[0].contains("apt-get -o DPkg::Lock::Timeout=120 update"));
        let plan = check(&Apt, &f, json!({"name": "curl", "update_cache": true})).unwrap();
        assert!(plan.actions.is_empty());
    }

    #[test]
    fn errors() {
        let f = facts();
        for args in [
            json!({}),
            json!({"name": "curl", "state": "latest"}),
            json!({"name": "kubelet=1.29.0-1.1"}),
            json!({"name": "nosuchfact"}),
            json!({"name": "-o=foo"}),
            json!({"name": "Curl"}),
            json!({"name": "curl="}),
            json!({"name": "curl=1;rm"}),
            json!({"name": "curl", "pkg": "curl"}),
            json!({"update_cache": true, "cache_valid_time": "soon"}),
            json!({"name": "curl", "state": "fixed"}),
        ] {
            assert!(check(&Apt, &f, args.clone()).is_err(), "{args}");
        }
        assert_eq!(
            check(&Apt, &f, json!({"name": "kubelet=1.29.0-1.1"})).unwrap_err(),
            "kubelet 1.30.2-1.1 is installed; 1.29.0-1.1 would be a downgrade: set `allow_downgrade: true`"
        );
    }

    #[test]
    fn needs_packages() {
        let a = Args::from_pairs(&[("name", json!(["kubelet=1.30.2-1.1", "curl"]))]);
        assert_eq!(
            Apt.needs(&a).unwrap(),
            vec![
                FactRequest::Package("kubelet".into()),
                FactRequest::Package("curl".into())
            ]
        );
    }
}
