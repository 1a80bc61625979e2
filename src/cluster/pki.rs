//! The cluster CA, made on the operator's machine before `kubeadm init`.
//!
//! kubeadm uses a CA it finds at /etc/kubernetes/pki/ca.{crt,key} instead of
//! making its own, so making it here fixes the discovery hash before any
//! host is touched.

use super::error::{CaError, MakeCaError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};

use super::pin::{certificate_der, parse_certificate, spki_hash};
use crate::secret::Secret;

/// kubeadm's CA lifetime: 10 years.
pub const CA_VALIDITY: Duration = Duration::from_secs(3650 * 24 * 3600);

/// How far `notBefore` lies in the past, so a host whose clock is a little
/// behind the operator's still accepts the CA (kubeadm backdates too).
const BACKDATE: Duration = Duration::from_secs(5 * 60);

/// A cluster CA: its certificate, its key when kubestrap holds it, and the
/// discovery hash joins pin it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ca {
    /// One `CERTIFICATE` PEM block, `\n` line endings.
    pub cert_pem: String,
    /// PKCS#8 (or the PKCS#1/SEC1 PEM it was given as); `None` when the
    /// certificate was recovered from a running control plane.
    pub key_pem: Option<Secret>,
    /// `sha256:<hex>` of the certificate's SubjectPublicKeyInfo.
    pub hash: String,
}

/// A new cluster CA, shaped as kubeadm makes one: subject `CN=kubernetes`,
/// `CA:TRUE`, key usage keyCertSign, cRLSign, digitalSignature and
/// keyEncipherment, valid 10 years.
///
/// The key is ECDSA P-256, not kubeadm's default RSA-2048: rcgen on ring
/// cannot generate RSA keys. kubeadm accepts an ECDSA CA given to it as an
/// external CA (its `encryptionAlgorithm: ECDSA-P256` makes the same kind),
/// and signs the cluster's certificates with it.
///
/// `cluster_name` only labels errors: kubeadm's CA subject carries no name.
pub fn new_ca(cluster_name: &str) -> Result<Ca, CaError> {
    make_ca(SystemTime::now()).map_err(|why| CaError::Make {
        cluster: cluster_name.to_string(),
        why,
    })
}

fn make_ca(now: SystemTime) -> Result<Ca, MakeCaError> {
    let since_epoch = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| MakeCaError::ClockBefore1970)?;
    let epoch = rcgen::date_time_ymd(1970, 1, 1);

    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "kubernetes");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
    ];
    params.not_before = epoch + since_epoch.saturating_sub(BACKDATE);
    params.not_after = epoch + since_epoch + CA_VALIDITY;
    params.serial_number = Some(random_serial()?);

    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let cert = params.self_signed(&key)?;
    parse_ca(&cert.pem(), Some(Secret::new(key.serialize_pem())))
        .map_err(|e| MakeCaError::Unreadable(Box::new(e)))
}

/// A positive 127-bit serial: unique per CA, as RFC 5280 asks.
fn random_serial() -> Result<SerialNumber, MakeCaError> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| MakeCaError::Random)?;
    bytes[0] &= 0x7f;
    Ok(SerialNumber::from_slice(&bytes))
}

/// Reads a CA from PEM: the certificate must be a CA; a key, when given, must
/// be unencrypted (PKCS#8, PKCS#1 RSA or SEC1 EC PEM) and belong to it.
pub fn parse_ca(cert_pem: &str, key_pem: Option<Secret>) -> Result<Ca, CaError> {
    let der = certificate_der(cert_pem.as_bytes())?;
    let cert = parse_certificate(&der)?;
    match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => {}
        _ => return Err(CaError::NotACa),
    }
    let spki = &cert.tbs_certificate.subject_pki;
    if let Some(key) = &key_pem {
        let public = private_key_public(key.expose(), spki.raw)?;
        if public != *spki.subject_public_key.data {
            return Err(CaError::KeyMismatch);
        }
    }
    Ok(Ca {
        cert_pem: certificate_pem(&der),
        key_pem,
        hash: spki_hash(spki.raw),
    })
}

fn certificate_pem(der: &[u8]) -> String {
    let b64 = data_encoding::BASE64.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

/// The public key (as the certificate's subjectPublicKey bit string holds it)
/// of the first private key in `pem`. `cert_spki` supplies the curve for a
/// SEC1 key, whose PEM need not name it.
fn private_key_public(pem: &str, cert_spki: &[u8]) -> Result<Vec<u8>, CaError> {
    let rng = SystemRandom::new();
    let mut labels = Vec::new();
    for block in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()) {
        let block = block.map_err(|e| CaError::KeyPem(e.to_string()))?;
        let unreadable = |e: ring::error::KeyRejected| CaError::KeyUnreadable {
            label: block.label.clone(),
            why: e.to_string(),
        };
        match block.label.as_str() {
            "PRIVATE KEY" => return pkcs8_public(&block.contents, &rng).map_err(unreadable),
            "RSA PRIVATE KEY" => {
                let key = RsaKeyPair::from_der(&block.contents).map_err(unreadable)?;
                return Ok(key.public_key().as_ref().to_vec());
            }
            "EC PRIVATE KEY" => {
                let alg_id = der_first_element(cert_spki).ok_or(CaError::MalformedSpki)?;
                let pkcs8 = der(
                    0x30,
                    &[&der(0x02, &[0])[..], alg_id, &der(0x04, &block.contents)].concat(),
                );
                return pkcs8_public(&pkcs8, &rng).map_err(unreadable);
            }
            "ENCRYPTED PRIVATE KEY" => return Err(CaError::KeyEncrypted),
            other => labels.push(other.to_string()),
        }
    }
    Err(CaError::NoKey { found: labels })
}

fn pkcs8_public(pkcs8: &[u8], rng: &SystemRandom) -> Result<Vec<u8>, ring::error::KeyRejected> {
    let ec =
        |alg| EcdsaKeyPair::from_pkcs8(alg, pkcs8, rng).map(|k| k.public_key().as_ref().to_vec());
    ec(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)
        .or_else(|_| ec(&signature::ECDSA_P384_SHA384_ASN1_SIGNING))
        .or_else(|_| RsaKeyPair::from_pkcs8(pkcs8).map(|k| k.public_key().as_ref().to_vec()))
}

/// The whole first element inside the DER SEQUENCE `seq` (an SPKI's AlgorithmIdentifier).
fn der_first_element(seq: &[u8]) -> Option<&[u8]> {
    let (content, _) = der_split(seq)?;
    let (_, rest) = der_split(content)?;
    Some(&content[..content.len() - rest.len()])
}

/// Splits one DER TLV off `input`: (its content, what follows it).
fn der_split(input: &[u8]) -> Option<(&[u8], &[u8])> {
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | usize::from(*input.get(2 + i)?);
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    (end <= input.len()).then(|| (&input[header..end], &input[end..]))
}

/// One DER TLV.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::error::CertError;
    use std::path::Path;

    /// [`crate::cluster::openssl`]'s output as text (all these commands print PEM or text).
    fn openssl(dir: &Path, args: &[&str]) -> String {
        String::from_utf8(crate::cluster::openssl(dir, args)).unwrap()
    }

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap()
    }

    #[test]
    fn new_ca_is_shaped_as_kubeadm_makes_one() {
        let now = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
        let ca = make_ca(now).unwrap();
        let der = certificate_der(ca.cert_pem.as_bytes()).unwrap();
        let cert = parse_certificate(&der).unwrap();
        assert_eq!(cert.subject().to_string(), "CN=kubernetes");
        assert_eq!(cert.issuer().to_string(), "CN=kubernetes");
        assert!(cert.is_ca());
        let ku = cert.key_usage().unwrap().unwrap().value;
        assert!(
            ku.key_cert_sign() && ku.crl_sign() && ku.digital_signature() && ku.key_encipherment()
        );
        let validity = cert.validity();
        assert_eq!(validity.not_before.timestamp(), 1_750_000_000 - 300);
        assert_eq!(validity.not_after.timestamp(), 1_750_000_000 + 3650 * 86400);
        assert_eq!(
            ca.hash,
            super::super::pin::ca_cert_hash(ca.cert_pem.as_bytes()).unwrap()
        );
        assert!(ca
            .key_pem
            .as_ref()
            .unwrap()
            .expose()
            .starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_ne!(
            make_ca(now).unwrap().hash,
            ca.hash,
            "each CA has its own key"
        );
    }

    #[test]
    fn openssl_accepts_the_new_ca_and_agrees_on_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let ca = new_ca("lab").unwrap();
        std::fs::write(dir.path().join("ca.crt"), &ca.cert_pem).unwrap();
        std::fs::write(dir.path().join("ca.key"), ca.key_pem.unwrap().expose()).unwrap();
        let verify = openssl(dir.path(), &["verify", "-CAfile", "ca.crt", "ca.crt"]);
        assert_eq!(verify.trim(), "ca.crt: OK");
        let text = openssl(dir.path(), &["x509", "-in", "ca.crt", "-noout", "-text"]);
        assert!(text.contains("CA:TRUE"), "{text}");
        assert!(text.contains("prime256v1"), "{text}");
        // The key openssl reads from ca.key is the certificate's.
        let from_key = openssl(dir.path(), &["pkey", "-in", "ca.key", "-pubout"]);
        let from_cert = openssl(dir.path(), &["x509", "-in", "ca.crt", "-noout", "-pubkey"]);
        assert_eq!(from_key, from_cert);
    }

    /// Keys in the formats kubeadm and openssl write, each with its own CA.
    fn openssl_ca(dir: &Path, genkey: &[&str]) -> (String, String) {
        openssl(dir, genkey);
        openssl(
            dir,
            &[
                "req",
                "-x509",
                "-key",
                "k.pem",
                "-out",
                "c.pem",
                "-days",
                "1",
                "-subj",
                "/CN=kubernetes",
            ],
        );
        (read(dir, "c.pem"), read(dir, "k.pem"))
    }

    #[test]
    fn parse_ca_reads_pkcs8_pkcs1_and_sec1_keys() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let cases: [&[&str]; 4] = [
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "k.pem",
            ],
            &["genrsa", "-traditional", "-out", "k.pem", "2048"],
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "k.pem",
            ],
            &["ecparam", "-name", "secp384r1", "-genkey", "-out", "k.pem"],
        ];
        let mut others = Vec::new();
        for genkey in cases {
            let (cert, key) = openssl_ca(d, genkey);
            let ca = parse_ca(&cert, Some(Secret::new(key.clone())))
                .unwrap_or_else(|e| panic!("{genkey:?}: {e}"));
            assert_eq!(
                ca.hash,
                super::super::pin::ca_cert_hash(cert.as_bytes()).unwrap()
            );
            assert_eq!(ca.cert_pem, cert.replace("\r\n", "\n"));
            others.push((cert, key));
        }
        // Every key is refused with every other CA.
        for (i, (cert, _)) in others.iter().enumerate() {
            let (_, key) = &others[(i + 1) % others.len()];
            let err = parse_ca(cert, Some(Secret::new(key.clone()))).unwrap_err();
            assert!(
                matches!(err, CaError::KeyMismatch | CaError::KeyUnreadable { .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn parse_ca_refuses_what_kubeadm_would() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "k.pem",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-key",
                "k.pem",
                "-out",
                "leaf.pem",
                "-days",
                "1",
                "-subj",
                "/CN=leaf",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
            ],
        );
        let leaf = read(d, "leaf.pem");
        assert_eq!(
            parse_ca(&leaf, None).unwrap_err().to_string(),
            "CA certificate: not a CA (no basicConstraints CA:TRUE)"
        );

        let ca = new_ca("lab").unwrap();
        let no_key = parse_ca(&ca.cert_pem, None).unwrap();
        assert_eq!((no_key.key_pem, &no_key.hash), (None, &ca.hash));

        openssl(
            d,
            &[
                "pkcs8", "-topk8", "-in", "k.pem", "-out", "enc.pem", "-passout", "pass:x",
            ],
        );
        let enc = Secret::new(read(d, "enc.pem"));
        assert_eq!(
            parse_ca(&ca.cert_pem, Some(enc)).unwrap_err().to_string(),
            "CA key: encrypted; kubeadm needs it unencrypted"
        );
        let err = parse_ca(&ca.cert_pem, Some(Secret::new(ca.cert_pem.clone()))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "CA key: no private key PEM block (found: CERTIFICATE)"
        );
        assert_eq!(
            parse_ca("garbage", None).unwrap_err(),
            CaError::Certificate(CertError::NeitherPemNorDer)
        );
        assert!(parse_ca("garbage", None)
            .unwrap_err()
            .to_string()
            .starts_with("CA certificate: not a certificate"));
    }

    #[test]
    fn debug_never_shows_the_key() {
        let ca = new_ca("lab").unwrap();
        let key = ca.key_pem.clone().unwrap();
        let body = key.expose().lines().nth(1).unwrap().to_string();
        assert!(!format!("{ca:?}").contains(&body));
    }
}
