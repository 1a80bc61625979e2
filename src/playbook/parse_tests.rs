//! Loading playbooks: the broken-playbook fixture table and a realistic good one.

use std::path::Path;

use serde_json::json;

use super::parse::{load, load_str_with};
use crate::modules::{Args, Context, Module, Plan};

/// Every `fixtures/bad/NAME.yaml` is loaded and its problems compared, line
/// for line, with `fixtures/bad/NAME.yaml.expected`.
#[test]
fn bad_playbooks_report_exactly_the_expected_problems() {
    crate::fixture_tables::check_bad_fixtures(
        Path::new("src/playbook/fixtures/bad"),
        |p| p.extension().is_some_and(|e| e == "yaml"),
        12,
        |case| {
            load(case)
                .err()
                .map(|ps| ps.iter().map(|p| p.to_string()).collect())
        },
    );
}

#[test]
fn realistic_playbook_loads_with_ansible_semantics() {
    let pb = load(Path::new("src/playbook/fixtures/good/cluster.yaml")).unwrap_or_else(|e| {
        panic!(
            "{}",
            e.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    });
    assert_eq!(pb.plays.len(), 2);
    let p = &pb.plays[0];
    assert_eq!(
        (p.name.as_str(), p.hosts.as_str(), p.line),
        ("Prepare every node", "all", 3)
    );
    assert_eq!(
        (p.become_, p.gather_facts, p.any_errors_fatal),
        (Some(true), true, true)
    );
    assert_eq!(p.max_fail_percentage, Some(20.0));
    assert_eq!(p.tags, vec!["prepare"]);
    // vars_files win over vars.
    assert_eq!(p.vars["pod_subnet"], json!("10.244.0.0/16"));
    assert_eq!(p.vars["kube_packages"], json!(["kubelet", "kubeadm"]));
    assert_eq!(p.vars["sysctl_settings"]["net.ipv4.ip_forward"], json!(1));

    let titles: Vec<String> = p.tasks.iter().map(|t| t.title()).collect();
    assert_eq!(
        titles,
        [
            "Show the target",
            "Load kernel modules",
            "Set sysctls",
            "Write containerd config",
            "Initialise the first control plane",
            "Install packages",
            "shell",
            "Done"
        ]
    );
    let lines: Vec<usize> = p.tasks.iter().map(|t| t.line).collect();
    assert_eq!(lines, [18, 22, 31, 40, 45, 57, 68, 75]);

    let show = &p.tasks[0];
    assert_eq!(show.module.name(), "command");
    assert_eq!(show.module_name, "ansible.builtin.command");
    assert_eq!(show.args["_raw_params"], json!("uname -a"));
    assert_eq!(show.changed_when, Some(vec!["false".to_string()]));

    let modprobe = &p.tasks[1];
    assert_eq!(modprobe.module.name(), "modprobe");
    assert_eq!(modprobe.loop_, Some(json!(["overlay", "br_netfilter"])));
    assert_eq!(modprobe.loop_var, "item");
    assert_eq!(modprobe.notify, vec!["modules changed"]);

    assert_eq!(
        p.tasks[2].loop_,
        Some(json!("{{ sysctl_settings | dict2items }}"))
    );

    let copy = &p.tasks[3];
    assert_eq!(
        serde_json::Value::Object(copy.args.clone()),
        json!({"dest": "/etc/containerd/config.toml", "content": "{{ containerd_config }}", "mode": "0644"})
    );

    let init = &p.tasks[4];
    assert_eq!(
        serde_json::Value::Object(init.args.clone()),
        json!({
            "_raw_params": "kubeadm init --config /etc/kubernetes/kubeadm.yaml",
            "creates": "/etc/kubernetes/admin.conf",
            "chdir": "/etc/kubernetes"
        })
    );
    assert_eq!(init.register.as_deref(), Some("kubeadm_init"));
    assert_eq!(init.when.len(), 2);
    assert_eq!(init.failed_when.as_ref().map(Vec::len), Some(1));
    assert_eq!(init.tags, vec!["init", "control_plane"]);
    assert!(init.no_log);

    let apt = &p.tasks[5];
    assert_eq!(
        apt.loop_,
        Some(json!("{{ (kube_packages) | flatten(levels=1) }}"))
    );
    assert_eq!((apt.check_mode, apt.ignore_errors), (Some(false), true));
    assert_eq!(apt.become_user.as_deref(), Some("root"));
    assert_eq!(apt.vars["extra"], json!("{{ pod_subnet }}"));

    let shell = &p.tasks[6];
    assert_eq!(
        shell.args["_raw_params"],
        json!("set -e\necho {{ pod_subnet }} > /tmp/subnet\n")
    );
    assert_eq!(shell.args["creates"], json!("/tmp/subnet"));

    assert_eq!(p.handlers.len(), 2);
    assert_eq!(p.handlers[0].listen, vec!["restart containerd"]);

    let workers = &pb.plays[1];
    assert_eq!(
        (workers.name.as_str(), workers.hosts.as_str()),
        ("workers,!cp1", "workers,!cp1")
    );
    assert!(!workers.gather_facts);
    assert_eq!(
        workers.tasks[0].args["_raw_params"],
        json!("{{ join_command }}")
    );
}

/// A module whose parameters the tests fix, independent of the real ones.
struct Fake(&'static str, &'static [&'static str], bool);

impl Module for Fake {
    fn name(&self) -> &'static str {
        self.0
    }
    fn params(&self) -> &'static [&'static str] {
        self.1
    }
    fn free_form(&self) -> bool {
        self.2
    }
    fn check(&self, _: &Args, _: &Context) -> Result<Plan, String> {
        Ok(Plan::noop("fake"))
    }
}

static RUN: Fake = Fake("run", &["chdir", "creates"], true);
static PUT: Fake = Fake("put", &["dest", "content"], false);
static STUB: Fake = Fake("stub", &[], false);

pub(super) fn fakes(name: &str) -> Option<&'static dyn Module> {
    let short = name.strip_prefix("ansible.builtin.").unwrap_or(name);
    [&RUN as &dyn Module, &PUT, &STUB]
        .into_iter()
        .find(|m| m.name() == short)
}

fn problems(text: &str) -> Vec<String> {
    match load_str_with(Path::new("t.yaml"), text, fakes) {
        Ok(_) => Vec::new(),
        Err(e) => e.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn arguments_are_checked_against_the_module_parameters() {
    let cases: &[(&str, &[&str])] = &[
        ("- hosts: all\n  tasks:\n  - put: dest=/x content=y\n", &[]),
        ("- hosts: all\n  tasks:\n  - put: dest=/x mode=0644\n", &["t.yaml:3: unknown argument `mode` for module `put`"]),
        (
            "- hosts: all\n  tasks:\n  - put:\n      dest: /x\n    args:\n      owner: root\n",
            &["t.yaml:6: unknown argument `owner` for module `put`"],
        ),
        ("- hosts: all\n  tasks:\n  - run: ls creates=/x chdir=/\n", &[]),
        ("- hosts: all\n  tasks:\n  - ansible.builtin.run:\n      _raw_params: ls\n      removes: /x\n", &["t.yaml:5: unknown argument `removes` for module `run`"]),
        // Stubs declare no parameters yet, so nothing is rejected.
        ("- hosts: all\n  tasks:\n  - stub:\n      anything: 1\n", &[]),
        ("- hosts: all\n  tasks:\n  - put: [1]\n", &["t.yaml:3: arguments of `put` must be a mapping or key=value text, got `[1]`"]),
    ];
    for (text, want) in cases {
        assert_eq!(problems(text), *want, "{text}");
    }
}

#[test]
fn keywords_follow_ansible() {
    let cases: &[(&str, &[&str])] = &[
        // when: bool, list; braces tolerated.
        ("- hosts: all\n  tasks:\n  - run: ls\n    when: [true, \"{{ a }}\", \"b is defined\"]\n", &[]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    when:\n      - a ==\n      - b\n", &["t.yaml:5: invalid `when` expression `a ==`: syntax error: unexpected end of input, expected expression"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    failed_when: rc ==\n", &["t.yaml:4: invalid `failed_when` expression `rc ==`: syntax error: unexpected end of input, expected expression"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    loop: 3\n", &["t.yaml:4: `loop` requires a list, got `3`"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    loop: {a: 1}\n", &["t.yaml:4: `loop` requires a list, got `{\"a\":1}`"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    loop: [1]\n    with_items: [2]\n", &["t.yaml:5: a task takes one loop, not both `loop` and `with_items`"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    with_dict: {}\n", &[]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    with_file: [a]\n", &["t.yaml:4: `with_file` is not supported by kubestrap"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    environment: [1]\n", &["t.yaml:4: `environment` must be a mapping of variable names to values, got `1`"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    environment: {A-B: c}\n", &["t.yaml:4: `environment`: `A-B` is not a variable name"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    environment: {A: \"{{ x\"}\n", &["t.yaml:4: invalid template in environment `A`: syntax error: unexpected end of input, expected end of variable block"]),
        ("- hosts: all\n  run_once: true\n", &["t.yaml:2: `run_once` is not supported by kubestrap"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    loop_control:\n      index_var: i\n", &[]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    loop_control: 3\n", &["t.yaml:4: `loop_control` must be a mapping, got `3`"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    notify: \"{{ h }}\"\n", &[]),
        ("- hosts: all\n  tasks:\n  - 42\n", &["t.yaml:3: a task must be a mapping, got `42`"]),
        ("- hosts: all\n  tasks:\n  - run: ls\n    name: \"{{ x \"\n", &["t.yaml:4: invalid template in `name`: syntax error: unexpected end of input, expected end of variable block"]),
        ("- hosts: \"{% if %}\"\n", &["t.yaml:1: invalid template in `hosts`: syntax error: unexpected end of block"]),
        ("- hosts: all\n  max_fail_percentage: 150\n", &["t.yaml:2: `max_fail_percentage` must be a number from 0 to 100, got `150`"]),
        ("", &["t.yaml:1: a playbook must be a list of plays"]),
        ("- [1]\n", &["t.yaml:1: a play must be a mapping, got `[1]`"]),
        ("- hosts: all\n  vars_files: [missing.yaml]\n", &[]),
    ];
    for (text, want) in cases {
        let got = problems(text);
        if text.contains("vars_files") {
            assert_eq!(got.len(), 1, "{got:?}");
            assert!(
                got[0].starts_with("t.yaml:2: cannot read vars file `missing.yaml`: "),
                "{got:?}"
            );
            continue;
        }
        assert_eq!(got, *want, "{text}");
    }
}

#[test]
fn with_items_flattens_one_level_and_loops_keep_their_shape() {
    let pb = load_str_with(
        Path::new("t.yaml"),
        "- hosts: all\n  tasks:\n  - run: a\n    with_items: [[1, 2], 3, [[4]]]\n  - run: b\n    with_items: word\n  - run: c\n    loop: [[1, 2]]\n",
        fakes,
    )
    .unwrap_or_else(|_| panic!("loads"));
    let loops: Vec<_> = pb.plays[0].tasks.iter().map(|t| t.loop_.clone()).collect();
    assert_eq!(
        loops,
        [
            Some(json!([1, 2, 3, [4]])),
            Some(json!(["word"])),
            Some(json!([[1, 2]]))
        ]
    );
}

#[test]
fn unreadable_file_is_one_problem() {
    let e = load(Path::new("src/playbook/fixtures/nope.yaml"))
        .err()
        .unwrap_or_default();
    assert_eq!(e.len(), 1);
    assert!(e[0]
        .to_string()
        .starts_with("src/playbook/fixtures/nope.yaml: cannot read playbook: "));
}

#[test]
fn garbage_does_not_panic() {
    for text in [
        "-",
        "- -",
        "- hosts:",
        "[",
        "{a: [}",
        "- hosts: all\n  tasks: [[[]]]\n",
        "- hosts: all\n  tasks:\n  - run:\n",
        "- !tag {}\n",
        "- hosts: all\n  tasks:\n  - run: \"'\"\n",
        "- hosts: all\n  handlers:\n  - listen: [[]]\n    put: {}\n",
    ] {
        let _ = problems(text);
    }
}

/// (play, what the parser keeps as templates, problems): a keyword written
/// as a template waits for the play to start; its syntax is checked now.
#[test]
fn templated_play_keywords_wait_for_the_play_and_are_checked_now() {
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        (
            "- hosts: all\n  gather_facts: \"{{ g | bool }}\"\n  become: \"{{ b }}\"\n  tasks: []\n",
            &[("gather_facts", "{{ g | bool }}"), ("become", "{{ b }}")],
            &[],
        ),
        (
            "- name: \"{{ n }}\"\n  hosts: all\n  max_fail_percentage: \"{{ p }}\"\n  tasks: []\n",
            &[("max_fail_percentage", "{{ p }}"), ("name", "{{ n }}")],
            &[],
        ),
        ("- hosts: all\n  gather_facts: 'no'\n  tasks: []\n", &[], &[]),
        (
            "- hosts: all\n  any_errors_fatal: \"{{ x\"\n  tasks: []\n",
            &[],
            &["t.yaml:2: invalid template in `any_errors_fatal`: syntax error"],
        ),
    ];
    for (text, templated, want) in cases {
        let got = problems(text);
        assert_eq!(got.len(), want.len(), "{text}: {got:?}");
        for (g, w) in got.iter().zip(want.iter()) {
            assert!(g.starts_with(w), "{text}: {g}");
        }
        if want.is_empty() {
            let pb = load_str_with(Path::new("t.yaml"), text, fakes).unwrap_or_else(|_| panic!());
            let kept: Vec<(&str, &str)> = pb.plays[0]
                .templated
                .iter()
                .map(|(k, t)| (k.as_str(), t.as_str()))
                .collect();
            assert_eq!(kept, *templated, "{text}");
        }
    }
}

/// Arguments a module documents but kubestrap does not take, and values it
/// refuses, are named with their line when the playbook is loaded.
#[test]
fn module_refusals_name_the_argument_and_line() {
    let cases: &[(&str, &[&str])] = &[
        ("- hosts: all\n  tasks:\n  - pause:\n      prompt: go?\n", &[
            "t.yaml:3: pause without seconds or minutes waits for a key: a kubestrap run asks nothing on the terminal; give seconds or minutes",
            "t.yaml:4: argument `prompt` of module `pause` is not supported by kubestrap: a kubestrap run asks nothing on the terminal; give seconds or minutes",
        ]),
        ("- hosts: all\n  tasks:\n  - pause: seconds=2\n", &[]),
        ("- hosts: all\n  tasks:\n  - package:\n      name: x\n      state: present\n      use: yum\n", &[
            "t.yaml:6: use: yum is not supported by kubestrap: its hosts use apt (auto or apt)",
        ]),
        ("- hosts: all\n  tasks:\n  - package:\n      name: x\n      state: present\n      use: \"{{ mgr }}\"\n", &[]),
        ("- hosts: all\n  tasks:\n  - stat:\n      path: /x\n      checksum_algorithm: md5\n", &[
            "t.yaml:5: checksum_algorithm: md5 is not supported by kubestrap (one of sha1, sha224, sha256, sha384, sha512)",
        ]),
        ("- hosts: all\n  tasks:\n  - blockinfile:\n      path: /x\n      block: y\n      validate: v %s\n", &[]),
        ("- hosts: all\n  tasks:\n  - copy:\n      dest: /x\n      content: y\n      validate: visudo -c\n", &[
            "t.yaml:6: validate must contain %s: visudo -c",
        ]),
        ("- hosts: all\n  tasks:\n  - ping:\n      dta: x\n", &["t.yaml:4: unknown argument `dta` for module `ping`"]),
        ("- hosts: all\n  tasks:\n  - user:\n      name: k\n      generate_ssh_key: true\n", &[
            "t.yaml:5: argument `generate_ssh_key` of module `user` is not supported by kubestrap: kubestrap does not generate keys on hosts; use authorized_key with a key from the controller",
        ]),
        ("- hosts: all\n  tasks:\n  - community.general.ini_file:\n      path: /x.ini\n      section_has_values: []\n", &[
            "t.yaml:5: argument `section_has_values` of module `ini_file` is not supported by kubestrap: kubestrap picks a section by its name only",
        ]),
        ("- hosts: all\n  tasks:\n  - get_url:\n      url: http://x/a\n      dest: /a\n      checksum: md5:00ff\n", &[
            "t.yaml:6: checksum: md5 is not supported by kubestrap (one of sha1, sha224, sha256, sha384, sha512)",
        ]),
        ("- hosts: all\n  tasks:\n  - group:\n      name: k\n      local: true\n", &[
            "t.yaml:5: argument `local` of module `group` is not supported by kubestrap: kubestrap manages the host's own files with groupadd; there is no central directory to bypass",
        ]),
        ("- hosts: all\n  tasks:\n  - ansible.posix.authorized_key:\n      user: k\n      key: https://github.com/k.keys\n", &[
            "t.yaml:5: key: a key fetched from a URL is not supported by kubestrap: give the key itself (a lookup('file', …) reads it on the controller)",
        ]),
    ];
    for (text, want) in cases {
        let got = match load_str_with(Path::new("t.yaml"), text, crate::modules::lookup) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(|p| p.to_string()).collect(),
        };
        assert_eq!(got, *want, "{text}");
    }
}
