//! A backup on the operator's machine: its directory, its files and their SHA-256 list, the snapshot's checks before a restore, and pruning the old ones.
//!
//! ```text
//! <dir>/<cluster>-2026-12-07T17-40-12Z/     0700, one backup (UTC time)
//!     etcd-snapshot.db                      0600, etcdctl snapshot save's file
//!     ca.crt  ca.key                        0600, the cluster CA
//!     kubeadm-config.yaml                   0600, the kubeadm-config ConfigMap
//!     SHA256SUMS                            0600, `sha256sum -c SHA256SUMS` checks them
//! ```
//! A backup is written into `.<name>.partial/` and renamed to its name once
//! SHA256SUMS is in it, so a directory with the name is always whole; an
//! interrupted backup leaves at most a `.partial` one, which the next
//! backup of that name replaces.

use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::state::write_private_file;

pub const SNAPSHOT: &str = "etcd-snapshot.db";
pub const CA_CERT: &str = "ca.crt";
pub const CA_KEY: &str = "ca.key";
pub const KUBEADM_CONFIG: &str = "kubeadm-config.yaml";
pub const SUMS: &str = "SHA256SUMS";
/// The size of the SHA-256 etcd appends to a snapshot it streams.
const ETCD_HASH: u64 = 32;

/// What went wrong with a backup's files on this machine.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: its SHA-256 is {got}, but {} records {want}: the file is damaged or not the one backed up; nothing was changed", .path.display(), .sums.display())]
    Mismatch {
        path: PathBuf,
        sums: PathBuf,
        want: String,
        got: String,
    },
    #[error("{}: {} has no line for {name}", .path.display(), .sums.display())]
    NotListed {
        path: PathBuf,
        sums: PathBuf,
        name: String,
    },
    #[error("{}: not a whole etcd snapshot ({problem}): a snapshot ends with the SHA-256 of what comes before it; nothing was changed", .path.display())]
    NotSnapshot { path: PathBuf, problem: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `lab-2026-12-07T17-40-12Z`: a backup's name, its cluster and UTC time
/// (no colons; names of one cluster sort in time order).
pub fn dir_name(cluster: &str, now: i64) -> String {
    format!("{cluster}-{}", stamp(now))
}

/// `2026-12-07T17-40-12Z`: a UTC time as a plain file name.
pub fn stamp(now: i64) -> String {
    let (y, m, d, rest) = crate::utc::civil(now);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}-{:02}-{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Whether `name` is one of `cluster`'s backups: the cluster's name, then a
/// time exactly as [`dir_name`] writes it. Nothing else is ever pruned.
fn is_backup_of(cluster: &str, name: &str) -> bool {
    let Some(time) = name
        .strip_prefix(cluster)
        .and_then(|rest| rest.strip_prefix('-'))
    else {
        return false;
    };
    let shape = "dddd-dd-ddTdd-dd-ddZ";
    time.len() == shape.len()
        && time.bytes().zip(shape.bytes()).all(|(c, s)| match s {
            b'd' => c.is_ascii_digit(),
            other => c == other,
        })
}

/// A backup being written: its files go into a private `.partial`
/// directory, and their SHA-256 into the list [`Partial::finish`] writes.
pub struct Partial {
    dir: PathBuf,
    done: PathBuf,
    sums: Vec<(String, String)>,
}

impl Partial {
    /// Start `cluster`'s backup of time `now` under `parent` (made 0700
    /// when missing). A `.partial` left by an interrupted run is replaced.
    pub fn create(parent: &Path, cluster: &str, now: i64) -> Result<Partial, BackupError> {
        private_dir(parent, true)?;
        let name = dir_name(cluster, now);
        let dir = parent.join(format!(".{name}.partial"));
        if dir.exists() {
            fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
        }
        private_dir(&dir, false)?;
        Ok(Partial {
            dir,
            done: parent.join(name),
            sums: Vec::new(),
        })
    }

    /// Where the file `name` of this backup is written.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Where the backup will be once finished.
    pub fn final_path(&self) -> &Path {
        &self.done
    }

    /// Note the SHA-256 of a file written at [`Partial::path`].
    pub fn record(&mut self, name: &str, sha256: &str) {
        self.sums.push((name.to_string(), sha256.to_string()));
    }

    /// Write `bytes` as the file `name` (0600) and note its SHA-256.
    pub fn write(&mut self, name: &str, bytes: &[u8]) -> Result<(), BackupError> {
        let path = self.path(name);
        write_private_file(&path, bytes).map_err(|e| BackupError::Io {
            path: path.clone(),
            source: io::Error::other(e.to_string()),
        })?;
        self.record(name, &hex(&Sha256::digest(bytes)));
        Ok(())
    }

    /// Write SHA256SUMS and give the backup its name; its path.
    pub fn finish(self) -> Result<PathBuf, BackupError> {
        let text: String = self
            .sums
            .iter()
            .map(|(name, sum)| format!("{sum}  {name}\n"))
            .collect();
        let sums = self.dir.join(SUMS);
        write_private_file(&sums, text.as_bytes()).map_err(|e| BackupError::Io {
            path: sums.clone(),
            source: io::Error::other(e.to_string()),
        })?;
        fs::rename(&self.dir, &self.done).map_err(io_err(&self.done))?;
        Ok(self.done)
    }

    /// Remove what was written (a backup that failed).
    pub fn discard(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Make `dir` 0700 (its parents too when `parents`).
fn private_dir(dir: &Path, parents: bool) -> Result<(), BackupError> {
    let made = fs::DirBuilder::new()
        .mode(0o700)
        .recursive(parents)
        .create(dir);
    match made {
        Ok(()) => {}
        Err(e) if parents && e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err(dir)(e)),
    }
    if !parents {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))?;
    }
    Ok(())
}

/// Remove `cluster`'s backups in `parent` beyond the newest `keep`
/// (only directories named as [`dir_name`] names them); those removed.
pub fn prune(parent: &Path, cluster: &str, keep: usize) -> Result<Vec<PathBuf>, BackupError> {
    let mut ours: Vec<String> = fs::read_dir(parent)
        .map_err(io_err(parent))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_backup_of(cluster, n))
        .collect();
    ours.sort();
    let old = ours.len().saturating_sub(keep);
    let mut removed = Vec::new();
    for name in &ours[..old] {
        let path = parent.join(name);
        fs::remove_dir_all(&path).map_err(io_err(&path))?;
        removed.push(path);
    }
    Ok(removed)
}

/// A snapshot file that passed the checks before a restore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
    /// The SHA256SUMS that listed it (None: a snapshot kubestrap did not
    /// make, checked by etcd's own hash only).
    pub sums: Option<PathBuf>,
}

/// Check a snapshot before anything on a host changes: `path` is the
/// snapshot or a backup directory holding one. Its SHA-256 must be the one
/// SHA256SUMS beside it records (when there is one), and it must end with
/// the SHA-256 of the rest, as etcd streams a snapshot (`etcdutl snapshot
/// restore` refuses one without it): a cut or damaged file fails here.
pub fn check_snapshot(path: &Path) -> Result<Checked, BackupError> {
    let path = if path.is_dir() {
        path.join(SNAPSHOT)
    } else {
        path.to_path_buf()
    };
    let size = fs::metadata(&path).map_err(io_err(&path))?.len();
    let (whole, body, tail) = hashes(&path, size)?;
    let sums = path.with_file_name(SUMS);
    let listed = match fs::read_to_string(&sums) {
        Ok(text) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let want = listed_sum(&text, &name).ok_or_else(|| BackupError::NotListed {
                path: path.clone(),
                sums: sums.clone(),
                name: name.clone(),
            })?;
            if want != whole {
                return Err(BackupError::Mismatch {
                    path,
                    sums,
                    want,
                    got: whole,
                });
            }
            Some(sums)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&sums)(e)),
    };
    let problem = if size < ETCD_HASH || size % 512 != ETCD_HASH {
        Some(format!(
            "{size} bytes: etcd's snapshots are 32 bytes more than a multiple of 512"
        ))
    } else if body.as_deref() != tail.as_deref() {
        Some("its last 32 bytes are not the SHA-256 of the rest".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(BackupError::NotSnapshot { path, problem });
    }
    Ok(Checked {
        path,
        sha256: whole,
        size,
        sums: listed,
    })
}

/// The sum SHA256SUMS's text lists for `name` (`HEX  NAME` or `HEX *NAME`).
fn listed_sum(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (sum, rest) = line.split_once(' ')?;
        let file = rest.strip_prefix(' ').or_else(|| rest.strip_prefix('*'))?;
        (file == name).then(|| sum.to_ascii_lowercase())
    })
}

/// In one pass: the file's SHA-256 (hex), and, when it is long enough,
/// the SHA-256 of all but its last 32 bytes and those 32 bytes.
type Hashes = (String, Option<Vec<u8>>, Option<Vec<u8>>);

fn hashes(path: &Path, size: u64) -> Result<Hashes, BackupError> {
    let mut f = File::open(path).map_err(io_err(path))?;
    let body_len = size.checked_sub(ETCD_HASH);
    let (mut whole, mut body) = (Sha256::new(), Sha256::new());
    let mut tail = Vec::new();
    let mut at = 0u64;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        whole.update(chunk);
        if let Some(limit) = body_len {
            let in_body = limit.saturating_sub(at).min(n as u64) as usize;
            body.update(&chunk[..in_body]);
            tail.extend_from_slice(&chunk[in_body..]);
        }
        at += n as u64;
    }
    let whole = hex(&whole.finalize());
    Ok(match body_len {
        Some(_) => (whole, Some(body.finalize().to_vec()), Some(tail)),
        None => (whole, None, None),
    })
}

pub fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot as etcd streams one: a db of whole pages, its SHA-256 after it.
    fn snapshot(pages: usize) -> Vec<u8> {
        let mut db: Vec<u8> = (0..pages * 4096).map(|i| (i * 7 % 251) as u8).collect();
        let sum = Sha256::digest(&db);
        db.extend_from_slice(&sum);
        db
    }

    fn backup_with(dir: &Path, bytes: &[u8]) -> PathBuf {
        let mut p = Partial::create(dir, "lab", 1_765_129_212).unwrap();
        fs::write(p.path(SNAPSHOT), bytes).unwrap();
        p.record(SNAPSHOT, &hex(&Sha256::digest(bytes)));
        p.write(CA_CERT, b"cert").unwrap();
        p.finish().unwrap()
    }

    #[test]
    fn names_carry_the_cluster_and_the_utc_time() {
        assert_eq!(dir_name("lab", 1_765_129_212), "lab-2025-12-07T17-40-12Z");
        let table = [
            ("lab-2025-12-07T17-40-12Z", true),
            ("lab-2025-12-07T17-40-12Z.partial", false),
            (".lab-2025-12-07T17-40-12Z.partial", false),
            ("lab-prod-2025-12-07T17-40-12Z", false),
            ("lab-2025-12-07T17:40:12Z", false),
            ("lab", false),
            ("notes", false),
        ];
        for (name, ours) in table {
            assert_eq!(is_backup_of("lab", name), ours, "{name}");
        }
        assert!(is_backup_of("lab-prod", "lab-prod-2025-12-07T17-40-12Z"));
    }

    #[test]
    fn a_whole_backup_passes_and_sha256sum_agrees() {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = snapshot(3);
        let dir = backup_with(tmp.path(), &bytes);
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(SUMS)), 0o600);
        assert_eq!(mode(&dir.join(CA_CERT)), 0o600);
        let checked = check_snapshot(&dir).unwrap();
        assert_eq!(checked.path, dir.join(SNAPSHOT));
        assert_eq!(checked.size, bytes.len() as u64);
        assert_eq!(checked.sha256, hex(&Sha256::digest(&bytes)));
        assert_eq!(checked.sums, Some(dir.join(SUMS)));
        let out = std::process::Command::new("sha256sum")
            .args(["-c", SUMS])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }

    #[test]
    fn a_cut_or_changed_snapshot_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let bytes = snapshot(2);
        let dir = backup_with(tmp.path(), &bytes);
        let file = dir.join(SNAPSHOT);
        fs::write(&file, &bytes[..bytes.len() - 4096]).unwrap();
        let e = check_snapshot(&file).unwrap_err();
        assert!(matches!(e, BackupError::Mismatch { .. }), "{e}");
        assert!(e.to_string().contains("nothing was changed"), "{e}");
        // Without SHA256SUMS, etcd's own hash still catches it.
        fs::remove_file(dir.join(SUMS)).unwrap();
        let e = check_snapshot(&file).unwrap_err();
        assert!(matches!(e, BackupError::NotSnapshot { .. }), "{e}");
        let mut flipped = bytes.clone();
        flipped[100] ^= 1;
        fs::write(&file, &flipped).unwrap();
        let e = check_snapshot(&file).unwrap_err();
        assert!(e.to_string().contains("last 32 bytes"), "{e}");
        fs::write(&file, &bytes).unwrap();
        assert_eq!(check_snapshot(&file).unwrap().sums, None);
    }

    #[test]
    fn a_snapshot_sha256sums_does_not_list_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = backup_with(tmp.path(), &snapshot(1));
        fs::rename(dir.join(SNAPSHOT), dir.join("other.db")).unwrap();
        let e = check_snapshot(&dir.join("other.db")).unwrap_err();
        assert!(matches!(e, BackupError::NotListed { .. }), "{e}");
    }

    #[test]
    fn pruning_keeps_the_newest_and_touches_nothing_else() {
        let tmp = tempfile::tempdir().unwrap();
        let names = [
            "lab-2025-12-01T00-00-00Z",
            "lab-2025-12-03T00-00-00Z",
            "lab-2025-12-02T00-00-00Z",
            "lab-prod-2025-11-01T00-00-00Z",
            "other-2025-11-01T00-00-00Z",
            "keep-me",
        ];
        for n in names {
            fs::create_dir(tmp.path().join(n)).unwrap();
        }
        fs::write(tmp.path().join("lab-2025-11-01T00-00-00Z"), "a file").unwrap();
        let removed = prune(tmp.path(), "lab", 2).unwrap();
        assert_eq!(removed, vec![tmp.path().join("lab-2025-12-01T00-00-00Z")]);
        let mut left: Vec<String> = fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "keep-me",
                "lab-2025-11-01T00-00-00Z",
                "lab-2025-12-02T00-00-00Z",
                "lab-2025-12-03T00-00-00Z",
                "lab-prod-2025-11-01T00-00-00Z",
                "other-2025-11-01T00-00-00Z"
            ]
        );
    }
}
