//! Test support: fixture tables of bad input, each file with the exact problems it must give.

use std::path::{Path, PathBuf};

/// Load every fixture in `dir` accepted by `is_case`, and compare what
/// `problems` says of it, line for line, with `CASE.expected` beside it.
/// All mismatches are reported at once; at least `min` cases must exist.
pub fn check_bad_fixtures(
    dir: &Path,
    is_case: impl Fn(&Path) -> bool,
    min: usize,
    problems: impl Fn(&Path) -> Option<Vec<String>>,
) {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| is_case(p))
        .collect();
    cases.sort();
    assert!(cases.len() >= min, "only {} bad fixtures", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let expected_path = PathBuf::from(format!("{}.expected", case.display()));
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|_| panic!("{} has no .expected file", case.display()));
        let got = match problems(case) {
            None => "(loaded without problems)\n".to_string(),
            Some(lines) => lines.iter().map(|l| format!("{l}\n")).collect(),
        };
        if got != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- got\n{got}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
