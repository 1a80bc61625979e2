//! The `with_*` lookups and `loop_control`, against what Ansible's lookups produce.

use serde_json::json;
use serde_yaml::Value as Yaml;

use super::*;

#[test]
fn with_lookups_make_ansibles_items() {
    use LoopKind::*;
    let cases = [
        (List, json!([1, [2, 3]]), json!([1, [2, 3]])),
        (
            Dict,
            json!({"alice": 1, "bob": {"uid": 2}}),
            json!([{"key": "alice", "value": 1}, {"key": "bob", "value": {"uid": 2}}]),
        ),
        (
            Together,
            json!([["a", "b", "c"], [1, 2]]),
            json!([["a", 1], ["b", 2], ["c", null]]),
        ),
        (
            Nested,
            json!([["a", "b"], [1, 2]]),
            json!([["a", 1], ["a", 2], ["b", 1], ["b", 2]]),
        ),
        (
            IndexedItems,
            json!(["a", ["b", "c"]]),
            json!([[0, "a"], [1, "b"], [2, "c"]]),
        ),
        (Sequence, json!("start=1 end=3"), json!(["1", "2", "3"])),
        (
            Sequence,
            json!("start=0 count=3 stride=2 format=host%02d"),
            json!(["host00", "host02", "host04"]),
        ),
        (Sequence, json!("4-8/2"), json!(["4", "6", "8"])),
        (Sequence, json!("3:x%d"), json!(["x1", "x2", "x3"])),
        (
            Sequence,
            json!("start=5 end=1 stride=-2"),
            json!(["5", "3", "1"]),
        ),
        (Sequence, json!("count=0"), json!([])),
        (
            Sequence,
            json!(["end=2", "start=7 end=7"]),
            json!(["1", "2", "7"]),
        ),
    ];
    for (kind, terms, want) in cases {
        let got = items(kind, &terms, Path::new("")).unwrap();
        assert_eq!(Json::Array(got), want, "{kind:?} {terms}");
    }
}

#[test]
fn bad_terms_are_refused_as_ansible_does() {
    use LoopKind::*;
    let cases = [
        (Dict, json!([1]), "requires a mapping, got [1]"),
        (List, json!("x"), "requires a list, got \"x\""),
        (Together, json!([]), "requires at least one list"),
        (Sequence, json!("start=1"), "must specify count or end"),
        (
            Sequence,
            json!("end=3 count=2"),
            "can't specify both count and end",
        ),
        (
            Sequence,
            json!("start=5 end=1"),
            "to count backwards make stride negative",
        ),
        (Sequence, json!("end=x"), "can't parse end=x as integer"),
        (
            Sequence,
            json!("end=3 fmt=%d"),
            "unrecognized arguments to with_sequence: `fmt`",
        ),
        (
            Sequence,
            json!("end=3 format=%d-%d"),
            "bad formatting string: %d-%d",
        ),
        (Sequence, json!("a-b"), "can't parse arg `a-b`"),
    ];
    for (kind, terms, want) in cases {
        let got = items(kind, &terms, Path::new("")).unwrap_err();
        assert_eq!(got, want, "{kind:?} {terms}");
    }
}

#[test]
fn fileglob_finds_controller_files_under_files_first() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(files.join("conf.d")).unwrap();
    for f in [
        "files/a.conf",
        "files/b.conf",
        "files/.hidden.conf",
        "files/c.txt",
        "beside.conf",
    ] {
        std::fs::write(dir.path().join(f), "x").unwrap();
    }
    let abs = |p: &str| dir.path().join(p).display().to_string();
    let got = items(LoopKind::Fileglob, &json!("*.conf"), dir.path()).unwrap();
    assert_eq!(
        got,
        vec![json!(abs("files/a.conf")), json!(abs("files/b.conf"))]
    );
    // Nothing under files/: beside the playbook.
    let got = items(LoopKind::Fileglob, &json!("beside.*"), dir.path()).unwrap();
    assert_eq!(got, vec![json!(abs("beside.conf"))]);
    // An absolute pattern; directories never match; no match is no item.
    let pattern = format!("{}/[ab].conf", files.display());
    let got = items(LoopKind::Fileglob, &json!(pattern), dir.path()).unwrap();
    assert_eq!(got.len(), 2);
    let got = items(LoopKind::Fileglob, &json!(["conf*", "*.none"]), dir.path()).unwrap();
    assert!(got.is_empty(), "{got:?}");
}

#[test]
fn loop_control_takes_ansibles_keys() {
    let yaml: Yaml = serde_yaml::from_str(
        "{loop_var: host, index_var: i, label: '{{ host.name }}', pause: 0.5, extended: yes}",
    )
    .unwrap();
    let mut var = "item".to_string();
    let lc = loop_control(&yaml, &mut var).unwrap();
    assert_eq!(var, "host");
    assert_eq!(
        lc,
        LoopControl {
            index_var: Some("i".into()),
            label: Some(json!("{{ host.name }}")),
            pause: 0.5,
            extended: true,
        }
    );
}
