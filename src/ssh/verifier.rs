//! Host-key verification: the russh handler that checks the server's key against known_hosts.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use russh::keys::{HashAlg, PublicKey};

use super::known_hosts::{self, Verdict};
use super::SshError;

/// Serialises appends to known_hosts from concurrent connections in this process.
static KNOWN_HOSTS_WRITE: Mutex<()> = Mutex::new(());

/// The russh client handler: it only verifies the host key, strictly.
///
/// russh reports a refused key as a bare error, so the reason is left in
/// `problem` for the caller to turn into a message that names the host.
pub struct Verifier {
    pub host: String,
    pub known_hosts_name: String,
    pub port: u16,
    pub hostname: String,
    pub files: Vec<PathBuf>,
    pub accept_new: bool,
    pub problem: Arc<Mutex<Option<SshError>>>,
}

impl Verifier {
    fn verify(&self, key: &PublicKey) -> Result<bool, SshError> {
        let openssh = key
            .to_openssh()
            .map_err(|e| self.io_problem(format!("cannot encode host key: {e}")))?;
        let mut parts = openssh.split_whitespace();
        let (key_type, b64) = match (parts.next(), parts.next()) {
            (Some(t), Some(b)) => (t.to_string(), b.to_string()),
            _ => return Err(self.io_problem("host key has no OpenSSH encoding".into())),
        };
        let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
        let verdict = known_hosts::check(&self.files, &self.hostname, self.port, &key_type, &b64)
            .map_err(|e| self.io_problem(format!("cannot read known_hosts: {e}")))?;
        match verdict {
            Verdict::Known => Ok(true),
            Verdict::Unknown if self.accept_new => {
                let file = self.files.first().cloned().ok_or_else(|| {
                    self.io_problem(
                        "no known_hosts file to store the new key in (is $HOME set?)".into(),
                    )
                })?;
                let _guard = KNOWN_HOSTS_WRITE.lock().unwrap_or_else(|p| p.into_inner());
                known_hosts::append(&file, &self.hostname, self.port, &key_type, &b64).map_err(
                    |e| self.io_problem(format!("cannot add host key to {}: {e}", file.display())),
                )?;
                tracing::warn!(
                    "{}: added new host key {key_type} {fingerprint} for {} to {}",
                    self.host,
                    self.known_hosts_name,
                    file.display()
                );
                Ok(true)
            }
            Verdict::Unknown => Err(SshError::HostKeyUnknown {
                host: self.host.clone(),
                key_type,
                fingerprint,
                known_hosts: self
                    .files
                    .first()
                    .map(|f| f.display().to_string())
                    .unwrap_or_else(|| "known_hosts".into()),
            }),
            Verdict::OtherTypesKnown { types } => Err(SshError::HostKeyOtherType {
                host: self.host.clone(),
                key_type,
                fingerprint,
                known: types.join(", "),
            }),
            Verdict::Changed { file, line } => Err(SshError::HostKeyChanged {
                host: self.host.clone(),
                key_type,
                fingerprint,
                file,
                line,
            }),
            Verdict::Revoked { file, line } => Err(SshError::HostKeyRevoked {
                host: self.host.clone(),
                key_type,
                fingerprint,
                file,
                line,
            }),
        }
    }

    fn io_problem(&self, reason: String) -> SshError {
        SshError::Connect {
            host: self.host.clone(),
            addr: self.known_hosts_name.clone(),
            reason,
        }
    }
}

impl russh::client::Handler for Verifier {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match server_public_key {
            russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } => key,
            // We never advertise certificate algorithms, so a certificate here is unexpected.
            russh::keys::PublicKeyOrCertificate::Certificate(_) => return Ok(false),
        };
        match self.verify(key) {
            Ok(accepted) => Ok(accepted),
            Err(problem) => {
                *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = Some(problem);
                Ok(false)
            }
        }
    }
}
