//! Copying a file from a control plane to the operator's machine as a stream: written 0600 as it arrives, its SHA-256 computed on the way, no size limit and no copy in memory.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::engine::Runner;
use crate::phases::certs::step::StepError;
use crate::ssh::shell_quote;

/// What arrived: its SHA-256 (hex) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub sha256: String,
    pub size: u64,
}

/// Copy `remote` (read as root) from `host` into the new file `local`
/// (0600). The file's bytes travel on the command's stdout, never on a
/// command line, and are never logged.
pub async fn fetch(
    runner: &Runner,
    host: &str,
    step: &'static str,
    remote: &str,
    local: &Path,
) -> Result<Copied, StepError> {
    let local_err = |source| StepError::Local {
        host: host.to_string(),
        step,
        path: local.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(local)
        .map_err(local_err)?;
    let mut hash = Sha256::new();
    let mut size = 0u64;
    let mut failed: Option<std::io::Error> = None;
    let command = format!("cat -- {}", shell_quote(remote));
    let mut sink = |data: &[u8]| {
        if failed.is_none() {
            hash.update(data);
            size += data.len() as u64;
            if let Err(e) = file.write_all(data) {
                failed = Some(e);
            }
        }
    };
    let out = runner
        .run_streaming(host, &command, &mut sink)
        .await
        .map_err(|source| StepError::Ssh {
            host: host.to_string(),
            step,
            source,
        })?;
    if let Some(e) = failed {
        return Err(local_err(e));
    }
    if !out.success() {
        return Err(StepError::Failed {
            host: host.to_string(),
            step,
            command,
            rc: out.rc(),
            said: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    file.sync_all().map_err(local_err)?;
    Ok(Copied {
        sha256: crate::cluster::backup::hex(&hash.finalize()),
        size,
    })
}
