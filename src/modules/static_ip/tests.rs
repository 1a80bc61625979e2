//! Fixture tables: facts + arguments → stack, rendered files, plan.

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::ifupdown::release_interface;
use super::*;
use crate::facts::{Facts, FileState, Interface, Route, UnitState};
use crate::modules::test_kit::{self as kit, after, args, file, missing, with_ctx};

const DEBIAN_IFACES: &str = "# interfaces(5) file used by ifup(8) and ifdown(8)\n\
    # Include files from /etc/network/interfaces.d:\n\
    source /etc/network/interfaces.d/*\n";

fn unit(active: bool) -> UnitState {
    UnitState {
        load_state: "loaded".into(),
        active_state: if active { "active" } else { "inactive" }.into(),
        ..UnitState::default()
    }
}

/// A Debian host with eth0 at 10.0.0.11/24, configured from outside.
fn facts(commands: &[&str]) -> Facts {
    let mut f = Facts {
        machine_id: "0123456789abcdef0123456789abcdef".into(),
        interfaces: vec![
            Interface {
                name: "lo".into(),
                up: true,
                addresses: vec!["127.0.0.1/8".into()],
                ..Interface::default()
            },
            Interface {
                name: "eth0".into(),
                up: true,
                addresses: vec!["fe80::1/64".into(), "10.0.0.11/24".into()],
                ..Interface::default()
            },
        ],
        default_route: Some(Route {
            gateway: "10.0.0.1".into(),
            interface: "eth0".into(),
        }),
        dns: vec!["127.0.0.53".into(), "10.0.0.2".into()],
        commands: commands
            .iter()
            .map(|c| c.to_string())
            .collect::<BTreeSet<_>>(),
        ..Facts::default()
    };
    f.units.insert(NETWORKD_UNIT.into(), unit(false));
    f.units.insert(NM_UNIT.into(), unit(false));
    f.files.insert(IFACES.into(), file(DEBIAN_IFACES));
    for p in [IFUPDOWN_FILE, NETPLAN_FILE, NETWORKD_FILE, NM_FILE] {
        f.files.insert(p.into(), missing());
    }
    f
}

fn debian() -> Facts {
    facts(&["ifup", "systemctl", "networkctl"])
}

fn check(facts: &Facts, a: Value) -> Result<Plan, String> {
    kit::check(&StaticIp, facts, a)
}

fn want(facts: &Facts, a: Value) -> Result<Want, String> {
    with_ctx(facts, |ctx| resolve(&args(a), ctx))
}

fn files_of(facts: &Facts, a: Value) -> Vec<NewFile> {
    with_ctx(facts, |ctx| {
        let w = resolve(&args(a), ctx).unwrap();
        render_files(&w, ctx).unwrap()
    })
}

#[test]
fn defaults_come_from_the_facts() {
    let w = want(&debian(), json!({})).unwrap();
    assert_eq!(w.interface, "eth0");
    assert_eq!(w.cidr(), "10.0.0.11/24");
    assert_eq!(w.gateway, Some(Ipv4Addr::new(10, 0, 0, 1)));
    assert_eq!(w.dns, vec!["10.0.0.2"], "the resolved stub is no upstream");
    assert_eq!(w.stack, Stack::Ifupdown);
    assert_eq!(w.rollback_timeout, 60);

    let w = want(
        &debian(),
        json!({"address": "10.0.0.50/16", "gateway": "10.0.9.9", "dns": "1.1.1.1, 9.9.9.9", "rollback_timeout": "30"}),
    )
    .unwrap();
    assert_eq!(w.cidr(), "10.0.0.50/16");
    assert_eq!(w.gateway.unwrap().to_string(), "10.0.9.9");
    assert_eq!(w.dns, vec!["1.1.1.1", "9.9.9.9"]);
    assert_eq!(w.rollback_timeout, 30);

    // Another interface takes no gateway from a default route elsewhere.
    let mut f = debian();
    f.interfaces.push(Interface {
        name: "eth1".into(),
        addresses: vec!["192.168.5.5/24".into()],
        ..Interface::default()
    });
    let w = want(&f, json!({"interface": "eth1"})).unwrap();
    assert_eq!((w.cidr().as_str(), w.gateway), ("192.168.5.5/24", None));
}

#[test]
fn bad_arguments_are_refused_naming_the_argument() {
    let cases = [
        (json!({"address": "10.0.0.11"}), "needs a prefix length"),
        (json!({"address": "fd00::5/64"}), "not an IPv4 address"),
        (
            json!({"address": "10.0.0.11/33"}),
            "prefix length must be 1 to 32",
        ),
        (json!({"gateway": "10.9.0.1"}), "not a neighbour"),
        (json!({"gateway": "nope"}), "argument `gateway`"),
        (json!({"dns": ["1.1.1.1", "dns.example"]}), "argument `dns`"),
        (
            json!({"rollback_timeout": 5}),
            "argument `rollback_timeout`",
        ),
        (json!({"stack": "wicked"}), "argument `stack`"),
        (
            json!({"interface": "eth0; reboot"}),
            "not an interface name",
        ),
        (json!({"interface": "eth7"}), "eth7 has no IPv4 address"),
        (json!({"stack": "netplan"}), "`netplan` is not installed"),
        (
            json!({"stack": "networkd"}),
            "systemd-networkd is not active",
        ),
    ];
    for (a, msg) in cases {
        let e = check(&debian(), a.clone()).unwrap_err();
        assert!(e.contains(msg), "{a}: {e}");
    }
    let mut f = debian();
    f.default_route = None;
    assert!(check(&f, json!({}))
        .unwrap_err()
        .contains("no default route"));
}

#[test]
fn stack_detection_follows_the_host() {
    // (commands, networkd active, NetworkManager active, expected)
    let cases: &[(&[&str], bool, bool, Option<Stack>)] = &[
        (&["ifup", "systemctl"], false, false, Some(Stack::Ifupdown)),
        (
            &["ifup", "networkctl", "systemctl"],
            true,
            false,
            Some(Stack::Networkd),
        ),
        (
            &["ifup", "nmcli", "networkctl", "systemctl"],
            true,
            true,
            Some(Stack::NetworkManager),
        ),
        (
            &["netplan", "networkctl", "systemctl"],
            true,
            false,
            Some(Stack::Netplan),
        ),
        (
            &["netplan", "nmcli", "systemctl"],
            false,
            true,
            Some(Stack::Netplan),
        ),
        (&["systemctl", "networkctl"], false, false, None),
        (&["ifup"], false, false, None),
    ];
    for (cmds, networkd, nm, expected) in cases {
        let mut f = facts(cmds);
        f.units.insert(NETWORKD_UNIT.into(), unit(*networkd));
        f.units.insert(NM_UNIT.into(), unit(*nm));
        let got = want(&f, json!({})).map(|w| w.stack);
        assert_eq!(got.as_ref().ok(), expected.as_ref(), "{cmds:?}: {got:?}");
    }
}

#[test]
fn rendered_configuration_per_stack() {
    let mut f = facts(&["ifup", "netplan", "networkctl", "nmcli", "systemctl"]);
    f.units.insert(NETWORKD_UNIT.into(), unit(true));
    f.units.insert(NM_UNIT.into(), unit(true));
    let a = |stack: &str| json!({"stack": stack, "dns": ["10.0.0.2", "10.0.0.3"]});
    let head = "# Written by kubestrap (static_ip): eth0 pinned to 10.0.0.11/24.\n\
        # A later kubestrap run puts this file back as it is; change the playbook instead.\n";

    let ifupdown = files_of(&f, a("ifupdown"));
    assert_eq!(ifupdown.len(), 2);
    assert_eq!((ifupdown[0].path, ifupdown[0].mode), (IFUPDOWN_FILE, 0o644));
    assert_eq!(
        ifupdown[0].content,
        format!("{head}auto eth0\niface eth0 inet static\n    address 10.0.0.11/24\n    gateway 10.0.0.1\n    dns-nameservers 10.0.0.2 10.0.0.3\n")
    );
    assert_eq!(ifupdown[1].path, IFACES);
    assert_eq!(
        ifupdown[1].content, DEBIAN_IFACES,
        "Debian's file already reads interfaces.d"
    );

    let netplan = files_of(&f, a("netplan"));
    assert_eq!((netplan[0].path, netplan[0].mode), (NETPLAN_FILE, 0o600));
    assert_eq!(
        netplan[0].content,
        format!("{head}network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: false\n      addresses:\n        - 10.0.0.11/24\n      routes:\n        - to: default\n          via: 10.0.0.1\n      nameservers:\n        addresses: [10.0.0.2, 10.0.0.3]\n")
    );

    let networkd = files_of(&f, a("networkd"));
    assert_eq!((networkd[0].path, networkd[0].mode), (NETWORKD_FILE, 0o644));
    assert_eq!(
        networkd[0].content,
        format!("{head}[Match]\nName=eth0\n\n[Network]\nAddress=10.0.0.11/24\nGateway=10.0.0.1\nDNS=10.0.0.2\nDNS=10.0.0.3\n")
    );

    let nm = files_of(&f, a("networkmanager"));
    assert_eq!((nm[0].path, nm[0].mode), (NM_FILE, 0o600));
    let uuid = nm_uuid(&f.machine_id, "eth0");
    assert_eq!(
        nm[0].content,
        format!("{head}[connection]\nid=kubestrap\nuuid={uuid}\ntype=ethernet\ninterface-name=eth0\nautoconnect=true\nautoconnect-priority=100\n\n[ethernet]\n\n[ipv4]\nmethod=manual\naddress1=10.0.0.11/24,10.0.0.1\ndns=10.0.0.2;10.0.0.3;\nignore-auto-dns=true\n\n[ipv6]\nmethod=auto\n")
    );

    // Without gateway and DNS the optional lines go.
    let mut bare = f.clone();
    bare.default_route = None;
    let nd = files_of(
        &bare,
        json!({"stack": "networkd", "interface": "eth0", "dns": []}),
    );
    assert_eq!(
        nd[0].content,
        format!("{head}[Match]\nName=eth0\n\n[Network]\nAddress=10.0.0.11/24\n")
    );
    let nm = files_of(
        &bare,
        json!({"stack": "networkmanager", "interface": "eth0", "dns": []}),
    );
    assert!(
        nm[0].content.contains("address1=10.0.0.11/24\n\n[ipv6]"),
        "{}",
        nm[0].content
    );
}

#[test]
fn nm_uuid_is_stable_and_well_formed() {
    let u = nm_uuid("abc", "eth0");
    assert_eq!(u, nm_uuid("abc", "eth0"));
    assert_ne!(u, nm_uuid("abc", "eth1"));
    let parts: Vec<usize> = u.split('-').map(str::len).collect();
    assert_eq!(parts, vec![8, 4, 4, 4, 12]);
    assert!(u.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
}

#[test]
fn interfaces_file_hands_the_interface_over() {
    let own = IFUPDOWN_FILE;
    let d = ifupdown::DISABLED;
    let cases: &[(&str, String)] = &[
        (DEBIAN_IFACES, DEBIAN_IFACES.to_string()),
        (
            "auto lo eth0\niface lo inet loopback\n\nallow-hotplug eth0\niface eth0 inet dhcp\n  hostname x\n# keep\niface eth0 inet6 auto\niface eth1 inet dhcp\nsource-directory /etc/network/interfaces.d\n",
            format!("{d}auto lo eth0\nauto lo\niface lo inet loopback\n\n{d}allow-hotplug eth0\n{d}iface eth0 inet dhcp\n{d}  hostname x\n# keep\niface eth0 inet6 auto\niface eth1 inet dhcp\nsource-directory /etc/network/interfaces.d\n"),
        ),
        (
            "auto eth0\niface eth0 inet static\naddress 10.0.0.11/24",
            format!("{d}auto eth0\n{d}iface eth0 inet static\n{d}address 10.0.0.11/24\n\n# Added by kubestrap (static_ip): the pinned interface's stanza.\nsource {own}\n"),
        ),
        (
            "",
            format!("\n# Added by kubestrap (static_ip): the pinned interface's stanza.\nsource {own}\n"),
        ),
    ];
    for (input, expected) in cases {
        let out = release_interface(input, "eth0", own);
        assert_eq!(&out, expected, "{input:?}");
        assert_eq!(
            release_interface(&out, "eth0", own),
            out,
            "a second pass changes nothing"
        );
    }
    // eth00 is not eth0.
    let other = "auto eth00\niface eth00 inet dhcp\nsource /etc/network/interfaces.d/*\n";
    assert_eq!(release_interface(other, "eth0", own), other);
}

#[test]
fn plan_stages_validates_arms_and_reconnects() {
    let f = debian();
    let plan = check(&f, json!({"address": "10.0.0.12/24"})).unwrap();
    assert!(plan.changed);
    assert!(
        plan.msg
            .contains("eth0 pinned to 10.0.0.12/24 via 10.0.0.1 (ifupdown)"),
        "{}",
        plan.msg
    );
    // One new file (interfaces already reads interfaces.d), then the two
    // scripts, the arm, the reconnect.
    assert_eq!(plan.actions.len(), 5, "{:#?}", plan.actions);
    let runs: Vec<(&str, Option<&Vec<u8>>)> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Run { script, stdin } => Some((script.as_str(), stdin.as_ref())),
            _ => None,
        })
        .collect();
    assert!(
        runs[0].0.contains("kubestrap-net-rollback.timer") && runs[0].0.contains("rm -rf \"$S\"")
    );
    assert!(runs[0].0.ends_with("cat > \"$S/f0\"\n"));
    let staged = String::from_utf8(runs[0].1.unwrap().clone()).unwrap();
    assert!(staged.contains("address 10.0.0.12/24"));
    assert!(runs[1].0.ends_with("cat > \"$S/rollback.sh\"\n"));
    assert!(runs[2].0.ends_with("cat > \"$S/apply.sh\"\n"));
    let arm = runs[3].0;
    assert!(runs[3].1.is_none());
    for part in [
        "ifup --no-act --force -i \"$S/check/interfaces\" 'eth0'",
        "grep -qF 'ip addr add 10.0.0.12/'",
        "--unit=kubestrap-net-rollback",
        "--on-active=60s",
        "--unit=kubestrap-net-apply",
        "cp -p '/etc/network/interfaces.d/60-kubestrap' \"$V/net-backup/f0\"",
        "'/var/lib/kubestrap/backup/etc/network/interfaces.d/60-kubestrap'.$$.\"$now\"~",
    ] {
        assert!(arm.contains(part), "arm lacks {part:?}:\n{arm}");
    }
    // Validation comes before any backup, the rollback before the apply.
    let pos = |p: &str| arm.find(p).unwrap_or_else(|| panic!("{p}"));
    assert!(pos("ifup --no-act") < pos("net-backup/f0"));
    assert!(pos("--unit=kubestrap-net-rollback") < pos("--unit=kubestrap-net-apply"));
    match plan.actions.last().unwrap() {
        Action::Reconnect {
            timeout_secs,
            rollback_secs,
            confirm,
            rolled_back,
        } => {
            assert_eq!(
                (*timeout_secs, *rollback_secs),
                (45, 15 + scripts::APPLY_SECS)
            );
            assert!(confirm.contains("systemctl stop kubestrap-net-rollback.timer"));
            assert!(confirm.contains("exit 75"));
            assert!(
                rolled_back.starts_with("node1: network change rolled back"),
                "{rolled_back}"
            );
        }
        other => panic!("last action is {other:?}"),
    }
    let after = after(&f, &plan);
    assert!(
        matches!(&plan.updates[0], FactUpdate::File(p, s) if p == IFUPDOWN_FILE && s.mode == Some(0o644))
    );
    // Files written, address not yet live in these facts: still a change.
    assert!(
        check(&after, json!({"address": "10.0.0.12/24"}))
            .unwrap()
            .changed
    );
}

#[test]
fn noop_when_already_pinned() {
    for stack in ["ifupdown", "networkd"] {
        let mut f = debian();
        f.units.insert(NETWORKD_UNIT.into(), unit(true));
        let a = json!({"stack": stack, "address": "10.0.0.11/24"});
        let plan = check(&f, a.clone()).unwrap();
        assert!(plan.changed, "{stack}: nothing written yet");
        assert!(
            plan.diff
                .as_deref()
                .unwrap_or("")
                .contains("+Address=10.0.0.11/24")
                || stack == "ifupdown"
        );
        let done = after(&f, &plan);
        let again = check(&done, a.clone()).unwrap();
        assert!(!again.changed, "{stack}: {}", again.msg);
        assert!(again.actions.is_empty());
        assert!(again.msg.contains("configuration in place"));

        // The live address drifted away: applied again, files untouched.
        let mut drift = done.clone();
        drift.interfaces[1].addresses = vec!["10.0.0.99/24".into()];
        let p = check(&drift, a.clone()).unwrap();
        assert!(p.changed && p.updates.is_empty(), "{stack}: {}", p.msg);
        assert!(p.msg.contains("eth0 does not have 10.0.0.11/24 now"));
        let mut gw = done.clone();
        gw.default_route = Some(Route {
            gateway: "10.0.0.254".into(),
            interface: "eth0".into(),
        });
        // The gateway argument defaults to the route, so pin it explicitly.
        let p = check(&gw, json!({"stack": stack, "gateway": "10.0.0.1"})).unwrap();
        assert!(
            p.msg.contains("default route is not via 10.0.0.1"),
            "{}",
            p.msg
        );

        // A file with the right content but a loose mode is rewritten.
        let mut loose = done.clone();
        let (path, _) = want(&done, a.clone()).unwrap().stack.own_file();
        let st: &mut FileState = loose.files.get_mut(path).unwrap();
        st.mode = Some(0o666);
        assert!(check(&loose, a).unwrap().changed);
    }
}

#[test]
fn every_script_is_valid_shell() {
    let mut f = facts(&["ifup", "netplan", "networkctl", "nmcli", "systemctl"]);
    f.units.insert(NETWORKD_UNIT.into(), unit(true));
    f.units.insert(NM_UNIT.into(), unit(true));
    for stack in ["ifupdown", "netplan", "networkd", "networkmanager"] {
        let plan = check(&f, json!({"stack": stack, "address": "10.0.0.20/24"})).unwrap();
        let mut texts = Vec::new();
        for a in &plan.actions {
            match a {
                Action::Run { script, stdin } => {
                    texts.push(script.clone());
                    if let Some(b) = stdin {
                        let t = String::from_utf8_lossy(b).into_owned();
                        if t.starts_with("#!/bin/sh") {
                            texts.push(t);
                        }
                    }
                }
                Action::Reconnect { confirm, .. } => texts.push(confirm.clone()),
                Action::Fetch { .. } => {}
            }
        }
        // Stage f0, rollback.sh and apply.sh (whose texts count too), arm, confirm.
        assert_eq!(texts.len(), 3 + 2 + 1 + 1, "{stack}");
        for t in texts {
            let out = std::process::Command::new("sh")
                .args(["-n", "-c", &t])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{stack}: {}\n{t}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn per_stack_validation_and_apply() {
    let mut f = facts(&["ifup", "netplan", "networkctl", "nmcli", "systemctl"]);
    f.units.insert(NETWORKD_UNIT.into(), unit(true));
    f.units.insert(NM_UNIT.into(), unit(true));
    let cases = [
        (
            "netplan",
            "netplan generate --root-dir \"$S/root\"",
            "netplan apply",
        ),
        (
            "networkd",
            "mkdir -p /etc/systemd/network",
            "networkctl reload && networkctl reconfigure 'eth0'",
        ),
        (
            "networkmanager",
            "nmcli --offline connection modify connection.id 'kubestrap' < \"$S/f0\"",
            "nmcli connection up uuid",
        ),
        ("ifupdown", "ifup --no-act", "ifup 'eth0' || fail"),
    ];
    for (stack, validate, apply) in cases {
        let plan = check(&f, json!({"stack": stack, "address": "10.0.0.20/24"})).unwrap();
        let Action::Run { script: arm, .. } = &plan.actions[plan.actions.len() - 2] else {
            panic!("no arm")
        };
        assert!(arm.contains(validate), "{stack}: {arm}");
        let apply_sh = plan
            .actions
            .iter()
            .find_map(|a| match a {
                Action::Run { stdin: Some(b), .. }
                    if b.starts_with(b"#!/bin/sh\n# kubestrap static_ip: put") =>
                {
                    Some(String::from_utf8_lossy(b).into_owned())
                }
                _ => None,
            })
            .unwrap();
        assert!(apply_sh.contains(apply), "{stack}: {apply_sh}");
        assert!(apply_sh.contains("grep -qF ' 10.0.0.20/24 '"), "{stack}");
        let rollback = plan
            .actions
            .iter()
            .find_map(|a| match a {
                Action::Run { stdin: Some(b), .. }
                    if b.starts_with(b"#!/bin/sh\n# kubestrap static_ip: restore") =>
                {
                    Some(String::from_utf8_lossy(b).into_owned())
                }
                _ => None,
            })
            .unwrap();
        for part in [
            "ip addr del '10.0.0.20/24' dev 'eth0'",
            "ip addr add '10.0.0.11/24' brd + dev 'eth0'",
            "ip route replace default via '10.0.0.1' dev 'eth0'",
            "[ -e \"$R/net-confirmed\" ] && exit 0",
        ] {
            assert!(rollback.contains(part), "{stack}: rollback lacks {part:?}");
        }
    }
}

#[test]
fn ini_check_catches_broken_overrides() {
    let ok = "# c\n[Match]\nName=eth0\n\n[Network]\nAddress=10.0.0.1/24\n";
    assert!(check_ini(ok, &["Match", "Network"]).is_ok());
    assert!(check_ini("Name=eth0\n", &[])
        .unwrap_err()
        .contains("before any [Section]"));
    assert!(check_ini("[Match]\nName eth0\n", &[])
        .unwrap_err()
        .contains("line 2"));
    assert!(check_ini("[Netwrok]\n", &["Network"])
        .unwrap_err()
        .contains("unknown section"));
}
