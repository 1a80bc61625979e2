//! Table tests over real outputs of the gather script, captured from lab hosts.
//!
//! To recapture (see fixtures/README.md): write the script with
//! `KS_WRITE_FACT_SCRIPT=/tmp/s.sh cargo test facts::fixture_tests::write_script -- --ignored`,
//! prepare the host as `fixtures/prepare-node1.sh` does, then run
//! `sh -c "$(cat /tmp/s.sh)"` on it as root and save stdout here.

use super::*;

/// A request for `path`'s state (and with `content`, its bytes).
pub(super) fn file(path: &str, content: bool) -> FactRequest {
    FactRequest::File {
        path: path.into(),
        content,
    }
}

/// Exactly what `fixtures/node1-root.out` answers, in this order.
fn lab_requests() -> Vec<FactRequest> {
    vec![
        file("/etc/hostname", true),
        file("/etc/ssh", false),
        file("/nonexistent/file", false),
        file("/root/big.bin", true),
        file("/etc/localtime", false),
        file("/tmp/it's a \"file\" with spaces", true),
        file("/etc/hosts", false),
        file("/root/empty", true),
        file("/root/secret", false),
        file("/dev/null", false),
        FactRequest::Package("sudo".into()),
        FactRequest::Package("openssl".into()),
        FactRequest::Package("kubeadm".into()),
        FactRequest::Package("not a package".into()),
        FactRequest::Unit("ssh.service".into()),
        FactRequest::Unit("getty@tty1.service".into()),
        FactRequest::Unit("e2scrub_reap.service".into()),
        FactRequest::Unit("nope.service".into()),
        FactRequest::Unit("sshd".into()),
        FactRequest::Sysctl("net.ipv4.ip_forward".into()),
        FactRequest::Sysctl("net.ipv4.ip_local_port_range".into()),
        FactRequest::Sysctl("net.ipv4.conf.eth0.rp_filter".into()),
        FactRequest::Sysctl("no.such.key".into()),
        FactRequest::Sysctl("kernel.hostname".into()),
    ]
}

#[test]
#[ignore = "writes the lab script to $KS_WRITE_FACT_SCRIPT for recapturing fixtures"]
fn write_script() {
    if let Ok(path) = std::env::var("KS_WRITE_FACT_SCRIPT") {
        std::fs::write(&path, gather_script(&lab_requests())).unwrap();
        std::fs::write(format!("{path}.base"), gather_script(&[])).unwrap();
    }
}

fn lab_facts() -> Facts {
    parse(include_bytes!("fixtures/node1-root.out"), &lab_requests()).unwrap()
}

#[test]
fn base_facts_of_a_debian_12_lab_host() {
    let f = lab_facts();
    assert_eq!(f.hostname, "node1");
    assert_eq!(
        (
            f.os.id.as_str(),
            f.os.version_id.as_str(),
            f.os.codename.as_str()
        ),
        ("debian", "12", "bookworm")
    );
    assert_eq!(f.os.pretty_name, "Debian GNU/Linux 12 (bookworm)");
    assert_eq!(f.machine_id.len(), 32);
    assert_eq!(f.product_uuid, None, "no DMI inside the lab");
    assert!(f.cpus >= 1);
    assert!(f.memory_mb > 512);
    assert!(f.time > 1_700_000_000);
    let names: Vec<&str> = f.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["lo", "eth0"]);
    let eth0 = &f.interfaces[1];
    assert_eq!(eth0.mac.as_deref(), Some("02:6b:73:00:00:01"));
    assert_eq!(eth0.mtu, Some(1500));
    assert!(eth0.up);
    assert_eq!(eth0.addresses[0], "10.99.5.11/24");
    assert!(eth0.addresses[1].starts_with("fe80::"));
    assert_eq!(
        f.default_route,
        Some(Route {
            gateway: "10.99.5.1".into(),
            interface: "eth0".into()
        })
    );
    for c in ["apt-get", "ifup", "systemctl", "sudo"] {
        assert!(f.commands.contains(c), "{c}");
    }
    assert!(!f.commands.contains("netplan"));
    assert_eq!(f.swap_units, ["dev-fake.swap", "swapfile.swap"]);
    // Captured before these sections existed: the defaults stand.
    assert!(f.loadable_modules, "unknown counts as loadable");
    assert!(f.listening.is_empty());
    assert_eq!(
        f.routes.len(),
        1,
        "the capture listed the default route only"
    );
}

/// The lab capture with the sections added since spliced in (and its
/// default-only route section replaced by a full table), as a host without
/// module support and with a control plane running answers.
#[test]
fn sections_newer_than_the_capture() {
    let real = String::from_utf8(include_bytes!("fixtures/node1-root.out").to_vec()).unwrap();
    let old_routes = "\x1eKS:ip-route\n[{\"dst\":\"default\",\"gateway\":\"10.99.5.1\",\"dev\":\"eth0\",\"flags\":[]}]\n";
    assert!(real.contains(old_routes));
    let new_routes = concat!(
        "\x1eKS:ip-route\n",
        r#"[{"dst":"default","gateway":"10.99.5.1","dev":"eth0","flags":[]},"#,
        r#"{"dst":"10.99.5.0/24","dev":"eth0","protocol":"kernel","scope":"link","flags":[]},"#,
        r#"{"dst":"172.16.0.0/12","gateway":"10.99.5.254","dev":"eth0","protocol":"static","flags":[]}]"#,
        "\n\x1eKS:ip-route6\n",
        r#"[{"dst":"fe80::/64","dev":"eth0","protocol":"kernel","flags":[]}]"#,
        "\n\x1eKS:loadable-modules\nno\n",
        "\x1eKS:tcp-listen\n0016\n192B\n2A3A\n2A3B\n0016\n",
    );
    let out = real.replace(old_routes, new_routes);
    let f = parse(out.as_bytes(), &lab_requests()).unwrap();
    assert!(!f.loadable_modules);
    assert_eq!(
        f.listening.iter().copied().collect::<Vec<_>>(),
        [22, 6443, 10810, 10811]
    );
    let dsts: Vec<&str> = f.routes.iter().map(|r| r.dst.as_str()).collect();
    assert_eq!(
        dsts,
        ["0.0.0.0/0", "10.99.5.0/24", "172.16.0.0/12", "fe80::/64"]
    );
    assert_eq!(f.routes[2].protocol.as_deref(), Some("static"));
    assert_eq!(
        f.default_route.as_ref().map(|r| r.gateway.as_str()),
        Some("10.99.5.1")
    );
    assert_eq!(
        f,
        Facts {
            loadable_modules: false,
            listening: f.listening.clone(),
            routes: f.routes.clone(),
            ..lab_facts()
        },
        "the rest parses as before"
    );
}

#[test]
fn file_states() {
    let f = lab_facts();
    let kind = |p: &str| f.files[p].kind;
    let table = [
        ("/etc/hostname", FileKind::File),
        ("/etc/ssh", FileKind::Directory),
        ("/nonexistent/file", FileKind::Missing),
        ("/root/big.bin", FileKind::File),
        ("/etc/localtime", FileKind::Link),
        ("/tmp/it's a \"file\" with spaces", FileKind::File),
        ("/etc/hosts", FileKind::File),
        ("/root/empty", FileKind::File),
        ("/root/secret", FileKind::File),
        ("/dev/null", FileKind::Other),
    ];
    assert_eq!(f.files.len(), table.len());
    for (path, want) in table {
        assert_eq!(kind(path), want, "{path}");
    }
    let hostname = &f.files["/etc/hostname"];
    assert_eq!(hostname.content.as_deref(), Some(&b"node1\n"[..]));
    assert_eq!(hostname.size, Some(6));
    // 0755 is what the lab's rootfs really has: the fact reports, never assumes.
    assert_eq!(hostname.mode, Some(0o755));
    // sha256("node1\n"), as sha256sum printed it on the host
    assert_eq!(
        hostname.sha256.as_deref(),
        Some("42ba9f2b9b6e44a1b2744a243201d3147d174232de467899ab7e20df374101df")
    );
    let big = &f.files["/root/big.bin"];
    assert_eq!((big.size, big.content.as_ref()), (Some(300_000), None));
    assert!(big.sha256.is_some());
    let quoted = &f.files["/tmp/it's a \"file\" with spaces"];
    assert_eq!(
        quoted.content.as_deref(),
        Some(&b"quoted 'path' works\n"[..])
    );
    assert_eq!(f.files["/root/empty"].content.as_deref(), Some(&b""[..]));
    let secret = &f.files["/root/secret"];
    assert_eq!(secret.mode, Some(0o600));
    assert_eq!(secret.owner.as_deref(), Some("deploy"));
    assert_eq!(secret.group.as_deref(), Some("deploy"));
    assert_eq!(secret.content, None, "content was not asked for");
    let ssh = &f.files["/etc/ssh"];
    assert_eq!(
        (ssh.mode, ssh.size, ssh.sha256.as_ref()),
        (Some(0o755), None, None)
    );
    assert_eq!(f.files["/nonexistent/file"], FileState::default());
}

#[test]
fn package_unit_and_sysctl_states() {
    let f = lab_facts();
    let sudo = &f.packages["sudo"];
    assert!(sudo.held);
    assert!(sudo
        .version
        .as_deref()
        .is_some_and(|v| v.starts_with("1.9.")));
    let openssl = &f.packages["openssl"];
    assert!(!openssl.held && openssl.version.is_some());
    assert_eq!(f.packages["kubeadm"], PackageState::default());
    assert_eq!(f.packages["not a package"], PackageState::default());

    let table = [
        ("ssh.service", "loaded", "active", "enabled"),
        ("sshd", "loaded", "active", "enabled"),
        ("getty@tty1.service", "masked", "inactive", "masked"),
        ("e2scrub_reap.service", "masked", "inactive", "masked"),
        ("nope.service", "not-found", "inactive", ""),
    ];
    for (unit, load, active, file) in table {
        let u = &f.units[unit];
        assert_eq!(
            (
                u.load_state.as_str(),
                u.active_state.as_str(),
                u.unit_file_state.as_str()
            ),
            (load, active, file),
            "{unit}"
        );
    }

    let sysctl = |k: &str| f.sysctls[k].clone();
    assert_eq!(sysctl("net.ipv4.ip_forward").as_deref(), Some("0"));
    assert_eq!(
        sysctl("net.ipv4.ip_local_port_range").as_deref(),
        Some("32768\t60999")
    );
    assert!(sysctl("net.ipv4.conf.eth0.rp_filter").is_some());
    assert_eq!(sysctl("no.such.key"), None);
    assert_eq!(sysctl("kernel.hostname").as_deref(), Some("node1"));
    for r in lab_requests() {
        assert!(f.has(&r), "{r:?} answered");
    }
}

#[test]
fn ansible_vars_of_the_lab_host() {
    let v = to_ansible_vars(&lab_facts());
    assert_eq!(v["ansible_hostname"], "node1");
    assert_eq!(v["ansible_distribution"], "Debian");
    assert_eq!(v["ansible_distribution_major_version"], "12");
    assert_eq!(v["ansible_distribution_release"], "bookworm");
    assert_eq!(v["ansible_default_ipv4"]["address"], "10.99.5.11");
    assert_eq!(v["ansible_default_ipv4"]["network"], "10.99.5.0");
    assert_eq!(v["ansible_eth0"]["macaddress"], "02:6b:73:00:00:01");
    assert_eq!(v["ansible_interfaces"], serde_json::json!(["lo", "eth0"]));
    assert_eq!(v["ansible_facts"]["eth0"]["ipv4"]["prefix"], "24");
}

#[test]
fn base_only_output_through_sudo() {
    let f = parse(include_bytes!("fixtures/node1-deploy-sudo.out"), &[]).unwrap();
    assert_eq!(f.hostname, "node1");
    assert!(f.files.is_empty() && f.packages.is_empty());
    assert_eq!(f.interfaces.len(), 2);
}

#[test]
fn garbage_is_a_clear_error_not_a_panic() {
    let inputs: [&[u8]; 6] = [
        b"",
        b"\xff\xfe\x00garbage\n\n",
        b"\x1eKS:begin 1\n\x1eKS:nproc\nmany\n\x1eKS:end\n",
        b"\x1eKS:begin 1\n\x1eKS:ip-addr\n[{\"ifname\":\n\x1eKS:end\n",
        b"\x1eKS:begin 1\n\x1eKS:stat\nnot a stat line\n\x1eKS:end\n",
        b"\x1eKS:begin 1\n\x1eKS:nproc\n4\n",
    ];
    let wants = [
        "begin",
        "begin",
        "`nproc`",
        "`ip-addr`",
        "`stat`",
        "cut short",
    ];
    for (input, want) in inputs.iter().zip(wants) {
        let err = parse(input, &lab_requests()).unwrap_err();
        assert!(err.contains(want), "{err}");
    }
    // Every prefix of a real output either parses or errs; none panics.
    let real = include_bytes!("fixtures/node1-root.out");
    for n in (0..real.len()).step_by(97) {
        let _ = parse(&real[..n], &lab_requests());
    }
}

#[test]
fn missing_sections_leave_facts_empty() {
    let f = parse(b"\x1eKS:begin 1\n\x1eKS:end\n", &lab_requests()).unwrap();
    assert_eq!(f.hostname, "");
    assert_eq!(f.cpus, 0);
    assert_eq!(f.files["/etc/hosts"].kind, FileKind::Missing);
    assert_eq!(f.packages["sudo"], PackageState::default());
    assert_eq!(f.sysctls["kernel.hostname"], None);
}

/// Every field parsed from both recorded outputs, pinned whole, so a change
/// to any parser (or to how the parts are merged) shows up here.
#[test]
fn parsed_fixtures_are_pinned() {
    insta::assert_debug_snapshot!("node1_root", lab_facts());
    insta::assert_debug_snapshot!(
        "node1_deploy_sudo",
        parse(include_bytes!("fixtures/node1-deploy-sudo.out"), &[]).unwrap()
    );
}
