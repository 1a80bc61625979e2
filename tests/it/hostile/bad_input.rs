//! The short fuzz run CI does on every test run: each parser gets every kept
//! regression input (tests/fuzz_regressions/TARGET/), every fixture of its
//! kind, and a few thousand deterministic mutations of them; none may panic.
//!
//! It calls the same harness as the cargo-fuzz targets (fuzz/harness.rs);
//! the long, coverage-guided runs are in docs/fuzzing.md. No lab needed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

#[path = "../../../fuzz/harness.rs"]
mod harness;

use harness::Target;

/// Mutated inputs per parser; with the replays this stays well under 30 s
/// for all four together in a debug build on a 2-core machine.
const MUTATIONS: usize = 5000;

/// Pieces of the three syntaxes that random bytes rarely hit: YAML
/// structure, anchors, tags and merge keys, INI sections, ranges and
/// key=value, Jinja delimiters, numbers at the edges, odd Unicode.
const TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "-",
    "\n",
    "\n  ",
    "  ",
    "\t",
    "[",
    "]",
    "{",
    "}",
    ",",
    "=",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!!binary ",
    "!!map ",
    "? ",
    "|\n  ",
    ">-\n  ",
    "---\n",
    "...\n",
    "~",
    "null",
    "true",
    "yes",
    "0x",
    "-1",
    "65536",
    "99999999999999999999",
    "1e999",
    "[a]\n",
    "[all:vars]\n",
    "[all:children]\n",
    ":children",
    ":vars",
    "[01:10]",
    "[a:z]",
    "[0:",
    "ansible_host=",
    "ansible_port=",
    "ansible_user=",
    "hosts:",
    "children:",
    "vars:",
    "cluster:",
    "defaults:",
    "roles: [",
    "control_plane",
    "worker",
    "address: ",
    "port: ",
    "identity_file: ",
    "network:",
    "dns: [",
    "pod_subnet: ",
    "10.0.0.1",
    "::1",
    "/24",
    "/33",
    "fe80::1%eth0",
    "{{ ",
    " }}",
    "{% ",
    " %}",
    "{#",
    "| default(",
    "when: ",
    "loop: ",
    "register: ",
    "notify: ",
    "handlers:",
    "tasks:",
    "- name: ",
    "command: ",
    "shell: ",
    "copy:",
    "template:",
    "vars_files:",
    "with_items: ",
    "become: ",
    "tags: ",
    "\u{0}",
    "\u{feff}",
    "\u{fffd}",
    "é",
    "\u{1f600}",
    "\r\n",
    "\\",
    "%",
    "@",
];

/// A small deterministic PRNG (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One to four edits of `seed`: byte and token edits, line shuffles and
/// splices with another input, re-indentation, truncation.
fn mutate(rng: &mut Rng, seed: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(9) {
            0 => {
                if at < data.len() {
                    data[at] = rng.next() as u8;
                }
            }
            1 | 2 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                data.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + 1 + rng.below(32)).min(data.len());
                if at < end {
                    data.drain(at..end);
                }
            }
            4 => data.truncate(at),
            5 | 6 => {
                let mut lines: Vec<Vec<u8>> =
                    data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
                let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                match rng.below(3) {
                    0 => lines.swap(a, b),
                    1 => {
                        let copy = lines[a].clone();
                        lines.insert(b, copy);
                    }
                    _ => {
                        let shift = [0usize, 1, 2, 4][rng.below(4)];
                        let line = &mut lines[a];
                        let indent = line.iter().take_while(|&&c| c == b' ').count();
                        line.drain(..indent);
                        line.splice(0..0, std::iter::repeat_n(b' ', shift));
                    }
                }
                data = lines.join(&b'\n');
            }
            7 => {
                let other = &others[rng.below(others.len())];
                let from = rng.below(other.len() + 1);
                let len = rng.below(other.len() - from + 1).min(256);
                data.splice(at..at, other[from..from + len].iter().copied());
            }
            _ => {
                // Deep nesting: parsers must refuse it, not overflow the stack.
                let (open, close) =
                    [("[", "]"), ("{", "}"), ("- ", ""), ("{{ (", ") }}")][rng.below(4)];
                let depth = 1 + rng.below(300);
                let mut deep = open.repeat(depth);
                deep.push_str(&close.repeat(depth));
                data.splice(at..at, deep.bytes());
            }
        }
    }
    data
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Files under `dir` (recursively) whose name ends in one of `suffixes`.
fn files(dir: &Path, suffixes: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, suffixes, out);
        } else if suffixes.is_empty()
            || path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| suffixes.iter().any(|s| n.ends_with(s)))
        {
            out.push(path);
        }
    }
}

/// The kept regression inputs (seeds, minimized corpus, crash cases).
fn regressions(target: Target) -> Vec<PathBuf> {
    let mut out = Vec::new();
    files(
        &root().join("tests/fuzz_regressions").join(target.name()),
        &[],
        &mut out,
    );
    out.sort();
    out
}

/// The project's own fixtures of this parser's kind, read as they are now.
fn fixtures(target: Target) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let r = root();
    let (dirs, suffixes): (&[&str], &[&str]) = match target {
        Target::InventoryAnsibleIni => (&["src/inventory/fixtures", "inventory"], &[".ini"]),
        Target::InventoryKubestrap | Target::InventoryAnsibleYaml => {
            (&["src/inventory/fixtures", "inventory"], &[".yaml", ".yml"])
        }
        Target::Playbook => (
            &[
                "src/playbook/fixtures",
                "tests/fixtures/playbooks",
                "playbooks",
            ],
            &[".yaml", ".yml"],
        ),
    };
    for d in dirs {
        files(&r.join(d), suffixes, &mut out);
    }
    out.sort();
    out
}

/// Runs `data` through `target`; on a panic, keeps the input in a file and
/// returns a line naming it.
fn check(target: Target, data: &[u8], what: &str) -> Option<String> {
    if catch_unwind(AssertUnwindSafe(|| target.run(data))).is_ok() {
        return None;
    }
    let dir = std::env::temp_dir().join("kubestrap-fuzz-failures");
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join(format!("{}-{:016x}", target.name(), fnv(data)));
    let _ = std::fs::write(&file, data);
    Some(format!(
        "{} panicked on {what}; input kept in {} (add it to tests/fuzz_regressions/{}/ once fixed)",
        target.name(),
        file.display(),
        target.name()
    ))
}

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn short_fuzz(target: Target) {
    let kept = regressions(target);
    assert!(
        !kept.is_empty(),
        "tests/fuzz_regressions/{} holds no inputs",
        target.name()
    );
    let mut failures = Vec::new();
    let mut seeds = Vec::new();
    for path in kept.iter().chain(&fixtures(target)) {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        failures.extend(check(target, &data, &path.display().to_string()));
        seeds.push(data);
    }
    let mut rng = Rng(0x6b75_6265_7374_7261 ^ fnv(target.name().as_bytes()));
    for i in 0..MUTATIONS {
        let seed = &seeds[rng.below(seeds.len())];
        let data = mutate(&mut rng, seed, &seeds);
        failures.extend(check(target, &data, &format!("mutation #{i}")));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fuzz_short_inventory_kubestrap_never_panics() {
    short_fuzz(Target::InventoryKubestrap);
}

#[test]
fn fuzz_short_inventory_ansible_ini_never_panics() {
    short_fuzz(Target::InventoryAnsibleIni);
}

#[test]
fn fuzz_short_inventory_ansible_yaml_never_panics() {
    short_fuzz(Target::InventoryAnsibleYaml);
}

#[test]
fn fuzz_short_playbook_never_panics() {
    short_fuzz(Target::Playbook);
}

#[test]
fn every_fuzz_target_has_kept_inputs() {
    for target in Target::ALL {
        assert!(
            !regressions(target).is_empty(),
            "no inputs in tests/fuzz_regressions/{}",
            target.name()
        );
    }
}
