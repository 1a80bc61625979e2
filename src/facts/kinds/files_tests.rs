//! The files kind's line parsers and a fixture table of whole answers.

use super::super::test_kit::read;
use super::*;
use crate::facts::fixture_tests::file;

#[test]
fn stat_lines_give_kind_and_mode() {
    let (p, s) = stat_line("81a4\t139\troot\troot\t/etc/a\tb").unwrap();
    assert_eq!(p, "/etc/a\tb");
    assert_eq!(
        (s.kind, s.mode, s.size),
        (FileKind::File, Some(0o644), Some(139))
    );
    let (_, s) = stat_line("41ed\t4096\troot\troot\t/etc").unwrap();
    assert_eq!(
        (s.kind, s.mode, s.size),
        (FileKind::Directory, Some(0o755), None)
    );
    assert!(stat_line("zz\t1\ta\tb\tc").unwrap_err().contains("`stat`"));
    assert!(stat_line("81a4").is_err());
}

#[test]
fn escaped_sha256_paths_are_unescaped() {
    let sum = "a".repeat(64);
    let (p, s) = sha256_line(&format!("\\{sum}  /tmp/a\\\\b")).unwrap();
    assert_eq!((p.as_str(), s), ("/tmp/a\\b", sum));
    assert_eq!(sha256_line("short  /x"), None);
    assert_eq!(sha256_line("\\"), None);
}

/// (content section body, the content kept): only a body that decodes to
/// exactly the size stat saw is kept.
#[test]
fn file_answers_from_fixtures() {
    let sum = "ab".repeat(32);
    let sha = format!("{sum}  /etc/a\n");
    let requests = [
        file("/etc/a", true),
        file("/etc/d", false),
        file("/gone", true),
    ];
    let table: &[(&str, Option<&[u8]>)] = &[
        ("aGkK\n", Some(b"hi\n")),
        ("aGkhIQo=\n", None),
        ("not base64!\n", None),
    ];
    for (b64, want) in table {
        let f = read(
            &Files,
            &[
                (
                    STAT,
                    "81a4\t3\troot\tadm\t/etc/a\n41c0\t4096\troot\troot\t/etc/d\n",
                ),
                (SHA256, &sha),
                (IDS, "0\t4\t5\t6\t7\t8\t9\t1\t/etc/a\n"),
                (&format!("{CONTENT} 0"), b64),
            ],
            &requests,
        )
        .unwrap();
        let a = &f.files["/etc/a"];
        assert_eq!(a.content.as_deref(), *want, "{b64:?}");
        assert_eq!(
            (a.size, a.mode, a.group.as_deref()),
            (Some(3), Some(0o644), Some("adm"))
        );
        assert_eq!(a.sha256.as_deref(), Some(sum.as_str()));
        let d = &f.files["/etc/d"];
        assert_eq!(
            (d.kind, d.mode, d.sha256.as_ref()),
            (FileKind::Directory, Some(0o700), None)
        );
        assert_eq!(f.files["/gone"], FileState::default());
        assert_eq!(
            (f.file_ids["/etc/a"].gid, f.file_ids["/etc/a"].mtime),
            (4, 5)
        );
        assert!(!f.file_ids.contains_key("/gone"));
    }
}

#[test]
fn content_is_asked_for_by_request_index_and_odd_paths_are_left_out() {
    let mut s = String::new();
    Files.script(
        &[file("/a\nb", true), file("/x", false), file("/y", true)],
        &mut s,
    );
    assert!(s.starts_with("m stat; "), "{s}");
    assert!(!s.contains("/a\nb"), "{s}");
    assert!(s.contains("ix=\"$ix 2\""), "{s}");
    assert!(!s.contains("ix=\"$ix 1\""), "{s}");
    let mut none = String::new();
    Files.script(&[file("/x", false)], &mut none);
    assert!(!none.contains(CONTENT), "{none}");
}

#[test]
fn ids_lines_give_numbers_and_keep_tabs_in_paths() {
    let (p, i) =
        ids_line("0\t4\t1700000000\t1700000001\t1700000002\t42\t2049\t1\t/etc/a\tb").unwrap();
    assert_eq!(p, "/etc/a\tb");
    assert_eq!(
        i,
        FileIds {
            uid: 0,
            gid: 4,
            mtime: 1_700_000_000,
            atime: 1_700_000_001,
            ctime: 1_700_000_002,
            inode: 42,
            dev: 2049,
            nlink: 1,
        }
    );
    assert!(ids_line("x\t0\t1\t1\t1\t1\t1\t1\t/a")
        .unwrap_err()
        .contains("`ids`"));
    assert!(ids_line("0\t0\t1").is_err());
}
