//! `kubestrap ca-hash`: the discovery hash of a CA certificate, as `kubeadm join` pins it.

use std::path::Path;

use crate::cluster::pin::ca_cert_hash;
use crate::{Error, ExitCode};

/// Prints the discovery hash of the CA certificate in `file` (PEM or DER).
pub fn ca_hash(file: &Path) -> Result<ExitCode, Error> {
    let bytes = std::fs::read(file).map_err(|source| Error::Unreadable {
        path: file.to_path_buf(),
        source,
    })?;
    let hash = ca_cert_hash(&bytes).map_err(|source| Error::Certificate {
        path: file.to_path_buf(),
        source,
    })?;
    crate::report::say(crate::report::Event::Line(hash));
    Ok(ExitCode::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

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
