//! `kubestrap ca-hash` and `kubestrap kubeconfig`: read-only views of the
//! values kubestrap keeps for a cluster.

use std::path::{Path, PathBuf};

use super::pin::ca_cert_hash;
use super::state::{write_private_file, StateDir};
use crate::{inventory, Error, ExitCode};

/// Prints the discovery hash of the CA certificate in `file` (PEM or DER).
pub fn ca_hash(file: &Path) -> Result<ExitCode, Error> {
    let bytes =
        std::fs::read(file).map_err(|e| Error::BadInput(format!("{}: {e}", file.display())))?;
    let hash =
        ca_cert_hash(&bytes).map_err(|e| Error::BadInput(format!("{}: {e}", file.display())))?;
    crate::outln!("{hash}");
    Ok(ExitCode::Ok)
}

/// What `kubestrap kubeconfig` was asked for.
#[derive(Debug)]
pub struct KubeconfigRequest {
    pub inventory: PathBuf,
    pub output: Option<PathBuf>,
    pub state_dir: Option<PathBuf>,
}

/// Prints the stored admin kubeconfig, or writes it 0600 to `output`.
pub fn kubeconfig(req: KubeconfigRequest) -> Result<ExitCode, Error> {
    let state_path = match req.state_dir {
        Some(dir) => dir,
        None => {
            let inv = inventory::load(&req.inventory).map_err(Error::Inventory)?;
            StateDir::default_path(&req.inventory, inv.cluster.name.as_deref())
        }
    };
    let run_apply = || {
        format!(
            "run `kubestrap apply -i {}` first: it stores the admin kubeconfig once the control \
             plane is up",
            req.inventory.display()
        )
    };
    let Some(state) = StateDir::open_existing(&state_path)? else {
        return Err(Error::BadInput(format!(
            "no state directory at {}; {}",
            state_path.display(),
            run_apply()
        )));
    };
    let Some(text) = state.kubeconfig()? else {
        return Err(Error::BadInput(format!(
            "{} has no admin kubeconfig; {}",
            state_path.display(),
            run_apply()
        )));
    };
    match req.output {
        Some(path) => {
            write_private_file(&path, text.expose().as_bytes())?;
            crate::errln!("{}: admin kubeconfig written (mode 0600)", path.display());
        }
        None => crate::out!("{}", text.expose()),
    }
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn request(state: &Path, output: Option<PathBuf>) -> KubeconfigRequest {
        KubeconfigRequest {
            inventory: PathBuf::from("inventory.yaml"),
            output,
            state_dir: Some(state.to_path_buf()),
        }
    }

    #[test]
    fn kubeconfig_without_state_says_to_apply_first() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("none");
        let err = kubeconfig(request(&missing, None)).unwrap_err();
        assert_eq!(err.exit_code(), ExitCode::BadInput);
        assert!(
            err.to_string()
                .contains("run `kubestrap apply -i inventory.yaml` first"),
            "{err}"
        );
        assert!(!missing.exists());

        let empty = StateDir::open(tmp.path().join("empty")).unwrap();
        let err = kubeconfig(request(empty.path(), None))
            .unwrap_err()
            .to_string();
        assert!(err.contains("has no admin kubeconfig"), "{err}");
    }

    #[test]
    fn kubeconfig_is_written_private() {
        let tmp = tempfile::tempdir().unwrap();
        let state = StateDir::open(tmp.path().join("s")).unwrap();
        state.write_kubeconfig("apiVersion: v1\n").unwrap();
        let out = tmp.path().join("admin.conf");
        assert_eq!(
            kubeconfig(request(state.path(), Some(out.clone()))).unwrap(),
            ExitCode::Ok
        );
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "apiVersion: v1\n");
        assert_eq!(
            std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn ca_hash_reports_bad_input() {
        let tmp = tempfile::tempdir().unwrap();
        let err = ca_hash(&tmp.path().join("nope.crt")).unwrap_err();
        assert_eq!(err.exit_code(), ExitCode::BadInput);
        let file = tmp.path().join("key.pem");
        std::fs::write(
            &file,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = ca_hash(&file).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: no CERTIFICATE block in the PEM input (found: PRIVATE KEY)",
                file.display()
            )
        );
    }
}
