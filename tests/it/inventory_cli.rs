//! `kubestrap inventory check|show` as a pipeline sees them: output and exit codes.

use crate::lab::Lab;
use crate::support::{s, Home};

#[test]
fn check_accepts_the_lab_inventory_and_show_lists_its_hosts() {
    let lab = Lab::from_env();
    let home = Home::new();
    let check = home.kubestrap(&["inventory", "check", "-i", s(&lab.inventory())]);
    assert_eq!(check.code, 0, "{}", check.all());
    let show = home.kubestrap(&["inventory", "show", "-i", s(&lab.inventory()), "--json"]);
    assert_eq!(show.code, 0, "{}", show.all());
    let json: serde_json::Value =
        serde_json::from_str(&show.stdout).expect("show --json prints JSON");
    let names: Vec<&str> = json["hosts"]
        .as_array()
        .expect("hosts array")
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = lab.hosts().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, expected);
}

#[test]
fn a_bad_inventory_exits_2_with_one_line_per_problem() {
    let home = Home::new();
    let inv = home.path().join("bad.yaml");
    std::fs::write(
        &inv,
        "hosts:\n  cp1:\n    address: 10.0.0.1\n    port: 70000\n    roles: [control_plane]\n  w1:\n    address: 10.0.0.1\n    roles: [wrker]\n",
    )
    .unwrap();
    let run = home.kubestrap(&["inventory", "check", "-i", s(&inv)]);
    assert_eq!(run.code, 2, "{}", run.all());
    let lines: Vec<&str> = run.stderr.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        lines.len() >= 2,
        "every problem reported at once: {lines:?}"
    );
    for l in &lines {
        assert!(
            l.contains(&format!("{}:", inv.display())),
            "names the file: {l}"
        );
    }
    assert!(
        lines.iter().any(|l| l.contains(":4:") && l.contains("cp1")),
        "{lines:?}"
    );
    let exec = home.kubestrap(&["exec", "-i", s(&inv), "--", "true"]);
    assert_eq!(
        exec.code, 2,
        "exec refuses a bad inventory before connecting"
    );
}
