//! The local state directory: what a cluster needs to be re-run or grown,
//! kept on the operator's machine.
//!
//! ```text
//! <inventory dir>/.kubestrap/<cluster>/     0700
//!     ca.crt  ca.key                        the cluster CA (never replaced)
//!     token.json                            {id, secret, expires_at}
//!     certificate-key.json                  {key, uploaded_at}
//!     kubeconfig                            admin, server = the cluster endpoint
//!     reset-2026-12-07T15-40-12Z/           0700: what `kubestrap reset` moved aside
//! ```
//! Every file is 0600 and written atomically (temp file, fsync, rename), so
//! an interrupted run leaves the old file or the new one, never half of one.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::error::StateError as Error;
use super::pki::{self, Ca};
use super::token::{self, BootstrapToken};
use crate::secret::Secret;

/// A stored token is reused only while it has more than this left (seconds),
/// so it cannot expire in the middle of a run that joins with it.
pub const TOKEN_REUSE_MARGIN: i64 = 10 * 60;

const CA_CERT: &str = "ca.crt";
const CA_KEY: &str = "ca.key";
const TOKEN: &str = "token.json";
const CERT_KEY: &str = "certificate-key.json";
const KUBECONFIG: &str = "kubeconfig";
/// The SHA-256 of the admin.conf [`KUBECONFIG`] was made from.
const KUBECONFIG_SOURCE: &str = "kubeconfig.source";

/// A cluster's state directory, checked to be private to its owner.
#[derive(Debug, Clone)]
pub struct StateDir {
    path: PathBuf,
    /// `--check`: read what is there, make what is missing in memory only,
    /// write nothing (not even the directory).
    dry: bool,
}

// Plain structs for the JSON files: no Debug, so the secrets they briefly
// hold cannot be printed.
#[derive(Serialize, Deserialize)]
struct TokenFile {
    id: String,
    secret: String,
    expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct CertKeyFile {
    key: String,
    uploaded_at: Option<i64>,
}

impl StateDir {
    /// `<inventory dir>/.kubestrap/<cluster name or "cluster">`. A name that is
    /// not a safe file name has its other characters replaced by `_`.
    pub fn default_path(inventory: &Path, cluster_name: Option<&str>) -> PathBuf {
        let name: String = cluster_name
            .unwrap_or("")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let name = match name.as_str() {
            "" | "." | ".." => "cluster".to_string(),
            _ => name,
        };
        let dir = inventory.parent().unwrap_or(Path::new(""));
        dir.join(".kubestrap").join(name)
    }

    /// Opens the directory, creating it 0700 when missing.
    pub fn open(path: impl Into<PathBuf>) -> Result<StateDir, Error> {
        let path = path.into();
        match fs::metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(&path)
                    .map_err(io_err(&path))?;
                // The mode above went through the umask; make it exact.
                fs::set_permissions(&path, fs::Permissions::from_mode(0o700))
                    .map_err(io_err(&path))?;
                Ok(StateDir { path, dry: false })
            }
            Err(e) => Err(io_err(&path)(e)),
            Ok(_) => Self::checked(path),
        }
    }

    /// The directory as `--check` sees it: what it holds is read (and
    /// checked as by [`StateDir::open`]), but a CA, token or key that is
    /// missing is made in memory for the plan and never saved; a missing
    /// directory is not created.
    pub fn open_dry(path: impl Into<PathBuf>) -> Result<StateDir, Error> {
        let path = path.into();
        let mut state = match Self::open_existing(&path)? {
            Some(state) => state,
            None => StateDir { path, dry: true },
        };
        state.dry = true;
        Ok(state)
    }

    /// Whether this is [`StateDir::open_dry`]'s read-only view.
    pub fn is_dry(&self) -> bool {
        self.dry
    }

    /// Opens the directory if it exists; `None` when it does not.
    pub fn open_existing(path: impl Into<PathBuf>) -> Result<Option<StateDir>, Error> {
        let path = path.into();
        match fs::metadata(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
            Ok(_) => Self::checked(path).map(Some),
        }
    }

    fn checked(path: PathBuf) -> Result<StateDir, Error> {
        let meta = fs::metadata(&path).map_err(io_err(&path))?;
        if !meta.is_dir() {
            return Err(Error::NotADirectory(path));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::NotPrivate { path, mode });
        }
        Ok(StateDir { path, dry: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored CA; `None` before the first `create_ca`.
    pub fn ca(&self) -> Result<Option<Ca>, Error> {
        let cert = self.read(CA_CERT)?;
        let key = self.read(CA_KEY)?;
        match (cert, key) {
            (None, None) => Ok(None),
            (None, Some(_)) => Err(self.bad(
                CA_KEY,
                "present without ca.crt (an interrupted run?); if no cluster was built with this \
                 CA, delete ca.key; otherwise recover ca.crt from a control plane",
            )),
            (Some(cert), key) => pki::parse_ca(&cert, key.map(Secret::new))
                .map(Some)
                .map_err(|source| Error::BadCa {
                    file: self.file(CA_CERT),
                    source,
                }),
        }
    }

    /// Makes the cluster CA and stores it. Refuses when a CA (or part of one)
    /// is already here: replacing it would cut every node off the cluster.
    pub fn create_ca(&self, cluster_name: &str) -> Result<Ca, Error> {
        if self.file(CA_CERT).exists() || self.file(CA_KEY).exists() {
            return Err(self.ca_exists());
        }
        let ca = pki::new_ca(cluster_name)?;
        let key = ca.key_pem.as_ref().expect("a new CA has its key");
        // Key first: a crash between the two leaves a key without a
        // certificate, which `ca()` reports, never a certificate without its key.
        self.write_new(CA_KEY, key.expose().as_bytes())?;
        self.write_new(CA_CERT, ca.cert_pem.as_bytes())?;
        Ok(ca)
    }

    /// Stores a CA certificate fetched from a running control plane after the
    /// state was lost. Without the key kubestrap can still join nodes (the
    /// hash is all they need); a stored key must match the certificate.
    pub fn store_recovered_ca_cert(&self, pem: &str) -> Result<Ca, Error> {
        let key = self.read(CA_KEY)?.map(Secret::new);
        let ca = pki::parse_ca(pem, key).map_err(|source| Error::RecoveredCa {
            dir: self.path.clone(),
            source,
        })?;
        if let Some(existing) = self.read(CA_CERT)? {
            let existing = pki::parse_ca(&existing, None).map_err(|source| Error::BadCa {
                file: self.file(CA_CERT),
                source,
            })?;
            if existing.cert_pem == ca.cert_pem {
                return Ok(ca);
            }
            return Err(self.ca_exists());
        }
        self.write_new(CA_CERT, ca.cert_pem.as_bytes())?;
        Ok(ca)
    }

    /// The bootstrap token for this run and whether it is fresh (so not yet
    /// known to the cluster). A stored token is reused unless it expires
    /// within [`TOKEN_REUSE_MARGIN`] of `now` (unix seconds); a fresh one
    /// lives `ttl` and is saved at once.
    pub fn token(&self, now: i64, ttl: Duration) -> Result<(BootstrapToken, bool), Error> {
        if let Some(text) = self.read(TOKEN)? {
            match serde_json::from_str::<TokenFile>(&text)
                .map_err(|e| e.to_string())
                .and_then(|t| {
                    BootstrapToken::from_parts(t.id, Secret::new(t.secret), t.expires_at)
                        .map_err(|e| e.to_string())
                }) {
                Ok(t) if t.remaining(now) > TOKEN_REUSE_MARGIN => return Ok((t, false)),
                Ok(_) => {}
                // A token is cheap to replace; a damaged file must not stop a run.
                Err(e) => tracing::warn!("{}: {e}; making a new token", self.file(TOKEN).display()),
            }
        }
        let t = BootstrapToken::generate(now, ttl)?;
        let file = TokenFile {
            id: t.id.clone(),
            secret: t.secret().expose().to_string(),
            expires_at: t.expires_at,
        };
        self.write(TOKEN, &to_json(&file))?;
        Ok((t, true))
    }

    /// The `--certificate-key` for joining control planes, made and saved on
    /// first use, and when the certificates were last uploaded with it
    /// (unix seconds; kubeadm drops them [`token::UPLOADED_CERTS_TTL`] later).
    pub fn certificate_key(&self) -> Result<(Secret, Option<i64>), Error> {
        if let Some(text) = self.read(CERT_KEY)? {
            match serde_json::from_str::<CertKeyFile>(&text) {
                Ok(f) if token::is_certificate_key(&f.key) => {
                    return Ok((Secret::new(f.key), f.uploaded_at))
                }
                Ok(_) => tracing::warn!(
                    "{}: key is not 64 hex digits; making a new one",
                    self.file(CERT_KEY).display()
                ),
                Err(e) => {
                    tracing::warn!("{}: {e}; making a new key", self.file(CERT_KEY).display())
                }
            }
        }
        let key = token::certificate_key()?;
        self.save_certificate_key(&key, None)?;
        Ok((key, None))
    }

    /// Records that the control-plane certificates were uploaded (encrypted
    /// with the certificate key) at `now`.
    pub fn mark_certs_uploaded(&self, now: i64) -> Result<(), Error> {
        let (key, _) = self.certificate_key()?;
        self.save_certificate_key(&key, Some(now))
    }

    fn save_certificate_key(&self, key: &Secret, uploaded_at: Option<i64>) -> Result<(), Error> {
        let file = CertKeyFile {
            key: key.expose().to_string(),
            uploaded_at,
        };
        self.write(CERT_KEY, &to_json(&file))
    }

    /// Stores the admin kubeconfig (its server already the cluster endpoint;
    /// see [`kubeconfig_with_server`]).
    pub fn write_kubeconfig(&self, text: &str) -> Result<(), Error> {
        self.write(KUBECONFIG, text.as_bytes())
    }

    /// Records the SHA-256 (hex) of the admin.conf the stored kubeconfig was
    /// made from, so a later run can tell it is still current from facts.
    pub fn write_kubeconfig_source(&self, sha256: &str) -> Result<(), Error> {
        self.write(KUBECONFIG_SOURCE, format!("{sha256}\n").as_bytes())
    }

    /// The SHA-256 recorded by [`StateDir::write_kubeconfig_source`], when
    /// the stored kubeconfig is there too.
    pub fn kubeconfig_source(&self) -> Result<Option<String>, Error> {
        if self.read(KUBECONFIG)?.is_none() {
            return Ok(None);
        }
        Ok(self.read(KUBECONFIG_SOURCE)?.map(|s| s.trim().to_string()))
    }

    /// The stored admin kubeconfig, if a run has fetched one.
    pub fn kubeconfig(&self) -> Result<Option<Secret>, Error> {
        Ok(self.read(KUBECONFIG)?.map(Secret::new))
    }

    pub fn kubeconfig_path(&self) -> PathBuf {
        self.file(KUBECONFIG)
    }

    /// The files of a cluster that `kubestrap reset` tore down, moved into
    /// a new `reset-<UTC time>/` beside them (0700; each file keeps its
    /// 0600), so the next `apply` makes a new CA. Nothing is deleted; the
    /// directories in here (earlier backups) stay where they are. Returns
    /// the backup directory and the names moved (none: no directory made).
    pub fn move_aside(&self, now: i64) -> Result<(PathBuf, Vec<String>), Error> {
        let backup = self.path.join(backup_name(now));
        let names = self.files_to_move()?;
        if names.is_empty() || self.dry {
            return Ok((backup, names));
        }
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&backup)
            .map_err(io_err(&backup))?;
        fs::set_permissions(&backup, fs::Permissions::from_mode(0o700)).map_err(io_err(&backup))?;
        for name in &names {
            let from = self.file(name);
            fs::rename(&from, backup.join(name)).map_err(io_err(&from))?;
        }
        fs::File::open(&self.path)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&self.path))?;
        Ok((backup, names))
    }

    /// Every plain file here, sorted by name.
    fn files_to_move(&self) -> Result<Vec<String>, Error> {
        let entries = match fs::read_dir(&self.path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            other => other.map_err(io_err(&self.path))?,
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err(&self.path))?;
            let is_file = entry.file_type().is_ok_and(|t| !t.is_dir());
            if let (true, Ok(name)) = (is_file, entry.file_name().into_string()) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    fn read(&self, name: &str) -> Result<Option<String>, Error> {
        let path = self.file(name);
        match fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        if self.dry {
            return Ok(());
        }
        write_private_file(&self.file(name), bytes)
    }

    fn write_new(&self, name: &str, bytes: &[u8]) -> Result<(), Error> {
        if self.dry {
            return Ok(());
        }
        let path = self.file(name);
        write_atomic(&path, bytes, false).map_err(|e| {
            if e.kind() == io::ErrorKind::AlreadyExists {
                self.ca_exists()
            } else {
                io_err(&path)(e)
            }
        })
    }

    fn bad(&self, name: &str, problem: &str) -> Error {
        Error::BadFile {
            file: self.file(name),
            problem: problem.to_string(),
        }
    }

    fn ca_exists(&self) -> Error {
        Error::CaExists(self.path.clone())
    }
}

/// `reset-2026-12-07T15-40-12Z`: a backup's name, its UTC time (no colons,
/// so it is a plain name everywhere), sorting in time order.
pub fn backup_name(now: i64) -> String {
    let (y, m, d, rest) = crate::utc::civil(now);
    format!(
        "reset-{y:04}-{m:02}-{d:02}T{:02}-{:02}-{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// `kubeconfig` with every `server:` set to `server` (kubeadm's admin.conf
/// names the first control plane; the cluster endpoint survives losing it).
pub fn kubeconfig_with_server(kubeconfig: &str, server: &str) -> Result<String, NoServer> {
    let mut found = false;
    let mut out = String::with_capacity(kubeconfig.len());
    for line in kubeconfig.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        if line.trim_start().starts_with("server:") {
            found = true;
            let eol = &line[line.trim_end_matches(['\r', '\n']).len()..];
            out.push_str(&line[..indent]);
            out.push_str("server: ");
            out.push_str(server);
            out.push_str(eol);
        } else {
            out.push_str(line);
        }
    }
    if found {
        Ok(out)
    } else {
        Err(NoServer)
    }
}

/// A kubeconfig without a `server:` line to point at the endpoint.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the kubeconfig names no server")]
pub struct NoServer;

/// Writes `bytes` to `path` as a 0600 file, atomically: a temp file beside
/// it, fsync, rename, fsync of the directory.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic(path, bytes, true).map_err(io_err(path))
}

/// Like [`write_private_file`]; without `overwrite` an existing file is kept
/// and the call fails with `AlreadyExists` (a hard link cannot replace one).
fn write_atomic(path: &Path, bytes: &[u8], overwrite: bool) -> io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other("not a file name"))?;
    let tmp = dir.join(format!(
        ".{}.tmp.{}.{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(0o600))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        if overwrite {
            fs::rename(&tmp, path)?;
        } else {
            match fs::hard_link(&tmp, path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
                // No hard links on this filesystem: check, then rename.
                Err(_) if path.exists() => return Err(io::ErrorKind::AlreadyExists.into()),
                Err(_) => fs::rename(&tmp, path)?,
            }
            let _ = fs::remove_file(&tmp);
        }
        fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut text = serde_json::to_vec_pretty(value).expect("plain structs serialize");
    text.push(b'\n');
    text
}

fn io_err(path: &Path) -> impl Fn(io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;
    const HOUR: Duration = Duration::from_secs(3600);

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn state() -> (tempfile::TempDir, StateDir) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = StateDir::open(tmp.path().join(".kubestrap/lab")).unwrap();
        (tmp, dir)
    }

    #[test]
    fn default_path_sits_beside_the_inventory() {
        let p = |inv: &str, name| StateDir::default_path(Path::new(inv), name);
        assert_eq!(
            p("inv/hosts.ini", Some("lab")),
            Path::new("inv/.kubestrap/lab")
        );
        assert_eq!(p("hosts.ini", None), Path::new(".kubestrap/cluster"));
        assert_eq!(
            p("/x/i.yaml", Some("../a b")),
            Path::new("/x/.kubestrap/.._a_b")
        );
        assert_eq!(
            p("/x/i.yaml", Some("..")),
            Path::new("/x/.kubestrap/cluster")
        );
    }

    #[test]
    fn everything_is_private_and_nothing_is_left_behind() {
        let (_tmp, dir) = state();
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(dir.path().parent().unwrap()), 0o700);
        dir.create_ca("lab").unwrap();
        dir.token(NOW, HOUR).unwrap();
        dir.certificate_key().unwrap();
        dir.write_kubeconfig("apiVersion: v1\n").unwrap();
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "ca.crt",
                "ca.key",
                "certificate-key.json",
                "kubeconfig",
                "token.json"
            ]
        );
        for name in names {
            assert_eq!(mode(&dir.path().join(&name)), 0o600, "{name}");
        }
        assert_eq!(dir.kubeconfig_path(), dir.path().join("kubeconfig"));
        assert_eq!(
            dir.kubeconfig().unwrap().unwrap().expose(),
            "apiVersion: v1\n"
        );
    }

    #[test]
    fn refuses_a_directory_others_can_read() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("state");
        fs::create_dir(&path).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        let err = StateDir::open(&path).unwrap_err().to_string();
        assert!(err.contains("mode 0755"), "{err}");
        assert!(
            err.contains(&format!("chmod 700 {}", path.display())),
            "{err}"
        );
        assert!(StateDir::open_existing(&path).is_err());
        fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).unwrap();
        assert!(StateDir::open(&path).is_ok());
        assert!(StateDir::open_existing(tmp.path().join("none"))
            .unwrap()
            .is_none());
        assert!(!tmp.path().join("none").exists());
    }

    #[test]
    fn the_ca_is_never_overwritten_and_reloads_whole() {
        let (_tmp, dir) = state();
        assert_eq!(dir.ca().unwrap(), None);
        let ca = dir.create_ca("lab").unwrap();
        let before = fs::read(dir.path().join("ca.key")).unwrap();
        let err = dir.create_ca("lab").unwrap_err().to_string();
        assert!(err.contains("never replaces"), "{err}");
        assert_eq!(fs::read(dir.path().join("ca.key")).unwrap(), before);
        let reopened = StateDir::open(dir.path()).unwrap();
        assert_eq!(reopened.ca().unwrap(), Some(ca.clone()));
        // A different certificate cannot be slipped in as "recovered" either.
        let other = pki::new_ca("other").unwrap();
        assert!(dir.store_recovered_ca_cert(&other.cert_pem).is_err());
        assert_eq!(
            dir.store_recovered_ca_cert(&ca.cert_pem).unwrap().hash,
            ca.hash
        );
    }

    #[test]
    fn a_recovered_certificate_stands_in_without_its_key() {
        let (_tmp, dir) = state();
        let ca = pki::new_ca("lab").unwrap();
        let stored = dir.store_recovered_ca_cert(&ca.cert_pem).unwrap();
        assert_eq!((stored.key_pem.is_none(), &stored.hash), (true, &ca.hash));
        let loaded = dir.ca().unwrap().unwrap();
        assert_eq!((loaded.key_pem, loaded.hash), (None, ca.hash));
        assert!(dir.create_ca("lab").is_err());
    }

    #[test]
    fn a_lone_key_is_reported_and_completed_only_by_its_own_certificate() {
        let (_tmp, dir) = state();
        let ca = pki::new_ca("lab").unwrap();
        write_private_file(
            &dir.path().join("ca.key"),
            ca.key_pem.as_ref().unwrap().expose().as_bytes(),
        )
        .unwrap();
        let err = dir.ca().unwrap_err().to_string();
        assert!(err.contains("without ca.crt"), "{err}");
        let other = pki::new_ca("lab").unwrap();
        let err = dir
            .store_recovered_ca_cert(&other.cert_pem)
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not belong"), "{err}");
        dir.store_recovered_ca_cert(&ca.cert_pem).unwrap();
        assert_eq!(dir.ca().unwrap(), Some(ca));
    }

    #[test]
    fn token_is_reused_until_ten_minutes_before_expiry() {
        let (_tmp, dir) = state();
        let (first, fresh) = dir.token(NOW, HOUR).unwrap();
        assert!(fresh);
        assert_eq!(first.expires_at, NOW + 3600);
        let later = StateDir::open(dir.path()).unwrap();
        let (again, fresh) = later.token(NOW + 3000 - 1, HOUR).unwrap();
        assert!(!fresh);
        assert_eq!(again, first);
        let (renewed, fresh) = later.token(NOW + 3000, HOUR).unwrap();
        assert!(fresh);
        assert_ne!(renewed.token(), first.token());
        assert_eq!(renewed.expires_at, NOW + 3000 + 3600);
        assert_eq!(later.token(NOW + 3001, HOUR).unwrap(), (renewed, false));
        let text = fs::read_to_string(dir.path().join("token.json")).unwrap();
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json["expires_at"], NOW + 6600);
        assert_eq!(json["secret"].as_str().unwrap().len(), 16);
    }

    #[test]
    fn a_damaged_token_file_is_replaced() {
        let (_tmp, dir) = state();
        fs::write(dir.path().join("token.json"), "{").unwrap();
        let (_, fresh) = dir.token(NOW, HOUR).unwrap();
        assert!(fresh);
        assert!(!dir.token(NOW, HOUR).unwrap().1);
    }

    #[test]
    fn certificate_key_is_stable_and_remembers_its_upload() {
        let (_tmp, dir) = state();
        let (key, uploaded) = dir.certificate_key().unwrap();
        assert_eq!(uploaded, None);
        dir.mark_certs_uploaded(NOW).unwrap();
        let reopened = StateDir::open(dir.path()).unwrap();
        assert_eq!(reopened.certificate_key().unwrap(), (key, Some(NOW)));
    }

    #[test]
    fn private_files_replace_atomically_and_tighten_the_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("admin.conf");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_private_file(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
        assert!(
            write_atomic(&path, b"x", false).unwrap_err().kind() == io::ErrorKind::AlreadyExists
        );
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
    }

    #[test]
    fn kubeconfig_server_is_replaced() {
        let admin = "clusters:\r\n- cluster:\r\n    certificate-authority-data: AAAA\r\n    server: https://10.0.0.11:6443\r\n  name: kubernetes\r\n";
        let out = kubeconfig_with_server(admin, "https://k8s.lab:6443").unwrap();
        assert_eq!(
            out,
            admin.replace("https://10.0.0.11:6443", "https://k8s.lab:6443")
        );
        assert!(kubeconfig_with_server("apiVersion: v1\n", "https://x").is_err());
    }
    /// Every file under `dir` (not its directories) with its content, for
    /// before/after comparisons.
    fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if !p.is_dir() {
                out.push((p.clone(), fs::read(&p).unwrap()));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn reset_moves_every_file_aside_and_deletes_nothing() {
        let (_tmp, dir) = state();
        let ca = dir.create_ca("lab").unwrap();
        dir.token(NOW, HOUR).unwrap();
        dir.certificate_key().unwrap();
        dir.write_kubeconfig("apiVersion: v1\n").unwrap();
        dir.write_kubeconfig_source("abc").unwrap();
        let before = listing(dir.path());
        // An earlier backup stays where it is.
        fs::create_dir(dir.path().join("reset-2025-01-01T00-00-00Z")).unwrap();

        // --check: says what it would move, moves nothing.
        let dry = StateDir::open_dry(dir.path()).unwrap();
        let (would, names) = dry.move_aside(NOW).unwrap();
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(!would.exists());
        assert_eq!(listing(dir.path()), before);

        let (backup, moved) = dir.move_aside(NOW).unwrap();
        assert_eq!(backup, dir.path().join("reset-2025-06-15T15-06-40Z"));
        assert_eq!(
            moved,
            [
                "ca.crt",
                "ca.key",
                "certificate-key.json",
                "kubeconfig",
                "kubeconfig.source",
                "token.json"
            ]
        );
        assert_eq!(mode(&backup), 0o700);
        for name in &moved {
            assert_eq!(mode(&backup.join(name)), 0o600, "{name}");
        }
        let after: Vec<Vec<u8>> = listing(&backup).into_iter().map(|(_, c)| c).collect();
        let was: Vec<Vec<u8>> = before.into_iter().map(|(_, c)| c).collect();
        assert_eq!(after, was, "every file moved whole");
        assert!(dir.path().join("reset-2025-01-01T00-00-00Z").is_dir());
        // The next apply makes a new CA.
        assert_eq!(dir.ca().unwrap(), None);
        assert_ne!(dir.create_ca("lab").unwrap().hash, ca.hash);
        // Nothing left to move: no empty backup.
        let (_tmp, empty) = state();
        let (none, names) = empty.move_aside(NOW).unwrap();
        assert!(names.is_empty() && !none.exists());
    }

    #[test]
    fn check_mode_makes_secrets_in_memory_and_writes_nothing() {
        // No state directory yet: everything is made, nothing is created.
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".kubestrap/lab");
        let dry = StateDir::open_dry(&path).unwrap();
        assert!(dry.is_dry());
        let ca = dry.create_ca("lab").unwrap();
        assert!(ca.key_pem.is_some() && ca.hash.starts_with("sha256:"));
        assert!(dry.token(NOW, HOUR).unwrap().1, "a fresh token");
        assert_eq!(dry.certificate_key().unwrap().0.expose().len(), 64);
        dry.mark_certs_uploaded(NOW).unwrap();
        dry.write_kubeconfig("apiVersion: v1\n").unwrap();
        assert!(!tmp.path().join(".kubestrap").exists());
        assert!(dry.ca().unwrap().is_none(), "nothing was kept on disk");

        // A state directory from earlier runs is read, never changed, even
        // where a real run would replace a file (an expired token).
        let (_tmp, real) = state();
        let stored = real.create_ca("lab").unwrap();
        let (token, _) = real.token(NOW, HOUR).unwrap();
        real.certificate_key().unwrap();
        let before = listing(real.path());
        let dry = StateDir::open_dry(real.path()).unwrap();
        assert_eq!(dry.ca().unwrap().unwrap().hash, stored.hash);
        let (same, fresh) = dry.token(NOW, HOUR).unwrap();
        assert_eq!((same.id.as_str(), fresh), (token.id.as_str(), false));
        let (_, fresh) = dry.token(NOW + 2 * 3600, HOUR).unwrap();
        assert!(fresh, "an expired token is replaced in memory");
        dry.mark_certs_uploaded(NOW).unwrap();
        assert_eq!(listing(real.path()), before);

        // A directory others can read is refused under --check too.
        fs::set_permissions(real.path(), fs::Permissions::from_mode(0o755)).unwrap();
        assert!(StateDir::open_dry(real.path()).is_err());
    }
}
