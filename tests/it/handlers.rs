//! Handlers that must not be lost: Ctrl-C between a change and its handler, failed hosts, --force-handlers.
//!
//! Hosts: node42 (containerd's config changed, then SIGINT before its
//! restart handler), node43 (a task fails after a change that notified).

use std::path::Path;
use std::time::Duration;

use crate::faults::{count, exists, recap_line, Background};
use crate::inventories::lab_cluster;
use crate::lab::Lab;
use crate::support::{s, Home};

const RECORD: &str = "/var/lib/kubestrap/pending-handlers";

/// containerd's last start and its config's last change, in seconds since the epoch.
fn start_and_mtime(lab: &Lab, host: &str) -> (i64, i64) {
    let out = lab.sh_ok(
        host,
        "date -d \"$(systemctl show -p ActiveEnterTimestamp --value containerd)\" +%s; \
         stat -c %Y /etc/containerd/config.toml",
    );
    let n: Vec<i64> = out.lines().map(|l| l.trim().parse().unwrap()).collect();
    (n[0], n[1])
}

/// The shipped runtime.yaml with a slow task between the config (which
/// notifies `restart containerd`) and the end of the play.
fn slow_runtime(dir: &Path) -> std::path::PathBuf {
    let books = dir.join("books");
    std::fs::create_dir_all(&books).unwrap();
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("playbooks/runtime.yaml"),
    )
    .unwrap();
    let marker = "    - name: crictl talks to containerd\n";
    assert!(shipped.contains(marker), "runtime.yaml changed:\n{shipped}");
    let slow = shipped.replace(
        marker,
        &format!("    - name: slow\n      command: sleep 60\n\n{marker}"),
    );
    std::fs::write(books.join("runtime.yaml"), slow).unwrap();
    books
}

#[test]
fn a_handler_interrupted_by_ctrl_c_runs_on_the_next_apply() {
    let lab = Lab::from_env();
    let home = Home::new();
    let inv = home.path().join("inventory.yaml");
    std::fs::write(
        &inv,
        lab_cluster(&lab, &[("node42", "control_plane")], "10.233.64.0/18", ""),
    )
    .unwrap();
    let kh = lab.known_hosts();
    let apply = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = ["apply", "-i", s(&inv), "--known-hosts", s(&kh)]
            .iter()
            .map(|x| x.to_string())
            .collect();
        a.extend(["--until", "prepared"].iter().map(|x| x.to_string()));
        a.extend(extra.iter().map(|x| x.to_string()));
        a
    };
    // A first preparation installs packages: on a busy machine that takes
    // longer than Home::kubestrap's bound, so these runs get their own.
    let run = |args: Vec<String>| Background::start(&home, &args).finish(Duration::from_secs(900));

    // 1. A prepared host: containerd installed, configured, running.
    let first = run(apply(&[]));
    assert_eq!(first.code, 0, "{}", first.all());
    lab.sh_ok("node42", "echo '# drifted' >> /etc/containerd/config.toml");

    // 2. The next apply rewrites the config (notifying the restart), then is
    //    interrupted before the play's handlers: containerd keeps running
    //    the old config, and the host remembers the restart.
    let books = slow_runtime(home.path());
    let a = Background::start(&home, &apply(&["--playbooks", s(&books)]));
    a.wait_for_slow_task(&lab, "node42");
    a.signal("INT");
    a.signal("INT");
    let r = a.finish(Duration::from_secs(60));
    let _ = lab.sh("node42", "pkill -x sleep");
    assert_eq!(r.code, 130, "{}", r.all());
    assert!(!r.stdout.contains("RUNNING HANDLER"), "{}", r.stdout);
    let (started, written) = start_and_mtime(&lab, "node42");
    assert!(
        started < written,
        "containerd restarted after all ({started} >= {written}):\n{}",
        r.stdout
    );
    assert!(!lab
        .sh_ok("node42", "cat /etc/containerd/config.toml")
        .contains("# drifted"));
    let record = lab.sh_ok("node42", &format!("cat {RECORD}"));
    assert!(
        record.lines().any(|l| l == "handler=restart containerd"),
        "{record}"
    );

    // 3. The re-run finds the config right, and still restarts containerd.
    let again = run(apply(&[]));
    assert_eq!(again.code, 0, "{}", again.all());
    let handler = again
        .stdout
        .split("RUNNING HANDLER [restart containerd]")
        .nth(1)
        .unwrap_or_else(|| panic!("the handler did not run:\n{}", again.stdout));
    assert!(
        handler.lines().nth(1) == Some("changed: [node42]"),
        "{handler}"
    );
    let (started, written) = start_and_mtime(&lab, "node42");
    assert!(
        started > written,
        "containerd runs a config older than its start ({started} <= {written})"
    );
    assert!(
        !exists(&lab, "node42", RECORD),
        "the record was not cleared"
    );

    // 4. Then nothing is left to do.
    let third = run(apply(&[]));
    assert_eq!(third.code, 0, "{}", third.all());
    assert!(
        !third.stdout.contains("RUNNING HANDLER"),
        "{}",
        third.stdout
    );
    assert_eq!(count(recap_line(&third.stdout, "node42"), "changed"), 0);
}

#[test]
fn notified_handlers_survive_a_failed_host_and_run_with_force_handlers() {
    let lab = Lab::from_env();
    let home = Home::new();
    let (_dir, inv) = lab.write_inventory(&["node43"], "root");
    let kh = lab.known_hosts();
    lab.sh_ok(
        "node43",
        &format!("rm -f /etc/ks-demo.conf /tmp/ks-handled {RECORD}"),
    );
    let book = home.path().join("site.yaml");
    std::fs::write(
        &book,
        "- hosts: all\n  tasks:\n\
         \x20   - name: a config\n      copy:\n        dest: /etc/ks-demo.conf\n        content: \"v=1\\n\"\n      notify: apply the config\n\
         \x20   - name: a later task fails\n      command: \"false\"\n      when: fail | default(true) | bool\n\
         \x20 handlers:\n\
         \x20   - name: apply the config\n      command: touch /tmp/ks-handled\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut a = vec!["run", s(&book), "-i", s(&inv), "--known-hosts", s(&kh)];
        a.extend_from_slice(extra);
        home.kubestrap(&a)
    };

    // 1. The host failed after the change: as in Ansible, its handler does
    //    not run, but the host remembers it.
    let r = run(&[]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(!exists(&lab, "node43", "/tmp/ks-handled"), "{}", r.stdout);
    let record = lab.sh_ok("node43", &format!("cat {RECORD}"));
    assert!(record.contains("handler=apply the config\n"), "{record}");

    // 2. --force-handlers runs it on the failed host, and clears the record.
    let r = run(&["--force-handlers"]);
    assert_eq!(r.code, 3, "{}", r.all());
    assert!(
        r.stdout.contains("RUNNING HANDLER [apply the config]"),
        "{}",
        r.stdout
    );
    assert!(exists(&lab, "node43", "/tmp/ks-handled"));
    assert!(!exists(&lab, "node43", RECORD));

    // 3. Nothing pending, nothing changed: no handler.
    let r = run(&["-e", "fail=false"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(!r.stdout.contains("RUNNING HANDLER"), "{}", r.stdout);
    assert_eq!(count(recap_line(&r.stdout, "node43"), "changed"), 0);
}
