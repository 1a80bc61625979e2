//! The host side of a network change: stage, validate, arm the rollback, apply detached, confirm.
//!
//! Files on the host (all root-only):
//! - /var/lib/kubestrap/net-stage/: the new files (`f0`, `f1`, …) and the two scripts, before use;
//! - /var/lib/kubestrap/net-backup/: the old files, exactly, for the rollback;
//! - /var/lib/kubestrap/net-rollback.sh, net-apply.sh: run by transient systemd units
//!   (`kubestrap-net-rollback.timer`/`.service`, `kubestrap-net-apply.service`), so
//!   a dropped SSH session stops neither;
//! - /run/kubestrap/net-apply.{log,status,done-at}, net-confirmed, net.lock;
//!   /var/lib/kubestrap/net-rolled-back once a rollback ran.

use super::{NewFile, Stack, Want, IFUPDOWN_FILE, NM_FILE};
use crate::modules::{q, Action, Context};

/// Seconds the apply (and the rollback's re-apply) may take to bring the address up.
pub const APPLY_SECS: u64 = 20;

/// The exit status a confirm uses for "log in again": the login came before
/// the change was complete, so it proves nothing yet (EX_TEMPFAIL).
pub const CONFIRM_RETRY: u32 = 75;

const V: &str = "/var/lib/kubestrap";
const STAGE: &str = "/var/lib/kubestrap/net-stage";
const PENDING: &str = "if systemctl is-active --quiet kubestrap-net-rollback.timer || systemctl is-active --quiet kubestrap-net-apply.service; then\n  echo \"$HOST: a network change from an earlier run is still waiting for confirmation or rollback (kubestrap-net-rollback.timer); run again once it has settled\" >&2; exit 1\nfi\n";

/// Everything the scripts need to know, already shell-quoted where it goes in.
pub struct Scripts<'a> {
    want: &'a Want,
    host: String,
    files: Vec<&'a NewFile>,
    /// The interface's IPv4 addresses now, for the rollback.
    old_addrs: Vec<String>,
    /// The default route's gateway now, when it is on this interface.
    old_gateway: Option<String>,
    uuid: String,
}

impl<'a> Scripts<'a> {
    pub fn new(want: &'a Want, ctx: &Context, files: &[&'a NewFile]) -> Scripts<'a> {
        let old_addrs = ctx
            .facts
            .interfaces
            .iter()
            .find(|i| i.name == want.interface)
            .map(|i| {
                i.addresses
                    .iter()
                    .filter(|a| super::parse_cidr(a).is_ok())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let old_gateway = ctx
            .facts
            .default_route
            .as_ref()
            .filter(|r| r.interface == want.interface && !r.gateway.is_empty())
            .map(|r| r.gateway.clone());
        Scripts {
            want,
            host: ctx.host.to_string(),
            files: files.to_vec(),
            old_addrs,
            old_gateway,
            uuid: super::nm_uuid(&ctx.facts.machine_id, &want.interface),
        }
    }

    fn iface(&self) -> String {
        q(&self.want.interface)
    }

    fn head(&self) -> String {
        format!(
            "set -u\nHOST={}\nV={V}\nR=/run/kubestrap\nS={STAGE}\n",
            q(&self.host)
        )
    }

    /// Upload the new files and the two scripts into the staging directory.
    pub fn stage(&self) -> Vec<Action> {
        let mut out = Vec::new();
        let mut uploads: Vec<(String, Vec<u8>)> = self
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (format!("f{i}"), f.content.clone().into_bytes()))
            .collect();
        uploads.push(("rollback.sh".into(), self.rollback().into_bytes()));
        uploads.push(("apply.sh".into(), self.apply().into_bytes()));
        for (i, (name, content)) in uploads.into_iter().enumerate() {
            let mut script = self.head();
            if i == 0 {
                script.push_str(PENDING);
                script.push_str("rm -rf \"$S\"\n");
            }
            script.push_str(&format!(
                "umask 077\nmkdir -p \"$S\"\ncat > \"$S/{name}\"\n"
            ));
            out.push(Action::Run {
                script,
                stdin: Some(content),
            });
        }
        out
    }

    /// Validate the staged files, back up the old ones, arm the rollback,
    /// start the detached apply. Runs in the SSH session; changes nothing
    /// live itself, so the session survives it.
    pub fn arm(&self) -> String {
        let mut s = self.head();
        s.push_str("fail() { echo \"$HOST: $*\" >&2; exit 1; }\n");
        s.push_str(&self.validate());
        s.push_str("mkdir -p \"$R\"\nrm -f \"$R/net-apply.status\" \"$R/net-apply.done-at\" \"$R/net-apply.log\" \"$R/net-confirmed\" \"$V/net-rolled-back\"\n");
        s.push_str("rm -rf \"$V/net-backup\"\nmkdir -m 0700 \"$V/net-backup\" || fail \"cannot create $V/net-backup\"\n");
        s.push_str("now=$(date +%Y-%m-%d@%H:%M:%S)\n");
        for (i, f) in self.files.iter().enumerate() {
            let p = q(f.path);
            let (bdir, bpath) = backup_path(f.path);
            s.push_str(&format!(
                "if [ -f {p} ]; then\n  cp -p {p} \"$V/net-backup/f{i}\" || fail \"cannot back up {path}\"\n  mkdir -p {bdir} && cp -p {p} {bpath}.$$.\"$now\"~ || fail \"cannot back up {path}\"\nfi\n",
                path = f.path,
                bdir = q(&bdir),
                bpath = q(&bpath),
            ));
        }
        s.push_str("install -m 0700 \"$S/rollback.sh\" \"$V/net-rollback.sh\" && install -m 0700 \"$S/apply.sh\" \"$V/net-apply.sh\" || fail \"cannot install the rollback and apply scripts in $V\"\n");
        s.push_str("systemctl reset-failed kubestrap-net-rollback.timer kubestrap-net-rollback.service kubestrap-net-apply.service >/dev/null 2>&1 || true\n");
        s.push_str(&format!(
            "systemd-run --quiet --collect --unit=kubestrap-net-rollback --description='kubestrap: roll back the network change unless confirmed' --on-active={t}s /bin/sh \"$V/net-rollback.sh\" || fail \"cannot arm the rollback timer (systemd-run)\"\n",
            t = self.want.rollback_timeout
        ));
        s.push_str("if ! systemd-run --quiet --collect --unit=kubestrap-net-apply --description='kubestrap: apply the network change' /bin/sh \"$V/net-apply.sh\"; then\n  systemctl stop kubestrap-net-rollback.timer >/dev/null 2>&1\n  fail \"cannot start the apply unit (systemd-run)\"\nfi\n");
        s.push_str(&format!(
            "echo \"rollback armed for {t}s; applying in kubestrap-net-apply.service\"\n",
            t = self.want.rollback_timeout
        ));
        s
    }

    /// The stack's own check of the staged files, before anything is used.
    fn validate(&self) -> String {
        let iface = self.iface();
        match self.want.stack {
            Stack::Ifupdown => {
                // The whole configuration as it will be, under $S/check: the
                // new main file with interfaces.d pointing at a copy of it.
                let main = match self.index_of(super::IFACES) {
                    Some(i) => format!("\"$S/f{i}\""),
                    None => q(super::IFACES),
                };
                let own = self
                    .index_of(IFUPDOWN_FILE)
                    .map_or_else(|| q(IFUPDOWN_FILE), |i| format!("\"$S/f{i}\""));
                format!(
                    "rm -rf \"$S/check\"; mkdir -p \"$S/check/interfaces.d\"\n\
                     for f in /etc/network/interfaces.d/*; do\n  [ -f \"$f\" ] && [ \"$f\" != {ownq} ] && cp \"$f\" \"$S/check/interfaces.d/\"\ndone\n\
                     cp {own} \"$S/check/interfaces.d/{ownname}\"\n\
                     sed \"s#/etc/network/interfaces.d#$S/check/interfaces.d#g\" {main} > \"$S/check/interfaces\"\n\
                     if ! ifup --no-act --force -i \"$S/check/interfaces\" {iface} > \"$S/check.out\" 2>&1; then\n  fail \"ifup --no-act rejects the new configuration: $(tail -n 5 \"$S/check.out\")\"\nfi\n\
                     n=$(grep -c 'ip addr add ' \"$S/check.out\")\n\
                     if [ \"$n\" != 1 ] || ! grep -qF 'ip addr add {ip}/' \"$S/check.out\"; then\n  fail \"ifup --no-act: {ifname} would not get exactly {ip} (another stanza for it in /etc/network/interfaces.d?): $(grep 'ip addr add' \"$S/check.out\" | tr '\\n' ' ')\"\nfi\n",
                    ownq = q(IFUPDOWN_FILE),
                    ownname = IFUPDOWN_FILE.rsplit('/').next().unwrap_or("60-kubestrap"),
                    ip = self.want.ip,
                    ifname = self.want.interface,
                )
            }
            Stack::Netplan => {
                let own = self.own_staged();
                format!(
                    "rm -rf \"$S/root\"\n\
                     for d in /lib/netplan /etc/netplan /run/netplan; do\n  if [ -d \"$d\" ]; then mkdir -p \"$S/root$d\"; cp -p \"$d\"/*.yaml \"$S/root$d/\" 2>/dev/null; fi\ndone\n\
                     mkdir -p \"$S/root/etc/netplan\"\n\
                     cp {own} \"$S/root{path}\" && chmod 600 \"$S/root{path}\"\n\
                     if ! netplan generate --root-dir \"$S/root\" > \"$S/check.out\" 2>&1; then\n  fail \"netplan generate rejects the new configuration: $(tail -n 5 \"$S/check.out\")\"\nfi\n",
                    path = super::NETPLAN_FILE,
                )
            }
            // networkd has no offline validator: the file was checked as INI
            // before upload; the apply checks that networkd took it.
            Stack::Networkd => "mkdir -p /etc/systemd/network\n".to_string(),
            Stack::NetworkManager => {
                let own = self.own_staged();
                format!(
                    "if ! nmcli --offline connection modify connection.id {id} < {own} > \"$S/check.out\" 2>&1; then\n  if grep -qi offline \"$S/check.out\"; then\n    echo \"nmcli has no --offline (NetworkManager < 1.42): keyfile checked by kubestrap only\"\n  else\n    fail \"nmcli --offline rejects the new connection: $(tail -n 5 \"$S/check.out\")\"\n  fi\nfi\n",
                    id = q(super::NM_ID),
                )
            }
        }
    }

    /// Put the new files in place and bring the interface up with them.
    /// Runs detached; on failure it rolls back at once.
    fn apply(&self) -> String {
        let iface = self.iface();
        let mut s = String::from(
            "#!/bin/sh\n# kubestrap static_ip: put the new network configuration in place and apply it.\n# Started by systemd-run, so a dropped SSH session cannot stop it halfway.\n",
        );
        s.push_str(&self.head());
        s.push_str("mkdir -p \"$R\"\nexec >>\"$R/net-apply.log\" 2>&1\n");
        s.push_str("fail() {\n  echo \"failed: $*\"\n  /bin/sh \"$V/net-rollback.sh\" from-apply\n  echo \"applying the network change failed: $*; the previous configuration was restored\" > \"$R/net-apply.status\"\n  exit 1\n}\n");
        s.push_str(
            "# Let the SSH command that started this return before the network changes.\nsleep 1\n",
        );
        if self.want.stack == Stack::Ifupdown {
            // Deconfigure with the old stanza while it is still in place.
            s.push_str(&format!("ifdown {iface} || true\n"));
        }
        for (i, f) in self.files.iter().enumerate() {
            let dir = f.path.rsplit_once('/').map_or("/", |(d, _)| d);
            s.push_str(&format!(
                "mkdir -p {d} && t=$(mktemp {d}/.kubestrap.XXXXXX) && cat \"$S/f{i}\" > \"$t\" && chmod {m:o} \"$t\" && chown root:root \"$t\" && sync \"$t\" && mv -f \"$t\" {p} || fail \"cannot install {path}\"\n",
                d = q(dir),
                m = f.mode,
                p = q(f.path),
                path = f.path,
            ));
        }
        match self.want.stack {
            Stack::Ifupdown => {
                // ifup adds the address and the default route and fails when
                // they exist already (put there by hand, DHCP, or the old
                // stanza); other addresses go too: the pinned one is the address.
                s.push_str(&format!("ip -4 addr flush dev {iface} scope global\n"));
                if self.want.gateway.is_some() {
                    s.push_str(&format!("ip route del default dev {iface} 2>/dev/null\n"));
                }
                s.push_str(&format!("ifup {iface} || fail \"ifup {ifname}\"\n", ifname = self.want.interface));
            }
            Stack::Netplan => s.push_str("netplan apply || fail \"netplan apply\"\n"),
            Stack::Networkd => s.push_str(&format!(
                "networkctl reload && networkctl reconfigure {iface} || fail \"networkctl reload/reconfigure\"\n"
            )),
            Stack::NetworkManager => s.push_str(&format!(
                "nmcli connection reload && nmcli connection up uuid {u} || fail \"nmcli connection up\"\n",
                u = q(&self.uuid)
            )),
        }
        let mut ready = format!(
            "ip -4 -o addr show dev {iface} | grep -qF ' {cidr} '",
            cidr = self.want.cidr()
        );
        if self.want.stack == Stack::Networkd {
            // networkd skips a file it cannot parse: it must be the link's.
            ready.push_str(&format!(
                " && networkctl status {iface} 2>/dev/null | grep -qF 'Network File: {}'",
                super::NETWORKD_FILE
            ));
        }
        s.push_str(&format!(
            "i=0\nuntil {ready}; do\n  i=$((i + 1)); [ $i -le {n} ] || fail \"{ifname} did not get {cidr} within {APPLY_SECS}s\"\n  sleep 0.2\ndone\n",
            n = APPLY_SECS * 5,
            ifname = self.want.interface,
            cidr = self.want.cidr(),
        ));
        // The stack set the pinned address; what the host had besides goes,
        // as with ifupdown's flush (the stack may have kept foreign ones).
        if self.want.stack != Stack::Ifupdown {
            for a in self.old_addrs.iter().filter(|a| **a != self.want.cidr()) {
                s.push_str(&format!("ip addr del {} dev {iface} 2>/dev/null\n", q(a)));
            }
        }
        // When the change was complete, in the clock of process start times,
        // so a confirm can tell whether its login came after it.
        s.push_str("cut -d' ' -f22 /proc/self/stat > \"$R/net-apply.done-at\"\necho ok > \"$R/net-apply.status\"\necho applied\n");
        s
    }

    /// Restore the old files and addresses unless the change was confirmed.
    fn rollback(&self) -> String {
        let iface = self.iface();
        let mut s = String::from(
            "#!/bin/sh\n# kubestrap static_ip: restore the network configuration from before the change,\n# unless a fresh SSH login confirmed it. Run by kubestrap-net-rollback.timer.\n",
        );
        s.push_str(&self.head());
        s.push_str("mkdir -p \"$R\"\n[ \"${1:-}\" = from-apply ] || systemctl stop kubestrap-net-apply.service >/dev/null 2>&1\n");
        s.push_str("exec 9>\"$R/net.lock\"\nflock 9\n[ -e \"$R/net-confirmed\" ] && exit 0\n");
        s.push_str("echo \"network change rolled back at $(date)\" > \"$V/net-rolled-back\"\n");
        match self.want.stack {
            Stack::Ifupdown => s.push_str(&format!("ifdown --force {iface} >/dev/null 2>&1\n")),
            Stack::NetworkManager => s.push_str(&format!(
                "nmcli connection down uuid {} >/dev/null 2>&1\n",
                q(&self.uuid)
            )),
            _ => {}
        }
        for (i, f) in self.files.iter().enumerate() {
            let (dir, name) = f.path.rsplit_once('/').unwrap_or(("/", f.path));
            let tmp = q(&format!("{dir}/.kubestrap-rollback.{name}"));
            let p = q(f.path);
            s.push_str(&format!(
                "if [ -f \"$V/net-backup/f{i}\" ]; then cp -p \"$V/net-backup/f{i}\" {tmp} && mv -f {tmp} {p}; else rm -f {p}; fi\n"
            ));
        }
        s.push_str(match self.want.stack {
            Stack::Ifupdown => "",
            Stack::Netplan => "netplan apply >/dev/null 2>&1\n",
            Stack::Networkd => "networkctl reload >/dev/null 2>&1\n",
            Stack::NetworkManager => "nmcli connection reload >/dev/null 2>&1\n",
        });
        s.push_str(&match self.want.stack {
            // Only when the old configuration has a stanza for it.
            Stack::Ifupdown => format!("ifup {iface} >/dev/null 2>&1\n"),
            Stack::Netplan => String::new(),
            Stack::Networkd => format!("networkctl reconfigure {iface} >/dev/null 2>&1\n"),
            Stack::NetworkManager => format!("nmcli device connect {iface} >/dev/null 2>&1\n"),
        });
        // Whatever the old configuration says, the addresses the host had
        // are put back: it was reachable with them.
        s.push_str(&format!("ip link set dev {iface} up\n"));
        let new = self.want.cidr();
        if !self.old_addrs.contains(&new) {
            s.push_str(&format!(
                "ip addr del {} dev {iface} 2>/dev/null\n",
                q(&new)
            ));
        }
        for a in &self.old_addrs {
            s.push_str(&format!(
                "ip addr add {} brd + dev {iface} 2>/dev/null\n",
                q(a)
            ));
        }
        if let Some(g) = &self.old_gateway {
            s.push_str(&format!(
                "ip route replace default via {} dev {iface}\n",
                q(g)
            ));
        }
        // Run by the apply, the timer is still armed: nothing is left to do.
        s.push_str("systemctl stop kubestrap-net-rollback.timer >/dev/null 2>&1\nrm -f \"$V/net-rollback.sh\"\necho \"rolled back\"\n");
        s
    }

    /// Run on a fresh login: succeed only when the apply finished before
    /// this login began; then cancel the rollback.
    pub fn confirm(&self) -> String {
        let mut s = self.head();
        s.push_str("[ -e \"$R/net-confirmed\" ] && { echo confirmed; exit 0; }\n");
        s.push_str(&format!(
            "if [ ! -s \"$R/net-apply.status\" ]; then\n  if systemctl is-active --quiet kubestrap-net-apply.service; then echo \"still applying\" >&2; exit {CONFIRM_RETRY}; fi\n  sleep 1\n  [ -s \"$R/net-apply.status\" ] || {{ echo \"$HOST: the network change did not apply (see $R/net-apply.log); the host rolls it back\" >&2; tail -n 5 \"$R/net-apply.log\" >&2; exit 1; }}\nfi\n"
        ));
        s.push_str("st=$(cat \"$R/net-apply.status\")\nif [ \"$st\" != ok ]; then echo \"$HOST: $st\" >&2; tail -n 5 \"$R/net-apply.log\" >&2; exit 1; fi\n");
        // The login's sshd process started after the change was complete,
        // else this connection may be one the change cut off.
        s.push_str(&format!(
            "done_at=$(cat \"$R/net-apply.done-at\")\npid=$$; login_at=\nwhile [ \"$pid\" -gt 1 ] 2>/dev/null; do\n  if [ \"$(cat /proc/$pid/comm 2>/dev/null)\" = sshd ]; then login_at=$(awk '{{ sub(/^.*\\) /, \"\"); print $20 }}' /proc/$pid/stat); break; fi\n  pid=$(awk '{{ sub(/^.*\\) /, \"\"); print $2 }}' /proc/$pid/stat 2>/dev/null)\ndone\nif [ -n \"$login_at\" ] && [ \"$login_at\" -le \"$done_at\" ]; then echo \"this login predates the change\" >&2; exit {CONFIRM_RETRY}; fi\n"
        ));
        s.push_str("exec 9>\"$R/net.lock\"\nflock 9\n");
        s.push_str("if [ -e \"$V/net-rolled-back\" ]; then echo \"$HOST: network change rolled back before it was confirmed\" >&2; exit 1; fi\n");
        s.push_str(": > \"$R/net-confirmed\"\nsystemctl stop kubestrap-net-rollback.timer >/dev/null 2>&1\nrm -rf \"$V/net-rollback.sh\" \"$V/net-backup\" \"$S\"\necho confirmed\n");
        s
    }

    fn index_of(&self, path: &str) -> Option<usize> {
        self.files.iter().position(|f| f.path == path)
    }

    /// The staged copy of the stack's own file, or the installed one when it
    /// does not change (then only something live differs).
    fn own_staged(&self) -> String {
        let (path, _) = self.want.stack.own_file();
        self.index_of(path)
            .map_or_else(|| q(path), |i| format!("\"$S/f{i}\""))
    }
}

/// Where a file's dated backup goes: beside it, except in directories whose
/// every file the stack loads (ifupdown's `source interfaces.d/*` would read
/// a backup as configuration; NetworkManager reads any keyfile).
fn backup_path(path: &str) -> (String, String) {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("/", path));
    let loads_all = path == IFUPDOWN_FILE || path == NM_FILE;
    if loads_all {
        let d = format!("{V}/backup{dir}");
        (d.clone(), format!("{d}/{name}"))
    } else {
        (dir.to_string(), path.to_string())
    }
}
