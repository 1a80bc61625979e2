//! `kubestrap run` on fresh lab hosts: check mode, convergence, idempotence, diff, handlers.

use std::path::Path;

use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home, Run};

const HOSTS: [&str; 3] = ["node7", "node8", "node9"];

/// Every path the playbook writes, hashed on the host (with the live state
/// that is not a file), so a test can prove nothing changed.
const STATE: &str = "for f in /etc/fstab /etc/sysctl.d/99-kubernetes.conf /etc/modules-load.d/overlay.conf \
    /srv/kubestrap-test/hello.txt /srv/kubestrap-test/lines.conf /srv/kubestrap-test/conf.d/dummy.conf \
    /srv/kubestrap-test/conf.d/seeded.conf \
    /etc/systemd/system/kubestrap-dummy.service /etc/apt/sources.list.d/kubestrap-test.sources /etc/hostname; do \
    if [ -e $f ]; then sha256sum $f; else echo missing $f; fi; done; \
    ls -d /srv/kubestrap-test 2>&1; sysctl -n net.ipv4.ip_forward; dpkg --get-selections sudo; \
    systemctl is-active kubestrap-dummy || true";

fn playbook() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/playbooks/every_module.yaml")
}

fn state(lab: &Lab) -> Vec<String> {
    HOSTS.iter().map(|h| lab.sh_ok(h, STATE)).collect()
}

/// The `changed=N` of every host's recap line.
fn changed_counts(run: &Run) -> Vec<u32> {
    HOSTS.iter().map(|h| changed(&run.stdout, h)).collect()
}

#[test]
fn a_playbook_touching_every_module_converges_and_then_changes_nothing() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&HOSTS, "root");
    let kh = lab.known_hosts();
    let fetch_dir = home.path().join("fetched");
    let fetch_var = format!("fetch_dir={}", fetch_dir.display());
    for h in HOSTS {
        // A swap line the swap module must comment out (never swapon in the lab).
        lab.sh_ok(
            h,
            "grep -q '^/swapfile' /etc/fstab || echo '/swapfile none swap sw 0 0' >> /etc/fstab",
        );
    }
    let book = playbook();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            s(&book),
            "-i",
            s(&inv),
            "--known-hosts",
            s(&kh),
            "-e",
            &fetch_var,
        ];
        args.extend_from_slice(extra);
        home.kubestrap(&args)
    };

    // 1. --check on fresh hosts: reports changes, changes nothing.
    let before = state(&lab);
    let check = run(&["--check"]);
    assert_eq!(check.code, 0, "{}", check.all());
    assert_eq!(state(&lab), before, "--check changed a host");
    assert!(!fetch_dir.exists(), "--check fetched a file");
    let predicted = changed_counts(&check);
    assert!(
        predicted.iter().all(|&n| n >= 10),
        "check mode found too little to do: {predicted:?}"
    );

    // 2. The real run converges, with the same changed count as --check.
    let first = run(&[]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert_eq!(
        changed_counts(&first),
        predicted,
        "--check predicted a different changed count"
    );
    assert_eq!(
        first
            .stdout
            .matches("RUNNING HANDLER [restart dummy]")
            .count(),
        1,
        "the handler runs once, though two tasks notified it"
    );
    for h in HOSTS {
        assert!(
            first.stdout.contains(&format!("skipping: [{h}]")),
            "when: false skips"
        );
        let fstab = lab.sh_ok(h, "cat /etc/fstab");
        assert!(
            fstab
                .lines()
                .any(|l| l.starts_with('#') && l.contains("/swapfile none swap")),
            "{fstab}"
        );
        assert_eq!(lab.sh_ok(h, "sysctl -n net.ipv4.ip_forward").trim(), "1");
        assert_eq!(
            lab.sh_ok(h, "systemctl is-active kubestrap-dummy").trim(),
            "active"
        );
        assert_eq!(
            lab.sh_ok(h, "cat /srv/kubestrap-test/hello.txt"),
            format!("hello from {h}\n")
        );
        assert_eq!(
            lab.sh_ok(h, "cat /srv/kubestrap-test/lines.conf"),
            "second line\n"
        );
        assert_eq!(
            lab.sh_ok(h, "cat /srv/kubestrap-test/conf.d/seeded.conf"),
            "# replaced by kubestrap\nvalue = 1\n"
        );
        let conf = lab.sh_ok(h, "cat /srv/kubestrap-test/conf.d/dummy.conf");
        assert!(
            conf.contains(&format!("dummy.conf for {h} (Debian 12")) && conf.contains("cpus = "),
            "{conf}"
        );
        assert!(lab.sh_ok(h, "dpkg --get-selections sudo").contains("hold"));
        assert!(
            lab.sh_ok(h, "ls -a /srv/kubestrap-test")
                .lines()
                .all(|l| !l.starts_with(".kubestrap")),
            "temp files left"
        );
        assert_eq!(
            std::fs::read_to_string(fetch_dir.join(h).join("etc/hostname"))
                .unwrap()
                .trim(),
            h
        );
    }

    // 3. A second run changes nothing; without the probe tasks it costs
    //    exactly one SSH command per host (the fact gathering).
    let report = home.path().join("report.json");
    let again = run(&["--skip-tags", "probe", "--report", s(&report)]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(changed_counts(&again), vec![0, 0, 0], "{}", again.stdout);
    assert!(
        !again.stdout.contains("RUNNING HANDLER"),
        "no handler without a change"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    for h in HOSTS {
        assert_eq!(
            json["stats"][h]["ssh_execs"], 1,
            "no-op re-run on {h} must be one SSH command: {}",
            json["stats"]
        );
        assert_eq!(json["stats"][h]["changed"], 0);
    }
    let with_probes = run(&[]);
    assert_eq!(
        changed_counts(&with_probes),
        vec![0, 0, 0],
        "{}",
        with_probes.stdout
    );

    // 4. --diff shows a unified diff of what it puts back.
    lab.sh_ok(
        "node8",
        "echo 'local edit' >> /srv/kubestrap-test/conf.d/dummy.conf",
    );
    let diff = run(&["--diff", "--limit", "node8"]);
    assert_eq!(diff.code, 0, "{}", diff.all());
    assert!(
        diff.stdout
            .contains("--- before: /srv/kubestrap-test/conf.d/dummy.conf"),
        "{}",
        diff.stdout
    );
    assert!(
        diff.stdout
            .contains("+++ after: /srv/kubestrap-test/conf.d/dummy.conf"),
        "{}",
        diff.stdout
    );
    assert!(diff.stdout.contains("\n-local edit"), "{}", diff.stdout);
    assert!(diff.stdout.contains("RUNNING HANDLER [restart dummy]"));
    assert!(
        lab.sh_ok("node8", "ls /srv/kubestrap-test/conf.d/")
            .lines()
            .any(|l| l.starts_with("dummy.conf.") && l.ends_with('~')),
        "the replaced file was backed up (the task says backup: true)"
    );
}

#[test]
fn a_broken_playbook_is_refused_with_file_and_line_before_anything_runs() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_d, inv) = lab.write_inventory(&["node1"], "root");
    let book = home.path().join("broken.yaml");
    std::fs::write(
        &book,
        "- hosts: all\n  tasks:\n    - name: nope\n      no_such_module: {x: 1}\n",
    )
    .unwrap();
    let run = home.kubestrap(&[
        "run",
        s(&book),
        "-i",
        s(&inv),
        "--known-hosts",
        s(&lab.known_hosts()),
    ]);
    assert_eq!(run.code, 2, "{}", run.all());
    let first = run.stderr.lines().next().unwrap_or("");
    assert!(
        first.starts_with(&format!("{}:4:", book.display())),
        "{first}"
    );
    assert!(!run.stdout.contains("PLAY ["), "nothing ran");
}
