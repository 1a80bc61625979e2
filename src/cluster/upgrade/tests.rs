//! The upgrade plan from fixture clusters.

use super::repo::{parse_listing, repository_for};
use super::*;

fn v(s: &str) -> KubeVersion {
    KubeVersion::parse(s).unwrap()
}

/// name, control plane, kubelet, apiserver (the first control plane is "cp1").
fn members(rows: &[(&str, bool, Option<&str>, Option<&str>)]) -> Vec<Member> {
    rows.iter()
        .map(|(name, cp, kubelet, api)| Member {
            name: name.to_string(),
            control_plane: *cp,
            kubelet: kubelet.map(v),
            apiserver: api.map(v),
            cordoned_by_us: false,
            in_run: true,
        })
        .collect()
}

fn small(at: &str) -> Vec<Member> {
    members(&[
        ("cp1", true, Some(at), Some(at)),
        ("w1", false, Some(at), None),
        ("w2", false, Some(at), None),
    ])
}

/// Batches as "host+host" strings, `!` marking the upgrade apply.
fn shape(s: &Schedule) -> Vec<(String, Vec<String>)> {
    s.steps
        .iter()
        .map(|st| {
            let b = st
                .batches
                .iter()
                .map(|b| format!("{}{}", if b.apply { "!" } else { "" }, b.hosts.join("+")))
                .collect();
            (st.version.to_string(), b)
        })
        .collect()
}

/// (target, members, the walk).
type WalkRow<'a> = (&'a str, Vec<Member>, Option<Vec<StepVersion>>);
/// (steps, members, max unavailable, the batches' shape).
type BatchRow = (
    Vec<KubeVersion>,
    Vec<Member>,
    usize,
    Vec<(String, Vec<String>)>,
);

#[test]
fn walks_one_minor_at_a_time_from_fixtures() {
    let exact = |s| StepVersion::Exact(v(s));
    let newest = |minor| StepVersion::Newest { major: 1, minor };
    let table: Vec<WalkRow> = vec![
        ("1.31.4", small("1.31.4"), None),
        ("1.31.5", small("1.31.4"), Some(vec![exact("1.31.5")])),
        ("1.32.0", small("1.31.4"), Some(vec![exact("1.32.0")])),
        (
            "1.33.0",
            small("1.31.4"),
            Some(vec![newest(32), exact("1.33.0")]),
        ),
        (
            "1.34.2",
            small("1.31.4"),
            Some(vec![newest(32), newest(33), exact("1.34.2")]),
        ),
        // Stopped midway: the control plane reached 1.32.0, a worker did not;
        // the walk keeps the control plane's patch for that minor.
        (
            "1.33.0",
            members(&[
                ("cp1", true, Some("1.32.0"), Some("1.32.0")),
                ("w1", false, Some("1.31.4"), None),
            ]),
            Some(vec![exact("1.32.0"), exact("1.33.0")]),
        ),
        // A host that is no node yet counts for nothing.
        (
            "1.31.4",
            members(&[("cp1", true, None, None), ("w1", false, None, None)]),
            None,
        ),
    ];
    for (target, m, want) in table {
        assert_eq!(walk(v(target), "cp1", &m).unwrap(), want, "to {target}");
    }
}

#[test]
fn every_downgrade_is_reported_at_once() {
    let m = members(&[
        ("cp1", true, Some("1.32.0"), Some("1.32.0")),
        ("w1", false, Some("1.32.1"), None),
    ]);
    let problems = walk(v("1.31.4"), "cp1", &m).unwrap_err();
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("cp1: kubelet runs 1.32.0, newer than kubernetes_version 1.31.4"));
    assert!(lines[1].starts_with("cp1: kube-apiserver runs 1.32.0"));
    assert!(lines[2].starts_with("w1: kubelet runs 1.32.1"));
    let major = walk(v("2.0.0"), "cp1", &small("1.31.4")).unwrap_err();
    assert!(matches!(major[0], Problem::MajorChange { .. }), "{major:?}");
}

#[test]
fn repositories_give_each_step_its_exact_version() {
    let listing = |minor: &str| -> Result<(String, Result<Vec<KubeVersion>, String>), Problem> {
        let url = format!("http://mirror/v{minor}/");
        Ok(match minor {
            "1.32" => (url, Ok(vec![v("1.32.0"), v("1.32.3"), v("1.32.1")])),
            "1.33" => (url, Ok(vec![v("1.33.0")])),
            _ => (
                url,
                Err("curl: (22) The requested URL returned error: 404".into()),
            ),
        })
    };
    let steps = walk(v("1.33.0"), "cp1", &small("1.31.4")).unwrap().unwrap();
    assert_eq!(
        resolve(&steps, listing).unwrap(),
        vec![v("1.32.3"), v("1.33.0")]
    );
    // Two problems, both reported: a repository missing, a version missing.
    let steps = vec![
        StepVersion::Newest {
            major: 1,
            minor: 34,
        },
        StepVersion::Exact(v("1.33.9")),
    ];
    let lines: Vec<String> = resolve(&steps, listing)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "no package repository for 1.34 at http://mirror/v1.34/: curl: (22) The requested URL returned error: 404",
            "kubeadm 1.33.9 is not in http://mirror/v1.33/ (it has 1.33.0)",
        ]
    );
}

#[test]
fn batches_from_fixtures() {
    let ha = members(&[
        ("cp1", true, Some("1.31.4"), Some("1.31.4")),
        ("cp2", true, Some("1.31.4"), Some("1.31.4")),
        ("cp3", true, Some("1.31.4"), Some("1.31.4")),
        ("w1", false, Some("1.31.4"), None),
        ("new", false, None, None),
    ]);
    let resumed = members(&[
        ("cp1", true, Some("1.32.0"), Some("1.32.0")),
        ("w1", false, Some("1.32.0"), None),
        ("w2", false, Some("1.31.4"), None),
    ]);
    let apply_only = members(&[
        ("cp1", true, Some("1.31.4"), Some("1.32.0")),
        ("w1", false, Some("1.32.0"), None),
    ]);
    let s = |steps: &[&str]| steps.iter().map(|x| v(x)).collect::<Vec<_>>();
    let row = |ver: &str, b: &[&str]| {
        (
            ver.to_string(),
            b.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
        )
    };
    let table: Vec<BatchRow> = vec![
        (
            s(&["1.32.0"]),
            small("1.31.4"),
            1,
            vec![row("1.32.0", &["!cp1", "w1", "w2"])],
        ),
        (
            s(&["1.32.0"]),
            small("1.31.4"),
            2,
            vec![row("1.32.0", &["!cp1", "w1+w2"])],
        ),
        (
            s(&["1.32.0"]),
            ha,
            1,
            vec![row("1.32.0", &["!cp1", "cp2", "cp3", "w1"])],
        ),
        (
            s(&["1.32.1", "1.33.0"]),
            small("1.31.4"),
            5,
            vec![
                row("1.32.1", &["!cp1", "w1+w2"]),
                row("1.33.0", &["!cp1", "w1+w2"]),
            ],
        ),
        (s(&["1.32.0"]), resumed, 1, vec![row("1.32.0", &["w2"])]),
        // The node's kubelet is behind but the control plane is upgraded:
        // cp1 still goes through its cycle, without a second apply.
        (s(&["1.32.0"]), apply_only, 1, vec![row("1.32.0", &["cp1"])]),
    ];
    for (steps, m, max, want) in table {
        assert_eq!(
            shape(&schedule(&steps, "cp1", &m, max).unwrap()),
            want,
            "{steps:?} max {max}"
        );
    }
}

#[test]
fn a_node_left_cordoned_is_finished_and_hosts_out_of_the_run_are_named() {
    let mut m = small("1.32.0");
    m[2].cordoned_by_us = true;
    let steps = walk(v("1.32.0"), "cp1", &m).unwrap().unwrap();
    let s = schedule(&[v("1.32.0")], "cp1", &m, 1).unwrap();
    assert_eq!(steps, vec![StepVersion::Exact(v("1.32.0"))]);
    assert_eq!(
        shape(&s),
        vec![("1.32.0".to_string(), vec!["w2".to_string()])]
    );

    let mut m = small("1.31.4");
    m[1].in_run = false;
    let s = schedule(&[v("1.32.0")], "cp1", &m, 1).unwrap();
    assert_eq!(s.left_out, ["w1"]);
    assert_eq!(s.hosts(), ["cp1", "w2"]);

    let mut m = small("1.31.4");
    m[0].in_run = false;
    let err = schedule(&[v("1.32.0"), v("1.33.0")], "cp1", &m, 1).unwrap_err();
    assert_eq!(err, vec![Problem::FirstNotInRun { host: "cp1".into() }]);
}

#[test]
fn each_minor_has_its_repository() {
    let table: &[(&str, &str, &str)] = &[
        (
            "https://pkgs.k8s.io/core:/stable:/v1.33/deb/",
            "1.32",
            "https://pkgs.k8s.io/core:/stable:/v1.32/deb/",
        ),
        // A mirror set up for 1.31 is asked for the release installed.
        (
            "http://10.0.0.1:8080/core:/stable:/v1.31/deb/",
            "1.33",
            "http://10.0.0.1:8080/core:/stable:/v1.33/deb/",
        ),
        ("http://m/k8s/v1.31", "1.31", "http://m/k8s/v1.31"),
        // The last whole vX.Y part; a host name like v1.example or a
        // version with a patch (v1.31.4) is not one.
        (
            "http://v1.example/x/v1.30/y/",
            "1.32",
            "http://v1.example/x/v1.32/y/",
        ),
        ("http://mirror/v1.31.4/", "1.32", "http://mirror/v1.31.4/"),
        (
            "http://mirror/kubernetes/",
            "1.32",
            "http://mirror/kubernetes/",
        ),
        ("http://mirror/dev1.31/", "1.32", "http://mirror/dev1.31/"),
    ];
    for (configured, minor, want) in table {
        assert_eq!(repository_for(configured, minor), *want, "{configured}");
    }
}

#[test]
fn listings_from_fixtures() {
    let out = "== repository 1.32\nversion 1.32.1-1.1\nversion 1.32.0-1.1\nversion 1.32.1-1.1\n\
               == repository 1.33\nerror curl: (22) The requested URL returned error: 404\n\
               == repository 1.34\n";
    let got = parse_listing(out);
    assert_eq!(
        got[0],
        ("1.32".to_string(), Ok(vec![v("1.32.0"), v("1.32.1")]))
    );
    assert_eq!(
        got[1],
        (
            "1.33".to_string(),
            Err("curl: (22) The requested URL returned error: 404".to_string())
        )
    );
    assert_eq!(
        got[2].1,
        Err("its Packages index lists no kubeadm".to_string())
    );
}
