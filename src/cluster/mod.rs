//! What kubestrap decides about the cluster as a whole, on the operator's machine.
//!
//! Values every host must agree on (subnet defaults) and the checks run over
//! all hosts before anything on them changes.

pub mod backup;
pub mod defaults;
pub mod error;
pub mod expiration;
pub mod pin;
pub mod pki;
pub mod preflight;
pub mod state;
pub mod token;
pub mod upgrade;
pub mod versions;

pub(crate) use crate::inventory::net;

/// Run `openssl ARGS` in `dir` and return its stdout: the reference the
/// CA-hash and CA-parsing tests are checked against.
#[cfg(test)]
pub(crate) fn openssl(dir: &std::path::Path, args: &[&str]) -> Vec<u8> {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed to run these tests");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
