//! What one fuzz input does to a parser: shared by the cargo-fuzz targets
//! (fuzz/fuzz_targets/) and the short run in CI (tests/it/hostile/bad_input.rs),
//! so both exercise exactly the same calls. A panic anywhere is the bug.

#![allow(dead_code)] // each includer uses part of it

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kubestrap::inventory::{self, Format};

/// The parsers under test, as the fuzz targets and corpus directories name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    InventoryKubestrap,
    InventoryAnsibleIni,
    InventoryAnsibleYaml,
    Playbook,
}

impl Target {
    pub const ALL: [Target; 4] = [
        Target::InventoryKubestrap,
        Target::InventoryAnsibleIni,
        Target::InventoryAnsibleYaml,
        Target::Playbook,
    ];

    /// The cargo-fuzz target name, also the corpus directory name.
    pub fn name(self) -> &'static str {
        match self {
            Target::InventoryKubestrap => "inventory_kubestrap",
            Target::InventoryAnsibleIni => "inventory_ansible_ini",
            Target::InventoryAnsibleYaml => "inventory_ansible_yaml",
            Target::Playbook => "playbook",
        }
    }

    /// Feed one input to this target's parser.
    pub fn run(self, data: &[u8]) {
        match self {
            Target::InventoryKubestrap => inventory_input(Format::Kubestrap, data),
            Target::InventoryAnsibleIni => inventory_input(Format::AnsibleIni, data),
            Target::InventoryAnsibleYaml => inventory_input(Format::AnsibleYaml, data),
            Target::Playbook => playbook_input(data),
        }
    }
}

/// An inventory is parsed twice: as `kubestrap` would (format detected from
/// the text) and with `format`'s parser forced, so each parser sees every
/// input, not only those detection hands it. A parsed inventory is also
/// rendered, as `kubestrap inventory show` would.
pub fn inventory_input(format: Format, data: &[u8]) {
    // inventory::load refuses text that is not UTF-8 before any parser runs.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A directory that does not exist: relative identity files resolve into
    // it and are reported missing, so the run does not depend on this machine.
    let path = Path::new("/nonexistent-kubestrap-fuzz/inventory.yaml");
    for result in [
        inventory::parse_str(text, path),
        inventory::parse_str_as(format, text, path),
    ] {
        match result {
            Ok(inv) => {
                let _ = inventory::render_show(&inv, false, &inventory::Effective::default());
                let _ = inventory::render_show(&inv, true, &inventory::Effective::default());
            }
            Err(problems) => {
                for p in problems {
                    let _ = p.to_string();
                }
            }
        }
    }
}

/// A playbook is loaded as if it were `DIR/playbook.yaml`, where DIR holds
/// one vars file, `vars.yaml`.
///
/// `vars_files` are read from disk, so an input naming `/dev/zero` or a FIFO
/// would hang the fuzzer rather than find a parser bug; inputs that mention
/// `vars_files` and could name a file outside DIR (a `/`, a `..`, or a
/// backslash that a YAML escape could turn into either) are skipped.
pub fn playbook_input(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains("vars_files")
        && (text.contains('/') || text.contains('\\') || text.contains(".."))
    {
        return;
    }
    let path = playbook_dir().join("playbook.yaml");
    match kubestrap::playbook::load_str(&path, text) {
        Ok(book) => {
            let _ = book.plays.iter().map(|p| p.tasks.len()).sum::<usize>();
        }
        Err(errors) => {
            for e in errors {
                let _ = e.to_string();
            }
        }
    }
}

fn playbook_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kubestrap-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the fuzz playbook directory");
        std::fs::write(dir.join("vars.yaml"), "answer: 42\nlist: [a, b]\n")
            .expect("writing the fuzz vars file");
        dir
    })
}
