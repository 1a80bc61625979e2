//! `kubestrap kubeconfig`: the admin kubeconfig `apply` keeps in the cluster's state directory.

use std::path::PathBuf;

use crate::cluster::state::{write_private_file, StateDir};
use crate::report::Event;
use crate::{inventory, Error, ExitCode};

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
    let not_yet = |what: String| Error::NotAppliedYet {
        what,
        inventory: req.inventory.clone(),
    };
    let Some(state) = StateDir::open_existing(&state_path)? else {
        return Err(not_yet(format!(
            "no state directory at {}",
            state_path.display()
        )));
    };
    let Some(text) = state.kubeconfig()? else {
        return Err(not_yet(format!(
            "{} has no admin kubeconfig",
            state_path.display()
        )));
    };
    match req.output {
        Some(path) => {
            write_private_file(&path, text.expose().as_bytes())?;
            crate::report::say(Event::Notice(format!(
                "{}: admin kubeconfig written (mode 0600)",
                path.display()
            )));
        }
        None => crate::report::say(Event::Document(text.expose().to_string())),
    }
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

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
}
