//! Host keys: strict by default, new keys only on request, changed keys always refused.

use crate::lab::Lab;
use crate::support::{s, ssh_keygen_fingerprint, Home};

#[test]
fn unknown_host_key_is_refused_then_accepted_with_the_flag_and_remembered() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node2"], "root");
    let fingerprint = ssh_keygen_fingerprint(&lab, "node2");

    let refused = home.kubestrap(&["exec", "-i", s(&inv), "--", "hostname"]);
    assert_eq!(refused.code, 5, "host-key exit code:\n{}", refused.all());
    assert!(
        refused
            .stdout
            .contains(&format!("unknown host key ssh-ed25519 {fingerprint}")),
        "fingerprint as ssh-keygen -lf prints it ({fingerprint}):\n{}",
        refused.all()
    );
    assert!(!refused.stdout.contains("rc=0"), "no command ran");
    assert!(
        !home.known_hosts().exists()
            || std::fs::read_to_string(home.known_hosts())
                .unwrap()
                .is_empty()
    );

    let accepted = home.kubestrap(&[
        "exec",
        "-i",
        s(&inv),
        "--accept-new-host-keys",
        "--",
        "hostname",
    ]);
    assert_eq!(accepted.code, 0, "{}", accepted.all());
    assert!(accepted.stdout.contains("node2 | CHANGED | rc=0 >>\nnode2"));
    assert!(
        accepted.stderr.contains(&fingerprint),
        "the new key's fingerprint is shown"
    );
    let stored = std::fs::read_to_string(home.known_hosts()).expect("known_hosts written");
    let public = lab.sh_ok("node2", "cat /etc/ssh/ssh_host_ed25519_key.pub");
    let key_b64 = public.split_whitespace().nth(1).unwrap();
    assert!(
        stored
            .lines()
            .any(|l| l == format!("{} ssh-ed25519 {key_b64}", lab.address("node2"))),
        "OpenSSH-format line expected, got:\n{stored}"
    );

    let again = home.kubestrap(&["exec", "-i", s(&inv), "--", "hostname"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        !again.stderr.contains("added new host key"),
        "accepted silently the second time"
    );
    assert_eq!(
        std::fs::read_to_string(home.known_hosts()).unwrap(),
        stored,
        "nothing appended twice"
    );
}

#[test]
fn a_regenerated_host_key_is_refused_even_with_accept_new() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node4"], "root");
    std::fs::copy(lab.known_hosts(), home.known_hosts()).expect("seed known_hosts");

    let before = home.kubestrap(&["exec", "-i", s(&inv), "--", "hostname"]);
    assert_eq!(before.code, 0, "{}", before.all());

    lab.sh_ok(
        "node4",
        "rm -f /etc/ssh/ssh_host_* && ssh-keygen -A >/dev/null && systemctl restart ssh",
    );
    let new_fingerprint = ssh_keygen_fingerprint(&lab, "node4");
    for extra in [&[][..], &["--accept-new-host-keys"][..]] {
        let mut args = vec!["exec", "-i", s(&inv)];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--", "hostname"]);
        let run = home.kubestrap(&args);
        assert_eq!(run.code, 5, "{}", run.all());
        assert!(run.stdout.contains("HOST KEY CHANGED"), "{}", run.stdout);
        assert!(run.stdout.contains(&new_fingerprint), "{}", run.stdout);
        assert!(
            run.stdout
                .contains(&format!("{}:", home.known_hosts().display())),
            "names the known_hosts line"
        );
        assert!(!run.stdout.contains("rc=0"), "no command ran");
    }
}
