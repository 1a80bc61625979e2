//! The one-channel rule, checked: nothing in src/ prints but the reporters, their printer and main.
//!
//! Output that bypasses the reporters escapes their masking and the JSON
//! report, and cannot be snapshot-tested. Calling the printer
//! (`report::stdout`) directly is `println!` in disguise, and so were the
//! `outln!`/`errln!`/`out!` macros this replaced: they count too.

use std::path::{Path, PathBuf};

/// What prints directly (each matched as a whole word).
const PRINTING: &[&str] = &[
    "println!",
    "eprintln!",
    "print!",
    "eprint!",
    "dbg!",
    "outln!",
    "errln!",
    "out!",
    "stdout::print",
    "stdout::error_text",
];

/// Where printing belongs: the reporters and the printer they write
/// through (report/), and main. (clap prints its own help and errors.)
const ALLOWED: &[&str] = &["report/", "report.rs", "main.rs"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The printing macros and calls on `line`, ignoring comments.
fn printing_in(line: &str) -> Vec<&'static str> {
    let code = line.split("//").next().unwrap_or_default();
    PRINTING
        .iter()
        .copied()
        .filter(|needle| {
            code.match_indices(needle).any(|(at, _)| {
                !code[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        })
        .collect()
}

#[test]
fn the_needles_are_whole_words() {
    assert_eq!(printing_in("    outln!(\"x\");"), ["outln!"]);
    assert_eq!(printing_in("eprintln!(\"x\")"), ["eprintln!"]);
    assert_eq!(
        printing_in("report::stdout::print_bytes(&t)"),
        ["stdout::print"]
    );
    assert!(printing_in("let layout!(x); writeln!(f, \"x\")").is_empty());
    assert!(printing_in("// println!(\"x\") in a comment").is_empty());
}

#[test]
fn nothing_prints_outside_the_reporters_the_printer_and_main() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap_or(&file);
        let rel = rel.to_string_lossy();
        if ALLOWED.iter().any(|a| rel.starts_with(a)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source is readable");
        for (n, line) in text.lines().enumerate() {
            for needle in printing_in(line) {
                found.push(format!("src/{rel}:{}: {needle}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "print through a reporter (report::Event), not directly:\n{}",
        found.join("\n")
    );
}
