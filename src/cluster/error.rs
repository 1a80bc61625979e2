//! What can go wrong with the cluster's certificates, keys, tokens and state directory, each with what it was about.

use std::path::PathBuf;

/// A certificate that cannot be read (`ca-hash`, the stored CA, a recovered one).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertError {
    #[error("empty input: expected a certificate in PEM or DER")]
    Empty,
    #[error("not valid PEM: {0}")]
    Pem(String),
    #[error("not a certificate: neither PEM (no -----BEGIN line) nor DER")]
    NeitherPemNorDer,
    #[error("no CERTIFICATE block in the PEM input (found: {})", .found.join(", "))]
    NoCertificateBlock { found: Vec<String> },
    #[error("not a valid X.509 certificate: {0}")]
    X509(String),
    #[error("not a valid X.509 certificate: {0} bytes after its end")]
    TrailingBytes(usize),
}

/// A cluster CA that cannot be made, read or trusted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CaError {
    #[error("cluster {cluster}: cannot make a CA: {why}")]
    Make {
        cluster: String,
        #[source]
        why: MakeCaError,
    },
    #[error("CA certificate: {0}")]
    Certificate(#[from] CertError),
    #[error("CA certificate: not a CA (no basicConstraints CA:TRUE)")]
    NotACa,
    #[error("CA certificate: malformed SubjectPublicKeyInfo")]
    MalformedSpki,
    #[error("the CA key does not belong to the CA certificate")]
    KeyMismatch,
    #[error("CA key: not valid PEM: {0}")]
    KeyPem(String),
    #[error("CA key: unreadable {label}: {why}")]
    KeyUnreadable { label: String, why: String },
    #[error("CA key: encrypted; kubeadm needs it unencrypted")]
    KeyEncrypted,
    #[error("CA key: no private key PEM block (found: {})", if .found.is_empty() { "nothing".to_string() } else { .found.join(", ") })]
    NoKey { found: Vec<String> },
}

/// Why a new CA could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MakeCaError {
    #[error("the system clock is before 1970")]
    ClockBefore1970,
    #[error("the operating system's random number generator failed")]
    Random,
    /// rcgen could not make the key or sign the certificate.
    #[error("{0}")]
    Rcgen(#[from] rcgen::Error),
    /// What rcgen made does not read back as a CA.
    #[error("{0}")]
    Unreadable(#[source] Box<CaError>),
}

/// A bootstrap token or certificate key that cannot be made or read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("token TTL too large")]
    TtlTooLarge,
    #[error("token id {0:?} is not [a-z0-9]{{6}}")]
    BadId(String),
    #[error("token secret is not [a-z0-9]{{16}}")]
    BadSecret,
    #[error("the operating system's random number generator failed")]
    Random,
}

/// The local state directory cannot be used as it is.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state directory {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    #[error(
        "state directory {p} is accessible by group or others (mode {mode:04o}) and holds \
         the cluster CA key; make it private with: chmod 700 {p}",
        p = .path.display()
    )]
    NotPrivate { path: PathBuf, mode: u32 },
    /// A file in it holds what kubestrap cannot use; `problem` says what to do.
    #[error("{}: {problem}", .file.display())]
    BadFile { file: PathBuf, problem: String },
    #[error("{}: {source}", .file.display())]
    BadCa { file: PathBuf, source: CaError },
    #[error("recovered CA certificate for {}: {source}", .dir.display())]
    RecoveredCa { dir: PathBuf, source: CaError },
    #[error(
        "{} already holds a cluster CA; kubestrap never replaces one (every node trusts it). \
         To build a new cluster, use another state directory or move this one away",
        .0.display()
    )]
    CaExists(PathBuf),
    #[error(transparent)]
    NewCa(#[from] CaError),
    #[error(transparent)]
    NewSecret(#[from] TokenError),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
