//! The lock: who holds it, and what its scripts do on a real shell.

use super::*;
use crate::facts::{FileKind, FileState};

fn facts_with(lock: Option<&str>, time: i64) -> Facts {
    let mut f = Facts {
        time,
        ..Default::default()
    };
    f.files.insert(
        LOCK_PATH.into(),
        FileState {
            kind: if lock.is_some() {
                FileKind::File
            } else {
                FileKind::Missing
            },
            content: lock.map(|l| l.as_bytes().to_vec()),
            ..Default::default()
        },
    );
    f
}

#[test]
fn a_live_foreign_lock_is_held_an_expired_or_own_one_is_not() {
    let me = Me::new();
    let text = "id=abc\noperator=ops@laptop\npid=4242\nsince=1700000000\nexpires=1700000120\n";
    let h = held_elsewhere(&facts_with(Some(text), 1_700_000_100), &me).unwrap();
    assert_eq!((h.pid, h.operator.as_str()), (4242, "ops@laptop"));
    let line = h.describe(1_700_000_100);
    assert!(
        line.contains("pid 4242 of ops@laptop, since 2023-11-14 22:13:20 UTC"),
        "{line}"
    );
    assert!(line.contains("ends in 20 s"), "{line}");
    assert!(held_elsewhere(&facts_with(Some(text), 1_700_000_120), &me).is_none());
    let mine = text.replace("id=abc", &format!("id={}", me.id));
    assert!(held_elsewhere(&facts_with(Some(&mine), 1_700_000_100), &me).is_none());
    assert!(held_elsewhere(&facts_with(None, 0), &me).is_none());
    assert!(held_elsewhere(&facts_with(Some("garbage"), 0), &me).is_none());
}

#[test]
fn scripts_write_atomically_and_only_touch_their_own_lock() {
    let me = Me::new();
    let take = take_script(&me, false);
    assert!(take.contains("flock -w 10 9") && take.contains("mv -f \"$tmp\" \"$lock\""));
    assert!(take.contains("exit 75"));
    assert!(
        !take_script(&me, true).contains("exit 75"),
        "force takes it"
    );
    assert!(release_script(&me).contains(&format!("[ \"$id\" = '{}' ]", me.id)));
    assert!(renew_script(&me).contains("exit 75"));
}

#[test]
fn utc_formats_the_epoch() {
    assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
    assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
}
