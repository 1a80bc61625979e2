//! README's exit-code table, command by command: each code a command can give, from a real run.
//!
//! Cases that need hosts share node53 (reachable), node54 (stopped:
//! unreachable) and node55 (its known_hosts entry holds another host's key:
//! a changed host key), so a few runs cover exec, run and apply.

use std::process::Stdio;

use crate::lab::Lab;
use crate::support::{s, Home};

/// known_hosts that knows every lab host by its own key, except `changed`,
/// which it knows by `other`'s key.
fn known_hosts_with_changed_key(lab: &Lab, home: &Home, changed: &str, other: &str) -> String {
    let text = std::fs::read_to_string(lab.known_hosts()).expect("lab known_hosts");
    let (changed_addr, other_addr) = (lab.address(changed), lab.address(other));
    let first = |l: &str| l.split_whitespace().next().unwrap_or("").to_string();
    let mut out: Vec<String> = text
        .lines()
        .filter(|l| first(l) != changed_addr)
        .map(str::to_string)
        .collect();
    let copies: Vec<String> = text
        .lines()
        .filter(|l| first(l) == other_addr)
        .map(|l| format!("{changed_addr}{}", &l[other_addr.len()..]))
        .collect();
    assert!(!copies.is_empty(), "the lab knows {other}'s key");
    out.extend(copies);
    let path = home.path().join("known_hosts.changed");
    std::fs::write(&path, out.join("\n") + "\n").expect("writing known_hosts");
    path.to_str().expect("utf-8").to_string()
}

#[test]
fn unreachable_hosts_exit_4_and_changed_host_keys_5_under_exec_run_and_apply() {
    let lab = Lab::from_env();
    let home = Home::new();
    let known = known_hosts_with_changed_key(&lab, &home, "node55", "node53");
    let (_d, two) = lab.write_inventory(&["node53", "node54"], "root");
    let (_e, three) = lab.write_inventory(&["node53", "node54", "node55"], "root");
    let playbook = home.path().join("true.yaml");
    std::fs::write(
        &playbook,
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: \"true\"\n",
    )
    .unwrap();
    let conn = [
        "--known-hosts",
        &known,
        // A stopped host answers "no route" within seconds; a busy CI
        // machine may need several for a good host's handshake.
        "--connect-timeout",
        "15",
        "--retries",
        "0",
    ];
    let kubestrap = |command: &[&str], inv: &std::path::Path, extra: &[&str]| {
        let mut args = command.to_vec();
        args.extend_from_slice(&["-i", s(inv)]);
        args.extend_from_slice(&conn);
        args.extend_from_slice(extra);
        home.kubestrap(&args)
    };
    lab.stop("node54");
    let runs = [
        ("exec", kubestrap(&["exec"], &two, &["--", "true"]), 4),
        ("exec", kubestrap(&["exec"], &three, &["--", "true"]), 5),
        ("run", kubestrap(&["run", s(&playbook)], &two, &[]), 4),
        ("run", kubestrap(&["run", s(&playbook)], &three, &[]), 5),
        (
            "apply",
            kubestrap(&["apply"], &two, &["--check", "--until", "prepared"]),
            4,
        ),
        (
            "apply",
            kubestrap(&["apply"], &three, &["--check", "--until", "prepared"]),
            5,
        ),
    ];
    // Checks skipped: node54 is still not reached, and not counted as ok.
    let skipped = kubestrap(
        &["apply"],
        &two,
        &[
            "--check",
            "--until",
            "prepared",
            "--skip-preflight",
            "facts",
        ],
    );
    lab.start("node54");
    for (command, run, code) in &runs {
        assert_eq!(run.code, *code, "{command}:\n{}", run.all());
    }
    for (_, apply, _) in &runs[4..] {
        let preflight = apply
            .stdout
            .split("PREFLIGHT *")
            .nth(1)
            .unwrap_or_else(|| panic!("no PREFLIGHT block:\n{}", apply.stdout));
        assert!(
            !preflight.contains("--skip-preflight"),
            "no skip advice for connection problems:\n{preflight}"
        );
        assert!(preflight.contains("not reached: node54"), "{preflight}");
        assert!(!preflight.contains("ok: all"), "{preflight}");
    }
    assert!(runs[5].1.stdout.contains("HOST KEY CHANGED"));
    assert_eq!(skipped.code, 4, "{}", skipped.all());
    assert!(
        skipped.stdout.contains(
            "ok: 1 of 2 hosts; not reached, so not checked (check `facts` skipped): node54"
        ),
        "{}",
        skipped.stdout
    );
    assert!(!skipped.stdout.contains("ok: all"), "{}", skipped.stdout);
}

#[test]
fn local_outcomes_exit_0_1_or_2_for_every_command() {
    let home = Home::new();
    let dir = home.path();
    let inv = dir.join("inv.yaml");
    std::fs::write(
        &inv,
        "cluster:\n  name: c\nhosts:\n  cp1:\n    address: 127.0.0.1\n    roles: [control_plane]\n",
    )
    .unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "hosts:\n  cp1:\n    roles: [wrker]\n").unwrap();
    let state = dir.join(".kubestrap/c");
    std::fs::create_dir_all(&state).unwrap();
    for private in [dir.join(".kubestrap"), state.clone()] {
        std::fs::set_permissions(
            &private,
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
    }
    std::fs::write(state.join("kubeconfig"), "apiVersion: v1\nkind: Config\n").unwrap();
    std::fs::set_permissions(
        state.join("kubeconfig"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let no_dir = dir.join("no/such/dir/admin.conf");
    let ca = dir.join("not-a-cert.pem");
    std::fs::write(&ca, "hello").unwrap();
    let (inv, bad, no_dir, ca) = (s(&inv), s(&bad), s(&no_dir), s(&ca));
    let table: &[(&[&str], i32)] = &[
        (&["inventory", "check", "-i", inv], 0),
        (&["inventory", "check", "-i", bad], 2),
        (&["inventory", "show", "-i", inv], 0),
        (&["inventory", "show", "-i", bad], 2),
        (&["exec", "-i", bad, "--", "true"], 2),
        (
            &["exec", "-i", inv, "--limit", "nosuchhost", "--", "true"],
            2,
        ),
        (&["run", "no-such-playbook.yaml", "-i", inv], 2),
        (&["apply", "-i", inv, "--until", "prepard"], 2),
        (&["apply", "-i", inv, "--skip-preflight", "swap"], 2),
        (&["kubeconfig", "-i", inv], 0),
        (&["kubeconfig", "-i", bad], 2),
        (&["kubeconfig", "-i", inv, "-o", no_dir], 1),
        (&["ca-hash", ca], 2),
        // No terminal to ask on and no --yes: refused before connecting.
        (&["reset", "-i", inv], 2),
        (&["reset", "-i", bad, "--yes"], 2),
        (&["completions", "bash"], 0),
        (&["completions", "tcsh"], 2),
        (&["man"], 0),
        (&["no-such-command"], 2),
    ];
    for (args, code) in table {
        let run = home.kubestrap(args);
        assert_eq!(run.code, *code, "kubestrap {args:?}:\n{}", run.all());
    }
}

#[test]
fn exec_into_a_closed_pipe_ends_quietly_without_a_panic() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node53"], "root");
    // More than a pipe holds (64 KiB), so kubestrap is still writing when
    // `head` has read its line and gone.
    let mut kubestrap = home
        .command(&[
            "exec",
            "-i",
            s(&inv),
            "--known-hosts",
            s(&lab.known_hosts()),
            "--",
            "seq",
            "200000",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubestrap");
    let head = std::process::Command::new("head")
        .arg("-1")
        .stdin(kubestrap.stdout.take().expect("stdout"))
        .output()
        .expect("head");
    let out = kubestrap.wait_with_output().expect("kubestrap ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        String::from_utf8_lossy(&head.stdout),
        "node53 | CHANGED | rc=0 >>\n"
    );
    assert_eq!(out.status.code(), Some(141), "stderr: {stderr}");
    assert!(stderr.is_empty(), "quiet, no panic: {stderr}");
}
