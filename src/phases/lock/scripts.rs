//! The lock scripts: take, renew and release, each one short shell script serialised on the host by `flock`.

use super::{Me, HELD, LEASE, LOCK_PATH};
use crate::ssh::shell_quote;

/// The script's common start: the directory, and the host-wide mutex
/// every take, renew and release holds while it looks and writes.
fn prologue() -> String {
    let dir = LOCK_PATH.rsplit_once('/').map(|(d, _)| d).unwrap_or("/");
    format!(
        "set -e\nd={dir}\nlock={LOCK_PATH}\nmkdir -p -m 0700 \"$d\"\nexec 9>\"$d/lock.mutex\"\nflock -w 10 9\nnow=$(date +%s)\n"
    )
}

/// Write the lock file for `me` atomically with a fresh lease.
fn write_lock(me: &Me) -> String {
    format!(
        "tmp=$(mktemp \"$d/.lock.XXXXXX\")\nprintf 'id=%s\\noperator=%s\\npid=%s\\nsince=%s\\nexpires=%s\\n' {} {} {} {} \"$((now + {}))\" >\"$tmp\"\nsync \"$tmp\" 2>/dev/null || true\nmv -f \"$tmp\" \"$lock\"\n",
        shell_quote(&me.id),
        shell_quote(&me.operator),
        me.pid,
        me.since,
        LEASE.as_secs()
    )
}

/// Take the lock unless another run's lease is live (then print its lock
/// file and exit [`HELD`]); `force` takes it regardless.
pub fn take_script(me: &Me, force: bool) -> String {
    let check = if force {
        String::new()
    } else {
        format!(
            "if [ -f \"$lock\" ]; then\n  id=$(sed -n 's/^id=//p' \"$lock\")\n  exp=$(sed -n 's/^expires=//p' \"$lock\")\n  if [ \"$id\" != {} ] && [ \"${{exp:-0}}\" -gt \"$now\" ] 2>/dev/null; then cat \"$lock\"; echo \"now=$now\"; exit {HELD}; fi\nfi\n",
            shell_quote(&me.id)
        )
    };
    format!("{}{check}{}", prologue(), write_lock(me))
}

/// Extend the lease if the lock is still `me`'s; else print it and exit [`HELD`].
pub fn renew_script(me: &Me) -> String {
    format!(
        "{}id=$(sed -n 's/^id=//p' \"$lock\" 2>/dev/null || true)\nif [ \"$id\" != {} ]; then cat \"$lock\" 2>/dev/null || true; echo \"now=$now\"; exit {HELD}; fi\n{}",
        prologue(),
        shell_quote(&me.id),
        write_lock(me)
    )
}

/// Remove the lock if it is `me`'s (never another run's).
pub fn release_script(me: &Me) -> String {
    format!(
        "{}id=$(sed -n 's/^id=//p' \"$lock\" 2>/dev/null || true)\nif [ \"$id\" = {} ]; then rm -f \"$lock\"; fi\n",
        prologue(),
        shell_quote(&me.id)
    )
}
