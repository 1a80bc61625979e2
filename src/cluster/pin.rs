//! The discovery hash a joining node pins the cluster CA with.
//!
//! kubeadm's `--discovery-token-ca-cert-hash sha256:<hex>` is SHA-256 over
//! the CA certificate's DER SubjectPublicKeyInfo (kubernetes
//! `cmd/kubeadm/app/util/pubkeypin`), so it survives re-issuing the CA
//! certificate with the same key. It is the value kubeadm's documented
//! pipeline prints:
//!
//! ```text
//! openssl x509 -pubkey -in ca.crt | openssl rsa -pubin -outform der | openssl dgst -sha256
//! openssl x509 -pubkey -in ca.crt | openssl pkey -pubin -outform der | openssl dgst -sha256
//! ```
//! (the first for an RSA CA, the second for any key type).

use super::error::CertError;
use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

/// `sha256:<64 hex>` for a certificate given as PEM or DER.
///
/// PEM input may hold several blocks; the first `CERTIFICATE` block is the
/// one hashed, as `openssl x509` reads the first certificate of a bundle.
pub fn ca_cert_hash(cert: &[u8]) -> Result<String, CertError> {
    let der = certificate_der(cert)?;
    let cert = parse_certificate(&der)?;
    Ok(spki_hash(cert.tbs_certificate.subject_pki.raw))
}

/// The pin of a DER SubjectPublicKeyInfo.
pub(crate) fn spki_hash(spki_der: &[u8]) -> String {
    format!(
        "sha256:{}",
        data_encoding::HEXLOWER.encode(&Sha256::digest(spki_der))
    )
}

/// The DER of the first certificate in `input` (PEM or DER).
pub(crate) fn certificate_der(input: &[u8]) -> Result<Vec<u8>, CertError> {
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(CertError::Empty);
    }
    // A DER certificate is a SEQUENCE; PEM is text and cannot start with 0x30 ('0').
    if input[0] == 0x30 {
        return Ok(input.to_vec());
    }
    let mut labels = Vec::new();
    for block in Pem::iter_from_buffer(input) {
        let block = block.map_err(|e| CertError::Pem(e.to_string()))?;
        if block.label == "CERTIFICATE" {
            return Ok(block.contents);
        }
        labels.push(block.label);
    }
    if labels.is_empty() {
        Err(CertError::NeitherPemNorDer)
    } else {
        Err(CertError::NoCertificateBlock { found: labels })
    }
}

/// Parses one DER certificate, refusing trailing bytes.
pub(crate) fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, CertError> {
    let (rest, cert) =
        x509_parser::parse_x509_certificate(der).map_err(|e| CertError::X509(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CertError::TrailingBytes(rest.len()));
    }
    Ok(cert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::openssl;
    use std::path::Path;

    /// kubeadm's documented pipeline: `x509 -pubkey | <rsa|pkey> -pubin -outform der | dgst -sha256`.
    fn openssl_pin(dir: &Path, cert: &str, pubkey_cmd: &str) -> String {
        let pubkey = openssl(dir, &["x509", "-pubkey", "-noout", "-in", cert]);
        std::fs::write(dir.join("pub.pem"), pubkey).unwrap();
        openssl(
            dir,
            &[
                pubkey_cmd, "-pubin", "-in", "pub.pem", "-outform", "der", "-out", "pub.der",
            ],
        );
        let dgst = openssl(dir, &["dgst", "-sha256", "-r", "pub.der"]);
        let hex = String::from_utf8(dgst).unwrap();
        format!("sha256:{}", hex.split_whitespace().next().unwrap())
    }

    fn make_ca(dir: &Path, key_args: &[&str]) {
        let mut args = vec!["req", "-x509", "-nodes", "-newkey"];
        args.extend_from_slice(key_args);
        args.extend_from_slice(&[
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "3650",
            "-subj",
            "/CN=kubernetes",
        ]);
        openssl(dir, &args);
    }

    fn check_against_openssl(key_args: &[&str], pubkey_cmd: &str) {
        let dir = tempfile::tempdir().unwrap();
        make_ca(dir.path(), key_args);
        let expected = openssl_pin(dir.path(), "ca.crt", pubkey_cmd);
        let pem = std::fs::read(dir.path().join("ca.crt")).unwrap();
        assert_eq!(ca_cert_hash(&pem).unwrap(), expected);
        let der = openssl(dir.path(), &["x509", "-in", "ca.crt", "-outform", "der"]);
        assert_eq!(ca_cert_hash(&der).unwrap(), expected);
    }

    #[test]
    fn rsa_ca_matches_kubeadm_openssl_pipeline() {
        check_against_openssl(&["rsa:2048"], "rsa");
    }

    #[test]
    fn ecdsa_p256_ca_matches_kubeadm_openssl_pipeline() {
        check_against_openssl(&["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "pkey");
    }

    // Fixtures made once with
    //   openssl req -x509 -nodes -newkey rsa:2048 -keyout /dev/null -out rsa-ca.crt -days 3650 -subj /CN=kubernetes
    //   openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout /dev/null \
    //       -out ecdsa-ca.crt -days 3650 -subj /CN=kubernetes
    // and hashed with kubeadm's pipeline (see the module docs); rsa-ca.der is
    // `openssl x509 -in rsa-ca.crt -outform der`.
    const RSA_PIN: &str = "sha256:99a66bd28a5789844bd7eeaea15dc0248bd66c340c712ca03d6bf3fc66aadb2d";
    const ECDSA_PIN: &str =
        "sha256:6878032e5388a16b6add2ec981efdf1ca97f2fb78ab1d719413837852737bc15";

    #[test]
    fn fixtures_keep_their_pins() {
        let rsa = include_bytes!("fixtures/rsa-ca.crt");
        let rsa_der = include_bytes!("fixtures/rsa-ca.der");
        let ecdsa = include_bytes!("fixtures/ecdsa-ca.crt");
        assert_eq!(ca_cert_hash(rsa).unwrap(), RSA_PIN);
        assert_eq!(ca_cert_hash(rsa_der).unwrap(), RSA_PIN);
        assert_eq!(ca_cert_hash(ecdsa).unwrap(), ECDSA_PIN);
    }

    #[test]
    fn pem_with_other_blocks_and_crlf_hashes_the_first_certificate() {
        let ecdsa = std::str::from_utf8(include_bytes!("fixtures/ecdsa-ca.crt")).unwrap();
        let rsa = std::str::from_utf8(include_bytes!("fixtures/rsa-ca.crt")).unwrap();
        let key = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let bundle = format!("# comment\n{key}{ecdsa}{rsa}").replace('\n', "\r\n");
        assert_eq!(ca_cert_hash(bundle.as_bytes()).unwrap(), ECDSA_PIN);
    }

    #[test]
    fn errors_name_what_is_wrong() {
        assert_eq!(ca_cert_hash(b" \n").unwrap_err(), CertError::Empty);
        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            ca_cert_hash(key).unwrap_err(),
            CertError::NoCertificateBlock {
                found: vec!["PRIVATE KEY".into()]
            }
        );
        let err = |input: &[u8]| ca_cert_hash(input).unwrap_err().to_string();
        assert!(err(b"").contains("empty input"), "{}", err(b""));
        assert!(err(b"hello world\n").contains("neither PEM"));
        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert_eq!(
            err(key),
            "no CERTIFICATE block in the PEM input (found: PRIVATE KEY)"
        );
        let truncated = b"-----BEGIN CERTIFICATE-----\nMIIB\n";
        assert!(
            err(truncated).starts_with("not valid PEM"),
            "{}",
            err(truncated)
        );
        let not_x509 = b"-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n";
        assert!(err(not_x509).starts_with("not a valid X.509 certificate"));
        let mut der = include_bytes!("fixtures/rsa-ca.der").to_vec();
        der.push(0);
        assert!(err(&der).contains("1 bytes after its end"), "{}", err(&der));
        assert!(err(&der[..100]).starts_with("not a valid X.509 certificate"));
    }
}
