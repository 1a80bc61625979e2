//! Table tests: a healthy three-host lab, one change per case, the problems expected.

use super::*;
use crate::facts::{Interface, OsInfo, Route, RouteEntry};
use crate::inventory::{ClusterSpec, Format, NetworkSettings};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The lab: cp1 (control plane, 10.0.0.11), w1 and w2 (workers, .12, .13).
struct Lab {
    inv: Inventory,
    hosts: Vec<HostFacts>,
}

impl Lab {
    fn new() -> Lab {
        let names = [
            ("cp1", Role::ControlPlane),
            ("w1", Role::Worker),
            ("w2", Role::Worker),
        ];
        let mut inv = Inventory {
            source: PathBuf::from("inventory.yaml"),
            format: Format::Kubestrap,
            cluster: ClusterSpec::default(),
            hosts: Vec::new(),
            groups: BTreeMap::new(),
        };
        let mut hosts = Vec::new();
        for (n, (name, role)) in names.into_iter().enumerate() {
            let octet = 11 + n as u8;
            inv.hosts.push(Host {
                name: name.into(),
                address: Some(format!("10.0.0.{octet}")),
                become_: true,
                roles: BTreeSet::from([role]),
                line: n + 1,
                ..Default::default()
            });
            hosts.push(HostFacts {
                name: name.into(),
                facts: Some(healthy(name, octet)),
                gather_error: None,
                clock_skew_secs: Some(1),
                is_node: false,
            });
        }
        Lab { inv, hosts }
    }

    fn facts(&mut self, name: &str) -> &mut Facts {
        self.gathered(name).facts.as_mut().expect("facts")
    }

    fn gathered(&mut self, name: &str) -> &mut HostFacts {
        self.hosts
            .iter_mut()
            .find(|h| h.name == name)
            .expect("host")
    }

    fn host(&mut self, name: &str) -> &mut Host {
        self.inv
            .hosts
            .iter_mut()
            .find(|h| h.name == name)
            .expect("host")
    }
}

/// A Debian 12 host with 2 CPUs, 2 GB, one NIC on 10.0.0.0/24.
fn healthy(name: &str, octet: u8) -> Facts {
    let mut f = Facts {
        os: OsInfo {
            id: "debian".into(),
            version_id: "12".into(),
            codename: "bookworm".into(),
            pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
        },
        hostname: name.into(),
        machine_id: format!("{octet:032x}"),
        product_uuid: Some(format!("00000000-0000-0000-0000-0000000000{octet:02x}")),
        cpus: 2,
        memory_mb: 2000,
        interfaces: vec![
            Interface {
                name: "lo".into(),
                mac: Some("00:00:00:00:00:00".into()),
                mtu: Some(65536),
                up: true,
                addresses: vec!["127.0.0.1/8".into(), "::1/128".into()],
            },
            Interface {
                name: "eth0".into(),
                mac: Some(format!("52:54:00:00:00:{octet:02x}")),
                mtu: Some(1500),
                up: true,
                addresses: vec![
                    format!("10.0.0.{octet}/24"),
                    format!("fe80::5054:ff:fe00:{octet:x}/64"),
                ],
            },
        ],
        default_route: Some(Route {
            gateway: "10.0.0.1".into(),
            interface: "eth0".into(),
        }),
        routes: vec![
            route("0.0.0.0/0", Some("10.0.0.1"), "eth0"),
            route("10.0.0.0/24", None, "eth0"),
            route("fe80::/64", None, "eth0"),
            route("::/0", Some("fe80::1"), "eth0"),
        ],
        listening: BTreeSet::from([22]),
        time: 1_800_000_000,
        ..Facts::default()
    };
    f.commands.insert("sudo".into());
    f
}

fn route(dst: &str, via: Option<&str>, dev: &str) -> RouteEntry {
    RouteEntry {
        dst: dst.into(),
        gateway: via.map(String::from),
        interface: Some(dev.into()),
        kind: "unicast".into(),
        protocol: None,
    }
}

/// Calico's traces on a node: a tunnel address and pod routes in the pod
/// subnet, a veth with Calico's fixed MAC and only a link-local address.
fn calico_traces(f: &mut Facts) {
    f.interfaces.push(Interface {
        name: "tunl0".into(),
        mac: Some("0.0.0.0".into()),
        addresses: vec!["10.233.64.0/32".into()],
        ..Interface::default()
    });
    f.interfaces.push(Interface {
        name: "cali12345".into(),
        mac: Some("ee:ee:ee:ee:ee:ee".into()),
        addresses: vec!["fe80::ecee:eeff:feee:eeee/64".into()],
        ..Interface::default()
    });
    f.routes.push(RouteEntry {
        dst: "10.233.64.0/26".into(),
        kind: "blackhole".into(),
        protocol: Some("bird".into()),
        ..RouteEntry::default()
    });
    f.routes.push(RouteEntry {
        protocol: Some("bird".into()),
        ..route("10.233.70.0/26", Some("10.0.0.12"), "tunl0")
    });
}

type Change = fn(&mut Lab);

/// A problem expected: host ("" for the cluster), check, part of the message.
type Want = (&'static str, &'static str, &'static str);

/// What the case is, the change to the healthy lab, --skip-preflight, the problems.
type Case = (&'static str, Change, Vec<&'static str>, Vec<Want>);

fn cases() -> Vec<Case> {
    vec![
        ("healthy lab", |_| {}, vec![], vec![]),
        // os
        (
            "Ubuntu 20.04 is not supported",
            |l| {
                let os = &mut l.facts("w1").os;
                os.id = "ubuntu".into();
                os.version_id = "20.04".into();
                os.pretty_name = "Ubuntu 20.04.6 LTS".into();
            },
            vec![],
            vec![("w1", "os", "unsupported OS \"Ubuntu 20.04.6 LTS\" (ID=ubuntu VERSION_ID=20.04); supported: Debian 11, 12, 13; Ubuntu 22.04, 24.04")],
        ),
        (
            "Ubuntu 24.04, 22.04 and Debian 13 are",
            |l| {
                for (h, id, v) in [("cp1", "ubuntu", "24.04"), ("w1", "ubuntu", "22.04"), ("w2", "debian", "13")] {
                    let os = &mut l.facts(h).os;
                    (os.id, os.version_id) = (id.into(), v.into());
                }
            },
            vec![],
            vec![],
        ),
        (
            "no os-release, and Debian testing has no VERSION_ID",
            |l| {
                l.facts("cp1").os = OsInfo::default();
                l.facts("w2").os.version_id.clear();
            },
            vec![],
            vec![
                ("cp1", "os", "unknown OS (no /etc/os-release); supported:"),
                ("w2", "os", "(ID=debian VERSION_ID=none)"),
            ],
        ),
        // cpu, memory
        (
            "one CPU and 1 GB: a problem on a control plane, fine on a worker",
            |l| {
                for h in ["cp1", "w1"] {
                    l.facts(h).cpus = 1;
                    l.facts(h).memory_mb = 1024;
                }
            },
            vec![],
            vec![
                ("cp1", "cpu", "1 CPU(s); a control plane needs at least 2"),
                ("cp1", "memory", "1024 MB of memory; a control plane needs at least 1700 MB"),
            ],
        ),
        (
            "exactly the minimum",
            |l| {
                l.facts("cp1").cpus = 2;
                l.facts("cp1").memory_mb = 1700;
            },
            vec![],
            vec![],
        ),
        // unique-*
        (
            "duplicate hostname, in any case",
            |l| l.facts("w2").hostname = "W1".into(),
            vec![],
            vec![
                ("w1", "unique-hostname", "hostname \"w1\" is also on w2 (set a unique one with hostnamectl)"),
                ("w2", "unique-hostname", "hostname \"W1\" is also on w1"),
            ],
        ),
        (
            "duplicate machine-id and product_uuid: a cloned VM",
            |l| {
                let (id, uuid) = {
                    let f = l.facts("w1");
                    (f.machine_id.clone(), f.product_uuid.clone())
                };
                l.facts("w2").machine_id = id;
                l.facts("w2").product_uuid = uuid;
            },
            vec![],
            vec![
                ("w1", "unique-machine-id", "machine-id 0000000000000000000000000000000c is also on w2"),
                ("w1", "unique-product-uuid", "is also on w2 (a cloned VM"),
                ("w2", "unique-machine-id", "is also on w1"),
                ("w2", "unique-product-uuid", "is also on w1"),
            ],
        ),
        (
            "hosts without a product_uuid are not duplicates",
            |l| {
                l.facts("w1").product_uuid = None;
                l.facts("w2").product_uuid = None;
            },
            vec![],
            vec![],
        ),
        (
            "duplicate MAC on the NIC, not on lo or Calico's veths",
            |l| {
                l.facts("cp1").interfaces[1].mac = Some("52:54:00:00:00:0D".into());
                calico_traces(l.facts("w1"));
                calico_traces(l.facts("w2"));
                l.gathered("w1").is_node = true;
                l.gathered("w2").is_node = true;
            },
            vec![],
            vec![
                ("cp1", "unique-mac", "MAC 52:54:00:00:00:0d (eth0) is also on w2"),
                ("w2", "unique-mac", "MAC 52:54:00:00:00:0d (eth0) is also on cp1"),
            ],
        ),
        (
            "duplicate node IP from the inventory",
            |l| l.host("w2").ip = Some("10.0.0.12".parse().unwrap()),
            vec![],
            vec![
                ("w1", "unique-ip", "node IP 10.0.0.12 (inventory address) is also on w2"),
                ("w2", "unique-ip", "node IP 10.0.0.12 (inventory ip) is also on w1"),
            ],
        ),
        (
            "duplicate node IP from the facts, named hosts in the inventory",
            |l| {
                l.host("w1").address = Some("w1.lab".into());
                l.host("w2").address = None;
                l.facts("w2").interfaces[1].addresses[0] = "10.0.0.12/24".into();
            },
            vec![],
            vec![
                ("w1", "unique-ip", "node IP 10.0.0.12 (default route interface) is also on w2"),
                ("w2", "unique-ip", "is also on w1"),
            ],
        ),
        // clock
        (
            "one clock 45 s ahead",
            |l| {
                l.gathered("w2").clock_skew_secs = Some(46);
                l.gathered("cp1").clock_skew_secs = Some(-1);
            },
            vec![],
            vec![("w2", "clock", "clock is 45 s ahead of the hosts' median (+46 s against this machine); hosts must agree within 30 s and are 47 s apart")],
        ),
        (
            "clocks 30 s apart are fine; an unknown skew is left out",
            |l| {
                l.gathered("cp1").clock_skew_secs = Some(-10);
                l.gathered("w1").clock_skew_secs = Some(20);
                l.gathered("w2").clock_skew_secs = None;
            },
            vec![],
            vec![],
        ),
        (
            "two hosts 40 s apart: both named",
            |l| {
                l.gathered("cp1").clock_skew_secs = Some(-20);
                l.gathered("w1").clock_skew_secs = Some(20);
                l.gathered("w2").clock_skew_secs = None;
            },
            vec![],
            vec![
                ("cp1", "clock", "clock is 20 s behind the hosts' median"),
                ("w1", "clock", "clock is 20 s ahead of the hosts' median"),
            ],
        ),
        // subnets
        (
            "pod subnet overlapping the hosts' LAN",
            |l| l.inv.cluster.pod_subnet = Some("10.0.0.0/16".into()),
            vec![],
            vec![
                ("cp1", "subnets", "pod subnet 10.0.0.0/16 overlaps address 10.0.0.11/24 on eth0"),
                ("w1", "subnets", "pod subnet 10.0.0.0/16 overlaps address 10.0.0.12/24 on eth0"),
                ("w2", "subnets", "pod subnet 10.0.0.0/16 overlaps address 10.0.0.13/24 on eth0"),
            ],
        ),
        (
            "pod subnet overlapping the service subnet",
            |l| {
                l.inv.cluster.pod_subnet = Some("10.233.0.0/16".into());
                l.inv.cluster.service_subnet = Some("10.233.32.0/20".into());
            },
            vec![],
            vec![("", "subnets", "pod subnet 10.233.0.0/16 overlaps service subnet 10.233.32.0/20")],
        ),
        (
            "service subnet overlapping a static route and the inventory's static address",
            |l| {
                let f = l.facts("w1");
                f.routes.push(RouteEntry {
                    protocol: Some("static".into()),
                    ..route("10.232.0.0/15", Some("10.0.0.254"), "eth0")
                });
                l.host("w2").network = Some(NetworkSettings {
                    address: Some("10.233.1.5/24".into()),
                    ..NetworkSettings::default()
                });
            },
            vec![],
            vec![
                ("w1", "subnets", "pod subnet 10.233.64.0/18 overlaps route 10.232.0.0/15 via 10.0.0.254 dev eth0 proto static"),
                ("w1", "subnets", "service subnet 10.233.0.0/18 overlaps route 10.232.0.0/15"),
                ("w2", "subnets", "service subnet 10.233.0.0/18 contains the host's inventory network.address 10.233.1.5"),
            ],
        ),
        (
            "the defaults are used when the inventory names none, and clash with docker on 10.233",
            |l| {
                let f = l.facts("w2");
                f.interfaces.push(Interface {
                    name: "docker0".into(),
                    mac: Some("02:42:00:00:00:01".into()),
                    addresses: vec!["10.233.80.1/24".into()],
                    ..Interface::default()
                });
                f.routes.push(route("10.233.80.0/24", None, "docker0"));
            },
            vec![],
            vec![("w2", "subnets", "pod subnet 10.233.64.0/18 overlaps address 10.233.80.1/24 on docker0")],
        ),
        (
            "a node's own CNI addresses and routes are no problem",
            |l| {
                calico_traces(l.facts("cp1"));
                l.gathered("cp1").is_node = true;
            },
            vec![],
            vec![],
        ),
        (
            "the same traces on a host that is not a node are",
            |l| calico_traces(l.facts("w1")),
            vec![],
            vec![
                ("w1", "subnets", "pod subnet 10.233.64.0/18 overlaps address 10.233.64.0/32 on tunl0"),
                ("w1", "subnets", "pod subnet 10.233.64.0/18 overlaps route blackhole 10.233.64.0/26 proto bird"),
                ("w1", "subnets", "pod subnet 10.233.64.0/18 overlaps route 10.233.70.0/26 via 10.0.0.12 dev tunl0 proto bird"),
            ],
        ),
        (
            "an unparsable subnet and an endpoint inside the service subnet",
            |l| {
                l.inv.cluster.pod_subnet = Some("10.233.64.0".into());
                l.inv.cluster.control_plane_endpoint = Some("10.233.0.10:6443".into());
            },
            vec![],
            vec![
                ("", "subnets", "pod subnet \"10.233.64.0\" is not a CIDR block: missing /PREFIX"),
                ("", "subnets", "service subnet 10.233.0.0/18 contains the control_plane_endpoint address 10.233.0.10"),
            ],
        ),
        // ports
        (
            "API server port taken on a control plane; only kubelet's matters on a worker",
            |l| {
                l.facts("cp1").listening.extend([6443, 2379]);
                l.facts("w1").listening.extend([6443, 2379]);
                l.facts("w2").listening.insert(10250);
            },
            vec![],
            vec![
                ("cp1", "ports", "TCP port(s) already in use: 2379 (etcd), 6443 (kube-apiserver); a control plane needs them free"),
                ("w2", "ports", "TCP port(s) already in use: 10250 (kubelet); a worker needs them free"),
            ],
        ),
        (
            "an already initialised node holds its own ports",
            |l| {
                l.facts("cp1").listening.extend([2379, 2380, 6443, 10250, 10257, 10259]);
                l.gathered("cp1").is_node = true;
                l.facts("w1").listening.insert(10250);
                l.gathered("w1").is_node = true;
            },
            vec![],
            vec![],
        ),
        // sudo, facts
        (
            "sudo needs a password; another host unreachable; a third never asked",
            |l| {
                let g = l.gathered("w1");
                g.facts = None;
                g.clock_skew_secs = None;
                g.gather_error = Some("w1: sudo needs a password for user deploy; re-run with --ask-become-pass (or --become-password-file), or allow NOPASSWD for this user".into());
                let g = l.gathered("w2");
                g.facts = None;
                g.gather_error = Some("w2: connection refused".into());
                l.hosts.retain(|h| h.name != "cp1");
            },
            vec![],
            vec![
                ("cp1", "facts", "facts could not be gathered (no facts and no error for this host)"),
                ("w1", "sudo", "become (sudo) did not work, so no facts could be gathered: sudo needs a password for user deploy;"),
                ("w2", "facts", "facts could not be gathered: connection refused"),
            ],
        ),
        // skip
        (
            "a skipped check reports nothing",
            |l| {
                l.facts("cp1").memory_mb = 1024;
                l.facts("w2").hostname = "w1".into();
            },
            vec!["memory", "unique-hostname"],
            vec![],
        ),
        (
            "an unknown skip name is an error; the known ones still skip",
            |l| l.facts("cp1").memory_mb = 1024,
            vec!["memory", "swap"],
            vec![("", "skip", "--skip-preflight: unknown check \"swap\"; valid names: facts, sudo, os, cpu, memory, ports, clock, subnets, unique-hostname, unique-machine-id, unique-product-uuid, unique-mac, unique-ip")],
        ),
        // order
        (
            "ordered by host (cluster first, inventory order), then check",
            |l| {
                l.facts("w2").os.version_id = "10".into();
                l.facts("cp1").listening.insert(6443);
                l.facts("cp1").memory_mb = 512;
                l.facts("cp1").os.version_id = "10".into();
                l.inv.cluster.service_subnet = Some("10.233.64.0/24".into());
            },
            vec![],
            vec![
                ("", "subnets", "overlaps service subnet"),
                ("cp1", "os", "unsupported OS"),
                ("cp1", "memory", "512 MB"),
                ("cp1", "ports", "6443"),
                ("w2", "os", "unsupported OS"),
            ],
        ),
    ]
}

#[test]
fn table() {
    for (what, change, skip, want) in cases() {
        let mut lab = Lab::new();
        change(&mut lab);
        let skip: Vec<String> = skip.into_iter().map(String::from).collect();
        let got = preflight(&lab.inv, &lab.hosts, &skip);
        let shown: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(got.len(), want.len(), "{what}: {shown:#?}");
        for (p, (host, check, part)) in got.iter().zip(&want) {
            assert_eq!(p.host.as_deref().unwrap_or(""), *host, "{what}: {shown:#?}");
            assert_eq!(p.check, *check, "{what}: {shown:#?}");
            assert!(p.message.contains(part), "{what}: {p} lacks {part:?}");
        }
    }
}

#[test]
fn every_check_fails_somewhere_in_the_table() {
    let seen: BTreeSet<&str> = cases()
        .iter()
        .flat_map(|(_, _, _, want)| want.iter().map(|(_, c, _)| *c))
        .collect();
    for c in check_names() {
        assert!(seen.contains(c), "no case fails `{c}`");
    }
}

#[test]
fn display_is_one_line_per_problem() {
    let p = PreflightProblem {
        check: "memory",
        host: Some("cp1".into()),
        message: "1024 MB of memory; a control plane needs at least 1700 MB".into(),
    };
    assert_eq!(
        p.to_string(),
        "host cp1: [memory] 1024 MB of memory; a control plane needs at least 1700 MB"
    );
    let p = PreflightProblem {
        check: "subnets",
        host: None,
        message: "x".into(),
    };
    assert_eq!(p.to_string(), "cluster: [subnets] x");
}

#[test]
fn skip_names_are_validated() {
    assert_eq!(validate_skip(&[]), Ok(()));
    let all: Vec<String> = check_names().iter().map(|c| c.to_string()).collect();
    assert_eq!(validate_skip(&all), Ok(()));
    assert_eq!(validate_skip(&["all".into()]), Ok(()));
    let err = validate_skip(&["ports".into(), "Ports".into(), "al".into()])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            "--skip-preflight: unknown check \"Ports\", \"al\"; valid names: facts, sudo,"
        ),
        "{err}"
    );
    assert!(err.ends_with(", or all"), "{err}");
}

#[test]
fn skip_all_silences_every_case() {
    for (what, change, _, _) in cases() {
        let mut lab = Lab::new();
        change(&mut lab);
        assert_eq!(
            preflight(&lab.inv, &lab.hosts, &["all".to_string()]),
            [],
            "{what}"
        );
    }
}

#[test]
fn skipping_every_check_silences_every_case() {
    let all: Vec<String> = check_names().iter().map(|c| c.to_string()).collect();
    for (what, change, _, _) in cases() {
        let mut lab = Lab::new();
        change(&mut lab);
        assert_eq!(preflight(&lab.inv, &lab.hosts, &all), [], "{what}");
    }
}
