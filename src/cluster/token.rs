//! The bootstrap token nodes join with, and the key `--upload-certs` encrypts
//! the control-plane certificates with.
//!
//! Both are made here, before `kubeadm init`, so every join command is known
//! in advance and a re-run can join new nodes with the same values.

use super::error::TokenError;
use std::time::Duration;

use ring::rand::{SecureRandom, SystemRandom};

use crate::secret::Secret;

/// How long a token made by kubestrap lives: one run, with room to spare.
/// (kubeadm's own default is 24 h; a token is a join credential, so kubestrap
/// keeps it short and makes a fresh one when a run needs it.)
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// kubeadm deletes the certificates `--upload-certs` stored after 2 h.
pub const UPLOADED_CERTS_TTL: Duration = Duration::from_secs(2 * 3600);

/// kubeadm's token alphabet (k8s.io/cluster-bootstrap/token/util).
const TOKEN_CHARS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A kubeadm bootstrap token `[a-z0-9]{6}.[a-z0-9]{16}`; the id is public
/// (it names the Secret `bootstrap-token-<id>`), the secret part is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootstrapToken {
    pub id: String,
    secret: Secret,
    /// Unix seconds.
    pub expires_at: i64,
}

impl BootstrapToken {
    /// A fresh token from the OS CSPRNG, expiring `ttl` after `now` (unix seconds).
    pub fn generate(now: i64, ttl: Duration) -> Result<Self, TokenError> {
        let ttl = i64::try_from(ttl.as_secs()).map_err(|_| TokenError::TtlTooLarge)?;
        Ok(BootstrapToken {
            id: random_chars(6)?,
            secret: Secret::new(random_chars(16)?),
            expires_at: now.saturating_add(ttl),
        })
    }

    /// A token read back from storage, checked to have kubeadm's shape.
    pub fn from_parts(id: String, secret: Secret, expires_at: i64) -> Result<Self, TokenError> {
        if !is_token_part(&id, 6) {
            return Err(TokenError::BadId(id));
        }
        if !is_token_part(secret.expose(), 16) {
            return Err(TokenError::BadSecret);
        }
        Ok(BootstrapToken {
            id,
            secret,
            expires_at,
        })
    }

    /// The whole token, `id.secret`, as `kubeadm join --token` takes it.
    pub fn token(&self) -> Secret {
        Secret::new(format!("{}.{}", self.id, self.secret.expose()))
    }

    /// The secret half alone (for the state file).
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Seconds left at `now`; negative once expired.
    pub fn remaining(&self, now: i64) -> i64 {
        self.expires_at.saturating_sub(now)
    }
}

/// A fresh `--certificate-key`: 32 random bytes, hex (what `kubeadm certs
/// certificate-key` prints).
pub fn certificate_key() -> Result<Secret, TokenError> {
    let mut bytes = [0u8; 32];
    fill(&mut bytes)?;
    Ok(Secret::new(data_encoding::HEXLOWER.encode(&bytes)))
}

/// Whether `key` looks like a certificate key (64 lowercase or uppercase hex digits).
pub fn is_certificate_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_token_part(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| TOKEN_CHARS.contains(&b))
}

/// `n` characters from kubeadm's alphabet, without modulo bias: bytes at or
/// above 252 (7 × 36) are drawn again, as kubeadm's `randBytes` does.
fn random_chars(n: usize) -> Result<String, TokenError> {
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 32];
    while out.len() < n {
        fill(&mut buf)?;
        for &b in &buf {
            if out.len() == n {
                break;
            }
            if usize::from(b) < 252 {
                out.push(char::from(TOKEN_CHARS[usize::from(b) % 36]));
            }
        }
    }
    Ok(out)
}

fn fill(buf: &mut [u8]) -> Result<(), TokenError> {
    SystemRandom::new()
        .fill(buf)
        .map_err(|_| TokenError::Random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_has_kubeadm_shape_and_ttl() {
        let t = BootstrapToken::generate(1_000, DEFAULT_TOKEN_TTL).unwrap();
        let whole = t.token();
        let (id, secret) = whole.expose().split_once('.').unwrap();
        assert_eq!(id, t.id);
        assert!(
            is_token_part(id, 6) && is_token_part(secret, 16),
            "{}",
            whole.expose()
        );
        assert_eq!(t.expires_at, 1_000 + 3600);
        assert_eq!(t.remaining(1_600), 3000);
        assert!(!format!("{t:?}").contains(secret));
    }

    #[test]
    fn tokens_differ_and_use_the_whole_alphabet() {
        let a = BootstrapToken::generate(0, DEFAULT_TOKEN_TTL).unwrap();
        let b = BootstrapToken::generate(0, DEFAULT_TOKEN_TTL).unwrap();
        assert_ne!(a.token(), b.token());
        let many = random_chars(5000).unwrap();
        for &c in TOKEN_CHARS {
            assert!(
                many.as_bytes().contains(&c),
                "{} never drawn",
                char::from(c)
            );
        }
    }

    #[test]
    fn from_parts_checks_the_shape() {
        let ok =
            BootstrapToken::from_parts("abcdef".into(), Secret::new("0123456789abcdef".into()), 5);
        assert_eq!(ok.unwrap().token().expose(), "abcdef.0123456789abcdef");
        assert!(BootstrapToken::from_parts(
            "ABCDEF".into(),
            Secret::new("0123456789abcdef".into()),
            5
        )
        .is_err());
        let err = BootstrapToken::from_parts("abcdef".into(), Secret::new("short".into()), 5)
            .unwrap_err();
        assert_eq!(err, TokenError::BadSecret);
        assert!(
            !err.to_string().contains("short"),
            "the secret must not be echoed: {err}"
        );
    }

    #[test]
    fn certificate_key_is_32_bytes_hex() {
        let k = certificate_key().unwrap();
        assert!(is_certificate_key(k.expose()));
        assert_eq!(
            data_encoding::HEXLOWER
                .decode(k.expose().as_bytes())
                .unwrap()
                .len(),
            32
        );
        assert_ne!(k, certificate_key().unwrap());
    }
}
