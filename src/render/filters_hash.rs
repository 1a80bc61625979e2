//! Ansible's digest filters: `hash`, `checksum`, `password_hash` (crypt(3) SHA-crypt) and `to_uuid`.

use minijinja::value::Kwargs;
use minijinja::{Environment, Error, State, Value};
use sha2::Digest;

use super::filters::invalid;
use super::filters_text::text;

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("hash", hash);
    env.add_filter("checksum", checksum);
    env.add_filter("password_hash", password_hash);
    env.add_filter("to_uuid", to_uuid);
}

fn hex(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(bytes)
}

/// `hash('sha256')`: sha1 (the default, as in Ansible), md5, sha224 to sha512.
fn hash(state: &State, v: &Value, algorithm: Option<String>) -> Result<String, Error> {
    let s = text(state, v)?;
    let data = s.as_bytes();
    match algorithm.as_deref().unwrap_or("sha1") {
        "sha1" => Ok(hex(<sha1::Sha1 as sha1::Digest>::digest(data).as_slice())),
        "md5" => Ok(hex(&md5::Md5::digest(data))),
        "sha224" => Ok(hex(&sha2::Sha224::digest(data))),
        "sha256" => Ok(hex(&sha2::Sha256::digest(data))),
        "sha384" => Ok(hex(&sha2::Sha384::digest(data))),
        "sha512" => Ok(hex(&sha2::Sha512::digest(data))),
        other => Err(invalid(format!("hash: unsupported algorithm `{other}`"))),
    }
}

/// `checksum`: the SHA-1 of the text, as Ansible's.
fn checksum(state: &State, v: &Value) -> Result<String, Error> {
    hash(state, v, None)
}

/// crypt(3)'s alphabet for salts and hashes.
const ITOA64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `password_hash('sha512'|'sha256'[, salt], rounds=N)`: crypt(3)'s
/// `$6$`/`$5$` string, as Ansible makes it with passlib: 656000 rounds for
/// sha512 and 535000 for sha256 unless told (5000 is left unwritten, as
/// crypt's default), a salt of 16 random characters unless given — so
/// without one the output changes on every run, as Ansible warns.
fn password_hash(
    state: &State,
    v: &Value,
    hashtype: Option<String>,
    salt: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let password = text(state, v)?;
    let salt = kwargs.get::<Option<String>>("salt")?.or(salt);
    let rounds = kwargs.get::<Option<u32>>("rounds")?;
    kwargs.assert_all_used()?;
    let (id, default_rounds) = match hashtype.as_deref().unwrap_or("sha512") {
        "sha512" | "sha512_crypt" => ("6", 656_000),
        "sha256" | "sha256_crypt" => ("5", 535_000),
        other => {
            return Err(invalid(format!(
                "password_hash: `{other}` is not supported (kubestrap has sha512 and sha256)"
            )))
        }
    };
    let rounds = rounds.unwrap_or(default_rounds);
    let params = sha_crypt::Params::new(rounds).map_err(|_| {
        invalid(format!(
            "password_hash: rounds must be 1000 to 999999999, not {rounds}"
        ))
    })?;
    let salt = match salt {
        Some(s) if s.bytes().all(|b| ITOA64.contains(&b)) && !s.is_empty() => s,
        Some(s) => {
            return Err(invalid(format!(
                "password_hash: the salt {s:?} must be letters, digits, `.` and `/`"
            )))
        }
        None => random_salt()?,
    };
    // crypt(3) reads 16 characters of salt at most.
    let salt: String = salt.chars().take(16).collect();
    let encoded = if id == "6" {
        let raw = sha_crypt::sha512_crypt(password.as_bytes(), salt.as_bytes(), params);
        encode(&raw, &SHA512_ORDER)
    } else {
        let raw = sha_crypt::sha256_crypt(password.as_bytes(), salt.as_bytes(), params);
        encode(&raw, &SHA256_ORDER)
    };
    let rounds = if rounds == 5_000 {
        String::new()
    } else {
        format!("rounds={rounds}$")
    };
    Ok(format!("${id}${rounds}{salt}${encoded}"))
}

/// 16 salt characters from the system's random source.
fn random_salt() -> Result<String, Error> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| invalid("password_hash: no random salt to be had"))?;
    Ok(bytes
        .iter()
        .map(|b| ITOA64[usize::from(b & 0x3f)] as char)
        .collect())
}

/// The digest's bytes, three at a time, in the order SHA-crypt's
/// specification gives; the last group has fewer.
const SHA512_ORDER: [(usize, usize, usize); 22] = [
    (0, 21, 42),
    (22, 43, 1),
    (44, 2, 23),
    (3, 24, 45),
    (25, 46, 4),
    (47, 5, 26),
    (6, 27, 48),
    (28, 49, 7),
    (50, 8, 29),
    (9, 30, 51),
    (31, 52, 10),
    (53, 11, 32),
    (12, 33, 54),
    (34, 55, 13),
    (56, 14, 35),
    (15, 36, 57),
    (37, 58, 16),
    (59, 17, 38),
    (18, 39, 60),
    (40, 61, 19),
    (62, 20, 41),
    (usize::MAX, usize::MAX, 63),
];

const SHA256_ORDER: [(usize, usize, usize); 11] = [
    (0, 10, 20),
    (21, 1, 11),
    (12, 22, 2),
    (3, 13, 23),
    (24, 4, 14),
    (15, 25, 5),
    (6, 16, 26),
    (27, 7, 17),
    (18, 28, 8),
    (9, 19, 29),
    (usize::MAX, 31, 30),
];

/// crypt's base64: each group of three bytes as four characters, lowest
/// six bits first; a last group of one byte gives two, of two gives three.
fn encode(raw: &[u8], order: &[(usize, usize, usize)]) -> String {
    let byte = |i: usize| raw.get(i).copied().map(u32::from).unwrap_or(0);
    let mut out = String::new();
    for &(b2, b1, b0) in order {
        let n = if b2 != usize::MAX {
            4
        } else if b1 != usize::MAX {
            3
        } else {
            2
        };
        let mut w = (byte(b2) << 16) | (byte(b1) << 8) | byte(b0);
        for _ in 0..n {
            out.push(ITOA64[(w & 0x3f) as usize] as char);
            w >>= 6;
        }
    }
    out
}

/// Ansible's namespace for `to_uuid`.
const ANSIBLE_NAMESPACE: &str = "361E6D51-FAEC-444A-9079-341386DA8E2E";

/// `to_uuid(namespace=…)`: the name-based (SHA-1, version 5) UUID of the text.
fn to_uuid(
    state: &State,
    v: &Value,
    namespace: Option<String>,
    kwargs: Kwargs,
) -> Result<String, Error> {
    let name = text(state, v)?;
    let namespace = kwargs.get::<Option<String>>("namespace")?.or(namespace);
    kwargs.assert_all_used()?;
    let ns = namespace.unwrap_or_else(|| ANSIBLE_NAMESPACE.into());
    let ns_hex: String = ns.chars().filter(|c| *c != '-').collect();
    let ns_bytes = data_encoding::HEXLOWER_PERMISSIVE
        .decode(ns_hex.as_bytes())
        .ok()
        .filter(|b| b.len() == 16)
        .ok_or_else(|| invalid(format!("to_uuid: invalid namespace {ns:?}")))?;
    let mut h = <sha1::Sha1 as sha1::Digest>::new();
    sha1::Digest::update(&mut h, &ns_bytes);
    sha1::Digest::update(&mut h, name.as_bytes());
    let digest = sha1::Digest::finalize(h);
    let mut u = [0u8; 16];
    u.copy_from_slice(&digest[..16]);
    u[6] = (u[6] & 0x0f) | 0x50;
    u[8] = (u[8] & 0x3f) | 0x80;
    let h = hex(&u);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}
