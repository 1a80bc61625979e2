//! Integration tests: the real kubestrap binary against real sshd on the lab's hosts.
//!
//! Run them with tests/run-all.sh, which boots the lab and sets KUBESTRAP_LAB.
//! Hosts have fixed jobs so tests can run in parallel without stepping on
//! each other: node1, node2 and node6 are left as booted; node3 is the
//! ProxyJump target; node4 gets its host keys regenerated; node5 is stopped;
//! node7, node8 and node9 are fresh hosts for the playbook engine; node10,
//! node11 and node12 have their network pinned by static_ip (node12 rolled back);
//! node13, node14 and node15 are prepared for kubeadm by `apply --until prepared`;
//! node16-node18 become a cluster that node19 joins later; node20-node22 are
//! three control planes behind a virtual IP; node23-node25 run README's
//! commands (tests/it/readme.rs); node26-node33 are for fault injection
//! (tests/it/faults.rs); node34-node36 host hostile servers (tests/it/hostile.rs);
//! node37 and node38 fail init and join without leaking a secret (secrets.rs);
//! node39-node41 and node44 run --check on fresh hosts (check_mode.rs);
//! node42 and node43 keep notified handlers across Ctrl-C and failures
//! (handlers.rs); node53-node55 give each exit code under exec, run and
//! apply, and node53 writes into a closed pipe (exit_codes.rs); node56 and
//! node57 show what a log without a terminal gets (output.rs);
//! node59 is logged in to by the static release binary (release.rs);
//! node45-node47 lose their bootstrap token on the cluster (stale_token.rs),
//! node48 shows failures with secrets masked (redaction.rs), node49-node51
//! lose a worker before the CNI step (faults.rs), node60 runs `apply` with
//! its cluster playbooks replaced by tasks that echo the token and fail with
//! it, without no_log (redaction_apply.rs); node61 is a one-node cluster
//! whose certificates are listed, one re-signed to end in 10 days, and
//! renewed (certs.rs); node65-node74 are upgraded by
//! apply (upgrade.rs: one control plane and two workers, three control
//! planes, an interrupted upgrade, refusals and a two-minor walk);
//! node82-node84 are a cluster torn down by `reset` and built again
//! (reset.rs: README's "Starting over", refusals, an unreachable worker).
//! node75-node81 leave the cluster with `remove` and come back with apply
//! (remove.rs: workers reachable, deleted from the inventory and dead on
//! node75-node77; node78-node80 are three control planes behind a VIP, one
//! removed while it answers and one dead and replaced as README says, with
//! etcd's member list checked; node81 is spare).
//! node62 and node63 run a playbook with group_vars/, host_vars/, hostvars
//! and templated play keywords, node64 and node58 the same with the real
//! ansible-playbook, and both must end alike (ansible_vars.rs).
//! node85 is a one-node cluster backed up and restored (backup.rs: README's
//! "Backups", a truncated snapshot refused); node86-node88 are three
//! control planes restored at once (backup.rs).
//! node89 runs a playbook with block / rescue / always and until / retries,
//! node90 the same with the real ansible-playbook; both must end alike
//! (ansible_blocks.rs).
//! node91 runs a playbook with stat, ping, blockinfile and package, node92
//! the same with the real ansible-playbook, and both must end alike
//! (ansible_modules.rs).
//! node93 runs a playbook with a role (defaults, vars, handlers, its own
//! templates and files, a meta dependency), import_tasks, include_tasks
//! in a loop, import_playbook and include_vars, node94 the same with the
//! real ansible-playbook; both must end alike (ansible_structure.rs).
//! node101 runs modules ad hoc (`exec -m`), node102 the same with the real
//! `ansible`; both must read and end alike (exec_module.rs).
//! node103 and node104 run the playbook corpus (tests/corpus/) under
//! kubestrap, node105 and node106 under the real ansible-playbook; both
//! pairs must end alike (ansible_corpus.rs).
//! node99 runs a playbook with group, user, authorized_key, ini_file and
//! validate, node100 the same with the real ansible-playbook (without the
//! collections' modules); both must end alike (ansible_modules2.rs).
//! node95 and node96 run a playbook with delegate_to localhost, run_once,
//! serial, meta and loop_control, node97 and node98 the same with the real
//! ansible-playbook; both pairs must end alike (ansible_exec.rs).

mod ansible_blocks;
mod ansible_corpus;
mod ansible_exec;
mod ansible_modules;
mod ansible_modules2;
mod ansible_structure;
mod ansible_vars;
mod backup;
mod become_;
mod certs;
mod check_mode;
mod cluster;
mod exec;
mod exec_module;
mod exit_codes;
mod faults;
mod handlers;
mod host_keys;
mod hostile;
mod inventories;
mod inventory_cli;
mod lab;
mod output;
mod playbook;
mod prepare;
mod proxy_jump;
mod readme;
mod redaction;
mod redaction_apply;
mod release;
mod remove;
mod reset;
mod secrets;
mod stale_token;
mod static_ip;
mod support;
mod upgrade;
