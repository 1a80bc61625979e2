//! The nodes an upgrade cordoned and has not uncordoned yet, kept in the state directory.
//!
//! Written before a drain and cleared after the uncordon, so a run that
//! dies in between (a killed controller, a lost connection) leaves a
//! record: the next `apply` treats those nodes as unfinished and takes
//! them through their cycle again, which ends uncordoned.

use std::path::{Path, PathBuf};

use crate::cluster::state::write_private_file;
use crate::Error;

const FILE: &str = "upgrade-cordoned";

fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE)
}

/// The recorded node names (none when there is no record).
pub fn read(state_dir: &Path) -> Vec<String> {
    std::fs::read_to_string(path(state_dir))
        .map(|t| {
            t.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Add `nodes` to the record (atomically replaced).
pub fn add(state_dir: &Path, nodes: &[String]) -> Result<(), Error> {
    let mut all = read(state_dir);
    for n in nodes {
        if !all.contains(n) {
            all.push(n.clone());
        }
    }
    write(state_dir, &all)
}

/// Take `nodes` off the record.
pub fn remove(state_dir: &Path, nodes: &[String]) -> Result<(), Error> {
    let all: Vec<String> = read(state_dir)
        .into_iter()
        .filter(|n| !nodes.contains(n))
        .collect();
    write(state_dir, &all)
}

fn write(state_dir: &Path, nodes: &[String]) -> Result<(), Error> {
    let p = path(state_dir);
    if nodes.is_empty() {
        return match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::Io { path: p, source: e })
            }
            _ => Ok(()),
        };
    }
    std::fs::create_dir_all(state_dir).map_err(|e| Error::Io {
        path: state_dir.to_path_buf(),
        source: e,
    })?;
    let text: String = nodes.iter().map(|n| format!("{n}\n")).collect();
    Ok(write_private_file(&p, text.as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_follows_drains_and_uncordons() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("state");
        assert!(read(&d).is_empty());
        add(&d, &["w1".into(), "w2".into()]).unwrap();
        add(&d, &["w2".into(), "w3".into()]).unwrap();
        assert_eq!(read(&d), ["w1", "w2", "w3"]);
        remove(&d, &["w1".into(), "w3".into()]).unwrap();
        assert_eq!(read(&d), ["w2"]);
        remove(&d, &["w2".into()]).unwrap();
        assert!(!d.join(FILE).exists());
        remove(&d, &["w2".into()]).unwrap();
    }
}
