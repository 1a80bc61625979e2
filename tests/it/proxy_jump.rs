//! ProxyJump from ~/.ssh/config: reach a host the operator cannot reach directly.

use crate::lab::Lab;
use crate::support::{s, Home};

#[test]
fn proxy_jump_reaches_a_host_that_is_unreachable_directly() {
    let lab = Lab::from_env();
    let home = Home::new();
    // node3 drops everything from the operator's bridge address, but still
    // answers node1: only a jump through node1 can reach it.
    let node1 = lab.address("node1");
    let operator = format!("{}.1", node1.rsplit_once('.').expect("IPv4 address").0);
    lab.sh_ok(
        "node3",
        &format!("ip route replace unreachable {operator}/32"),
    );
    let (_d, inv) = lab.write_inventory(&["node3"], "root");
    let kh = lab.known_hosts();

    let direct = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--connect-timeout",
        "3",
        "--retries",
        "0",
        "--",
        "hostname",
    ]);
    assert_eq!(
        direct.code,
        4,
        "node3 must be unreachable directly:\n{}",
        direct.all()
    );

    let config = format!(
        "Host {node3}\n    ProxyJump jumper\n\nHost jumper\n    HostName {node1}\n    User root\n    IdentityFile {key}\n",
        node3 = lab.address("node3"),
        node1 = node1,
        key = lab.key().display()
    );
    std::fs::write(home.path().join(".ssh/config"), config).unwrap();
    let jumped = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--known-hosts",
        s(&kh),
        "--",
        "hostname",
    ]);
    lab.sh_ok("node3", &format!("ip route del unreachable {operator}/32"));
    assert_eq!(jumped.code, 0, "{}", jumped.all());
    assert!(
        jumped.stdout.contains("node3 | CHANGED | rc=0 >>\nnode3\n"),
        "{}",
        jumped.stdout
    );
}
