//! `kubestrap exec -m MODULE -a ARGS PATTERN` on lab hosts, against the real `ansible` ad-hoc command: same output, same end state.
//!
//! kubestrap runs each module on node101, ansible (ansible-core, as
//! .ci/run installs it) on node102, from one inventory. Each host's block
//! must read as ansible's does (its host name aside; ansible's ping adds the
//! Python interpreter it discovered), and the files copied must end alike.
//! apt runs under kubestrap alone: ansible's apt needs python3-apt on the
//! host for --check, which the lab's offline repository does not carry.

use std::path::{Path, PathBuf};

use crate::ansible_vars::ansible_output;
use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home, Run};

const KUBESTRAP_HOST: &str = "node101";
const ANSIBLE_HOST: &str = "node102";

/// One inventory for both tools: node101 a control plane (kubestrap's
/// inventories need one), node102 a worker.
fn inventory(lab: &Lab, dir: &Path) -> PathBuf {
    let line = |h: &str| {
        format!(
            "{h} ansible_host={} ansible_user=root ansible_ssh_private_key_file={} \
             ansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes'\n",
            lab.address(h),
            lab.key().display(),
            lab.known_hosts().display()
        )
    };
    let inv = dir.join("hosts.ini");
    let text = format!(
        "[kube_control_plane]\n{}[kube_node]\n{}",
        line(KUBESTRAP_HOST),
        line(ANSIBLE_HOST)
    );
    std::fs::write(&inv, text).unwrap();
    inv
}

/// A host's block in ad-hoc output: from `HOST | ` to the blank line
/// before the recap (or the end), its name replaced by HOST.
fn block(stdout: &str, host: &str) -> String {
    let start = stdout
        .find(&format!("{host} | "))
        .unwrap_or_else(|| panic!("no block for {host}:\n{stdout}"));
    let rest = &stdout[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    rest[..end].trim_end().replace(host, "HOST")
}

/// The JSON of a `HOST | STATE => {…}` block, without what only ansible's
/// Python adds (`ansible_facts.discovered_interpreter_python`).
fn json_of(block: &str) -> (String, serde_json::Value) {
    let (head, json) = block.split_once(" => ").expect("a JSON block");
    let mut v: serde_json::Value = serde_json::from_str(json).expect("JSON");
    v.as_object_mut().unwrap().remove("ansible_facts");
    (head.to_string(), v)
}

#[test]
fn exec_module_reads_and_ends_as_ansible_ad_hoc() {
    let lab = Lab::from_env();
    let home = Home::new();
    for h in [KUBESTRAP_HOST, ANSIBLE_HOST] {
        lab.sh_ok(h, "rm -rf /srv/ks-adhoc");
    }
    let inv = inventory(&lab, home.path());
    let motd = home.path().join("motd");
    std::fs::write(&motd, "managed by ad-hoc\n").unwrap();
    let kh = lab.known_hosts();
    let ours = |args: &[&str]| -> Run {
        let mut all = vec![
            "exec",
            KUBESTRAP_HOST,
            "-i",
            s(&inv),
            "--known-hosts",
            s(&kh),
        ];
        all.extend_from_slice(args);
        home.kubestrap(&all)
    };
    let theirs = |args: &[&str]| -> (i32, String) {
        let mut all = vec![ANSIBLE_HOST, "-i", s(&inv)];
        all.extend_from_slice(args);
        let out = ansible_output(&home, "ansible", &all);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (out.status.code().unwrap_or(-1), stdout)
    };

    // ping: SUCCESS and the module's JSON.
    let k = ours(&["-m", "ping"]);
    assert_eq!(k.code, 0, "{}", k.all());
    let (code, a) = theirs(&["-m", "ping"]);
    assert_eq!(code, 0, "{a}");
    assert_eq!(
        json_of(&block(&k.stdout, KUBESTRAP_HOST)),
        json_of(&block(&a, ANSIBLE_HOST))
    );

    // shell and -a alone (the command module): the output under `rc=N >>`,
    // a failure's stdout, stderr and message run together as ansible prints them.
    for args in [
        &["-m", "shell", "-a", "echo hi; ls /nope"][..],
        &[
            "-m",
            "shell",
            "-a",
            "printf 'a\\nb' | tr a-z A-Z; echo oops >&2",
        ],
        &["-a", "cat /etc/hostname"],
    ] {
        let k = ours(args);
        let (code, a) = theirs(args);
        assert_eq!(
            block(&k.stdout, KUBESTRAP_HOST),
            block(&a, ANSIBLE_HOST),
            "{args:?}"
        );
        // Exit codes are exec's own: 3 where ansible says 2.
        let want = if code == 0 { 0 } else { 3 };
        assert_eq!(k.code, want, "{args:?}: {}", k.all());
    }
    assert!(
        ours(&["-a", "cat /etc/hostname"])
            .stdout
            .contains("node101 | CHANGED | rc=0 >>\nnode101\n"),
        "the host's own output"
    );

    // copy under --check --diff: CHANGED, the diff, nothing written.
    let dir = "/srv/ks-adhoc";
    lab.sh_ok(KUBESTRAP_HOST, &format!("mkdir -p {dir}"));
    lab.sh_ok(ANSIBLE_HOST, &format!("mkdir -p {dir}"));
    let copy = format!("src={} dest={dir}/motd mode=0640", motd.display());
    let check = ours(&["-m", "copy", "-a", &copy, "--check", "--diff"]);
    assert_eq!(check.code, 0, "{}", check.all());
    assert!(
        check.stdout.contains("+managed by ad-hoc\n"),
        "{}",
        check.stdout
    );
    let (code, a) = theirs(&["-m", "copy", "-a", &copy, "--check", "--diff"]);
    assert_eq!(code, 0, "{a}");
    assert_eq!(
        json_of(&block(&check.stdout, KUBESTRAP_HOST)),
        json_of(&block(&a, ANSIBLE_HOST))
    );
    for h in [KUBESTRAP_HOST, ANSIBLE_HOST] {
        assert_eq!(
            lab.sh_ok(h, &format!("ls -A {dir}")),
            "",
            "--check wrote on {h}"
        );
    }

    // copy for real: the same file, mode and owner on both; again: SUCCESS.
    let first = ours(&["-m", "copy", "-a", &copy]);
    assert_eq!(first.code, 0, "{}", first.all());
    assert!(
        first.stdout.contains("node101 | CHANGED => {"),
        "{}",
        first.stdout
    );
    let (code, a) = theirs(&["-m", "copy", "-a", &copy]);
    assert_eq!(code, 0, "{a}");
    let state = |h: &str| {
        lab.sh_ok(
            h,
            &format!("cd {dir} && sha256sum motd && stat -c '%a %U %G' motd"),
        )
    };
    assert_eq!(state(KUBESTRAP_HOST), state(ANSIBLE_HOST));
    assert!(state(KUBESTRAP_HOST).ends_with("640 root root\n"));
    let again = ours(&["-m", "copy", "-a", &copy]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again.stdout.contains("node101 | SUCCESS => {"),
        "{}",
        again.stdout
    );
    assert_eq!(
        changed(&again.stdout, KUBESTRAP_HOST),
        0,
        "{}",
        again.stdout
    );

    // apt under --check: a missing package would be installed (and is not),
    // an installed one is left alone; a JSON object is taken as the arguments.
    let apt = ours(&["-m", "apt", "-a", "name=htop state=present", "--check"]);
    assert_eq!(apt.code, 0, "{}", apt.all());
    assert!(
        apt.stdout.contains("node101 | CHANGED => {"),
        "{}",
        apt.stdout
    );
    assert_eq!(
        lab.sh_ok(
            KUBESTRAP_HOST,
            "dpkg -s htop >/dev/null 2>&1 && echo installed || echo absent"
        ),
        "absent\n"
    );
    let kept = ours(&[
        "-m",
        "apt",
        "-a",
        r#"{"name": "openssh-server", "state": "present"}"#,
        "--check",
    ]);
    assert_eq!(kept.code, 0, "{}", kept.all());
    assert!(
        kept.stdout.contains("node101 | SUCCESS => {"),
        "{}",
        kept.stdout
    );

    // Bad input is refused before any host is reached, naming the module.
    let bad = ours(&["-m", "copy", "-a", "nonsense=1"]);
    assert_eq!(bad.code, 2, "{}", bad.all());
    assert!(
        bad.stderr.contains("-m copy: unknown argument `nonsense`"),
        "{}",
        bad.all()
    );

    for h in [KUBESTRAP_HOST, ANSIBLE_HOST] {
        lab.sh_ok(h, &format!("rm -rf {dir}"));
    }
}
