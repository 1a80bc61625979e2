//! group, user, get_url, validate (and authorized_key, ini_file) on lab hosts, against ansible-playbook: same playbook, same end state.
//!
//! kubestrap runs the playbook on node99, the real ansible-playbook on
//! node100. Both hosts must end with the same /etc/passwd, /etc/group and
//! /etc/shadow lines, homes, files, modes and owners. kubestrap's
//! `--check` on the fresh host changes nothing, and its re-run changes
//! nothing.
//!
//! authorized_key (ansible.posix) and ini_file (community.general) are not
//! in ansible-core, which is all CI installs: those tasks run under
//! kubestrap only, and their files are compared with the bytes those
//! collections write (the unit tables in src/modules/authorized_key.rs and
//! ini_file.rs hold the rules; ini_file's were checked against
//! community.general's own do_ini).

use crate::ansible_modules::layout;
use crate::ansible_vars::run_ansible;
use crate::inventories::changed;
use crate::lab::Lab;
use crate::support::{s, Home};

const KUBESTRAP_HOST: &str = "node99";
const ANSIBLE_HOST: &str = "node100";

/// The play's head.
const PLAY: &str = "- name: accounts and guarded files\n  hosts: all\n  tasks:\n";

/// What both tools run.
const COMMON: &str = r#"    - name: a group with its gid
      group:
        name: ksops
        gid: 2345
    - name: a system group
      group:
        name: kssys
        system: true
    - name: a user with everything
      user:
        name: ksapp
        uid: 2400
        group: ksops
        groups: [users, kssys]
        shell: /bin/bash
        comment: KS App
        password: "$6$kssalt$0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ./0123456789abcdefghij"
      register: app
    - name: a plain user
      user:
        name: ksplain
    - name: one more group for it
      user:
        name: ksplain
        groups: ksops
        append: true
    - name: a system user without a home
      user:
        name: kssvc
        system: true
        create_home: false
        shell: /usr/sbin/nologin
    - name: gone, with its home
      user:
        name: ksgone
        state: absent
        remove: true
    - name: the directory
      file:
        path: /srv/ks-mod2
        state: directory
        mode: "0755"
    - name: a file from the lab's server, checked
      get_url:
        url: "{{ key_url }}"
        dest: /srv/ks-mod2/archive.asc
        checksum: "sha256:{{ key_sum }}"
        mode: "0640"
    - name: what the user module returned
      copy:
        dest: /srv/ks-mod2/app.txt
        backup: false
        content: "uid={{ app.uid }} group={{ app.group }} home={{ app.home }} shell={{ app.shell }} password={{ app.password }}\n"
    - name: a guarded file
      copy:
        dest: /srv/ks-mod2/guarded.conf
        content: "ok original\n"
        validate: grep -q ^ok %s
        backup: false
        force: false
    - name: a line, validated
      lineinfile:
        path: /srv/ks-mod2/guarded.conf
        line: ok second
        validate: grep -q '^ok second' %s
        backup: false
    - block:
        - name: a change the validator refuses
          copy:
            dest: /srv/ks-mod2/guarded.conf
            content: "bad\n"
            validate: grep -q ^ok %s
            backup: false
      rescue:
        - name: the refusal seen
          copy:
            dest: /srv/ks-mod2/rescued.txt
            content: "refused\n"
            backup: false
"#;

const KEY1: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@example";
const KEY3: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 deploy key";
const KEY2: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKx4hh0CEThnHfS5NlB7ZXDjpPnn3t5oQXMeR5ChHFW6";

/// What kubestrap alone runs after that (the collections' modules), in
/// the same play: under `--check` the accounts it would create are known.
fn collections() -> String {
    format!(
        r#"    - name: two keys
      ansible.posix.authorized_key:
        user: ksapp
        key: "{KEY1}\n{KEY3}\n"
    - name: the second one restricted
      authorized_key:
        user: ksapp
        key: "{KEY2}"
        key_options: no-pty
    - name: an option in a new file
      community.general.ini_file:
        path: /srv/ks-mod2/app.ini
        section: main
        option: port
        value: 8080
        mode: "0640"
    - name: another, without spaces
      ini_file:
        path: /srv/ks-mod2/app.ini
        section: main
        option: workers
        value: "4"
        no_extra_spaces: true
    - name: a new section
      ini_file:
        path: /srv/ks-mod2/app.ini
        section: extra
        option: debug
        value: true
"#
    )
}

/// The accounts' lines, the homes and the files, with modes and owners.
fn end_state(lab: &Lab, host: &str) -> String {
    lab.sh_ok(
        host,
        "getent passwd ksapp ksplain kssvc; getent group ksops kssys users ksplain kssvc; \
         getent shadow ksapp | cut -d: -f1,2; getent passwd ksgone || echo no ksgone; \
         test -e /home/ksgone || echo no ksgone home; test -e /home/kssvc || echo no kssvc home; \
         stat -c '%n %a %U %G' /home/ksapp /home/ksplain; \
         cd /srv/ks-mod2 && sha256sum app.txt guarded.conf rescued.txt archive.asc && \
         stat -c '%n %a %U %G' app.txt guarded.conf rescued.txt archive.asc && cat app.txt guarded.conf",
    )
}

fn clean(lab: &Lab, host: &str) {
    lab.sh_ok(
        host,
        "for u in ksapp ksplain kssvc ksgone; do userdel -r $u 2>/dev/null; done; \
         for g in ksops kssys ksplain kssvc ksgone ksapp; do groupdel $g 2>/dev/null; done; \
         rm -rf /srv/ks-mod2 /home/ksapp /home/ksplain /home/ksgone; true",
    );
}

#[test]
fn group_user_authorized_key_ini_file_and_validate_end_as_with_ansible() {
    let lab = Lab::from_env();
    let home = Home::new();
    for h in [KUBESTRAP_HOST, ANSIBLE_HOST] {
        clean(&lab, h);
        lab.sh_ok(h, "useradd -m ksgone");
    }

    // get_url's file: the lab's archive key, served on the bridge address
    // (the hosts reach nothing else).
    let key_url = lab.repo().debian_key_url.clone();
    let key_sum = lab.sh_ok(
        KUBESTRAP_HOST,
        &format!("curl -fsS {key_url} | sha256sum | cut -d' ' -f1"),
    );
    let vars = format!("key_url={key_url} key_sum={}", key_sum.trim());
    let book_text = format!("{PLAY}{COMMON}{}", collections());
    let (inv, book) = layout(&lab, home.path(), KUBESTRAP_HOST, &book_text);
    let kh = lab.known_hosts();
    let report = home.path().join("report.json");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            s(&book),
            "-i",
            s(&inv),
            "--known-hosts",
            s(&kh),
            "-e",
            &vars,
        ];
        args.extend_from_slice(extra);
        home.kubestrap(&args)
    };
    let check = run(&["--check"]);
    assert_eq!(check.code, 0, "{}", check.all());
    assert_eq!(
        lab.sh_ok(
            KUBESTRAP_HOST,
            "getent passwd ksapp || echo none; getent passwd ksgone >/dev/null && echo kept; test -e /srv/ks-mod2 && echo there || echo absent"
        ),
        "none\nkept\nabsent\n",
        "--check wrote nothing"
    );
    let first = run(&[]);
    assert_eq!(first.code, 0, "{}", first.all());
    // 13 as with Ansible (the refused copy is rescued), 5 by the collections.
    assert_eq!(
        changed(&first.stdout, KUBESTRAP_HOST),
        18,
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("failed to validate"),
        "{}",
        first.stdout
    );
    let again = run(&["--report", s(&report)]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert_eq!(
        changed(&again.stdout, KUBESTRAP_HOST),
        0,
        "{}",
        again.stdout
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    // The play's one gathering, and the refused copy tried again (its
    // validator fails on the host each time, as in Ansible).
    assert_eq!(
        json["stats"][KUBESTRAP_HOST]["ssh_execs"], 2,
        "re-run: {}",
        json["stats"]
    );

    let ours = end_state(&lab, KUBESTRAP_HOST);
    assert!(
        ours.contains("ksapp:x:2400:2345:KS App:/home/ksapp:/bin/bash\n"),
        "{ours}"
    );
    assert!(ours.contains("ok original\nok second\n"), "{ours}");
    assert!(
        ours.contains(
            "uid=2400 group=2345 home=/home/ksapp shell=/bin/bash password=NOT_LOGGING_PASSWORD\n"
        ),
        "{ours}"
    );
    // The collections' files, as ansible.posix and community.general write them.
    assert_eq!(
        lab.sh_ok(
            KUBESTRAP_HOST,
            "cat /home/ksapp/.ssh/authorized_keys; stat -c '%n %a %U %G' /home/ksapp/.ssh /home/ksapp/.ssh/authorized_keys /srv/ks-mod2/app.ini; cat /srv/ks-mod2/app.ini"
        ),
        format!(
            "{KEY1}\n{KEY3}\nno-pty {KEY2} \n\
             /home/ksapp/.ssh 700 ksapp ksops\n\
             /home/ksapp/.ssh/authorized_keys 600 ksapp ksops\n\
             /srv/ks-mod2/app.ini 640 root root\n\
             \n[main]\nport = 8080\nworkers=4\n[extra]\ndebug = True\n"
        )
    );

    let ansible_dir = tempfile::tempdir().unwrap();
    let (inv, book) = layout(
        &lab,
        ansible_dir.path(),
        ANSIBLE_HOST,
        &format!("{PLAY}{COMMON}"),
    );
    let shown = run_ansible(&home, &[s(&book), "-i", s(&inv), "-e", &vars]);
    assert!(shown.contains("changed=13"), "{shown}");
    assert_eq!(ours, end_state(&lab, ANSIBLE_HOST), "kubestrap vs ansible");
}
